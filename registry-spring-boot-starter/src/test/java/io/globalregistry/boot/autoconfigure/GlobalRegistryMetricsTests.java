package io.globalregistry.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.test.WithBroker;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;

/** The {@code global.registry.*} meters, bound by Spring Boot's metrics auto-configuration. */
@WithBroker
class GlobalRegistryMetricsTests {

    private final TestCluster cluster = new TestCluster();

    @AfterEach
    void deleteExchange() throws Exception {
        cluster.close();
    }

    @Test
    void metersWhenBoundShouldHaveDescriptionsAndNoNameTags() {
        cluster.node("measured").withConfiguration(AutoConfigurations.of(MetricsAutoConfiguration.class,
                        CompositeMeterRegistryAutoConfiguration.class, SimpleMetricsExportAutoConfiguration.class))
                .run(context -> {
                    GlobalNameRegistry registry = context.getBean(GlobalNameRegistry.class);
                    registry.register(List.of("room", 42), "room 42");
                    registry.register("billing", "billing");
                    registry.unregister("billing");
                    MeterRegistry meters = context.getBean(MeterRegistry.class);

                    List<Meter> ours = meters.getMeters().stream()
                            .filter(m -> m.getId().getName().startsWith("global.registry.")).toList();
                    assertThat(ours).extracting(m -> m.getId().getName()).contains("global.registry.registrations",
                            "global.registry.members", "global.registry.messages.rejected",
                            "global.registry.deliveries", "global.registry.owner.changes");
                    assertThat(ours).allSatisfy(m -> assertThat(m.getId().getDescription()).isNotBlank());
                    assertThat(ours).flatExtracting(m -> m.getId().getTags()).extracting(Tag::getKey)
                            .containsOnly("state", "reason", "outcome");
                    assertThat(ours).flatExtracting(m -> m.getId().getTags()).extracting(Tag::getValue)
                            .noneMatch(v -> v.contains("room") || v.contains("billing"));

                    assertThat(meters.get("global.registry.registrations").tag("state", "local").gauge().value())
                            .isEqualTo(1.0);
                    assertThat(meters.get("global.registry.registrations").tag("state", "pending").gauge().value())
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
                });
    }
}
