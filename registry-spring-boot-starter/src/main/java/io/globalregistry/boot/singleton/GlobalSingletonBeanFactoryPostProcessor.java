package io.globalregistry.boot.singleton;

import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.MessageHandler;
import io.globalregistry.boot.FencingTokenAware;
import io.globalregistry.boot.GlobalSingleton;
import io.globalregistry.boot.InvalidGlobalSingletonException;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.springframework.beans.factory.BeanClassLoaderAware;
import org.springframework.beans.factory.annotation.AnnotatedBeanDefinition;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.ConstructorArgumentValues;
import org.springframework.beans.factory.config.RuntimeBeanReference;
import org.springframework.beans.factory.support.AbstractBeanDefinition;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.BeanDefinitionRegistryPostProcessor;
import org.springframework.beans.factory.support.GenericBeanDefinition;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.core.Ordered;
import org.springframework.core.ResolvableType;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.core.annotation.MergedAnnotation;
import org.springframework.core.type.MethodMetadata;
import org.springframework.util.ClassUtils;

/**
 * Rewrites each {@link GlobalSingleton} bean definition: the real bean's definition moves to
 * {@code beanName + ".target"} and becomes abstract (so no lookup by type creates or even sees it) for the
 * {@link GlobalSingletonManager}, which creates and destroys it on the owner only, from a concrete copy in a bean
 * factory of its own whose parent is the context's; the bean's own name gets a
 * {@link GlobalSingletonProxyFactoryBean}, a proxy of its interface ({@link GlobalNameRegistry#proxy(Object, Class)}).
 * Fails the startup, naming the bean, when a singleton has no usable interface or shares its name with another
 * one. Also registers the {@link GlobalSingletons} bean and the post-processor that hands instances their fencing
 * token.
 *
 * <p>Every definition it registers is one Spring AOT can write as code (constructor arguments of strings, classes
 * and bean references, no instance supplier): with AOT it runs at build time only (
 * {@link GlobalSingletonAotProcessor} leaves it out of the generated context), and the generated definitions are
 * what it computed.
 */
