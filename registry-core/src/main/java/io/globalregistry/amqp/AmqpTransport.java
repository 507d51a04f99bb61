package io.globalregistry.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ShutdownSignalException;
import io.globalregistry.RegistryException;
import io.globalregistry.engine.NodeTransport;
import io.globalregistry.engine.RegistryThreads;
import io.globalregistry.membership.NodeId;
import io.globalregistry.protocol.NodeRuntime;
import io.globalregistry.protocol.RegistryConfig.Liveness;
import io.globalregistry.support.RateLimitedLog;
import io.globalregistry.wire.Envelope;
import io.globalregistry.wire.Message;
import io.globalregistry.wire.MessageType;
import io.globalregistry.wire.RejectedMessages;
import io.globalregistry.wire.WireCodec;
import java.io.IOException;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import org.springframework.amqp.AmqpException;
import org.springframework.amqp.rabbit.connection.AbstractConnectionFactory;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.connection.ConnectionListener;

/**
 * The AMQP {@link NodeTransport} of one node, on a connection of its own: a topic exchange per
 * cluster, an auto-delete (not exclusive) inbox per node bound to {@code all} and
 * {@code node.<id>}, consumed without acks by a plain amqp-client consumer ({@link InboxConsumer}).
 * Broadcasts are plain publishes; direct messages are mandatory and a basic.return runs their
 * {@code onReturned} on the loop (see {@link PublisherChannel}); liveness is a passive
 * declare of the member's inbox on a throwaway channel. Publishing never waits for the broker.
 *
 * <p>Strategy {@code leader}: the cluster's leader queue is held, exclusive, by the leader's
 * election connection, a second connection opened from the same broker settings (see
 * {@link LeaderElection}); its messages are checked and handed to the node like the inbox's.
 * Requests to the leader go through the default exchange to that queue, mandatory, so a
 * basic.return proves that no node leads.
 *
 * <p>Liveness {@code lease}: {@link #heartbeat} publishes to the cluster's lease stream (through
 * the default exchange), which every node reads on a channel of its own ({@link LeaseStream});
 * heartbeats reach the node from there only: one that comes through the inbox (a node of the
 * cluster on liveness {@code broker}) or the leader queue is dropped. The inbox is then
 * <em>exclusive</em> (nobody passive-declares it; RabbitMQ 4.3 refuses transient non-exclusive
 * queues). Liveness {@code broker}: heartbeats are broadcasts, the inbox is not exclusive (Qpid
 * Broker-J refuses a passive declare of another connection's exclusive queue).
 *
 * <p>Its parts, one job each: {@link InboxConsumer} (the inbox's consumer), {@link EnvelopePublishing}
 * (encoding, size limit, counts), {@link PublisherChannel} and {@link CallChannel} (the channels),
 * {@link InboxProbe} (the {@code broker} rule's death check), {@link LeaderContention} (the leader queue),
 * {@link LeaseLogs} (the {@code lease} rule's streams), {@link CrashDetection} (closed-connection reports and pings).
 * They log under this class's name.
 */
public final class AmqpTransport implements NodeTransport {

    private static final Logger LOG = LoggerFactory.getLogger(AmqpTransport.class);
    /** The default exchange: routes by queue name. */
    private static final String DEFAULT_EXCHANGE = "";

    private final ConnectionFactory connectionFactory;
    private final boolean ownsConnectionFactory;
    private final NodeId self;
    private final String cluster;
    private final String exchange;
    private final String inbox;
    private final String leaderQueue;
    private final WireCodec codec;
    private final RejectedMessages rejected;
    private final NodeRuntime runtime;
    private final PublisherChannel publisher;
    private final CallChannel calls;
    private final InboxProbe probe;
    private final LeaderContention contention;
    private final InboxConsumer consumer;
    private final EnvelopePublishing outgoing;
    private final CrashDetection crashDetection;
    private final HeartbeatChannel heartbeats;
    /** Liveness {@code lease}: where the stream reader subscribes again (its thread starts on first use). */
    private final ExecutorService leaseResubscriber;
    private final RateLimitedLog strayHeartbeatLog = new RateLimitedLog(LOG, Level.WARN);
    private final Liveness liveness;
    private final LeaseLogs leaseLogs;
    private final List<Runnable> connectionLost = new CopyOnWriteArrayList<>();
    private final AtomicBoolean streamLost = new AtomicBoolean();
    private volatile Consumer<Envelope> inbound;
    private volatile boolean closed;
    private volatile boolean leaving;
    private volatile boolean crashed;
    private final AtomicBoolean closing = new AtomicBoolean();

