package io.globalregistry.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Consumer;
import com.rabbitmq.client.ShutdownSignalException;
import io.globalregistry.RegistryException;
import io.globalregistry.membership.NodeId;
import io.globalregistry.protocol.NodeRuntime;
import io.globalregistry.support.RateLimitedLog;
import io.globalregistry.wire.Envelope;
import io.globalregistry.wire.MessageType;
import java.io.IOException;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.support.DefaultMessagePropertiesConverter;
import org.springframework.amqp.rabbit.support.MessagePropertiesConverter;

/**
 * Liveness {@code lease}: one node's reader of the cluster's lease stream
 * ({@link AmqpNames#leaseStream}), the durable RabbitMQ stream every node publishes its heartbeats
 * to and every node reads. A stream hands an entry to its readers only once a majority of its
 * broker nodes stores it, and every reader reads the entries in one order (their offsets).
 *
 * <p>It consumes on a channel of its own on the node's connection, with a consumer prefetch of
 * {@link #PREFETCH} (a stream consumer must have one) and manual acks ({@code multiple} every
 * {@link #ACK_EVERY} deliveries: for a stream an ack only gives credit back). It starts at
 * {@code next}: what is published after the consume-ok. Each delivery is checked exactly like an
 * inbox message ({@link InboxListener#read}: size, codec, signature, replay; rejects counted); a
 * valid {@code heartbeat} is handed to the node on its loop, on the consumer's thread, so the node
 * sees the stream's order; anything else is dropped (logged at most every 10 s).
 *
 * <p>A broker node serves an AMQP stream consumer from its own replica, which starts a moment after another
 * node created the stream (through another broker node, {@link LeaseLogPlacement}): while the broker answers
 * that it has none yet, subscribing is tried again for up to {@link #REPLICA_WAIT_MILLIS} ms.
 *
 * <p>It remembers the offset of every delivery (header {@code x-stream-offset}). If the broker
 * cancels the consumer (the stream's member moved, the stream was deleted) or closes its channel
 * while the connection stays, it subscribes again on a new channel from that offset + 1, never
 * from {@code next}: a node that missed some heartbeats could take a live node for dead. Entries
 * the stream delivers again (it starts at a chunk's first entry) are skipped by their offset. If
 * it cannot subscribe again, {@code lost} runs, as for a lost connection.
 */
final class LeaseStream {

    /** The stream's retention by size: about half an hour of heartbeats of 10 nodes every 100 ms. */
    static final long MAX_LENGTH_BYTES = 50_000_000L;
    /** Retention deletes whole segments: small ones, so it can (the broker's default is 500 MB). */
    static final long MAX_SEGMENT_SIZE_BYTES = 5_000_000L;
    /** The stream's retention by age. */
    static final String MAX_AGE = "1h";
    /** The consumer prefetch: deliveries not acked yet. */
    static final int PREFETCH = 500;
    /** How many deliveries one multiple ack covers (well below {@link #PREFETCH}). */
    static final int ACK_EVERY = 50;
    /** The argument that says where a new stream's leader goes. */
    static final String LEADER_LOCATOR = "x-queue-leader-locator";
    /** How long a subscription waits for this broker node's replica of the stream to start. */
    static final long REPLICA_WAIT_MILLIS = 10_000;
    /** How often it asks again meanwhile. */
    static final long REPLICA_RETRY_MILLIS = 100;
    /** The header that carries a delivery's offset. */
    static final String OFFSET_HEADER = "x-stream-offset";

    private static final Logger LOG = LoggerFactory.getLogger(LeaseStream.class);

    private final Supplier<Channel> opener;
    private final NodeId self;
    private final String stream;
    private final InboxListener reader;
    private final NodeRuntime runtime;
    private final java.util.function.Consumer<Envelope> inbound;
    private final Runnable lost;
    private final ExecutorService resubscriber;
    private final MessagePropertiesConverter converter = new DefaultMessagePropertiesConverter();
    private final RateLimitedLog droppedLog = new RateLimitedLog(LOG, Level.WARN);
    private final RateLimitedLog gapLog = new RateLimitedLog(LOG, Level.ERROR);
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();
    private final AtomicLong gaps = new AtomicLong();
    private final AtomicLong resubscriptions = new AtomicLong();
    private final AtomicLong replicaWaits = new AtomicLong();
    private final Object lock = new Object();
    private Subscription current; // guarded by lock
    private long lastOffset = -1; // guarded by lock
    private long attachedAtMillis; // guarded by lock: wall clock when the first subscription was asked for
    private boolean failed; // guarded by lock
    private volatile boolean closed;

