package io.globalregistry.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.RegistryObserver;
import io.globalregistry.boot.metrics.MicrometerRegistryObserver;
import io.globalregistry.test.WithBroker;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The {@code global.registry.*} meters, bound by Spring Boot's metrics auto-configuration. */
@WithBroker
class GlobalRegistryMetricsTests {

    private final TestCluster cluster = new TestCluster();

    @AfterEach
    void deleteExchange() throws Exception {
        cluster.close();
    }

    /** A node with Spring Boot's metrics (a simple meter registry). */
    private ApplicationContextRunner measured(String nodeName) {
        return cluster.node(nodeName).withConfiguration(AutoConfigurations.of(MetricsAutoConfiguration.class,
                CompositeMeterRegistryAutoConfiguration.class, SimpleMetricsExportAutoConfiguration.class));
    }

    /** What callers of the test proxy see. */
    public interface Adder {
        int add(int a, int b);
    }

    @Test
    void metersWhenBoundShouldHaveDescriptionsAndNoNameTags() {
        measured("measured").run(context -> {
            GlobalNameRegistry registry = context.getBean(GlobalNameRegistry.class);
            registry.register(List.of("room", 42), "room 42");
            registry.register("billing", "billing");
            registry.unregister("billing");
            MeterRegistry meters = context.getBean(MeterRegistry.class);

            List<Meter> ours = meters.getMeters().stream()
                    .filter(m -> m.getId().getName().startsWith("global.registry.")).toList();
            assertThat(ours).extracting(m -> m.getId().getName()).contains("global.registry.names",
                    "global.registry.members", "global.registry.messages.rejected",
                    "global.registry.deliveries", "global.registry.owner.changes", "global.registry.registrations",
                    "global.registry.calls", "global.registry.calls.local", "global.registry.failovers",
                    "global.registry.rejoins");
            assertThat(ours).allSatisfy(m -> assertThat(m.getId().getDescription()).isNotBlank());
            assertThat(ours).flatExtracting(m -> m.getId().getTags()).extracting(Tag::getKey)
                    .containsOnly("state", "reason", "outcome");
            assertThat(ours).flatExtracting(m -> m.getId().getTags()).extracting(Tag::getValue)
                    .noneMatch(v -> v.contains("room") || v.contains("billing") || v.contains("measured"));

            assertThat(meters.get("global.registry.names").tag("state", "local").gauge().value())
                    .isEqualTo(1.0);
            assertThat(meters.get("global.registry.names").tag("state", "pending").gauge().value())
                    .isZero();
            assertThat(meters.get("global.registry.members").gauge().value()).isEqualTo(1.0);
            assertThat(meters.get("global.registry.messages.rejected").tag("reason", "too_large")
                    .functionCounter().count()).isZero();
            assertThat(meters.get("global.registry.deliveries").tag("outcome", "delivered")
                    .functionCounter().count()).isZero();
            assertThat(meters.get("global.registry.owner.changes").tag("reason", "registered").counter()
                    .count()).isEqualTo(2.0);
            assertThat(meters.get("global.registry.owner.changes").tag("reason", "unregistered").counter()
                    .count()).isEqualTo(1.0);
            assertThat(meters.get("global.registry.failovers").tag("reason", "owner_down").functionCounter()
                    .count()).isZero();
            assertThat(meters.get("global.registry.rejoins").functionCounter().count()).isZero();
        });
    }

    @Test
    void timersWhenRegistrationsAndCallsEndShouldCountThemByOutcome() {
        measured("timed").withPropertyValues("global-registry.call-timeout=300ms").run(context -> {
            assertThat(context).hasSingleBean(MicrometerRegistryObserver.class);
            GlobalNameRegistry registry = context.getBean(GlobalNameRegistry.class);
            MeterRegistry meters = context.getBean(MeterRegistry.class);
            assertThat(registry.register("adder", (Adder) (a, b) -> {
                if (a < 0) {
                    throw new IllegalArgumentException("negative");
                }
                return a + b;
            }).registered()).isTrue();
            assertThat(registry.register("adder", "again").registered()).isFalse(); // owned here already
            Adder adder = registry.proxy("adder", Adder.class);
            assertThat(adder.add(1, 2)).isEqualTo(3);
            assertThat(adder.add(2, 2)).isEqualTo(4);
            assertThatThrownBy(() -> adder.add(-1, 2)).hasMessageContaining("negative");

            // a registration is told just after register() returns, on a registry thread
            await().atMost(Duration.ofSeconds(1)).until(() -> meters.get("global.registry.registrations")
                    .tag("outcome", "lost").timer().count() == 1);
            assertThat(meters.get("global.registry.registrations").tag("outcome", "won").timer().count()).isEqualTo(1);
            assertThat(meters.get("global.registry.registrations").tag("outcome", "lost").timer().count()).isEqualTo(1);
            assertThat(meters.get("global.registry.registrations").tag("outcome", "failed").timer().count()).isZero();
            assertThat(meters.get("global.registry.registrations").tag("outcome", "won").timer()
                    .totalTime(java.util.concurrent.TimeUnit.NANOSECONDS)).isPositive();
            assertThat(meters.get("global.registry.calls.local").tag("outcome", "ok").counter().count()).isEqualTo(2);
            assertThat(meters.get("global.registry.calls.local").tag("outcome", "error").counter().count()).isEqualTo(1);
            assertThat(meters.get("global.registry.calls").tag("outcome", "ok").timer().count()).isZero();
            assertThat(meters.find("global.registry.calls").timers()).hasSize(RegistryObserver.CallOutcome.values().length);

            // a call that finds no owner goes nowhere: a remote call, timed
            assertThatThrownBy(() -> registry.proxy("nobody", Adder.class).add(1, 1))
                    .isInstanceOf(io.globalregistry.NoSuchNameException.class);
            assertThat(meters.get("global.registry.calls").tag("outcome", "no_owner").timer().count()).isEqualTo(1);
            assertThat(meters.get("global.registry.calls").tag("outcome", "no_owner").timer()
                    .totalTime(java.util.concurrent.TimeUnit.MILLISECONDS)).isGreaterThanOrEqualTo(300);
        });
    }

    @Test
    void timersWhenThereIsNoMeterRegistryShouldNotObserveAnything() {
        cluster.node("unmeasured").run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean(RegistryObserver.class);
        });
    }

    @Test
    void observerWhenTheUserDefinesOneShouldBeTheRegistrysAndReplaceTheTimers() {
        measured("observed").withUserConfiguration(UserObserverConfiguration.class).run(context -> {
            assertThat(context).hasSingleBean(RegistryObserver.class).doesNotHaveBean(MicrometerRegistryObserver.class);
            GlobalNameRegistry registry = context.getBean(GlobalNameRegistry.class);
            registry.register("seen", "by the user's observer");
            await().atMost(Duration.ofSeconds(1)).until(() -> !UserObserverConfiguration.SEEN.isEmpty());
            assertThat(UserObserverConfiguration.SEEN).containsExactly(RegistryObserver.RegistrationOutcome.WON);
        });
    }

    @Configuration(proxyBeanMethods = false)
    static class UserObserverConfiguration {

        static final List<RegistryObserver.RegistrationOutcome> SEEN = new CopyOnWriteArrayList<>();

        @Bean
        RegistryObserver userObserver() {
            return new RegistryObserver() {
                @Override
                public void registrationFinished(Duration took, RegistrationOutcome outcome) {
                    SEEN.add(outcome);
                }
            };
        }
    }
}
