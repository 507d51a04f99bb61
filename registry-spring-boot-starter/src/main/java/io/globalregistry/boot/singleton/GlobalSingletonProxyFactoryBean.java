package io.globalregistry.boot.singleton;

import io.globalregistry.GlobalNameRegistry;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.FactoryBean;
import org.springframework.util.Assert;

/**
 * The bean a {@code @GlobalSingleton}'s callers inject: a proxy of its interface
 * ({@link GlobalNameRegistry#proxy(Object, Class)}) whose calls go to the node that owns the name.
 *
 * <p>A factory bean rather than an instance supplier so that Spring AOT can write its definition as code: its
 * two constructor arguments are the registered name and the interface, the context's {@link GlobalNameRegistry}
 * is looked up only when the proxy is first needed. Its definition's target type,
 * {@code GlobalSingletonProxyFactoryBean<Interface>}, lets lookups by the interface find it before it exists.
 *
 * @param <T> the interface the proxy implements
 */
public final class GlobalSingletonProxyFactoryBean<T> implements FactoryBean<T>, BeanFactoryAware {

    private final String name;
    private final Class<T> type;
    private BeanFactory beanFactory;

    /**
     * @param name the name the singleton is registered under in the cluster
     * @param type the interface the proxy implements
     */
    public GlobalSingletonProxyFactoryBean(String name, Class<T> type) {
        Assert.hasText(name, "name must not be empty");
        Assert.isTrue(type != null && type.isInterface(), "type must be an interface");
        this.name = name;
        this.type = type;
    }

    @Override
    public void setBeanFactory(BeanFactory beanFactory) {
        this.beanFactory = beanFactory;
    }

    @Override
    public T getObject() {
        Assert.state(beanFactory != null, "no BeanFactory: the proxy of a @GlobalSingleton is made in a context");
        return beanFactory.getBean(GlobalNameRegistry.class).proxy(name, type);
    }

    @Override
    public Class<T> getObjectType() {
        return type;
    }

    /** The name the proxy calls. */
    public String getName() {
        return name;
    }
}