    /**
     * @param connectionFactory a factory whose connection this transport alone uses (its death is the node's death)
     * @param ownsConnectionFactory whether {@link #close()} destroys the factory
     * @param self this node
     * @param cluster the cluster (names the exchange and the inbox)
     * @param codec the wire codec of this node's cluster
     * @param rejected where dropped incoming messages are counted
     * @param runtime the node's event loop
     */
    public AmqpTransport(ConnectionFactory connectionFactory, boolean ownsConnectionFactory, NodeId self, String cluster,
                         WireCodec codec, RejectedMessages rejected, NodeRuntime runtime) {
        this(connectionFactory, ownsConnectionFactory, self, cluster, codec, rejected, runtime, Liveness.BROKER);
    }

    /**
     * @param liveness {@link Liveness#BROKER} or {@link Liveness#LEASE} (resolved: never {@code AUTO})
     * @see #AmqpTransport(ConnectionFactory, boolean, NodeId, String, WireCodec, RejectedMessages, NodeRuntime)
     */
    public AmqpTransport(ConnectionFactory connectionFactory, boolean ownsConnectionFactory, NodeId self, String cluster,
                         WireCodec codec, RejectedMessages rejected, NodeRuntime runtime, Liveness liveness) {
        this.liveness = Objects.requireNonNull(liveness, "liveness");
        if (liveness == Liveness.AUTO) {
            throw new IllegalArgumentException("Resolve liveness AUTO before making the transport (see LivenessChoice)");
        }
        this.leaseLogs = new LeaseLogs(cluster);
        this.connectionFactory = Objects.requireNonNull(connectionFactory, "connectionFactory");
        this.ownsConnectionFactory = ownsConnectionFactory;
        this.self = Objects.requireNonNull(self, "self");
        this.cluster = Objects.requireNonNull(cluster, "cluster");
        AmqpNames.checkCluster(cluster, self);
        this.exchange = AmqpNames.exchange(cluster);
        this.inbox = AmqpNames.inbox(cluster, self);
        this.leaderQueue = AmqpNames.leader(cluster);
        this.codec = Objects.requireNonNull(codec, "codec");
        this.rejected = Objects.requireNonNull(rejected, "rejected");
        this.runtime = Objects.requireNonNull(runtime, "runtime");
        this.publisher = new PublisherChannel(this::newChannel, runtime);
        this.calls = new CallChannel(this::newChannel, runtime);
        this.probe = new InboxProbe(self, cluster, runtime, this::newChannel, () -> closed || crashed);
        this.contention = new LeaderContention(connectionFactory, self, leaderQueue, runtime, codec, rejected,
                this::admitFromQueue, () -> closed || crashed);
        this.consumer = new InboxConsumer(this::newChannel, self, inbox, () -> closed || crashed || leaving);
        this.outgoing = new EnvelopePublishing(codec, () -> closed || crashed);
        this.crashDetection = new CrashDetection(self, inbox + ".events", this::newChannel,
                () -> connectionFactory.createConnection().getDelegate(), runtime);
        this.heartbeats = new HeartbeatChannel(this::newChannel, runtime);
        this.leaseResubscriber = RegistryThreads.fixed(self.name(), "lease", 1);
    }

    /** A new raw channel on this node's connection (not from the factory's channel cache). */
    private Channel newChannel() {
        try {
            return connectionFactory.createConnection().getDelegate().createChannel();
        } catch (IOException e) {
            throw new RegistryException("Could not open a channel: " + BrokerErrors.describe(e), e);
        }
    }

    /** The name of this node's inbox queue. */
    public String inbox() {
        return inbox;
    }

    /** The name of the cluster's exchange. */
    public String exchange() {
        return exchange;
    }

    /** The liveness rule this transport serves: {@code BROKER} or {@code LEASE}. */
    public Liveness liveness() {
        return liveness;
    }

    /** The names of the cluster's lease streams, log 0 first (read and written under liveness {@code lease} only). */
    public List<String> leaseStreams() {
        return leaseLogs.names();
    }

    /** The offset of the newest entry of lease log 0 this node read; -1 before the first, or under liveness {@code broker}. */
    public long leaseStreamOffset() {
        LeaseStream reading = leaseLogs.reader(0);
        return reading == null ? -1 : reading.lastOffset();
    }

    /** The reader of lease log {@code log}, once started under liveness {@code lease}; else null. For tests. */
    LeaseStream leaseStreamReader(int log) {
        return leaseLogs.reader(log);
    }

    /** The name of the cluster's leader queue (strategy {@code leader}). */
    public String leaderQueue() {
        return leaderQueue;
    }

