package io.globalregistry.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.globalregistry.OwnerChange;
import io.globalregistry.OwnerChange.Reason;
import io.globalregistry.OwnerChangeListener;
import io.globalregistry.Registration;
import io.globalregistry.RegistrationResult;
import io.globalregistry.RegistryException;
import io.globalregistry.membership.NodeId;
import io.globalregistry.test.TestBroker;
import io.globalregistry.test.WithBroker;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.AmqpConnectException;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.connection.Connection;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.connection.ConnectionListener;

/**
 * A node that gives up its incarnation (its broker connection is cut while its process runs on) rejoins
 * the cluster as a new incarnation, on the real broker (DESIGN 6b, PROTOCOL.md "Self-fencing"): the others
 * see the new one, the name it held stays with the node that took it meanwhile, it can register again,
 * listeners and proxies made before keep working, and it retries while the broker cannot be reached.
 */
@WithBroker
class RejoinTest {

    /** What the proxies call. */
    public interface Greeter {
        String greet(String who);
    }

    /** A greeter that says where it runs. */
    record NamedGreeter(String node) implements Greeter {
        @Override
        public String greet(String who) {
            return "hello " + who + " from " + node;
        }
    }

    /** Records a node's owner changes and rejoins. */
    static final class Recorder implements OwnerChangeListener {
        final List<OwnerChange> changes = new CopyOnWriteArrayList<>();
        final List<List<NodeId>> rejoins = new CopyOnWriteArrayList<>();

        @Override
        public void onOwnerChange(OwnerChange change) {
            changes.add(change);
        }

        @Override
        public void onRejoined(NodeId previous, NodeId current) {
            rejoins.add(List.of(previous, current));
        }
    }

    @Test
    void nodeWhenItsConnectionIsCutShouldRejoinAsANewIncarnationAndLeaveItsTakenNameWithTheNewOwner(
            TestBroker broker) throws Exception {
        try (ClusterFixture cluster = new ClusterFixture(broker)) {
            List<AmqpGlobalRegistry> nodes = cluster.start("a", "b", "c");
            AmqpGlobalRegistry a = nodes.get(0);
            AmqpGlobalRegistry b = nodes.get(1);
            AmqpGlobalRegistry c = nodes.get(2);
            await().atMost(Duration.ofSeconds(5)).until(() -> nodes.stream().allMatch(n -> n.members().size() == 3));
            Recorder seenByA = new Recorder();
            a.addListener(seenByA);
            assertThat(a.register("held", new NamedGreeter("a")).registered()).isTrue();
            assertThat(b.register("b-service", new NamedGreeter("b")).registered()).isTrue();
            await().atMost(Duration.ofSeconds(3)).until(() -> a.whereis("b-service").isPresent()
                    && b.whereis("held").isPresent() && c.whereis("held").isPresent());
            Greeter heldFromA = a.proxy("held", Greeter.class);   // local on a, for now
            Greeter bServiceFromA = a.proxy("b-service", Greeter.class);
            Greeter heldFromC = c.proxy("held", Greeter.class);
            assertThat(heldFromA.greet("x")).isEqualTo("hello x from a");
            assertThat(bServiceFromA.greet("x")).isEqualTo("hello x from b");
            NodeId before = a.nodeId();

            long cut = System.nanoTime();
            a.transport().dropConnection(); // a network failure: the process runs on, the broker drops the inbox

            // b takes the name as soon as the cluster certifies a's old incarnation dead
            await().atMost(Duration.ofSeconds(5)).until(() -> b.register("held", new NamedGreeter("b")).registered());
            await().atMost(Duration.ofSeconds(10)).until(() -> a.rejoins() == 1);
            long rejoined = System.nanoTime();
            NodeId after = a.nodeId();
            assertThat(after.name()).isEqualTo("a");
            assertThat(after).isNotEqualTo(before);
            assertThat(a.isFenced()).isFalse();
            assertThat(seenByA.changes).filteredOn(change -> change.reason() == Reason.FENCED)
                    .extracting(change -> change.name().key()).containsExactly("\"held\"");
            assertThat(seenByA.rejoins).containsExactly(List.of(before, after));

            // the others see the new incarnation, and not the old one
            await().atMost(Duration.ofSeconds(5)).until(() -> b.members().contains(after) && c.members().contains(after)
                    && !b.members().contains(before) && !c.members().contains(before));
            assertThat(a.members()).containsExactlyInAnyOrder(after, b.nodeId(), c.nodeId());

            // the name it held stays with b, which took it meanwhile
            await().atMost(Duration.ofSeconds(5)).until(() -> a.whereis("held").map(Registration::owner)
                    .filter(b.nodeId()::equals).isPresent());
            assertThat(a.register("held", new NamedGreeter("a again"))).isEqualTo(new RegistrationResult(false, b.nodeId()));
            assertThat(c.whereis("held").orElseThrow().owner()).isEqualTo(b.nodeId());

            // it registers again, as the new incarnation
            assertThat(a.register("after-rejoin", new NamedGreeter("a")).registered()).isTrue();
            await().atMost(Duration.ofSeconds(3)).until(() -> b.whereis("after-rejoin").map(Registration::owner)
                    .filter(after::equals).isPresent());
            assertThat(seenByA.changes).filteredOn(change -> change.reason() == Reason.REGISTERED)
                    .extracting(change -> change.name().key(), OwnerChange::newOwner)
                    .contains(org.assertj.core.groups.Tuple.tuple("\"after-rejoin\"", after));

            // proxies made before the rejoin call through the new incarnation
            assertThat(heldFromA.greet("y")).isEqualTo("hello y from b");
            assertThat(bServiceFromA.greet("y")).isEqualTo("hello y from b");
            assertThat(heldFromC.greet("y")).isEqualTo("hello y from b");
            assertThat(c.proxy("after-rejoin", Greeter.class).greet("z")).isEqualTo("hello z from a");
            System.out.printf("[rejoin] connection cut; %s rejoined as %s after %d ms%n", before, after,
                    (rejoined - cut) / 1_000_000);
        }
    }

