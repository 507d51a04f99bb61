package io.globalregistry.boot.singleton;

import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.MessageHandler;
import io.globalregistry.boot.FencingTokenAware;
import io.globalregistry.boot.GlobalSingleton;
import io.globalregistry.boot.InvalidGlobalSingletonException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.springframework.beans.factory.BeanClassLoaderAware;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.annotation.AnnotatedBeanDefinition;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.BeanDefinitionRegistryPostProcessor;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.core.annotation.MergedAnnotation;
import org.springframework.core.type.MethodMetadata;
import org.springframework.util.ClassUtils;

/**
 * Rewrites each {@link GlobalSingleton} bean definition: the real bean's definition leaves the context (so no
 * lookup by type creates or even sees it) for the {@link GlobalSingletonManager}, which creates and destroys it
 * on the owner only, as {@code beanName + ".target"} in a bean factory of its own whose parent is the context's;
 * the bean's own name gets a proxy of its interface
 * ({@link GlobalNameRegistry#proxy(Object, Class)}). Fails the startup, naming the bean, when a singleton has no
 * usable interface or shares its name with another one. Also registers the {@link GlobalSingletons} bean and the
 * post-processor that hands instances their fencing token.
 */
public final class GlobalSingletonBeanFactoryPostProcessor implements BeanDefinitionRegistryPostProcessor,
        BeanClassLoaderAware, Ordered {

    /** The name of the {@link GlobalSingletons} bean. */
    public static final String SINGLETONS_BEAN_NAME = "globalSingletons";

    private ClassLoader classLoader = ClassUtils.getDefaultClassLoader();
    private GlobalSingletons singletons = new GlobalSingletons(List.of());

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
        Map<String, GlobalSingletonDefinition> byName = new LinkedHashMap<>();
        for (String beanName : registry.getBeanDefinitionNames()) {
            BeanDefinition definition = registry.getBeanDefinition(beanName);
            if (definition.isAbstract() || definition.getRole() == BeanDefinition.ROLE_INFRASTRUCTURE) {
                continue;
            }
            Declared declared = declared(definition);
            if (declared == null) {
                continue;
            }
            GlobalSingletonDefinition singleton = singleton(beanName, definition, declared);
            GlobalSingletonDefinition other = byName.putIfAbsent(singleton.name(), singleton);
            if (other != null) {
                throw new InvalidGlobalSingletonException(beanName, "its name '" + singleton.name()
                        + "' is also the name of @GlobalSingleton bean '" + other.beanName() + "'",
                        "give one of them another @GlobalSingleton(name = ...)");
            }
        }
        for (GlobalSingletonDefinition singleton : byName.values()) {
            rewrite(registry, singleton);
        }
        singletons = new GlobalSingletons(new ArrayList<>(byName.values()));
        GlobalSingletons found = singletons;
        RootBeanDefinition holder = new RootBeanDefinition(GlobalSingletons.class, () -> found);
        holder.setRole(BeanDefinition.ROLE_INFRASTRUCTURE);
        registry.registerBeanDefinition(SINGLETONS_BEAN_NAME, holder);
    }

    @Override
    public void postProcessBeanFactory(ConfigurableListableBeanFactory beanFactory) {
        beanFactory.addBeanPostProcessor(new FencingTokenPostProcessor(singletons));
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
        return new GlobalSingletonDefinition(beanName, beanName + GlobalSingletonDefinition.TARGET_SUFFIX, name,
                proxiedInterface(beanName, declared), definition);
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

    private static void rewrite(BeanDefinitionRegistry registry, GlobalSingletonDefinition singleton) {
        if (!(registry instanceof BeanFactory)) {
            throw new IllegalStateException("@GlobalSingleton needs a bean definition registry that is a bean "
                    + "factory; got a " + registry.getClass().getName());
        }
        BeanFactory beanFactory = (BeanFactory) registry;
        BeanDefinition target = singleton.target();
        boolean primary = target.isPrimary();
        registry.removeBeanDefinition(singleton.beanName()); // no lookup by type may create or see the real bean
        target.setScope(BeanDefinition.SCOPE_PROTOTYPE);
        target.setLazyInit(true);
        target.setAutowireCandidate(false);
        target.setPrimary(false);

        String name = singleton.name();
        Class<?> type = singleton.type();
        Supplier<Object> proxy = () -> beanFactory.getBean(GlobalNameRegistry.class).proxy(name, type);
        RootBeanDefinition proxyDefinition = new RootBeanDefinition(type);
        proxyDefinition.setInstanceSupplier(proxy);
        proxyDefinition.setPrimary(primary);
        proxyDefinition.setDescription("Proxy of @GlobalSingleton '" + name + "' (real bean: "
                + singleton.targetBeanName() + ", on the owning node only)");
        registry.registerBeanDefinition(singleton.beanName(), proxyDefinition);
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

    private static final class Declared {
        final GlobalSingleton annotation;
        final Class<?> type;

        Declared(GlobalSingleton annotation, Class<?> type) {
            this.annotation = annotation;
            this.type = type;
        }
    }
}
