package io.globalregistry.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.globalregistry.RegistryException;
import io.globalregistry.membership.NodeId;
import io.globalregistry.protocol.RegistryConfig;
import io.globalregistry.protocol.RegistryConfig.Liveness;
import io.globalregistry.test.TestBroker;
import io.globalregistry.test.WithBroker;
import io.globalregistry.wire.EncodedMessage;
import io.globalregistry.wire.Envelope;
import io.globalregistry.wire.Message.Call;
import io.globalregistry.wire.Message.Heartbeat;
import io.globalregistry.wire.Message.SyncRequest;
import io.globalregistry.wire.MessageType;
import io.globalregistry.wire.RejectedMessages;
import io.globalregistry.wire.WireCodec;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * Liveness {@code lease} on the real RabbitMQ: AUTO resolves to it, the lease stream, heartbeats
 * through it (both nodes, publish order, not through the inbox), what it drops, the exclusive
 * inbox, subscribing again after a cancel, and how long a read-back takes.
 */
@WithBroker
class LeaseStreamTest {

    private final String cluster = "test-" + UUID.randomUUID().toString().substring(0, 8);
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private TestBroker broker;

    /** One transport with its loop and what it received, in order. */
    private final class Endpoint {
        final NodeId id = NodeId.fresh("t");
        final EventLoopRuntime loop = new EventLoopRuntime(id.name());
        final RejectedMessages rejected = new RejectedMessages();
        final WireCodec codec = new WireCodec(cluster, 1 << 20);
        final AmqpTransport transport;
        final BlockingQueue<Envelope> received = new LinkedBlockingQueue<>();
        final Map<Integer, Long> receivedAtNanos = new ConcurrentHashMap<>();
        final AtomicInteger lostCalls = new AtomicInteger();
        final AtomicInteger otherLogs = new AtomicInteger();

        Endpoint(Liveness liveness) {
            CachingConnectionFactory factory = new CachingConnectionFactory(rabbitFactory());
            transport = new AmqpTransport(factory, true, id, cluster, codec, rejected, loop, liveness);
            transport.onConnectionLost(lostCalls::incrementAndGet);
            closeables.add(loop);
            closeables.add(transport);
            java.util.function.Consumer<Envelope> inbound = envelope -> {
                if (envelope.body() instanceof Heartbeat heartbeat) {
                    receivedAtNanos.put(heartbeat.owned(), System.nanoTime());
                }
                received.add(envelope);
            };
            // every heartbeat comes once from each lease log: these tests look at log 0's (logs 1 and 2 are alike)
            transport.start(inbound, (log, envelope) -> {
                if (log == 0) {
                    inbound.accept(envelope);
                } else {
                    otherLogs.incrementAndGet();
                }
            });
        }

        Envelope envelope(io.globalregistry.wire.Message body) {
            return new Envelope(1, id, cluster, 1L << 20, body);
        }

        /** Heartbeat number {@code n} ({@code owned} = n), from the loop as the protocol sends it. */
        void heartbeat(int n) {
            loop.execute(() -> transport.heartbeat(envelope(new Heartbeat(n, n))));
        }

        List<Integer> heartbeatsReceived() {
            return received.stream().filter(e -> e.body() instanceof Heartbeat)
                    .map(e -> ((Heartbeat) e.body()).owned()).collect(Collectors.toList());
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
        assumeThat(testBroker.kind()).as("streams need RabbitMQ").isEqualTo(TestBroker.Kind.RABBITMQ);
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        try (Connection connection = broker.newConnectionFactory().newConnection("test-cleanup");
             Channel channel = connection.createChannel()) {
            channel.exchangeDelete(AmqpNames.exchange(cluster));
            for (int log = 0; log < io.globalregistry.protocol.RegistryConfig.LEASE_LOGS; log++) {
                channel.queueDelete(AmqpNames.leaseStream(cluster, log)); // durable: it would outlive the test
            }
        }
    }

    /** Runs {@code action} with a channel of a connection of its own; the broker's answer is thrown. */
    private void withChannel(ChannelAction action) throws Exception {
        try (Connection connection = broker.newConnectionFactory().newConnection("test-probe");
             Channel channel = connection.createChannel()) {
            action.run(channel);
        }
    }

    @FunctionalInterface
    private interface ChannelAction {
        void run(Channel channel) throws Exception;
    }

