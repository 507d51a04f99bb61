package io.globalregistry.boot.singleton;

import java.util.List;
import org.springframework.beans.factory.config.BeanDefinition;

/**
 * One {@code @GlobalSingleton} bean as the context declares it.
 *
 * @param beanName the bean's name: the proxy's, for injection
 * @param targetBeanName the name of the real bean ({@code beanName + ".target"}), in the manager's own bean factory
 * @param name the name registered for it in the cluster
 * @param type the interface the proxy implements
 * @param target the real bean's definition, taken out of the context (a prototype that nothing autowires)
 */
public record GlobalSingletonDefinition(String beanName, String targetBeanName, String name, Class<?> type,
                                        BeanDefinition target) {

    /** The suffix of the real bean's definition name. */
    public static final String TARGET_SUFFIX = ".target";

    /**
     * The name of the guard registration: only its owner creates the real bean and registers it under
     * {@link #name()}, so no call reaches a name whose bean is not initialised yet.
     */
    public List<String> guardName() {
        return List.of("global-singleton", name);
    }
}