    @Override
    public void onConnectionLost(Runnable callback) {
        connectionLost.add(Objects.requireNonNull(callback, "callback"));
        connectionFactory.addConnectionListener(new ConnectionListener() {
            @Override
            public void onCreate(org.springframework.amqp.rabbit.connection.Connection connection) {
            }

            @Override
            public void onShutDown(ShutdownSignalException signal) {
                if (!closed && !crashed) { // our own closes set one of these first
                    LOG.error("{} lost its connection to the broker ({}); it gives up its names", self,
                            signal.getMessage());
                    callback.run();
                }
            }
        });
    }

    /** Closes this transport from a thread of its own (the caller may be the inbox consumer, which close() stops). */
    @Override
    public void disconnect() {
        Thread closer = new Thread(this::close, "global-registry-" + self.name() + "-disconnect");
        closer.setDaemon(true);
        closer.start();
    }

    /**
     * Drops the connection abruptly while the node runs on, as a network failure would (unlike
     * {@link #abortConnection()}, the node is not told it crashed), the election connection too:
     * a leader is deposed and, like the others, goes on contending. For tests.
     */
    public void dropConnection() {
        contention.dropConnection();
        connectionFactory.createConnection().getDelegate().abort();
    }

    /** The lease stream could not be read again: as if the connection were lost (once). */
    private void leaseStreamLost() {
        if (closed || crashed || leaving || !streamLost.compareAndSet(false, true)) {
            return;
        }
        LOG.error("{} cannot read a lease stream of {} any more; it gives up its names", self, leaseLogs.names());
        for (Runnable callback : connectionLost) {
            callback.run();
        }
    }

    /**
     * Liveness {@code lease}: whether {@code envelope}, valid and come through the inbox or the
     * leader queue, may be handed on: not a heartbeat (those come from the lease stream only).
     */
    private boolean admitFromQueue(Envelope envelope) {
        if (liveness == Liveness.LEASE && envelope.type() == MessageType.HEARTBEAT) {
            strayHeartbeatLog.log("{} dropped a heartbeat of {} that came through its inbox: another node of cluster"
                    + " {} uses liveness=broker; every node must use the same ({} uses lease)", self, envelope.sender(),
                    cluster, self);
            return false;
        }
        return true;
    }

    @Override
    public void start(Consumer<Envelope> inbound) {
        start(inbound, (log, envelope) -> inbound.accept(envelope));
    }

    @Override
    public void start(Consumer<Envelope> inbound, LeaseInbound leases) {
        this.inbound = Objects.requireNonNull(inbound, "inbound");
        declare();
        if (liveness == Liveness.LEASE) {
            leaseLogs.start(this::newChannel, self, new InboxListener(codec, rejected, runtime, inbound), runtime,
                    leases, this::leaseStreamLost, leaseResubscriber);
        }
        consumer.start(new InboxListener(codec, rejected, runtime, inbound, this::admitFromQueue));
    }

    private void declare() {
        if (liveness == Liveness.LEASE) {
            leaseLogs.declare(this::newChannel, virtualHost(), new LeaseLogPlacement(connectionFactory
                    instanceof AbstractConnectionFactory factory ? factory.getRabbitConnectionFactory() : null, self));
        }
        Channel channel = null;
        try {
            channel = newChannel();
            channel.exchangeDeclare(exchange, "topic", false, false, null);
            // lease: exclusive, as nobody passive-declares it; broker: not, so Qpid answers others' passive declares
            channel.queueDeclare(inbox, false, liveness == Liveness.LEASE, true, null);
            channel.queueBind(inbox, exchange, AmqpNames.BROADCAST_KEY);
            channel.queueBind(inbox, exchange, AmqpNames.directKey(self));
        } catch (IOException | AmqpException e) {
            throw new RegistryException("Could not declare the exchange " + exchange + " and the inbox " + inbox
                    + " (an existing exchange must be a non-durable topic exchange): " + BrokerErrors.describe(e), e);
        } finally {
            closeQuietly(channel);
        }
    }

    private String virtualHost() {
        try {
            return connectionFactory.getVirtualHost();
        } catch (RuntimeException e) {
            return "/";
        }
    }

    /** Crash detection: the broker's reports of closed connections, when it has its event exchange ({@link CrashDetection}). */
    @Override
    public boolean watchConnections(Consumer<NodeId> closedConnection) {
        return crashDetection.watch(closedConnection);
    }

    /** Crash detection: a {@code basic.qos} over this node's connection ({@link CrashDetection#ping}). */
    @Override
    public void ping(Runnable answered) {
        if (!closed && !crashed) {
            crashDetection.ping(answered);
        }
    }