    @Test
    void autoWhenRabbitMq310ShouldResolveToLeaseAndDeclareTheStream() throws Exception {
        AmqpGlobalRegistry node = AmqpGlobalRegistry.builder()
                .rabbitConnectionFactory(broker.newConnectionFactory())
                .config(RegistryConfig.defaults(cluster))
                .nodeName("auto")
                .start();
        closeables.add(node::close);

        assertThat(RegistryConfig.defaults(cluster).liveness()).isEqualTo(Liveness.AUTO);
        assertThat(node.transport().liveness()).isEqualTo(Liveness.LEASE);
        assertThat(node.transport().leaseStreams().get(0)).isEqualTo("global-registry." + cluster + ".lease.0");
        withChannel(channel -> {
            // exists, durable, with the arguments every node declares it with
            channel.queueDeclare(node.transport().leaseStreams().get(0), true, false, false, LeaseStream.arguments());
        });
        Map<String, Object> classic = new HashMap<>(LeaseStream.arguments());
        classic.put("x-queue-type", "classic");
        assertThatThrownBy(() -> withChannel(channel ->
                channel.queueDeclare(node.transport().leaseStreams().get(0), true, false, false, classic)))
                .satisfies(e -> assertThat(BrokerErrors.channelCloseCode(e)).isEqualTo(406))
                .satisfies(e -> assertThat(BrokerErrors.describe(e)).contains("x-queue-type").contains("stream"));
    }

    @Test
    void leaseWhenExplicitOnRabbitMq310ShouldStart() {
        AmqpGlobalRegistry node = AmqpGlobalRegistry.builder()
                .rabbitConnectionFactory(broker.newConnectionFactory())
                .config(RegistryConfig.defaults(cluster).withLiveness(Liveness.LEASE))
                .nodeName("lease")
                .start();
        closeables.add(node::close);
        assertThat(node.transport().liveness()).isEqualTo(Liveness.LEASE);
    }

    @Test
    void heartbeatWhenPublishedByAShouldReachAAndBFromTheStreamInPublishOrder() {
        Endpoint a = new Endpoint(Liveness.LEASE);
        Endpoint b = new Endpoint(Liveness.LEASE);
        int count = 50;

        for (int i = 0; i < count; i++) {
            a.heartbeat(i);
        }

        List<Integer> expected = IntStream.range(0, count).boxed().collect(Collectors.toList());
        await().atMost(Duration.ofSeconds(10)).until(() -> a.received.size() >= count && b.received.size() >= count);
        assertThat(a.heartbeatsReceived()).isEqualTo(expected);
        assertThat(b.heartbeatsReceived()).isEqualTo(expected);
        assertThat(a.received).allMatch(e -> e.sender().equals(a.id));
        for (Endpoint e : List.of(a, b)) {
            LeaseStream reader = e.transport.leaseStreamReader(0);
            assertThat(reader.delivered()).isEqualTo(count); // all from the stream: none came through the inbox
            assertThat(reader.gaps()).isZero();
            assertThat(reader.dropped()).isZero();
            assertThat(e.rejected.total()).isZero();
        }
        assertThat(a.transport.leaseStreamOffset()).isEqualTo(b.transport.leaseStreamOffset()).isNotNegative();
        // one publish to each lease log, each read by every node; every log delivered each heartbeat to both
        assertThat(a.transport.publishedMessages(MessageType.HEARTBEAT)).isEqualTo((long) count * RegistryConfig.LEASE_LOGS);
        assertThat(a.transport.publishedBroadcasts(MessageType.HEARTBEAT)).isEqualTo((long) count * RegistryConfig.LEASE_LOGS);
        await().atMost(Duration.ofSeconds(5)).until(() -> a.otherLogs.get() == count * (RegistryConfig.LEASE_LOGS - 1)
                && b.otherLogs.get() == count * (RegistryConfig.LEASE_LOGS - 1));
    }

    @Test
    void heartbeatWhenBroadcastUnderLeaseShouldBeDroppedAndOtherBroadcastsStillArrive() throws Exception {
        Endpoint a = new Endpoint(Liveness.LEASE);
        Endpoint b = new Endpoint(Liveness.LEASE);

        a.loop.execute(() -> {
            a.transport.broadcast(a.envelope(new Heartbeat(7, 7))); // as a node on liveness=broker sends it
            a.transport.broadcast(a.envelope(new SyncRequest()));
        });

        assertThat(b.received.poll(5, TimeUnit.SECONDS).body()).isEqualTo(new SyncRequest());
        assertThat(a.received.poll(5, TimeUnit.SECONDS).body()).isEqualTo(new SyncRequest());
        assertThat(b.received.poll(300, TimeUnit.MILLISECONDS)).isNull();
        assertThat(a.received).isEmpty();
        assertThat(b.transport.leaseStreamReader(0).delivered()).isZero();
    }