    /**
     * @param opener opens a new raw channel on the node's connection
     * @param stream the stream's name
     * @param reader checks and decodes a delivery (the inbox's checks)
     * @param inbound where heartbeats go, on the node's loop
     * @param lost runs (once) if the stream cannot be read any more while the connection stays
     * @param resubscriber where subscribing again runs (not a consumer thread)
     */
    LeaseStream(Supplier<Channel> opener, NodeId self, String stream, InboxListener reader, NodeRuntime runtime,
                java.util.function.Consumer<Envelope> inbound, Runnable lost, ExecutorService resubscriber) {
        this.opener = opener;
        this.self = self;
        this.stream = stream;
        this.reader = reader;
        this.runtime = runtime;
        this.inbound = inbound;
        this.lost = lost;
        this.resubscriber = resubscriber;
    }

    /** The arguments every node declares the stream with (the same everywhere, or a declare fails with 406). */
    static Map<String, Object> arguments() {
        Map<String, Object> arguments = new LinkedHashMap<>();
        arguments.put("x-queue-type", "stream");
        arguments.put("x-max-length-bytes", MAX_LENGTH_BYTES);
        arguments.put("x-stream-max-segment-size-bytes", MAX_SEGMENT_SIZE_BYTES);
        arguments.put("x-max-age", MAX_AGE);
        arguments.put(LEADER_LOCATOR, "client-local"); // placed by the creating connection: LeaseLogPlacement
        return arguments;
    }

    /**
     * Declares the stream on a channel of its own: durable, not exclusive, not auto-delete.
     *
     * @throws RegistryException if it exists with other arguments (406), saying what to delete, or the declare fails
     */
    static void declare(Supplier<Channel> opener, String stream, String virtualHost) {
        Channel channel = null;
        try {
            channel = opener.get();
            channel.queueDeclare(stream, true, false, false, arguments());
        } catch (IOException | RuntimeException e) {
            if (BrokerErrors.isPreconditionFailed(e) && BrokerErrors.describe(e).contains("'" + LEADER_LOCATOR + "'")) {
                // made by an earlier build (locator balanced): usable as is; only where its leader sits differs
                LOG.warn("The lease stream {} exists with another {} ({}); it is used as is, its leader stays where it"
                        + " is (docs/OPERATIONS.md, \"Stream leaders\")", stream, LEADER_LOCATOR, BrokerErrors.describe(e));
                return;
            }
            if (BrokerErrors.isPreconditionFailed(e)) {
                throw new RegistryException("The lease stream " + stream + " exists with other arguments than this"
                        + " node's " + arguments() + " (" + BrokerErrors.describe(e) + "): delete it (e.g. rabbitmqctl"
                        + " delete_queue " + stream + " -p " + virtualHost + ") and start again; running nodes of the"
                        + " cluster then rejoin and declare it anew", e);
            }
            throw new RegistryException("Could not declare the lease stream " + stream + " (liveness=lease needs"
                    + " RabbitMQ 3.9+ with streams enabled): " + BrokerErrors.describe(e), e);
        } finally {
            AmqpTransport.closeQuietly(channel);
        }
    }

    /**
     * Subscribes from {@code next} and returns once the broker answered consume-ok.
     *
     * @throws RegistryException if the channel cannot be opened or the consume is refused
     */
    void start() {
        synchronized (lock) {
            attachedAtMillis = System.currentTimeMillis();
            try {
                current = subscribeOnceReplicated("next");
            } catch (IOException | RuntimeException e) {
                throw new RegistryException("Could not consume the lease stream " + stream + ": "
                        + BrokerErrors.describe(e), e);
            }
        }
    }