    @Test
    void nodeWhenItStopsHearingItselfForLongShouldGiveUpAndRejoin(TestBroker broker) throws Exception {
        try (ClusterFixture cluster = new ClusterFixture(broker, config -> config.withFenceAfter(Duration.ofMillis(300)))) {
            AmqpGlobalRegistry a = cluster.start("a");
            AmqpGlobalRegistry b = cluster.start("b");
            await().atMost(Duration.ofSeconds(5)).until(() -> a.members().size() == 2 && b.members().size() == 2);
            NodeId before = a.nodeId();

            try (com.rabbitmq.client.Connection connection = broker.newConnectionFactory().newConnection("test-cut");
                 com.rabbitmq.client.Channel channel = connection.createChannel()) {
                channel.queueDelete(a.transport().inbox()); // its connection stays up, but it hears nothing any more
            }

            // fenced after 300 ms, given up after 5 x 300 ms, then a new incarnation
            await().atMost(Duration.ofSeconds(10)).until(() -> a.rejoins() == 1);
            assertThat(a.nodeId()).isNotEqualTo(before);
            await().atMost(Duration.ofSeconds(5)).until(() -> b.members().equals(java.util.Set.of(a.nodeId(), b.nodeId()))
                    && a.members().equals(b.members()));
            assertThat(a.register("after", "a").registered()).isTrue();
        }
    }

    /** A connection factory that refuses to connect while told to, as a broker that cannot be reached. */
    static final class Unreachable implements ConnectionFactory {
        final CachingConnectionFactory delegate;
        final AtomicBoolean refuse = new AtomicBoolean();
        final AtomicInteger refused = new AtomicInteger();

        Unreachable(TestBroker broker) {
            com.rabbitmq.client.ConnectionFactory rabbit = broker.newConnectionFactory();
            rabbit.setAutomaticRecoveryEnabled(false);
            this.delegate = new CachingConnectionFactory(rabbit);
        }

        @Override
        public Connection createConnection() {
            if (refuse.get()) {
                refused.incrementAndGet();
                throw new AmqpConnectException(new java.net.ConnectException("refused by the test"));
            }
            return delegate.createConnection();
        }

        @Override
        public String getHost() {
            return delegate.getHost();
        }

        @Override
        public int getPort() {
            return delegate.getPort();
        }

