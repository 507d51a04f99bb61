package io.globalregistry.boot.singleton;

import static org.assertj.core.api.Assertions.assertThat;

import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.boot.FencingTokenAware;
import io.globalregistry.boot.GlobalSingleton;
import jakarta.annotation.PostConstruct;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.springframework.aot.hint.MemberCategory;
import org.springframework.aot.hint.RuntimeHints;
import org.springframework.aot.hint.predicate.RuntimeHintsPredicates;
import org.springframework.aot.test.generate.TestGenerationContext;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.annotation.AnnotationConfigUtils;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.aot.ApplicationContextAotGenerator;
import org.springframework.context.support.GenericApplicationContext;
import org.springframework.core.test.tools.CompileWithForkedClassLoader;
import org.springframework.core.test.tools.TestCompiler;

/**
 * {@code @GlobalSingleton} under Spring AOT, without a broker: a context with a singleton declared by a
 * {@code @Bean} method and one declared on its class is generated, compiled and started from the generated
 * initializer alone (no configuration class processing, no annotation post-processors, no
 * {@link GlobalSingletonBeanFactoryPostProcessor}), and must look and behave as the same context refreshed
 * the ordinary way: proxies found by their interfaces, real beans invisible (abstract, not autowire
 * candidates, created by no lookup), {@link GlobalSingletons} with both entries, and the real beans made the way
 * the owner makes them (injection, fencing token, {@code @PostConstruct}) answering calls through the proxies.
 * Also the runtime hints a native image needs for them. The registry is a fake whose proxies call the object
 * the test "registers" under the name.
 */
@CompileWithForkedClassLoader // the generated code calls package-private members of this package
class GlobalSingletonAotTests {

    @Test
    void contextWhenRefreshedShouldHoldProxiesAndAbstractRealBeans() {
        GenericApplicationContext context = applicationContext();
        context.refresh();
        try {
            assertBehavesAsGlobalSingletons(context);
        } finally {
            context.close();
        }
    }

    @Test
    void contextWhenGeneratedAheadOfTimeShouldBehaveAsRefreshed() {
        TestGenerationContext generationContext = processAheadOfTime(applicationContext());
        testCompiledResult(generationContext, initializer -> {
            GenericApplicationContext fresh = new GenericApplicationContext();
            initializer.initialize(fresh);
            fresh.refresh();
            try {
                assertThat(fresh.containsBeanDefinition("globalSingletonBeanFactoryPostProcessor"))
                        .as("the post-processor's work is in the generated definitions").isFalse();
                assertBehavesAsGlobalSingletons(fresh);
            } finally {
                fresh.close();
            }
        });
    }

    @Test
    void hintsWhenGeneratedAheadOfTimeShouldCoverProxiesReflectionAndBinding() {
        RuntimeHints hints = processAheadOfTime(applicationContext()).getRuntimeHints();

        assertThat(RuntimeHintsPredicates.proxies().forInterfaces(Greeter.class)).accepts(hints);
        assertThat(RuntimeHintsPredicates.proxies().forInterfaces(Ledger.class)).accepts(hints);

        assertThat(RuntimeHintsPredicates.reflection().onMethodInvocation(Greeter.class, "greet")).accepts(hints);
        assertThat(RuntimeHintsPredicates.reflection().onMethodInvocation(Store.class, "put")).accepts(hints);
        assertThat(RuntimeHintsPredicates.reflection().onType(GreeterImpl.class)
                .withMemberCategory(MemberCategory.INVOKE_PUBLIC_METHODS)).accepts(hints);
        assertThat(RuntimeHintsPredicates.reflection().onType(LedgerImpl.class)
                .withMemberCategory(MemberCategory.INVOKE_PUBLIC_METHODS)).accepts(hints);

        // a parameter (a bean), a result (a record), a list's element, a future's value, a resolved generic
        assertThat(RuntimeHintsPredicates.reflection().onMethodInvocation(Request.class, "getName")).accepts(hints);
        assertThat(RuntimeHintsPredicates.reflection().onMethodInvocation(Request.class, "setName")).accepts(hints);
        assertThat(RuntimeHintsPredicates.reflection().onMethodInvocation(Greeting.class, "text")).accepts(hints);
        assertThat(RuntimeHintsPredicates.reflection().onType(Greeting.class)
                .withMemberCategory(MemberCategory.INVOKE_DECLARED_CONSTRUCTORS)).accepts(hints);
        assertThat(RuntimeHintsPredicates.reflection().onMethodInvocation(Receipt.class, "id")).accepts(hints);
        assertThat(RuntimeHintsPredicates.reflection().onMethodInvocation(Entry.class, "amount")).accepts(hints);
        assertThat(RuntimeHintsPredicates.reflection().onType(CompletableFuture.class)
                .withMemberCategory(MemberCategory.ACCESS_DECLARED_FIELDS))
                .as("a future travels as its value").rejects(hints);
    }

