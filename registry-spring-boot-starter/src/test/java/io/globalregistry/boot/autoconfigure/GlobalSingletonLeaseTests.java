package io.globalregistry.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.boot.GlobalSingleton;
import io.globalregistry.boot.singleton.GlobalSingletonManager;
import io.globalregistry.test.WithBroker;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PostConstruct;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.scheduling.annotation.EnableScheduling;
import org.springframework.scheduling.annotation.Scheduled;

/**
 * A {@code @GlobalSingleton}'s scheduled work runs only while the node may act as its owner: each run first asks
 * {@link GlobalNameRegistry#mayActAsOwner(Object)} for the singleton's guard. The node is real (real broker, the
 * starter's registry); only its answer to {@code mayActAsOwner} is switched by the test, as a lapsed lease after a
 * pause would make it (the lease itself is core's, tested there), through a post-processor that wraps the
 * registry bean.
 */
@WithBroker
class GlobalSingletonLeaseTests {

    /** Switches the registry's answer to {@code mayActAsOwner}: false as if this node's lease had run out. */
    static final AtomicBoolean LEASE_VALID = new AtomicBoolean(true);
    /** The names {@code mayActAsOwner} was asked about. */
    static final List<Object> ASKED = new CopyOnWriteArrayList<>();

    private static final List<String> GUARD = List.of("global-singleton", "ticker");

    /** What callers inject. */
    public interface Ticker {
        int runs();
    }

    /** The real bean: counts its instances and the runs of its scheduled method. */
    public static class TickerImpl implements Ticker {
        static final AtomicInteger CREATED = new AtomicInteger();
        static final AtomicInteger RUNS = new AtomicInteger();

        @PostConstruct
        void init() {
            CREATED.incrementAndGet();
        }

        @Scheduled(fixedRate = 50)
        void tick() {
            RUNS.incrementAndGet();
        }

        @Override
        public int runs() {
            return RUNS.get();
        }
    }

    @Configuration(proxyBeanMethods = false)
    @EnableScheduling
    static class TickerConfiguration {

        @Bean
        @GlobalSingleton(name = "ticker")
        TickerImpl ticker() {
            return new TickerImpl();
        }

        /** Wraps the starter's registry: every method goes to it, but {@code mayActAsOwner} also asks the switch. */
        @Bean
        static BeanPostProcessor leaseSwitch() {
            return new BeanPostProcessor() {
                @Override
                public Object postProcessAfterInitialization(Object bean, String beanName) {
                    return bean instanceof GlobalNameRegistry ? withLeaseSwitch((GlobalNameRegistry) bean) : bean;
                }
            };
        }

        private static GlobalNameRegistry withLeaseSwitch(GlobalNameRegistry registry) {
            return (GlobalNameRegistry) Proxy.newProxyInstance(GlobalNameRegistry.class.getClassLoader(),
                    new Class<?>[] {GlobalNameRegistry.class}, (proxy, method, args) -> {
                        Object result;
                        try {
                            result = method.invoke(registry, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                        if (method.getName().equals("mayActAsOwner")) {
                            ASKED.add(args[0]);
                            return (Boolean) result && LEASE_VALID.get();
                        }
                        return result;
                    });
        }
    }

    private final TestCluster cluster = new TestCluster();

    @BeforeEach
    void reset() {
        LEASE_VALID.set(true);
        ASKED.clear();
        TickerImpl.CREATED.set(0);
        TickerImpl.RUNS.set(0);
    }

    @AfterEach
    void deleteExchange() throws Exception {
        LEASE_VALID.set(true);
        cluster.close();
    }

    /** One node with Spring Boot's metrics (a simple meter registry) and the ticker. */
    private ApplicationContextRunner node(String name) {
        return cluster.node(name).withUserConfiguration(TickerConfiguration.class)
                .withConfiguration(AutoConfigurations.of(MetricsAutoConfiguration.class,
                        CompositeMeterRegistryAutoConfiguration.class, SimpleMetricsExportAutoConfiguration.class));
    }

    private static double skippedMeter(MeterRegistry meters) {
        return meters.get("global.registry.singleton.skipped").tag("reason", "no_lease").functionCounter().count();
    }

    @Test
    void scheduledRunsWhenTheNodeMayNotActAsOwnerShouldBeSkippedCountedAndResumeOnceItMay() {
        node("one").run(context -> {
            assertThat(context).hasNotFailed();
            GlobalSingletonManager manager = context.getBean(GlobalSingletonManager.class);
            MeterRegistry meters = context.getBean(MeterRegistry.class);
            assertThat(manager.isActive("ticker")).isTrue();
            await().atMost(Duration.ofSeconds(5)).until(() -> TickerImpl.RUNS.get() >= 3);
            assertThat(manager.skippedRuns()).isZero();
            assertThat(skippedMeter(meters)).isZero();
            assertThat(ASKED).as("asked about the guard, for each run").isNotEmpty().containsOnly(GUARD);

            LEASE_VALID.set(false);
            Thread.sleep(100); // a run that passed its check before the switch may still be under way
            int runsWhenLapsed = TickerImpl.RUNS.get();
            long skippedWhenLapsed = manager.skippedRuns();
            Thread.sleep(600); // twelve periods

            assertThat(TickerImpl.RUNS).as("runs while the node may not act as owner").hasValue(runsWhenLapsed);
            assertThat(manager.skippedRuns() - skippedWhenLapsed).as("skipped runs").isGreaterThanOrEqualTo(5);
            // the runs go on being skipped while the two are read: the meter matches the count between two skips
            await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(5))
                    .until(() -> skippedMeter(meters) == (double) manager.skippedRuns());
            assertThat(manager.isActive("ticker")).as("the instance is kept, only its runs are skipped").isTrue();
            assertThat(TickerImpl.CREATED).hasValue(1);

            LEASE_VALID.set(true);
            await().atMost(Duration.ofSeconds(2)).until(() -> TickerImpl.RUNS.get() >= runsWhenLapsed + 3);
            long skippedWhenValid = manager.skippedRuns();
            Thread.sleep(200);
            assertThat(manager.skippedRuns()).as("no run skipped once it may act again").isEqualTo(skippedWhenValid);
            assertThat(ASKED).containsOnly(GUARD);
            assertThat(TickerImpl.CREATED).hasValue(1);
        });
    }

    @Test
    void singletonWhenItsNodeMayNotActAsOwnerOnceItWonShouldBeCreatedOnlyWhenItMay() {
        LEASE_VALID.set(false);
        node("one").run(context -> {
            assertThat(context).hasNotFailed();
            GlobalSingletonManager manager = context.getBean(GlobalSingletonManager.class);
            Thread.sleep(500);
            assertThat(TickerImpl.CREATED).as("instances created while it may not act").hasValue(0);
            assertThat(manager.isActive("ticker")).isFalse();
            assertThat(context.getBean(GlobalNameRegistry.class).whereis(GUARD)).as("the guard stays this node's")
                    .hasValueSatisfying(guard -> assertThat(guard.isLocal()).isTrue());

            LEASE_VALID.set(true);
            await().atMost(Duration.ofSeconds(2)).until(() -> manager.isActive("ticker"));
            await().atMost(Duration.ofSeconds(2)).until(() -> TickerImpl.RUNS.get() >= 3);
            assertThat(TickerImpl.CREATED).hasValue(1);
            assertThat(context.getBean(Ticker.class).runs()).isPositive();
        });
    }
}