        @Override
        public String getVirtualHost() {
            return delegate.getVirtualHost();
        }

        @Override
        public String getUsername() {
            return delegate.getUsername();
        }

        @Override
        public void addConnectionListener(ConnectionListener listener) {
            delegate.addConnectionListener(listener);
        }

        @Override
        public boolean removeConnectionListener(ConnectionListener listener) {
            return delegate.removeConnectionListener(listener);
        }

        @Override
        public void clearConnectionListeners() {
            delegate.clearConnectionListeners();
        }
    }

    @Test
    void nodeWhileTheBrokerCannotBeReachedShouldFailFastThenRejoinWhenItCan(TestBroker broker) throws Exception {
        Unreachable connections = new Unreachable(broker);
        try (ClusterFixture cluster = new ClusterFixture(broker)) {
            AmqpGlobalRegistry b = cluster.start("b");
            AmqpGlobalRegistry a = cluster.start("a", builder -> builder.connectionFactory(connections));
            await().atMost(Duration.ofSeconds(5)).until(() -> a.members().size() == 2);
            Greeter fromA = a.proxy("b-service", Greeter.class);
            assertThat(b.register("b-service", new NamedGreeter("b")).registered()).isTrue();
            await().atMost(Duration.ofSeconds(3)).until(() -> a.whereis("b-service").isPresent());
            NodeId before = a.nodeId();

            connections.refuse.set(true);
            connections.delegate.createConnection().getDelegate().abort(); // cut, and no new connection for now

            await().atMost(Duration.ofSeconds(5)).until(() -> connections.refused.get() >= 3); // retried
            assertThat(a.rejoins()).isZero();
            assertThat(a.isFenced()).isTrue();
            assertThat(a.whereis("b-service")).isEmpty();
            assertThat(a.registrations()).isEmpty();
            assertThat(a.members()).containsExactly(before);
            assertThatThrownBy(() -> a.register("during", "x")).isInstanceOf(RegistryException.class)
                    .hasMessageContaining("rejoining");
            assertThat(a.registerAsync("during", "x")).failsWithin(Duration.ofSeconds(1));
            assertThatThrownBy(() -> fromA.greet("x")).isInstanceOf(RegistryException.class)
                    .hasMessageContaining("rejoining");

            connections.refuse.set(false);
            await().atMost(Duration.ofSeconds(10)).until(() -> a.rejoins() == 1);
            assertThat(a.nodeId()).isNotEqualTo(before);
            assertThat(a.isFenced()).isFalse();
            await().atMost(Duration.ofSeconds(3)).until(() -> a.whereis("b-service").isPresent());
            assertThat(fromA.greet("x")).isEqualTo("hello x from b");
        } finally {
            connections.delegate.destroy();
        }
    }

    @Test
    void nodeWhenClosedShouldNotRejoin(TestBroker broker) throws Exception {
        try (ClusterFixture cluster = new ClusterFixture(broker)) {
            AmqpGlobalRegistry a = cluster.start("a");
            AmqpGlobalRegistry b = cluster.start("b");
            await().atMost(Duration.ofSeconds(5)).until(() -> b.members().size() == 2);
            NodeId closed = a.nodeId();
            a.close();
            Thread.sleep(500);
            assertThat(a.rejoins()).isZero();
            assertThatThrownBy(() -> a.register("x", "y")).isInstanceOf(IllegalStateException.class);
            await().atMost(Duration.ofSeconds(3)).until(() -> !b.members().contains(closed));
            assertThat(b.members()).containsExactly(b.nodeId());
        }
    }

    @Test
    void nodeWithRejoinOffShouldStayStoppedAfterGivingUp(TestBroker broker) throws Exception {
        try (ClusterFixture cluster = new ClusterFixture(broker)) {
            AmqpGlobalRegistry a = cluster.start("a", builder -> builder.rejoin(false));
            NodeId before = a.nodeId();
            a.transport().dropConnection();
            await().atMost(Duration.ofSeconds(3)).until(a::isFenced);
            Thread.sleep(500);
            assertThat(a.rejoins()).isZero();
            assertThat(a.nodeId()).isEqualTo(before);
            assertThat(a.isFenced()).isTrue();
        }
    }
}
