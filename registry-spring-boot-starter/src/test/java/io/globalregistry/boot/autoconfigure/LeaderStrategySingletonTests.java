package io.globalregistry.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.amqp.AmqpGlobalRegistry;
import io.globalregistry.boot.autoconfigure.GlobalSingletonTests.Counter;
import io.globalregistry.boot.autoconfigure.GlobalSingletonTests.CounterConfiguration;
import io.globalregistry.boot.autoconfigure.GlobalSingletonTests.CounterImpl;
import io.globalregistry.boot.endpoint.GlobalRegistryEndpoint;
import io.globalregistry.boot.singleton.GlobalSingletonManager;
import io.globalregistry.membership.NodeId;
import io.globalregistry.test.WithBroker;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** {@code global-registry.strategy=leader}: the singletons run on the leader node, and follow the leadership. */
@WithBroker
class LeaderStrategySingletonTests {

    private final TestCluster cluster = new TestCluster();

    @BeforeEach
    void resetCounters() {
        CounterImpl.CREATED.set(0);
        CounterImpl.DESTROYED.set(0);
    }

    @AfterEach
    void deleteExchange() throws Exception {
        cluster.close();
    }

    private ApplicationContextRunner node(String name) {
        return cluster.node(name).withUserConfiguration(CounterConfiguration.class)
                .withPropertyValues("global-registry.strategy=leader", "global-registry.leader-retry=100ms");
    }

    private static GlobalNameRegistry registry(AssertableApplicationContext context) {
        return context.getBean(GlobalNameRegistry.class);
    }

    private static boolean leads(AssertableApplicationContext context) {
        GlobalNameRegistry registry = registry(context);
        return registry.leader().map(registry.nodeId()::equals).orElse(false);
    }

    @Test
    void singletonRunsOnTheLeaderAndMovesWithTheLeadership() {
        node("one").run(first -> node("two").run(second -> node("three").run(third -> {
            List<AssertableApplicationContext> nodes = List.of(first, second, third);
            nodes.forEach(node -> assertThat(node).hasNotFailed());
            await().atMost(Duration.ofSeconds(10)).until(() -> nodes.stream().filter(
                    node -> node.getBean(GlobalSingletonManager.class).isActive("counter")).count() == 1);
            AssertableApplicationContext leader = nodes.stream().filter(LeaderStrategySingletonTests::leads)
                    .findFirst().orElseThrow();
            assertThat(leader.getBean(GlobalSingletonManager.class).isActive("counter")).as("active on the leader")
                    .isTrue();
            assertThat(CounterImpl.CREATED).hasValue(1);
            String leaderName = registry(leader).nodeId().name();
            for (AssertableApplicationContext node : nodes) {
                assertThat(node.getBean(Counter.class).node()).isEqualTo(leaderName);
                GlobalRegistryEndpoint.RegistryDescriptor described =
                        new GlobalRegistryEndpoint(registry(node), "leader").registry();
                assertThat(described.strategy()).isEqualTo("leader");
                assertThat(described.leader()).isEqualTo(registry(leader).nodeId().toString());
            }

            NodeId crashed = registry(leader).nodeId();
            ((AmqpGlobalRegistry) registry(leader)).crash(); // as kill -9 would: the leader queue goes at once
            List<AssertableApplicationContext> survivors = nodes.stream().filter(node -> node != leader).toList();
            await().atMost(Duration.ofSeconds(10)).until(() -> survivors.stream().anyMatch(
                    node -> node.getBean(GlobalSingletonManager.class).isActive("counter")));
            AssertableApplicationContext next = survivors.stream()
                    .filter(node -> node.getBean(GlobalSingletonManager.class).isActive("counter")).findFirst()
                    .orElseThrow();
            assertThat(leads(next)).as("the new owner is the new leader").isTrue();
            assertThat(registry(next).nodeId()).isNotEqualTo(crashed);
            for (AssertableApplicationContext node : survivors) {
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                        assertThat(node.getBean(Counter.class).node()).isEqualTo(registry(next).nodeId().name()));
            }
            assertThat(CounterImpl.CREATED).hasValue(2);
        })));
    }
}