    /** What both contexts must show: the non-AOT path's behaviour. */
    private static void assertBehavesAsGlobalSingletons(GenericApplicationContext context) {
        ConfigurableListableBeanFactory beanFactory = context.getBeanFactory();
        assertThat(context.getBeanNamesForType(Greeter.class)).containsExactly("greeter");
        assertThat(context.getBeanNamesForType(Ledger.class)).containsExactly("ledger");
        Greeter greeter = context.getBean(Greeter.class);
        Ledger ledger = context.getBean(Ledger.class);
        assertThat(Proxy.isProxyClass(greeter.getClass())).isTrue();
        assertThat(context.getBean(GreeterClient.class).greeter).isSameAs(greeter);

        assertThat(context.getBeansOfType(GreeterImpl.class)).isEmpty();
        assertThat(context.getBeansOfType(LedgerImpl.class)).isEmpty();
        assertThat(context.getBeanNamesForType(Object.class)).doesNotContain("greeter.target", "ledger.target");
        for (String target : List.of("greeter.target", "ledger.target")) {
            BeanDefinition definition = beanFactory.getBeanDefinition(target);
            assertThat(definition.isAbstract()).as(target).isTrue();
            assertThat(definition.isAutowireCandidate()).as(target).isFalse();
            assertThat(definition.isPrototype()).as(target).isTrue();
            assertThat(definition.isLazyInit()).as(target).isTrue();
        }

        GlobalSingletons singletons = context.getBean(GlobalSingletons.class);
        assertThat(singletons.definitions()).containsExactlyInAnyOrder(
                new GlobalSingletonDefinition("greeter", "greetings", Greeter.class),
                new GlobalSingletonDefinition("ledger", "ledger", Ledger.class));

        FakeRegistry registry = (FakeRegistry) Proxy.getInvocationHandler(context.getBean(GlobalNameRegistry.class));
        long token = 41;
        for (GlobalSingletonDefinition definition : singletons.definitions()) {
            registry.owners.put(definition.name(), realBean(beanFactory, singletons, definition, ++token));
        }
        GreeterImpl realGreeter = (GreeterImpl) registry.owners.get("greetings");
        assertThat(realGreeter.initialized).isTrue();
        assertThat(realGreeter.tokenAtInit).isEqualTo(realGreeter.fencingToken).isPositive();
        assertThat(((LedgerImpl) registry.owners.get("ledger")).punctuation)
                .isSameAs(context.getBean(Punctuation.class));

        Request request = new Request();
        request.setName("Ada");
        assertThat(greeter.greet(request)).isEqualTo(new Greeting("Hello, Ada!", 1));
        assertThat(greeter.history()).containsExactly(new Greeting("Hello, Ada!", 1));
        ledger.put(new Entry(5));
        ledger.put(new Entry(7));
        assertThat(ledger.total()).isEqualTo(12);
    }

    /** The real bean as the owner makes it ({@link GlobalSingletonSlot}): its own factory, a concrete copy. */
    private static Object realBean(ConfigurableListableBeanFactory context, GlobalSingletons singletons,
                                   GlobalSingletonDefinition definition, long token) {
        DefaultListableBeanFactory factory = new DefaultListableBeanFactory(context);
        factory.copyConfigurationFrom(context);
        factory.registerBeanDefinition(definition.targetBeanName(), definition.realBeanDefinition(context));
        singletons.fencingToken(definition.targetBeanName(), token);
        Object bean = factory.getBean(definition.targetBeanName());
        assertThat(bean).isInstanceOf(definition.type()).isNotInstanceOf(Proxy.class);
        if (bean instanceof GreeterImpl) {
            assertThat(((GreeterImpl) bean).fencingToken).isEqualTo(token);
        }
        return bean;
    }

    /** The user's configuration as a Spring Boot application would have it, plus the starter's post-processor. */
    private static GenericApplicationContext applicationContext() {
        GenericApplicationContext context = new GenericApplicationContext();
        AnnotationConfigUtils.registerAnnotationConfigProcessors(context);
        context.registerBeanDefinition("configuration", new RootBeanDefinition(GreeterConfiguration.class));
        context.registerBeanDefinition("ledger", new RootBeanDefinition(LedgerImpl.class));
        context.registerBeanDefinition("globalSingletonBeanFactoryPostProcessor",
                new RootBeanDefinition(GlobalSingletonBeanFactoryPostProcessor.class));
        return context;
    }

    private static TestGenerationContext processAheadOfTime(GenericApplicationContext context) {
        TestGenerationContext generationContext = new TestGenerationContext();
        new ApplicationContextAotGenerator().processAheadOfTime(context, generationContext);
        generationContext.writeGeneratedContent();
        return generationContext;
    }

