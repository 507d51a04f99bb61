package io.globalregistry.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.Address;
import io.globalregistry.membership.NodeId;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.rabbit.connection.AbstractConnectionFactory;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;

/**
 * The connection factories the builder makes, without a broker: none recovers by itself (a recovered
 * inbox would bring back a node the others buried), whatever the settings given, the leader election's
 * neither; each incarnation tries the broker addresses one entry further on.
 */
class BuilderConnectionsTest {

    private static com.rabbitmq.client.ConnectionFactory recovering(String host, int port) {
        com.rabbitmq.client.ConnectionFactory rabbit = new com.rabbitmq.client.ConnectionFactory();
        rabbit.setHost(host);
        rabbit.setPort(port);
        rabbit.setAutomaticRecoveryEnabled(true);
        rabbit.setTopologyRecoveryEnabled(true);
        return rabbit;
    }

    private static CachingConnectionFactory recoveringSpring() {
        CachingConnectionFactory spring = new CachingConnectionFactory(recovering("broker-1", 5672));
        spring.getRabbitConnectionFactory().setAutomaticRecoveryEnabled(true); // Spring's constructor turned it off
        return spring;
    }

    /** Every way of giving broker settings, each asking for recovery where it can. */
    private static List<AmqpGlobalRegistry.Builder> everySource() {
        return List.of(
                AmqpGlobalRegistry.builder().host("broker-1").port(5672),
                AmqpGlobalRegistry.builder().rabbitConnectionFactory(recovering("broker-1", 5672)),
                AmqpGlobalRegistry.builder().connectionFactory(recoveringSpring()),
                AmqpGlobalRegistry.builder().host("broker-1").addresses("broker-1:5672,broker-2:5673"),
                AmqpGlobalRegistry.builder().rabbitConnectionFactory(recovering("broker-1", 5672))
                        .addresses("broker-1:5672,broker-2:5673"),
                AmqpGlobalRegistry.builder().connectionFactory(recoveringSpring())
                        .addresses(List.of(new Address("broker-1", 5672), new Address("broker-2", 5673))));
    }

    @Test
    void connectionsWhenTheSettingsAskForRecoveryShouldTurnItOffOnEveryFactoryAndElection() {
        for (AmqpGlobalRegistry.Builder builder : everySource()) {
            Function<NodeId, ConnectionFactory> connections = builder.nodeName("n").connections();
            for (int incarnation = 0; incarnation < 3; incarnation++) {
                NodeId self = NodeId.fresh("n");
                CachingConnectionFactory made = (CachingConnectionFactory) connections.apply(self);
                com.rabbitmq.client.ConnectionFactory rabbit = made.getRabbitConnectionFactory();
                assertThat(rabbit.isAutomaticRecoveryEnabled()).as("automatic recovery of %s", made).isFalse();
                assertThat(rabbit.isTopologyRecoveryEnabled()).as("topology recovery of %s", made).isFalse();

                // the election the transport would build from it
                try (EventLoopRuntime loop = new EventLoopRuntime("n")) {
                    LeaderElection election = new LeaderElection(rabbit, self, "leader-queue", loop, message -> { },
                            100, () -> { }, () -> { });
                    assertThat(election.factory().isAutomaticRecoveryEnabled()).isFalse();
                    assertThat(election.factory().isTopologyRecoveryEnabled()).isFalse();
                    assertThat(election.addresses()).isEqualTo(BrokerAddresses.orderOf(rabbit));
                    election.close(true);
                }
                made.destroy();
            }
        }
    }

    @Test
    void electionWhenGivenAFactoryAskingForRecoveryShouldTurnItOff() {
        try (EventLoopRuntime loop = new EventLoopRuntime("n")) {
            com.rabbitmq.client.ConnectionFactory user = recovering("broker-1", 5672);
            LeaderElection election = new LeaderElection(user, NodeId.fresh("n"), "leader-queue", loop,
                    message -> { }, 100, () -> { }, () -> { });
            assertThat(election.factory().isAutomaticRecoveryEnabled()).isFalse();
            assertThat(election.factory().isTopologyRecoveryEnabled()).isFalse();
            assertThat(election.addresses()).containsExactly(new Address("broker-1", 5672)); // nothing attached
            assertThat(user.isAutomaticRecoveryEnabled()).isTrue(); // the user's is left as it was
            election.close(true);
        }
    }

    @Test
    void connectionsWhenGivenTheUsersFactoriesShouldLeaveThemAsTheyWere() {
        com.rabbitmq.client.ConnectionFactory rabbit = recovering("broker-1", 5672);
        CachingConnectionFactory spring = new CachingConnectionFactory(recovering("broker-1", 5672));
        spring.getRabbitConnectionFactory().setAutomaticRecoveryEnabled(true); // Spring's constructor turned it off
        AmqpGlobalRegistry.builder().rabbitConnectionFactory(rabbit).connections().apply(NodeId.fresh("n"));
        AmqpGlobalRegistry.builder().connectionFactory(spring).connections().apply(NodeId.fresh("n"));
        assertThat(rabbit.isAutomaticRecoveryEnabled()).isTrue();
        assertThat(spring.getRabbitConnectionFactory().isAutomaticRecoveryEnabled()).isTrue();
    }

    @Test
    void connectionsWhenGivenAListShouldStartEachIncarnationOneAddressFurtherOn() {
        Function<NodeId, ConnectionFactory> connections = AmqpGlobalRegistry.builder()
                .rabbitConnectionFactory(recovering("ignored", 1))
                .addresses(" a:1, b:2 ,c").connections();
        List<List<Address>> orders = new ArrayList<>();
        for (int incarnation = 0; incarnation < 4; incarnation++) {
            AbstractConnectionFactory made = (AbstractConnectionFactory) connections.apply(NodeId.fresh("n"));
            orders.add(BrokerAddresses.orderOf(made.getRabbitConnectionFactory()));
        }
        Address a = new Address("a", 1);
        Address b = new Address("b", 2);
        Address c = new Address("c", -1);
        assertThat(orders).containsExactly(List.of(a, b, c), List.of(b, c, a), List.of(c, a, b), List.of(a, b, c));
    }

    @Test
    void connectionsWithoutAListShouldUseTheSettingsHostAndPort() {
        AbstractConnectionFactory made = (AbstractConnectionFactory) AmqpGlobalRegistry.builder()
                .rabbitConnectionFactory(recovering("broker-9", 5999)).connections().apply(NodeId.fresh("n"));
        assertThat(BrokerAddresses.orderOf(made.getRabbitConnectionFactory()))
                .containsExactly(new Address("broker-9", 5999));
        assertThat(AmqpGlobalRegistry.builder().host("h").port(7).brokerAddresses()).containsExactly(new Address("h", 7));
    }

    @Test
    void addressesWhenEmptyOrUnusableShouldBeRefused() {
        assertThatThrownBy(() -> AmqpGlobalRegistry.builder().addresses(" , "))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("No broker address");
        assertThatThrownBy(() -> AmqpGlobalRegistry.builder().addresses(List.of()))
                .isInstanceOf(IllegalArgumentException.class);
        ConnectionFactory usedAsIs = (ConnectionFactory) java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {ConnectionFactory.class}, (proxy, method, args) -> null);
        assertThatThrownBy(() -> AmqpGlobalRegistry.builder().connectionFactory(usedAsIs).addresses("a:1").connections())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("uses as is");
    }
}
