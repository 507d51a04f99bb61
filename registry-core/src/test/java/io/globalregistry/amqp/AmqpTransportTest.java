package io.globalregistry.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.globalregistry.membership.NodeId;
import io.globalregistry.test.TestBroker;
import io.globalregistry.test.WithBroker;
import io.globalregistry.wire.Envelope;
import io.globalregistry.wire.Message.Heartbeat;
import io.globalregistry.wire.Message.Resolve;
import io.globalregistry.wire.Message.SyncRequest;
import io.globalregistry.wire.MessageType;
import io.globalregistry.wire.RejectedMessages;
import io.globalregistry.wire.WireCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;

/** The transport alone: delivery, returns, liveness checks, abort, and the cost of a publish. */
@WithBroker
class AmqpTransportTest {

    private final String cluster = "test-" + UUID.randomUUID().toString().substring(0, 8);
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private TestBroker broker;

    /** One transport with its loop and what it received. */
    private final class Endpoint {
        final NodeId id = NodeId.fresh("t");
        final EventLoopRuntime loop = new EventLoopRuntime(id.name());
        final RejectedMessages rejected = new RejectedMessages();
        final AmqpTransport transport;
        final BlockingQueue<Envelope> received = new LinkedBlockingQueue<>();
        final List<Boolean> handledInLoop = new CopyOnWriteArrayList<>();

        Endpoint() {
            CachingConnectionFactory factory = new CachingConnectionFactory(rabbitFactory());
            transport = new AmqpTransport(factory, true, id, cluster, new WireCodec(cluster, 1 << 20), rejected, loop);
            transport.start(envelope -> {
                handledInLoop.add(loop.inLoop());
                received.add(envelope);
            });
            closeables.add(loop);
            closeables.add(transport);
        }

        Envelope envelope(io.globalregistry.wire.Message body) {
            return new Envelope(1, id, cluster, 1L << 20, body);
        }
    }

    private com.rabbitmq.client.ConnectionFactory rabbitFactory() {
        com.rabbitmq.client.ConnectionFactory factory = broker.newConnectionFactory();
        factory.setAutomaticRecoveryEnabled(false);
        return factory;
    }

    @BeforeEach
    void broker(TestBroker testBroker) {
        this.broker = testBroker;
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        try (com.rabbitmq.client.Connection connection = broker.newConnectionFactory().newConnection();
             com.rabbitmq.client.Channel channel = connection.createChannel()) {
            channel.exchangeDelete(AmqpNames.exchange(cluster));
        }
    }

    @Test
    void broadcastsReachEveryInboxAndDirectMessagesOnlyOne() throws Exception {
        Endpoint a = new Endpoint();
        Endpoint b = new Endpoint();

        a.loop.execute(() -> a.transport.broadcast(a.envelope(new Heartbeat(1, 2))));
        assertThat(a.received.poll(5, TimeUnit.SECONDS).body()).isEqualTo(new Heartbeat(1, 2));
        assertThat(b.received.poll(5, TimeUnit.SECONDS).body()).isEqualTo(new Heartbeat(1, 2));

        AtomicInteger returned = new AtomicInteger();
        a.loop.execute(() -> a.transport.send(b.id, a.envelope(new SyncRequest()), returned::incrementAndGet));
        Envelope direct = b.received.poll(5, TimeUnit.SECONDS);
        assertThat(direct.body()).isEqualTo(new SyncRequest());
        assertThat(direct.sender()).isEqualTo(a.id);
        assertThat(a.received.poll(200, TimeUnit.MILLISECONDS)).isNull();
        Thread.sleep(200); // a return would come within milliseconds
        assertThat(returned).hasValue(0);
        assertThat(b.handledInLoop).isNotEmpty().containsOnly(true); // exclusively with the loop, maybe on the consumer thread
    }

    @Test
    void publishedMessagesAreCountedByTypeAndRouteUntilClose() throws Exception {
        Endpoint a = new Endpoint();
        Endpoint b = new Endpoint();

        onLoop(a, () -> {
            a.transport.broadcast(a.envelope(new Heartbeat(1, 2)));
            a.transport.broadcast(a.envelope(new Heartbeat(1, 2)));
            a.transport.send(b.id, a.envelope(new SyncRequest()), () -> { });
            a.transport.sendToLeader(a.envelope(new Resolve("n", 1, true, false)), () -> { }); // no leader: returned, yet published
        });

        assertThat(a.transport.publishedMessages()).isEqualTo(4);
        assertThat(a.transport.publishedMessages(MessageType.HEARTBEAT)).isEqualTo(2);
        assertThat(a.transport.publishedBroadcasts(MessageType.HEARTBEAT)).isEqualTo(2);
        assertThat(a.transport.publishedMessages(MessageType.SYNC_REQUEST)).isEqualTo(1);
        assertThat(a.transport.publishedBroadcasts(MessageType.SYNC_REQUEST)).isZero();
        assertThat(a.transport.publishedMessages(MessageType.RESOLVE)).isEqualTo(1);
        assertThat(a.transport.publishedBroadcasts(MessageType.RESOLVE)).isZero();
        assertThat(b.transport.publishedMessages()).isZero();
        await().atMost(Duration.ofSeconds(5)).until(() -> b.received.size() == 3); // two broadcasts, one direct

        a.transport.close();
        onLoop(a, () -> a.transport.broadcast(a.envelope(new Heartbeat(1, 2))));
        assertThat(a.transport.publishedMessages()).isEqualTo(4);
    }