    @Test
    void heartbeatWhenBrokerLivenessShouldBeABroadcastAndNoStreamIsDeclared() throws Exception {
        Endpoint a = new Endpoint(Liveness.BROKER);
        Endpoint b = new Endpoint(Liveness.BROKER);

        a.heartbeat(1);

        assertThat(b.received.poll(5, TimeUnit.SECONDS).body()).isEqualTo(new Heartbeat(1, 1));
        assertThat(a.received.poll(5, TimeUnit.SECONDS).body()).isEqualTo(new Heartbeat(1, 1));
        assertThat(a.transport.leaseStreamReader(0)).isNull();
        assertThatThrownBy(() -> withChannel(channel -> channel.queueDeclarePassive(AmqpNames.leaseStream(cluster, 0))))
                .satisfies(e -> assertThat(BrokerErrors.isQueueGone(e, AmqpNames.leaseStream(cluster, 0))).isTrue());
    }

    @Test
    void nonHeartbeatWhenPublishedStraightIntoTheStreamShouldBeDroppedAndReadingGoesOn() throws Exception {
        Endpoint a = new Endpoint(Liveness.LEASE);
        Endpoint b = new Endpoint(Liveness.LEASE);
        EncodedMessage sync = a.codec.encode(a.envelope(new SyncRequest()));

        withChannel(channel -> {
            // a valid message of another type, then one the codec rejects (unknown type)
            channel.basicPublish("", AmqpNames.leaseStream(cluster, 0), new AMQP.BasicProperties.Builder()
                    .type(sync.type()).contentType(sync.contentType()).headers(sync.headers()).build(), sync.body());
            channel.basicPublish("", AmqpNames.leaseStream(cluster, 0), new AMQP.BasicProperties.Builder()
                    .type("no-such-type").contentType(sync.contentType()).headers(sync.headers()).build(), sync.body());
        });
        a.heartbeat(1);

        await().atMost(Duration.ofSeconds(5)).until(() -> b.received.size() == 1 && a.received.size() == 1);
        assertThat(b.received.peek().body()).isEqualTo(new Heartbeat(1, 1));
        for (Endpoint e : List.of(a, b)) {
            assertThat(e.transport.leaseStreamReader(0).dropped()).isEqualTo(1);
            assertThat(e.rejected.total()).isEqualTo(1);
            assertThat(e.transport.leaseStreamReader(0).gaps()).isZero();
        }
    }

    @Test
    void inboxWhenLeaseShouldBeExclusive() {
        Endpoint a = new Endpoint(Liveness.LEASE);

        assertThatThrownBy(() -> withChannel(channel -> channel.queueDeclarePassive(a.transport.inbox())))
                .satisfies(e -> assertThat(BrokerErrors.channelCloseCode(e)).isEqualTo(BrokerErrors.RESOURCE_LOCKED))
                .satisfies(e -> assertThat(BrokerErrors.isQueueGone(e, a.transport.inbox())).isFalse());
    }

    @Test
    void callWhenLeaseShouldReachTheExclusiveInboxOfAnotherConnection() throws Exception {
        Endpoint a = new Endpoint(Liveness.LEASE);
        Endpoint b = new Endpoint(Liveness.LEASE);
        AtomicInteger returned = new AtomicInteger();
        Call call = new Call("n", 1, "run", List.of(), JsonNodeFactory.instance.arrayNode(), true);

        a.loop.execute(() -> a.transport.send(b.id, a.envelope(call), returned::incrementAndGet));

        assertThat(b.received.poll(5, TimeUnit.SECONDS).body()).isEqualTo(call);
        assertThat(returned).hasValue(0);
    }

    @Test
    void inboxWhenBrokerShouldNotBeExclusive() throws Exception {
        Endpoint a = new Endpoint(Liveness.BROKER);

        withChannel(channel -> assertThat(channel.queueDeclarePassive(a.transport.inbox()).getConsumerCount())
                .isEqualTo(1));
    }

