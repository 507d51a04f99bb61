package io.globalregistry.boot;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Makes a bean one instance in the whole cluster: the real bean is created (dependencies, {@code @PostConstruct},
 * {@code @Scheduled} and every other post-processor), used and destroyed only on the node that owns its name;
 * every node's context holds, under the bean's name, a proxy of its interface
 * ({@link io.globalregistry.GlobalNameRegistry#proxy(Object, Class)}) whose calls go to the owner.
 *
 * <p>Put it on a {@code @Component} class, or on a {@code @Bean} method, whose class implements one service
 * interface (inject that interface; the class itself is not injectable). When the owner leaves or dies, a
 * standby node claims the name and creates its own instance. The owner learns its fencing token through
 * {@link FencingTokenAware}. Needs the starter's registry ({@code global-registry.enabled=true}); the startup
 * fails, naming the bean, for a class without interface or two singletons of the same name.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
public @interface GlobalSingleton {

    /** The registered name; the bean name when empty. */
    String name() default "";

    /**
     * The interface the proxy implements; needed only when the class implements several service interfaces.
     * {@code void.class} (the default) means its only one.
     */
    Class<?> type() default void.class;
}