    @SuppressWarnings("unchecked")
    private static void testCompiledResult(TestGenerationContext generationContext,
                                           Consumer<ApplicationContextInitializer<GenericApplicationContext>> result) {
        TestCompiler.forSystem().with(generationContext).compile(compiled ->
                result.accept(compiled.getInstance(ApplicationContextInitializer.class)));
    }

    /** A parameter: a bean with a property. */
    public static class Request {
        private String name;

        public String getName() {
            return name;
        }

        public void setName(String name) {
            this.name = name;
        }
    }

    /** A result: a record. */
    public record Greeting(String text, int count) {
    }

    /** A future's value. */
    public record Receipt(long id) {
    }

    /** A generic interface's type argument. */
    public record Entry(long amount) {
    }

    public interface Greeter {
        Greeting greet(Request request);

        List<Greeting> history();

        CompletableFuture<Receipt> receipt();
    }

    public interface Store<T> {
        void put(T item);
    }

    public interface Ledger extends Store<Entry> {
        long total();
    }

    /** Singleton of a {@code @Bean} method: field injection, fencing token, {@code @PostConstruct}. */
    public static class GreeterImpl implements Greeter, FencingTokenAware {
        @Autowired
        Punctuation punctuation;
        long fencingToken;
        long tokenAtInit;
        boolean initialized;
        private final List<Greeting> history = new CopyOnWriteArrayList<>();

        @Override
        public void setFencingToken(long fencingToken) {
            this.fencingToken = fencingToken;
        }

        @PostConstruct
        void init() {
            initialized = true;
            tokenAtInit = fencingToken;
        }

        @Override
        public Greeting greet(Request request) {
            Greeting greeting = new Greeting("Hello, " + request.getName() + punctuation.mark(), history.size() + 1);
            history.add(greeting);
            return greeting;
        }

        @Override
        public List<Greeting> history() {
            return List.copyOf(history);
        }

        @Override
        public CompletableFuture<Receipt> receipt() {
            return CompletableFuture.completedFuture(new Receipt(history.size()));
        }
    }

    /** Singleton declared on its class: constructor injection. */
    @GlobalSingleton
    public static class LedgerImpl implements Ledger {
        final Punctuation punctuation;
        private long total;

        public LedgerImpl(Punctuation punctuation) {
            this.punctuation = punctuation;
        }

        @Override
        public synchronized void put(Entry item) {
            total += item.amount();
        }

        @Override
        public synchronized long total() {
            return total;
        }
    }

    /** An ordinary bean the singletons depend on. */
    public static class Punctuation {
        public String mark() {
            return "!";
        }
    }

    /** Injects a singleton by its interface. */
    public static class GreeterClient {
        final Greeter greeter;

        GreeterClient(Greeter greeter) {
            this.greeter = greeter;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class GreeterConfiguration {

        @Bean
        @GlobalSingleton(name = "greetings")
        GreeterImpl greeter() {
            return new GreeterImpl();
        }

        @Bean
        Punctuation punctuation() {
            return new Punctuation();
        }

        @Bean
        GreeterClient greeterClient(Greeter greeter) {
            return new GreeterClient(greeter);
        }

        @Bean
        GlobalNameRegistry globalNameRegistry() {
            return (GlobalNameRegistry) Proxy.newProxyInstance(GlobalNameRegistry.class.getClassLoader(),
                    new Class<?>[] {GlobalNameRegistry.class}, new FakeRegistry());
        }
    }

    /**
     * A registry of one node that owns every name: {@code proxy(name, type)} is a JDK proxy of {@code type}, as
     * the real one's, whose calls run on the object in {@link #owners} under {@code name}; nothing else.
     */
    static final class FakeRegistry implements InvocationHandler {
        final Map<Object, Object> owners = new ConcurrentHashMap<>();

        @Override
        public Object invoke(Object registry, Method method, Object[] args) {
            if (method.getName().equals("proxy") && args.length == 2) {
                Object name = args[0];
                Class<?> type = (Class<?>) args[1];
                return Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type},
                        (proxy, called, calledArgs) -> call(name, proxy, called, calledArgs));
            }
            if (method.getDeclaringClass() == Object.class) {
                return method.getName().equals("toString") ? "FakeRegistry" : objectMethod(registry, method, args);
            }
            if (method.getName().equals("close")) {
                return null; // the context closes it
            }
            throw new UnsupportedOperationException(method.getName());
        }

        private Object call(Object name, Object proxy, Method method, Object[] args) throws Throwable {
            if (method.getDeclaringClass() == Object.class) {
                return method.getName().equals("toString") ? "proxy of " + name : objectMethod(proxy, method, args);
            }
            Object owner = owners.get(name);
            if (owner == null) {
                throw new IllegalStateException("no owner for " + name);
            }
            try {
                return method.invoke(owner, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }

        private static Object objectMethod(Object self, Method method, Object[] args) {
            return method.getName().equals("equals") ? (Object) (self == args[0]) : System.identityHashCode(self);
        }
    }
}
