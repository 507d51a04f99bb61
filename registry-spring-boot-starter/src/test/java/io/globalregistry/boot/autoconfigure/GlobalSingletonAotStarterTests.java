package io.globalregistry.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.globalregistry.boot.GlobalSingleton;
import io.globalregistry.boot.singleton.GlobalSingletonManager;
import io.globalregistry.test.WithBroker;
import jakarta.annotation.PostConstruct;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.aot.test.generate.TestGenerationContext;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.boot.amqp.autoconfigure.RabbitAutoConfiguration;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.annotation.AnnotationConfigUtils;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.aot.ApplicationContextAotGenerator;
import org.springframework.context.support.GenericApplicationContext;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.test.tools.CompileWithForkedClassLoader;
import org.springframework.core.test.tools.TestCompiler;

/**
 * The starter under Spring AOT, on the real broker: an application with Boot's RabbitMQ auto-configuration,
 * the starter's and a {@code @GlobalSingleton} is generated ahead of time, compiled, and started from the
 * generated initializer alone, as one node: it claims the singleton, creates the real bean from its generated
 * (abstract) definition and answers calls through the proxy, as without AOT. The singleton's interface is nested
 * in this package-private class: the generated code must not need to name it outside its package.
 */
@WithBroker
@CompileWithForkedClassLoader // the generated code calls package-private members of this package
class GlobalSingletonAotStarterTests {

    public interface Counter {
        long next();
    }

    public static class CounterImpl implements Counter {
        static final AtomicInteger CREATED = new AtomicInteger();
        private long value;

        @PostConstruct
        void init() {
            CREATED.incrementAndGet();
        }

        @Override
        public synchronized long next() {
            return ++value;
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ImportAutoConfiguration({RabbitAutoConfiguration.class, GlobalRegistryAutoConfiguration.class})
    static class Application {

        @Bean
        @GlobalSingleton(name = "counter")
        CounterImpl counter() {
            return new CounterImpl();
        }
    }

    private final TestCluster cluster = new TestCluster();

    @AfterEach
    void deleteExchange() throws Exception {
        cluster.close();
    }

    @Test
    void applicationWhenGeneratedAheadOfTimeShouldRunItsSingleton() {
        GenericApplicationContext build = withProperties(new GenericApplicationContext());
        AnnotationConfigUtils.registerAnnotationConfigProcessors(build);
        build.registerBeanDefinition("application", new RootBeanDefinition(Application.class));
        TestGenerationContext generationContext = new TestGenerationContext();
        new ApplicationContextAotGenerator().processAheadOfTime(build, generationContext);
        generationContext.writeGeneratedContent();
        CounterImpl.CREATED.set(0);

        compile(generationContext, initializer -> {
            GenericApplicationContext context = withProperties(new GenericApplicationContext());
            initializer.initialize(context);
            context.refresh();
            try {
                Counter counter = context.getBean(Counter.class);
                assertThat(Proxy.isProxyClass(counter.getClass())).isTrue();
                assertThat(context.getBeansOfType(CounterImpl.class)).isEmpty();
                GlobalSingletonManager manager = context.getBean(GlobalSingletonManager.class);
                await().atMost(Duration.ofSeconds(10)).until(() -> manager.isActive("counter"));
                assertThat(counter.next()).isEqualTo(1);
                assertThat(counter.next()).isEqualTo(2);
                assertThat(CounterImpl.CREATED).hasValue(1);
            } finally {
                context.close();
            }
        });
    }

    private GenericApplicationContext withProperties(GenericApplicationContext context) {
        Map<String, Object> properties = new LinkedHashMap<>();
        properties.put("spring.rabbitmq.host", cluster.broker.host());
        properties.put("spring.rabbitmq.port", cluster.broker.port());
        properties.put("spring.rabbitmq.username", cluster.broker.username());
        properties.put("spring.rabbitmq.password", cluster.broker.password());
        properties.put("spring.rabbitmq.virtual-host", cluster.broker.virtualHost());
        properties.put("global-registry.cluster", cluster.name);
        properties.put("global-registry.node-name", "aot");
        properties.put("global-registry.claim-timeout", "1s");
        properties.put("global-registry.join-window", "300ms");
        context.getEnvironment().getPropertySources().addFirst(new MapPropertySource("test", properties));
        return context;
    }

    @SuppressWarnings("unchecked")
    private static void compile(TestGenerationContext generationContext,
                                Consumer<ApplicationContextInitializer<GenericApplicationContext>> result) {
        TestCompiler.forSystem().with(generationContext).compile(compiled ->
                result.accept(compiled.getInstance(ApplicationContextInitializer.class)));
    }
}