public final class GlobalSingletonBeanFactoryPostProcessor implements BeanDefinitionRegistryPostProcessor,
        BeanClassLoaderAware, Ordered {

    /** The name of the {@link GlobalSingletons} bean. */
    public static final String SINGLETONS_BEAN_NAME = "globalSingletons";

    /** The name of the {@link FencingTokenPostProcessor} bean. */
    static final String FENCING_TOKEN_POST_PROCESSOR_BEAN_NAME = "globalSingletonFencingTokenPostProcessor";

    private ClassLoader classLoader = ClassUtils.getDefaultClassLoader();

    @Override
    public void setBeanClassLoader(ClassLoader classLoader) {
        this.classLoader = classLoader;
    }

    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE; // after the configuration classes registered every bean
    }

    @Override
    public void postProcessBeanDefinitionRegistry(BeanDefinitionRegistry registry) {
        Map<String, Found> byName = new LinkedHashMap<>();
        for (String beanName : registry.getBeanDefinitionNames()) {
            BeanDefinition definition = registry.getBeanDefinition(beanName);
            if (definition.isAbstract() || definition.getRole() == BeanDefinition.ROLE_INFRASTRUCTURE) {
                continue;
            }
            Declared declared = declared(definition);
            if (declared == null) {
                continue;
            }
            Found singleton = new Found(singleton(beanName, definition, declared), definition);
            Found other = byName.putIfAbsent(singleton.singleton.name(), singleton);
            if (other != null) {
                throw new InvalidGlobalSingletonException(beanName, "its name '" + singleton.singleton.name()
                        + "' is also the name of @GlobalSingleton bean '" + other.singleton.beanName() + "'",
                        "give one of them another @GlobalSingleton(name = ...)");
            }
        }
        for (Found singleton : byName.values()) {
            rewrite(registry, singleton);
        }
        registry.registerBeanDefinition(SINGLETONS_BEAN_NAME, holder(byName.values()));
        RootBeanDefinition fencing = new RootBeanDefinition(FencingTokenPostProcessor.class);
        fencing.getConstructorArgumentValues()
                .addIndexedArgumentValue(0, new RuntimeBeanReference(SINGLETONS_BEAN_NAME));
        fencing.setRole(BeanDefinition.ROLE_INFRASTRUCTURE);
        registry.registerBeanDefinition(FENCING_TOKEN_POST_PROCESSOR_BEAN_NAME, fencing);
    }

    /** The {@link GlobalSingletons} bean: its constructor's three arrays, one entry per singleton, as strings. */
    private static RootBeanDefinition holder(Collection<Found> singletons) {
        RootBeanDefinition holder = new RootBeanDefinition(GlobalSingletons.class);
        ConstructorArgumentValues arguments = holder.getConstructorArgumentValues();
        arguments.addIndexedArgumentValue(0, singletons.stream().map(found -> found.singleton.beanName())
                .toArray(String[]::new));
        arguments.addIndexedArgumentValue(1, singletons.stream().map(found -> found.singleton.name())
                .toArray(String[]::new));
        // the interfaces by name, converted back by the container: the code Spring AOT writes for this definition
        // sits in this package, where a user's interface nested in a non-public class could not be named
        arguments.addIndexedArgumentValue(2, singletons.stream().map(found -> found.singleton.type().getName())
                .toArray(String[]::new));
        holder.setRole(BeanDefinition.ROLE_INFRASTRUCTURE);
        return holder;
    }

    /** The annotation and the bean's declared type, or null when the bean is no global singleton. */
    private Declared declared(BeanDefinition definition) {
        GlobalSingleton annotation = null;
        Class<?> type = null;
        if (definition instanceof AnnotatedBeanDefinition) {
            MethodMetadata factoryMethod = ((AnnotatedBeanDefinition) definition).getFactoryMethodMetadata();
            if (factoryMethod != null) {
                MergedAnnotation<GlobalSingleton> onMethod = factoryMethod.getAnnotations().get(GlobalSingleton.class);
                if (onMethod.isPresent()) {
                    annotation = onMethod.synthesize();
                }
                type = load(factoryMethod.getReturnTypeName());
            }
        }
        if (type == null && definition.getFactoryMethodName() == null && definition.getBeanClassName() != null) {
            type = load(definition.getBeanClassName());
        }
        if (annotation == null && type != null) {
            annotation = AnnotatedElementUtils.findMergedAnnotation(type, GlobalSingleton.class);
        }
        return annotation == null ? null : new Declared(annotation, type);
    }

    private GlobalSingletonDefinition singleton(String beanName, BeanDefinition definition, Declared declared) {
        if (!definition.isSingleton()) {
            throw new InvalidGlobalSingletonException(beanName, "it has scope '" + definition.getScope() + "'",
                    "remove the scope: the starter manages the instance of a @GlobalSingleton");
        }
        if (declared.type == null) {
            throw new InvalidGlobalSingletonException(beanName, "its type cannot be determined from its definition",
                    "declare it as a @Component class or a @Bean method with a precise return type");
        }
        String name = declared.annotation.name().isEmpty() ? beanName : declared.annotation.name();
        return new GlobalSingletonDefinition(beanName, name, proxiedInterface(beanName, declared));
    }

    private static Class<?> proxiedInterface(String beanName, Declared declared) {
        Class<?> requested = declared.annotation.type();
        Class<?> type = declared.type;
        if (requested != void.class) {
            if (!requested.isInterface()) {
                throw new InvalidGlobalSingletonException(beanName, "@GlobalSingleton(type = " + requested.getName()
                        + ".class) is not an interface", "name the service interface the bean implements");
            }
            if (!requested.isAssignableFrom(type)) {
                throw new InvalidGlobalSingletonException(beanName, "its type " + type.getName()
                        + " does not implement @GlobalSingleton(type = " + requested.getName() + ".class)",
                        "name an interface the bean implements");
            }
            return requested;
        }
        if (type.isInterface()) {
            return type;
        }
        Set<Class<?>> candidates = ClassUtils.getAllInterfacesForClassAsSet(type).stream()
                .filter(GlobalSingletonBeanFactoryPostProcessor::isServiceInterface)
                .collect(Collectors.toCollection(java.util.LinkedHashSet::new));
        if (candidates.isEmpty()) {
            throw new InvalidGlobalSingletonException(beanName, "its class " + type.getName() + " implements no "
                    + "interface, and the other nodes reach a global singleton through a proxy of its interface",
                    "extract an interface with the methods callers use, implement it, and inject that");
        }
        if (candidates.size() > 1) {
            throw new InvalidGlobalSingletonException(beanName, "its class " + type.getName() + " implements several "
                    + "interfaces " + candidates.stream().map(Class::getName).collect(Collectors.toList()),
                    "choose the one to inject with @GlobalSingleton(type = ...)");
        }
        return candidates.iterator().next();
    }

    /** Whether callers could inject {@code type}: not a framework, JDK, or registry callback interface. */
    private static boolean isServiceInterface(Class<?> type) {
        String name = type.getName();
        return !(name.startsWith("java.") || name.startsWith("javax.") || name.startsWith("jakarta.")
                || name.startsWith("org.springframework.") || name.startsWith("groovy.") || name.startsWith("kotlin.")
                || type == MessageHandler.class || type == FencingTokenAware.class);
    }

    private static void rewrite(BeanDefinitionRegistry registry, Found found) {
        GlobalSingletonDefinition singleton = found.singleton;
        if (registry.containsBeanDefinition(singleton.targetBeanName())) {
            throw new InvalidGlobalSingletonException(singleton.beanName(), "the name '" + singleton.targetBeanName()
                    + "' of its real bean is taken by another bean", "rename that other bean");
        }
        AbstractBeanDefinition target = found.target instanceof AbstractBeanDefinition
                ? (AbstractBeanDefinition) found.target : new GenericBeanDefinition(found.target);
        boolean primary = target.isPrimary();
        registry.removeBeanDefinition(singleton.beanName()); // its name is the proxy's
        target.setAbstract(true); // no lookup by type may create or see the real bean
        target.setScope(BeanDefinition.SCOPE_PROTOTYPE);
        target.setLazyInit(true);
        target.setAutowireCandidate(false);
        target.setPrimary(false);
        target.setAttribute(GlobalSingletonDefinition.PROXIED_INTERFACE_ATTRIBUTE, singleton.type());
        registry.registerBeanDefinition(singleton.targetBeanName(), target);

        RootBeanDefinition proxy = new RootBeanDefinition(GlobalSingletonProxyFactoryBean.class);
        proxy.getConstructorArgumentValues().addIndexedArgumentValue(0, singleton.name());
        proxy.getConstructorArgumentValues().addIndexedArgumentValue(1, singleton.type());
        proxy.setTargetType(ResolvableType.forClassWithGenerics(GlobalSingletonProxyFactoryBean.class,
                singleton.type())); // lookups by the interface see it before it exists, with AOT too
        proxy.setPrimary(primary);
        proxy.setDescription("Proxy of @GlobalSingleton '" + singleton.name() + "' (real bean: "
                + singleton.targetBeanName() + ", on the owning node only)");
        registry.registerBeanDefinition(singleton.beanName(), proxy);
    }

    private Class<?> load(String className) {
        if (className == null) {
            return null;
        }
        try {
            return ClassUtils.forName(className, classLoader);
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
    }

    /** A singleton found, and the definition the context declared it with. */
    private static final class Found {
        final GlobalSingletonDefinition singleton;
        final BeanDefinition target;

        Found(GlobalSingletonDefinition singleton, BeanDefinition target) {
            this.singleton = singleton;
            this.target = target;
        }
    }

    private static final class Declared {
        final GlobalSingleton annotation;
        final Class<?> type;

        Declared(GlobalSingleton annotation, Class<?> type) {
            this.annotation = annotation;
            this.type = type;
        }
    }
}