    @Test
    void checkAliveWhenLeaseShouldTakeTheLockedInboxForAlive() throws Exception {
        Endpoint a = new Endpoint(Liveness.LEASE);
        Endpoint b = new Endpoint(Liveness.LEASE);

        assertThat(alive(a, b.id)).isTrue(); // 405: unknown, so alive
        assertThat(alive(a, NodeId.fresh("ghost"))).isFalse();
    }

    @Test
    void consumerWhenCancelledShouldSubscribeAgainAfterItsLastOffsetWithoutAGap() throws Exception {
        Endpoint a = new Endpoint(Liveness.LEASE);
        Endpoint b = new Endpoint(Liveness.LEASE);
        for (int i = 0; i < 20; i++) {
            a.heartbeat(i);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> b.received.size() == 20);

        b.transport.leaseStreamReader(0).cancelForTest();
        for (int i = 20; i < 60; i++) {
            a.heartbeat(i); // published while b subscribes again
        }

        List<Integer> expected = IntStream.range(0, 60).boxed().collect(Collectors.toList());
        await().atMost(Duration.ofSeconds(10)).until(() -> b.received.size() >= 60);
        Thread.sleep(200); // nothing more may come
        LeaseStream reader = b.transport.leaseStreamReader(0);
        System.out.printf("[lease] after a cancel: %d resubscription(s), %d entries delivered again and skipped%n",
                reader.resubscriptions(), reader.skipped());
        assertThat(b.heartbeatsReceived()).isEqualTo(expected);
        assertThat(reader.resubscriptions()).isEqualTo(1);
        assertThat(reader.gaps()).isZero();
        assertThat(b.lostCalls).hasValue(0);
        assertThat(a.heartbeatsReceived()).isEqualTo(expected);
    }

    @Test
    void streamWhenDeletedShouldCountAsALostConnection() throws Exception {
        Endpoint a = new Endpoint(Liveness.LEASE);
        a.heartbeat(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> a.received.size() == 1);

        withChannel(channel -> channel.queueDelete(AmqpNames.leaseStream(cluster, 0))); // the broker cancels the consumer

        await().atMost(Duration.ofSeconds(5)).until(() -> a.lostCalls.get() == 1);
        Thread.sleep(200);
        assertThat(a.lostCalls).hasValue(1);
    }