    /**
     * {@link #subscribe}, tried again every {@link #REPLICA_RETRY_MILLIS} ms for up to {@link #REPLICA_WAIT_MILLIS}
     * ms while the broker answers that its replica of the stream is not running yet
     * ({@link BrokerErrors#isNoLocalReplica}): a stream another node has just created, through another broker
     * node, is consumable here only once this broker node's replica started.
     */
    private Subscription subscribeOnceReplicated(Object offset) throws IOException {
        long deadline = System.nanoTime() + REPLICA_WAIT_MILLIS * 1_000_000L;
        while (true) {
            try {
                return subscribe(offset);
            } catch (IOException | RuntimeException e) {
                if (closed || !BrokerErrors.isNoLocalReplica(e) || System.nanoTime() > deadline) {
                    throw e;
                }
                replicaWaits.incrementAndGet();
                LOG.debug("{}: no replica of the lease stream {} on this broker node yet; trying again", self, stream);
                try {
                    Thread.sleep(REPLICA_RETRY_MILLIS);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /** A new channel, its prefetch, and a consumer from {@code offset} ("next", a Long or a Date); consume-ok'd. */
    private Subscription subscribe(Object offset) throws IOException {
        Channel channel = opener.get();
        if (channel == null) {
            throw new IOException("No channel available (channel-max reached)");
        }
        try {
            channel.basicQos(PREFETCH);
            Subscription subscription = new Subscription(channel);
            subscription.tag = channel.basicConsume(stream, false, "global-registry-lease-" + self,
                    false, false, Map.of(OFFSET_HEADER, offset), subscription);
            return subscription;
        } catch (IOException | RuntimeException e) {
            AmqpTransport.closeQuietly(channel);
            throw e;
        }
    }

    /** The offset of the newest entry read, -1 before the first. */
    long lastOffset() {
        synchronized (lock) {
            return lastOffset;
        }
    }

    /** Heartbeats handed to the node. */
    long delivered() {
        return delivered.get();
    }

    /** Valid messages of another type than {@code heartbeat} (dropped), besides the rejected ones the node counts. */
    long dropped() {
        return dropped.get();
    }

    /** Entries the stream delivered again after a new subscription (skipped). */
    long skipped() {
        return skipped.get();
    }

    /** How many times an entry came whose offset was not the one after the last read. */
    long gaps() {
        return gaps.get();
    }

    /** How many times a subscription was refused because this broker node had no replica running yet (and retried). */
    long replicaWaits() {
        return replicaWaits.get();
    }

    /** How many times it subscribed again. */
    long resubscriptions() {
        return resubscriptions.get();
    }

    /** Ends reading for good; the subscription there was, if any. */
    private Subscription detach() {
        closed = true;
        synchronized (lock) {
            Subscription subscription = current;
            current = null;
            return subscription;
        }
    }

    /** Stops reading: cancels the consumer and closes its channel (nothing is handed on after it returns). */
    void close() {
        Subscription subscription = detach();
        if (subscription != null) {
            AmqpTransport.closeQuietly(subscription.channel);
        }
    }

    /** Cuts the channel without a word (a crash). */
    void abort() {
        Subscription subscription = detach();
        if (subscription != null) {
            try {
                subscription.channel.abort();
            } catch (IOException | RuntimeException e) {
                LOG.trace("Aborting the lease stream channel", e);
            }
        }
    }

    /** For tests: cancels the consumer (as the broker may), so the reader subscribes again. */
    void cancelForTest() throws IOException {
        Subscription subscription;
        synchronized (lock) {
            subscription = current;
        }
        if (subscription != null) {
            subscription.channel.basicCancel(subscription.tag);
        }
    }

    private void delivery(Subscription from, long deliveryTag, AMQP.BasicProperties properties, byte[] body,
                          com.rabbitmq.client.Envelope amqpEnvelope) {
        Envelope envelope;
        synchronized (lock) {
            if (closed || from != current) {
                return; // a subscription that ended
            }
            from.ack(deliveryTag);
            Long offset = offset(properties);
            if (offset == null) {
                droppedLog.log("An entry of the lease stream {} without an {} header; dropped", stream, OFFSET_HEADER);
                dropped.incrementAndGet();
                return;
            }
            if (offset <= lastOffset) {
                skipped.incrementAndGet(); // read before the stream was subscribed to again
                return;
            }
            if (lastOffset >= 0 && offset != lastOffset + 1) {
                gaps.incrementAndGet();
                gapLog.log("{} read offset {} of the lease stream {} after {}: {} entries it never read", self, offset,
                        stream, lastOffset, offset - lastOffset - 1);
            }
            lastOffset = offset;
            Message message = new Message(body, converter.toMessageProperties(properties, amqpEnvelope, "UTF-8"));
            envelope = reader.read(message);
            if (envelope == null) {
                return; // rejected and counted
            }
            if (envelope.type() != MessageType.HEARTBEAT) {
                dropped.incrementAndGet();
                droppedLog.log("A {} from {} in the lease stream {}; only heartbeats belong there: dropped",
                        envelope.type().wireName(), envelope.sender(), stream);
                return;
            }
            delivered.incrementAndGet();
        }
        // on this consumer's thread, one delivery after the other: the node sees the stream's order
        runtime.runNow(() -> inbound.accept(envelope));
    }

    private static Long offset(AMQP.BasicProperties properties) {
        Map<String, Object> headers = properties.getHeaders();
        Object value = headers == null ? null : headers.get(OFFSET_HEADER);
        return value instanceof Number ? ((Number) value).longValue() : null;
    }

    /** The broker ended {@code ended} (a cancel, or its channel closed while the connection stays). */
    private void ended(Subscription ended, String why) {
        synchronized (lock) {
            if (closed || failed || ended != current) {
                return;
            }
        }
        LOG.warn("The broker ended {}'s subscription to the lease stream {} ({}); subscribing again after offset {}",
                self, stream, why, lastOffset());
        try {
            resubscriber.execute(() -> resubscribe(ended));
        } catch (RejectedExecutionException e) {
            LOG.debug("{} is closing; not subscribing again to {}", self, stream);
        }
    }

    private void resubscribe(Subscription ended) {
        Subscription fresh;
        synchronized (lock) {
            if (closed || failed || ended != current) {
                return;
            }
            // from the entry after the last read; before any was read, from when the first subscription was
            // made (a timestamp: the stream starts at a chunk of that second, which may hold older heartbeats)
            Object from = lastOffset >= 0 ? Long.valueOf(lastOffset + 1) : new Date(attachedAtMillis - 1_000);
            try {
                fresh = subscribeOnceReplicated(from);
                current = fresh;
                resubscriptions.incrementAndGet();
            } catch (IOException | RuntimeException e) {
                failed = true;
                current = null;
                LOG.error("{} could not subscribe again to the lease stream {} from offset {} ({}): it gives up as if"
                        + " its connection were lost", self, stream, from, BrokerErrors.describe(e));
                fresh = null;
            }
        }
        AmqpTransport.closeQuietly(ended.channel);
        if (fresh == null && !closed) {
            lost.run();
        }
    }

    /** One basic.consume on one channel. */
    private final class Subscription implements Consumer {
        final Channel channel;
        volatile String tag;
        private int unacked; // guarded by LeaseStream.lock

        Subscription(Channel channel) {
            this.channel = channel;
        }

        void ack(long deliveryTag) {
            if (++unacked >= ACK_EVERY) {
                unacked = 0;
                try {
                    channel.basicAck(deliveryTag, true);
                } catch (IOException | RuntimeException e) {
                    LOG.debug("Acking the lease stream {}: {}", stream, e.toString());
                }
            }
        }

        @Override
        public void handleConsumeOk(String consumerTag) {
            tag = consumerTag;
        }

        @Override
        public void handleCancelOk(String consumerTag) {
            if (!closed) {
                ended(this, "cancel-ok"); // only a test cancels while the node runs
            }
        }

        @Override
        public void handleCancel(String consumerTag) {
            ended(this, "basic.cancel");
        }

        @Override
        public void handleShutdownSignal(String consumerTag, ShutdownSignalException signal) {
            if (closed || signal.isInitiatedByApplication() || signal.isHardError()) {
                return; // our close, or the connection's end, which the transport hears of
            }
            ended(this, "channel closed: " + signal.getMessage());
        }

        @Override
        public void handleRecoverOk(String consumerTag) {
        }

        @Override
        public void handleDelivery(String consumerTag, com.rabbitmq.client.Envelope envelope,
                                   AMQP.BasicProperties properties, byte[] body) {
            try {
                delivery(this, envelope.getDeliveryTag(), properties, body, envelope);
            } catch (RuntimeException e) {
                LOG.error("Unexpected failure reading the lease stream {}; entry dropped", stream, e);
            }
        }
    }
}
