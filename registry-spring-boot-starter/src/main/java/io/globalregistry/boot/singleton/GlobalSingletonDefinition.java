package io.globalregistry.boot.singleton;

import java.util.List;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.AbstractBeanDefinition;

/**
 * One {@code @GlobalSingleton} bean as the context declares it.
 *
 * <p>The real bean's definition stays in the context under {@link #targetBeanName()}, but abstract: no lookup by
 * type, no injection and no eager creation sees an abstract definition, and Spring AOT writes it as code like any
 * other bean (with its injection and init methods), so it reaches the owner's factory the same way with or without
 * AOT ({@link #realBeanDefinition(ConfigurableListableBeanFactory)}).
 *
 * @param beanName the bean's name: the proxy's, for injection
 * @param targetBeanName the name of the real bean's definition ({@code beanName + ".target"}): abstract in the
 *                       context, concrete in the owner's own bean factory
 * @param name the name registered for it in the cluster
 * @param type the interface the proxy implements
 */
public record GlobalSingletonDefinition(String beanName, String targetBeanName, String name, Class<?> type) {

    /** The suffix of the real bean's definition name. */
    public static final String TARGET_SUFFIX = ".target";

    /**
     * The attribute that marks the real bean's definition in the context; its value is the proxied interface.
     * Read at build time only (Spring AOT does not write attributes).
     */
    static final String PROXIED_INTERFACE_ATTRIBUTE = GlobalSingletonDefinition.class.getName() + ".proxiedInterface";

    /** The definition of the singleton declared as bean {@code beanName}. */
    public GlobalSingletonDefinition(String beanName, String name, Class<?> type) {
        this(beanName, beanName + TARGET_SUFFIX, name, type);
    }

    /**
     * The name of the guard registration: only its owner creates the real bean and registers it under
     * {@link #name()}, so no call reaches a name whose bean is not initialised yet.
     */
    public List<String> guardName() {
        return List.of("global-singleton", name);
    }

    /**
     * The real bean's definition as the owner registers it in its own factory: a concrete copy of the abstract
     * one that {@code context} keeps under {@link #targetBeanName()} (a lazy prototype, not an autowire
     * candidate). A copy, so that the context's stays abstract.
     *
     * @throws org.springframework.beans.factory.NoSuchBeanDefinitionException if the context has none
     */
    public BeanDefinition realBeanDefinition(ConfigurableListableBeanFactory context) {
        AbstractBeanDefinition copy = ((AbstractBeanDefinition) context.getBeanDefinition(targetBeanName))
                .cloneBeanDefinition();
        copy.setAbstract(false);
        return copy;
    }
}