    private static void onLoop(Endpoint endpoint, Runnable action) throws Exception {
        CompletableFuture<Void> done = new CompletableFuture<>();
        endpoint.loop.execute(() -> {
            action.run();
            done.complete(null);
        });
        done.get(5, TimeUnit.SECONDS);
    }

    @Test
    void aDirectMessageToAMissingInboxIsReturnedOnTheLoop() {
        Endpoint a = new Endpoint();
        List<String> returnedOn = new CopyOnWriteArrayList<>();
        NodeId ghost = NodeId.fresh("ghost");

        a.loop.execute(() -> a.transport.send(ghost, a.envelope(new SyncRequest()),
                () -> returnedOn.add(Thread.currentThread().getName())));

        await().atMost(Duration.ofSeconds(2)).until(() -> returnedOn.size() == 1);
        assertThat(returnedOn).containsExactly("global-registry-t");
        assertThat(a.transport.pendingDirect()).isZero();
    }

    @Test
    void checkAliveAsksTheBrokerForTheInbox() throws Exception {
        Endpoint a = new Endpoint();
        Endpoint b = new Endpoint();

        assertThat(alive(a, b.id)).isTrue();
        assertThat(alive(a, NodeId.fresh("ghost"))).isFalse();
        assertThat(alive(a, new NodeId("x".repeat(100), "y".repeat(100)))).isFalse();
        b.transport.abortConnection();
        await().atMost(Duration.ofSeconds(2)).until(() -> !alive(a, b.id));
        assertThat(alive(a, a.id)).isTrue();
    }

    @Test
    void publishingIsFast() throws Exception {
        Endpoint a = new Endpoint();
        Endpoint b = new Endpoint();
        int warmup = 5_000;
        int measured = 5_000;
        CompletableFuture<long[]> nanos = new CompletableFuture<>();
        a.loop.execute(() -> {
            Envelope heartbeat = a.envelope(new Heartbeat(1, 2));
            for (int i = 0; i < warmup; i++) {
                a.transport.broadcast(heartbeat);
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < measured; i++) {
                a.transport.broadcast(heartbeat);
            }
            long t1 = System.nanoTime();
            for (int i = 0; i < measured; i++) {
                a.transport.send(b.id, heartbeat, () -> { });
            }
            nanos.complete(new long[] {t1 - t0, System.nanoTime() - t1});
        });
        long[] took = nanos.get(60, TimeUnit.SECONDS);
        System.out.printf("[publish] broadcast %.1f us, mandatory send %.1f us per publish (on the loop, %d each)%n",
                took[0] / 1000.0 / measured, took[1] / 1000.0 / measured, measured);
        await().atMost(Duration.ofSeconds(30)).until(() -> b.received.size() == warmup + 2 * measured);

        long start = System.nanoTime();
        int roundTrips = 500;
        for (int i = 0; i < roundTrips; i++) {
            b.received.clear();
            a.loop.execute(() -> a.transport.send(b.id, a.envelope(new SyncRequest()), () -> { }));
            b.received.take();
        }
        System.out.printf("[publish] one-way latency publish -> other node's loop: %.1f us on average over %d%n",
                (System.nanoTime() - start) / 1000.0 / roundTrips, roundTrips);
        assertThat(a.rejected.total() + b.rejected.total()).isZero();
    }

    private static boolean alive(Endpoint from, NodeId node) throws Exception {
        CompletableFuture<Boolean> answer = new CompletableFuture<>();
        List<String> thread = new CopyOnWriteArrayList<>();
        from.loop.execute(() -> from.transport.checkAlive(node, alive -> {
            thread.add(Thread.currentThread().getName());
            answer.complete(alive);
        }));
        boolean alive = answer.get(5, TimeUnit.SECONDS);
        assertThat(thread).containsExactly("global-registry-t");
        return alive;
    }
}
