package io.globalregistry.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.globalregistry.protocol.RegistryConfig.Strategy;
import io.globalregistry.test.TestBroker;
import io.globalregistry.test.WithBroker;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Every node of a cluster must use the same strategy: a joiner of the other one is refused by both sides. */
@WithBroker
class StrategyMismatchTest {

    @ParameterizedTest
    @EnumSource(Strategy.class)
    void aJoinerOfTheOtherStrategyStopsAndTheMembersNeverCountIt(Strategy clusterStrategy, TestBroker broker)
            throws Exception {
        Strategy other = clusterStrategy == Strategy.CLAIM ? Strategy.LEADER : Strategy.CLAIM;
        try (ClusterFixture cluster = new ClusterFixture(broker, config -> config.withStrategy(clusterStrategy))) {
            AmqpGlobalRegistry a = cluster.start("a");
            AmqpGlobalRegistry b = cluster.start("b");
            await().atMost(Duration.ofSeconds(5)).until(() -> a.members().size() == 2 && b.members().size() == 2);

            AmqpGlobalRegistry stranger = cluster.start("stranger", cluster.config.withStrategy(other));

            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThatThrownBy(
                    () -> stranger.register("anything", "target"))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("uses the '" + clusterStrategy.name().toLowerCase() + "' strategy")
                    .hasMessageContaining("every node of a cluster must use the same global-registry.strategy"));
            for (AmqpGlobalRegistry member : List.of(a, b)) {
                assertThat(member.members()).as("members of %s", member.nodeId())
                        .doesNotContain(stranger.nodeId()).hasSize(2);
            }
            assertThat(a.register("still-works", "t").registered()).isTrue();
        }
    }
}