    /**
     * A broker node whose replica of a just-created stream has not started refuses the consume (406 "does not
     * have a replica on the local node", seen on a 3-node cluster in CI): the reader asks again until it may.
     * Here the first two consumes are refused that way by a channel that stands in for such a broker node.
     */
    @Test
    void startWhenTheLocalReplicaIsNotRunningYetShouldSubscribeOnceItIs() throws Exception {
        String stream = AmqpNames.leaseStream(cluster, 0);
        NodeId id = NodeId.fresh("r");
        EventLoopRuntime loop = new EventLoopRuntime(id.name());
        closeables.add(loop);
        Connection connection = rabbitFactory().newConnection("test-replica");
        closeables.add(connection::abort);
        java.util.function.Supplier<Channel> real = () -> {
            try {
                return connection.createChannel();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        LeaseStream.declare(real, stream, "/");
        AtomicInteger refusals = new AtomicInteger(2);
        java.util.function.Supplier<Channel> opener = () -> {
            Channel channel = real.get();
            if (refusals.getAndDecrement() <= 0) {
                return channel;
            }
            return (Channel) java.lang.reflect.Proxy.newProxyInstance(Channel.class.getClassLoader(),
                    new Class<?>[] {Channel.class}, (proxy, method, args) -> {
                        if (method.getName().equals("basicConsume")) {
                            channel.close();
                            IOException refused = new IOException();
                            refused.initCause(new com.rabbitmq.client.ShutdownSignalException(false, false,
                                    new com.rabbitmq.client.impl.AMQImpl.Channel.Close(406, "PRECONDITION_FAILED -"
                                            + " queue 'queue '" + stream + "' in vhost '/'' does not have a replica on"
                                            + " the local node", 60, 20), channel));
                            throw refused;
                        }
                        try {
                            return method.invoke(channel, args);
                        } catch (java.lang.reflect.InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
        };
        BlockingQueue<Envelope> read = new LinkedBlockingQueue<>();
        WireCodec codec = new WireCodec(cluster, 1 << 20);
        java.util.concurrent.ExecutorService resubscriber = java.util.concurrent.Executors.newSingleThreadExecutor();
        closeables.add(resubscriber::shutdownNow);
        LeaseStream reader = new LeaseStream(opener, id, stream, new InboxListener(codec, new RejectedMessages(), loop,
                read::add), loop, read::add, () -> { }, resubscriber);
        closeables.add(reader::close);

        reader.start();
        try (Channel publisher = connection.createChannel()) {
            EncodedMessage encoded = codec.encode(new Envelope(1, id, cluster, 1L << 20,
                    new Heartbeat(7, 7)));
            publisher.basicPublish("", stream, new AMQP.BasicProperties.Builder()
                    .type(encoded.type()).contentType(encoded.contentType()).headers(encoded.headers()).build(),
                    encoded.body());
        }

        assertThat(reader.replicaWaits()).isEqualTo(2);
        await().atMost(Duration.ofSeconds(5)).until(() -> reader.delivered() == 1);
    }

    /** A stream an earlier build made with the balanced locator is used as is (only its leader's place differs). */
    @Test
    void declareWhenTheStreamHasAnotherLeaderLocatorShouldUseItAsIs() throws Exception {
        Map<String, Object> earlier = new HashMap<>(LeaseStream.arguments());
        earlier.put(LeaseStream.LEADER_LOCATOR, "balanced");
        withChannel(channel -> channel.queueDeclare(AmqpNames.leaseStream(cluster, 0), true, false, false, earlier));

        Endpoint a = new Endpoint(Liveness.LEASE);
        a.heartbeat(1);

        await().atMost(Duration.ofSeconds(5)).until(() -> a.received.size() == 1);
    }

    @Test
    void declareWhenTheStreamHasOtherArgumentsShouldFailSayingWhatToDelete() throws Exception {
        Map<String, Object> other = new HashMap<>(LeaseStream.arguments());
        other.put("x-max-age", "2h");
        withChannel(channel -> channel.queueDeclare(AmqpNames.leaseStream(cluster, 0), true, false, false, other));

        assertThatThrownBy(() -> new Endpoint(Liveness.LEASE))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("delete it")
                .hasMessageContaining("rabbitmqctl delete_queue " + AmqpNames.leaseStream(cluster, 0))
                .hasMessageContaining("x-max-age");
    }

    /**
     * Heartbeats every 100 ms for about 10 s from A: how long from the publish (on A's loop) to the
     * read-back on A's and on B's loop. Prints p50/p99; asserts only a loose bound.
     */
    @Test
    void heartbeatWhenEvery100MsShouldBeReadBackQuickly() throws Exception {
        Endpoint a = new Endpoint(Liveness.LEASE);
        Endpoint b = new Endpoint(Liveness.LEASE);
        int count = 100;
        long[] publishedAt = new long[count];
        for (int i = 0; i < count; i++) {
            int n = i;
            CompletableFuture<Void> sent = new CompletableFuture<>();
            a.loop.execute(() -> {
                publishedAt[n] = System.nanoTime();
                a.transport.heartbeat(a.envelope(new Heartbeat(n, n)));
                sent.complete(null);
            });
            sent.get(5, TimeUnit.SECONDS);
            Thread.sleep(100);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> a.received.size() == count && b.received.size() == count);

        for (Endpoint e : List.of(a, b)) {
            long[] micros = new long[count];
            for (int i = 0; i < count; i++) {
                micros[i] = (e.receivedAtNanos.get(i) - publishedAt[i]) / 1_000;
            }
            Arrays.sort(micros);
            System.out.printf("[lease] publish -> read-back on %s (%d heartbeats, every 100 ms): p50 %.2f ms,"
                            + " p99 %.2f ms, max %.2f ms%n", e == a ? "the publisher" : "another node", count,
                    micros[count / 2] / 1000.0, micros[(int) Math.ceil(count * 0.99) - 1] / 1000.0,
                    micros[count - 1] / 1000.0);
            assertThat(micros[count / 2]).isLessThan(TimeUnit.MILLISECONDS.toMicros(100));
        }
    }

    private static boolean alive(Endpoint from, NodeId node) throws Exception {
        CompletableFuture<Boolean> answer = new CompletableFuture<>();
        from.loop.execute(() -> from.transport.checkAlive(node, answer::complete));
        return answer.get(5, TimeUnit.SECONDS);
    }
}
