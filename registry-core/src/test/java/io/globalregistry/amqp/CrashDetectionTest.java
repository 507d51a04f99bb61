package io.globalregistry.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.globalregistry.OwnerChange;
import io.globalregistry.OwnerChange.Reason;
import io.globalregistry.Registration;
import io.globalregistry.membership.NodeId;
import io.globalregistry.protocol.RegistryConfig;
import io.globalregistry.test.TestBroker;
import io.globalregistry.test.WithBroker;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Crash detection on the real broker (docs/PROTOCOL.md, "Liveness"), liveness {@code lease}: RabbitMQ's
 * event exchange reports a node's connection closed, and the others certify it dead once its crash grace
 * has passed, instead of waiting for the lease logs. Needs the plugin {@code rabbitmq_event_exchange}
 * ({@code .ci/run} enables it; elsewhere the test is skipped when it is off, except with {@code CI=true}).
 */
@WithBroker
class CrashDetectionTest {

    private static final int NAMES = 20;

    private TestBroker broker;

    @BeforeEach
    void needsTheEventExchange(TestBroker broker) throws Exception {
        this.broker = broker;
        boolean present;
        try (Connection connection = broker.newConnectionFactory().newConnection("test-probe");
             Channel channel = connection.createChannel()) {
            channel.exchangeDeclarePassive(CrashDetection.EVENTS);
            present = true;
        } catch (Exception e) {
            present = false;
        }
        assumeTrue(present || "true".equals(System.getenv("CI")),
                "the broker has no exchange " + CrashDetection.EVENTS + " (rabbitmq-plugins enable rabbitmq_event_exchange)");
        assertThat(present).as("CI=true: the broker must have the event exchange (.ci/run enables the plugin)").isTrue();
    }

    private static RegistryConfig lease(RegistryConfig config) {
        return config.withLiveness(RegistryConfig.Liveness.LEASE);
    }

    @Test
    void aCrashedOwnersNamesAreFreedOnceTheBrokerReportsItsConnectionClosed() throws Exception {
        try (ClusterFixture cluster = new ClusterFixture(broker, CrashDetectionTest::lease)) {
            List<AmqpGlobalRegistry> nodes = cluster.start("a", "b", "c");
            AmqpGlobalRegistry a = nodes.get(0);
            AmqpGlobalRegistry b = nodes.get(1);
            AmqpGlobalRegistry c = nodes.get(2);
            await().atMost(Duration.ofSeconds(10)).until(() -> nodes.stream().allMatch(n -> n.members().size() == 3));
            for (int i = 0; i < NAMES; i++) {
                assertThat(c.register("crash-" + i, "t").registered()).isTrue();
            }
            NodeId dead = c.nodeId();
            await().atMost(Duration.ofSeconds(3)).until(() -> owned(a, dead) == NAMES && owned(b, dead) == NAMES);
            long reportsBefore = a.transport().closedConnectionReports();

            long start = System.nanoTime();
            c.crash();
            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5))
                    .until(() -> owned(a, dead) == 0 && owned(b, dead) == 0);
            long freedMillis = (System.nanoTime() - start) / 1_000_000;
            System.out.printf("[crash-detection] %d names of a crashed node freed on both survivors %d ms after its"
                    + " connection closed (crash grace %d ms; lease logs alone: %d ms)%n", NAMES, freedMillis,
                    cluster.config.crashGrace().toMillis(), cluster.config.takeoverMillis());

            assertThat(a.transport().closedConnectionReports()).isGreaterThan(reportsBefore);
            assertThat(a.engine().crashGraceMillis()).isEqualTo(150);
            assertThat(a.members()).containsExactlyInAnyOrder(a.nodeId(), b.nodeId());
            assertThat(b.register("crash-0", "b's now").registered()).isTrue();
        }
    }

    /**
     * The case the pings are for: the broker sees the owner's connection closed while the owner sees
     * nothing (its socket stays open, what it sends vanishes). The others certify it dead a grace after the
     * report; it must have stopped acting before: the last time it was told it may act as the owner comes
     * before the first node saw its name freed.
     */
    @Test
    void anOwnerWhoseConnectionTheBrokerAloneSawCloseStopsActingBeforeItIsCertifiedDead() throws Exception {
        try (TcpForwarder brokerNode = new TcpForwarder(broker.host(), broker.port());
             ClusterFixture cluster = new ClusterFixture(broker, CrashDetectionTest::lease)) {
            AmqpGlobalRegistry a = cluster.start("a");
            AmqpGlobalRegistry c = cluster.start("c", builder -> {
                com.rabbitmq.client.ConnectionFactory refusing = broker.newConnectionFactory();
                refusing.setHost("127.0.0.1");
                refusing.setPort(1);
                builder.rabbitConnectionFactory(refusing).addresses(brokerNode.address());
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> a.members().size() == 2 && c.members().size() == 2);
            assertThat(c.register("singleton", "c").registered()).isTrue();
            NodeId owner = c.nodeId();
            await().atMost(Duration.ofSeconds(3)).until(() -> a.whereis("singleton").map(Registration::owner)
                    .filter(owner::equals).isPresent());
            await().atMost(Duration.ofSeconds(3)).until(() -> c.mayActAsOwner("singleton"));

            AtomicLong freedAt = new AtomicLong();
            a.addListener(change -> {
                if (change.reason() == Reason.OWNER_DOWN && change.name().key().equals("\"singleton\"")) {
                    freedAt.compareAndSet(0, System.nanoTime());
                }
            });
            AtomicLong lastMayAct = new AtomicLong();
            AtomicBoolean sampling = new AtomicBoolean(true);
            Thread sampler = new Thread(() -> {
                while (sampling.get()) {
                    if (c.mayActAsOwner("singleton")) {
                        lastMayAct.set(System.nanoTime()); // what an owner does right after the check
                    }
                }
            }, "owner-acts");
            sampler.start();
            Thread.sleep(200);
            assertThat(lastMayAct.get()).as("the owner acts while its connection is whole").isPositive();

            long cut = System.nanoTime();
            brokerNode.cutBrokerSide();
            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5)).until(() -> freedAt.get() != 0);
            Thread.sleep(300);
            sampling.set(false);
            sampler.join();

            long stoppedActing = (lastMayAct.get() - cut) / 1_000_000;
            long freed = (freedAt.get() - cut) / 1_000_000;
            System.out.printf("[crash-detection] broker-side close: the owner last acted %d ms after the cut, its name"
                    + " was freed on another node %d ms after it%n", stoppedActing, freed);
            assertThat(lastMayAct.get()).as("the owner stopped acting before another node freed its name")
                    .isLessThan(freedAt.get());
            assertThat(a.register("singleton", "a").registered()).isTrue();
            brokerNode.kill(); // the client's side too, so the cut-off node closes at once
        }
    }

    private static long owned(AmqpGlobalRegistry node, NodeId owner) {
        long count = 0;
        for (int i = 0; i < NAMES; i++) {
            if (node.whereis("crash-" + i).map(Registration::owner).filter(owner::equals).isPresent()) {
                count++;
            }
        }
        return count;
    }
}