    /** How many reports of another registry node's closed connection the broker sent this node. */
    public long closedConnectionReports() {
        return crashDetection.reports();
    }

    @Override
    public void broadcast(Envelope envelope) {
        toExchange(envelope, AmqpNames.BROADCAST_KEY, true, null);
    }

    /**
     * Liveness {@code lease}: to the lease stream, through the default exchange, on the protocol's
     * {@link PublisherChannel}; not mandatory, no confirm awaited. Counted as a broadcast: one
     * publish that every member reads. Liveness {@code broker}: a {@link #broadcast}.
     */
    @Override
    public void heartbeat(Envelope envelope) {
        if (liveness != Liveness.LEASE) {
            broadcast(envelope);
            return;
        }
        for (String stream : leaseLogs.names()) {
            publish(envelope, stream, true, (properties, body) ->
                    publisher.publish(DEFAULT_EXCHANGE, stream, properties, body, null));
        }
    }

    /** Liveness {@code lease}: heartbeats go to the streams in confirm mode ({@link HeartbeatChannel}). */
    @Override
    public boolean confirmsHeartbeats() {
        return liveness == Liveness.LEASE;
    }

    /** Liveness {@code lease}: to each lease stream on the confirming {@link HeartbeatChannel}; else {@link #heartbeat(Envelope)}. */
    @Override
    public void heartbeat(Envelope envelope, java.util.function.IntConsumer confirmed) {
        if (liveness != Liveness.LEASE) {
            broadcast(envelope);
            return;
        }
        List<String> streams = leaseLogs.names();
        for (int log = 0; log < streams.size(); log++) {
            String stream = streams.get(log);
            int which = log;
            publish(envelope, stream, true, (properties, body) ->
                    heartbeats.publish(stream, properties, body, () -> confirmed.accept(which)));
        }
    }

