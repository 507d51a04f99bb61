package io.globalregistry.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.globalregistry.Registration;
import io.globalregistry.protocol.RegistryConfig;
import io.globalregistry.test.TestBroker;
import io.globalregistry.test.WithBroker;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * A node given several broker addresses, on the real broker: it connects (and contends for the
 * leadership) through the first one that accepts, and after its connection is lost it rejoins
 * through the list, starting past the broker node that failed. The RabbitMQ factory it is given
 * points at a refusing port, so only the list can reach the broker.
 */
@WithBroker
class BrokerAddressesTest {

    private static final String REFUSING = "127.0.0.1:1";

    /** A node reaching the broker only through {@code addresses}. */
    private static Consumer<AmqpGlobalRegistry.Builder> through(TestBroker broker, String addresses) {
        return builder -> {
            com.rabbitmq.client.ConnectionFactory refusing = broker.newConnectionFactory();
            refusing.setHost("127.0.0.1");
            refusing.setPort(1);
            builder.rabbitConnectionFactory(refusing).addresses(addresses);
        };
    }

    private static String direct(TestBroker broker) {
        return broker.host() + ":" + broker.port();
    }

    private static Optional<Registration> ownedBy(AmqpGlobalRegistry node, String name, AmqpGlobalRegistry owner) {
        return node.whereis(name).filter(registration -> registration.owner().equals(owner.nodeId()));
    }

    @Test
    void nodeWhenTheFirstAddressRefusesShouldConnectThroughTheNextAndRegister(TestBroker broker) throws Exception {
        try (ClusterFixture cluster = new ClusterFixture(broker)) {
            AmqpGlobalRegistry a = cluster.start("a", through(broker, REFUSING + "," + direct(broker)));
            AmqpGlobalRegistry b = cluster.start("b");
            await().atMost(Duration.ofSeconds(5)).until(() -> a.members().size() == 2 && b.members().size() == 2);

            assertThat(a.register("through-the-list", "a").registered()).isTrue();
            await().atMost(Duration.ofSeconds(3)).until(() -> ownedBy(b, "through-the-list", a).isPresent());
        }
    }

    @Test
    void leaderStrategyWhenTheFirstAddressRefusesShouldElectALeaderThroughTheList(TestBroker broker) throws Exception {
        try (ClusterFixture cluster = new ClusterFixture(broker, config -> config
                .withStrategy(RegistryConfig.Strategy.LEADER).withLeaderRetry(Duration.ofMillis(100)))) {
            AmqpGlobalRegistry a = cluster.start("a", through(broker, REFUSING + "," + direct(broker)));
            // its election connection reaches the broker through the list too: it is the only contender
            await().atMost(Duration.ofSeconds(5)).until(() -> a.leader().filter(a.nodeId()::equals).isPresent());
            assertThat(a.transport().isLeader()).isTrue();

            AmqpGlobalRegistry b = cluster.start("b");
            await().atMost(Duration.ofSeconds(5)).until(() -> b.leader().filter(a.nodeId()::equals).isPresent());
            assertThat(b.register("decided-by-a", "b").registered()).isTrue();
            await().atMost(Duration.ofSeconds(3)).until(() -> ownedBy(a, "decided-by-a", b).isPresent());
        }
    }

    @Test
    void nodeWhenItsConnectionIsDroppedShouldRejoinThroughTheListAndWork(TestBroker broker) throws Exception {
        try (ClusterFixture cluster = new ClusterFixture(broker)) {
            AmqpGlobalRegistry a = cluster.start("a", through(broker, REFUSING + "," + direct(broker)));
            AmqpGlobalRegistry b = cluster.start("b");
            await().atMost(Duration.ofSeconds(5)).until(() -> a.members().size() == 2 && b.members().size() == 2);
            var before = a.nodeId();

            a.transport().dropConnection(); // a network failure: the process runs on

            await().atMost(Duration.ofSeconds(10)).until(() -> a.rejoins() == 1);
            assertThat(a.nodeId()).isNotEqualTo(before);
            await().atMost(Duration.ofSeconds(5)).until(() -> b.members().contains(a.nodeId())
                    && !b.members().contains(before));
            assertThat(a.register("after-rejoin", "a").registered()).isTrue();
            await().atMost(Duration.ofSeconds(3)).until(() -> ownedBy(b, "after-rejoin", a).isPresent());
        }
    }

    @Test
    void leaderWhenItsBrokerNodeDiesShouldRejoinThroughAnotherBrokerNodeAndWork(TestBroker broker) throws Exception {
        try (TcpForwarder first = new TcpForwarder(broker.host(), broker.port());
             TcpForwarder second = new TcpForwarder(broker.host(), broker.port());
             ClusterFixture cluster = new ClusterFixture(broker, config -> config
                     .withStrategy(RegistryConfig.Strategy.LEADER).withLeaderRetry(Duration.ofMillis(100)))) {
            AmqpGlobalRegistry a = cluster.start("a", through(broker, first.address() + "," + second.address()));
            await().atMost(Duration.ofSeconds(5)).until(() -> a.leader().filter(a.nodeId()::equals).isPresent());
            AmqpGlobalRegistry b = cluster.start("b");
            await().atMost(Duration.ofSeconds(5)).until(() -> b.leader().filter(a.nodeId()::equals).isPresent());
            assertThat(first.accepted()).isGreaterThanOrEqualTo(2); // its node and election connections
            assertThat(second.accepted()).isZero();
            var before = a.nodeId();

            first.kill(); // the broker node a is connected to dies

            await().atMost(Duration.ofSeconds(10)).until(() -> a.rejoins() == 1);
            assertThat(a.nodeId()).isNotEqualTo(before);
            assertThat(second.accepted()).isGreaterThanOrEqualTo(1);
            // b leads now, or a again (its election connection goes through the second broker node too)
            await().atMost(Duration.ofSeconds(5)).until(() -> a.leader().isPresent() && a.leader().equals(b.leader())
                    && b.members().contains(a.nodeId()) && !b.members().contains(before));
            assertThat(a.register("after-failover", "a").registered()).isTrue();
            await().atMost(Duration.ofSeconds(3)).until(() -> ownedBy(b, "after-failover", a).isPresent());
            if (a.leader().orElseThrow().equals(a.nodeId())) {
                assertThat(second.accepted()).isGreaterThanOrEqualTo(2);
            }
        }
    }
}