    /** Liveness {@code lease}: starts or stops the stream readers, on the lease thread (never the loop). */
    @Override
    public void readLeaseLogs(boolean read, Runnable attached) {
        if (liveness != Liveness.LEASE || closed || crashed || leaving) {
            return;
        }
        try {
            leaseResubscriber.execute(() -> {
                if (!closed && !crashed && !leaving) {
                    try {
                        leaseLogs.reading(read);
                        runtime.execute(attached);
                    } catch (RuntimeException e) {
                        if (closed || crashed || leaving) {
                            return; // the connection is going anyway
                        }
                        LOG.error("{} could not {} the lease streams: {}", self, read ? "read" : "stop reading",
                                BrokerErrors.describe(e));
                        if (read) {
                            leaseStreamLost();
                        }
                    }
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    /** Whether this node reads the lease streams now (liveness {@code lease}). */
    public boolean readsLeaseStreams() {
        return leaseLogs.reading();
    }

    /** Calls and replies may be sent from any thread (they go on the thread-safe {@link CallChannel}); other messages from the loop. */
    @Override
    public void send(NodeId to, Envelope envelope, Runnable onReturned) {
        Objects.requireNonNull(onReturned, "onReturned");
        if (envelope.body() instanceof Message.Call) {
            String queue = AmqpNames.inbox(cluster, to);
            publish(envelope, queue, false, (properties, body) -> calls.publish(queue, properties, body, onReturned));
        } else if (envelope.body() instanceof Message.Reply) {
            String queue = AmqpNames.inbox(cluster, to);
            publish(envelope, queue, false, (properties, body) -> calls.publish(queue, properties, body, null));
        } else {
            toExchange(envelope, AmqpNames.directKey(to), false, onReturned);
        }
    }

    /**
     * From the loop, on the protocol's {@link PublisherChannel} (so it stays in order with this
     * node's other messages): through the default exchange to the leader queue, mandatory.
     */
    @Override
    public void sendToLeader(Envelope envelope, Runnable onReturned) {
        Objects.requireNonNull(onReturned, "onReturned");
        publish(envelope, leaderQueue, false, (properties, body) ->
                publisher.publish(DEFAULT_EXCHANGE, leaderQueue, properties, body, onReturned));
    }

    /**
     * Contends on a connection of its own, opened from the RabbitMQ settings of this transport's
     * factory (which must then be an {@link AbstractConnectionFactory}, as the builder's is). The
     * leader queue's messages reach the {@code inbound} of {@link #start}, checked like the inbox's.
     * Returns at once; ends with {@link #close()}, {@link #disconnect()} or {@link #abortConnection()}.
     *
     * @throws IllegalStateException if the transport is not started, already contends, or has no RabbitMQ settings
     */
    @Override
    public void contendForLeadership(long retryMillis, Runnable elected, Runnable deposed) {
        contention.contend(inbound, retryMillis, elected, deposed);
    }

    @Override
    public void resignLeadership() {
        contention.dropConnection(); // deposed follows; the contention goes on
    }

    /** Whether this node holds the leader queue now, as far as it knows (false when it does not contend). */
    public boolean isLeader() {
        return contention.isLeader();
    }

    /** On the protocol's {@link PublisherChannel} to the cluster's exchange; mandatory with {@code onReturned}. */
    private void toExchange(Envelope envelope, String routingKey, boolean broadcast, Runnable onReturned) {
        publish(envelope, routingKey, broadcast, (properties, body) -> publisher.publish(exchange, routingKey, properties,
                body, onReturned));
    }

    private void publish(Envelope envelope, String target, boolean broadcast, EnvelopePublishing.Publish publish) {
        outgoing.publish(envelope, target, broadcast, publish);
    }

    /** A passive declare of the member's inbox: only a clean "no queue" is "dead" (see {@link InboxProbe}). */
    @Override
    public void checkAlive(NodeId node, Consumer<Boolean> alive) {
        probe.checkAlive(node, alive);
    }

    static void closeQuietly(Channel channel) {
        if (channel != null && channel.isOpen()) {
            try {
                channel.close();
            } catch (Exception e) {
                LOG.trace("Closing a check channel failed", e);
            }
        }
    }

    /**
     * The messages this node published since it started, every type (heartbeats, calls and replies
     * included), counted when the channel took them without an error (no publisher confirms).
     */
    public long publishedMessages() {
        return outgoing.total();
    }

    /** The messages of {@code type} this node published, broadcasts and messages to one queue alike. */
    public long publishedMessages(MessageType type) {
        return outgoing.of(type);
    }

    /**
     * The broadcasts of {@code type} this node published: each is one publish that the broker routes
     * to every member's inbox, this node's included. The rest of {@link #publishedMessages(MessageType)}
     * went to one queue (a member's inbox or the leader queue).
     */
    public long publishedBroadcasts(MessageType type) {
        return outgoing.broadcasts(type);
    }

    /** Direct publishes that could still be returned (published within the last 10 s, not returned). */
    public long pendingDirect() {
        return publisher.pendingDirect();
    }

    /**
     * Cuts the connection abruptly, as a crash would: nothing more is published, the connection and
     * the election connection are aborted (so the broker deletes the auto-delete inbox and frees the
     * leader queue at once) and the container is stopped so it does not reconnect. For tests.
     */
    public void abortConnection() {
        crashed = true;
        contention.end(true);
        leaseLogs.abort();
        try {
            connectionFactory.createConnection().getDelegate().abort();
        } catch (RuntimeException e) {
            LOG.debug("Aborting the connection of {}: {}", self, e.toString());
        }
        consumer.crashed();
        consumer.stop();
        destroyFactory();
        probe.shutdown();
        leaseResubscriber.shutdownNow();
    }

    /**
     * Leaves: gives the leader queue up if it contends (requests to the leader are returned to their
     * senders from then on, until another node holds it), stops consuming (what was delivered is
     * still handled: a call is answered {@code NOT_OWNER} once the names are gone), deletes the inbox
     * (a call sent to this node from then on is returned to its sender, who goes to the name's next
     * owner, instead of vanishing with the queue when the connection closes), and only then stops
     * publishing and disconnects. Runs once: a second call, say while {@link #disconnect()} closes
     * it, returns at once.
     */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        leaving = true;
        contention.end(crashed);
        leaseLogs.close();
        consumer.stop();
        if (!crashed) {
            deleteInbox();
        }
        closed = true;
        publisher.close();
        heartbeats.close();
        calls.close();
        destroyFactory();
        probe.shutdown();
        leaseResubscriber.shutdownNow();
    }

    private void deleteInbox() {
        Channel channel = null;
        try {
            channel = newChannel();
            channel.queueDelete(inbox);
        } catch (Exception e) {
            LOG.debug("Could not delete the inbox {} on leaving ({}); it goes with the connection", inbox,
                    BrokerErrors.describe(e));
        } finally {
            closeQuietly(channel);
        }
    }

    private void destroyFactory() {
        if (ownsConnectionFactory && connectionFactory instanceof CachingConnectionFactory) {
            try {
                ((CachingConnectionFactory) connectionFactory).destroy();
            } catch (RuntimeException e) {
                LOG.debug("Closing the connection of {}: {}", self, e.toString());
            }
        }
    }

    @Override
    public String toString() {
        return "AmqpTransport[" + inbox + "]";
    }
}
