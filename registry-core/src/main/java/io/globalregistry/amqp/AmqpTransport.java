package io.globalregistry.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ShutdownSignalException;
import io.globalregistry.RegistryException;
import io.globalregistry.engine.NodeTransport;
import io.globalregistry.engine.RegistryThreads;
import io.globalregistry.membership.NodeId;
import io.globalregistry.protocol.NodeRuntime;
import io.globalregistry.support.RateLimitedLog;
import io.globalregistry.wire.EncodedMessage;
import io.globalregistry.wire.Envelope;
import io.globalregistry.wire.Message;
import io.globalregistry.wire.RejectedMessages;
import io.globalregistry.wire.WireCodec;
import java.io.IOException;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import org.springframework.amqp.AmqpException;
import org.springframework.amqp.core.AcknowledgeMode;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.connection.ConnectionListener;
import org.springframework.amqp.rabbit.listener.ConsumeOkEvent;
import org.springframework.amqp.rabbit.listener.DirectMessageListenerContainer;
import org.springframework.amqp.rabbit.listener.ListenerContainerConsumerFailedEvent;

/**
 * The AMQP {@link NodeTransport} of one node, on a connection of its own: a topic exchange per
 * cluster, an auto-delete (not exclusive) inbox per node bound to {@code all} and
 * {@code node.<id>}, consumed by a {@link DirectMessageListenerContainer} without acks.
 * Broadcasts are plain publishes; direct messages are mandatory and a basic.return runs their
 * {@code onReturned} on the loop (see {@link PublisherChannel}); liveness is a passive
 * declare of the member's inbox on a throwaway channel. Publishing never waits for the broker.
 */
public final class AmqpTransport implements NodeTransport {

    private static final Logger LOG = LoggerFactory.getLogger(AmqpTransport.class);
    private static final long START_TIMEOUT_MILLIS = 10_000;
    private static final long SHUTDOWN_TIMEOUT_MILLIS = 2_000;

    private final ConnectionFactory connectionFactory;
    private final boolean ownsConnectionFactory;
    private final NodeId self;
    private final String cluster;
    private final String exchange;
    private final String inbox;
    private final WireCodec codec;
    private final RejectedMessages rejected;
    private final NodeRuntime runtime;
    private final PublisherChannel publisher;
    private final CallChannel calls;
    private final ExecutorService checks;
    private final RateLimitedLog logErrorLog = new RateLimitedLog(LOG, Level.ERROR);
    private volatile DirectMessageListenerContainer container;
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
        this.connectionFactory = Objects.requireNonNull(connectionFactory, "connectionFactory");
        this.ownsConnectionFactory = ownsConnectionFactory;
        this.self = Objects.requireNonNull(self, "self");
        this.cluster = Objects.requireNonNull(cluster, "cluster");
        AmqpNames.checkCluster(cluster, self);
        this.exchange = AmqpNames.exchange(cluster);
        this.inbox = AmqpNames.inbox(cluster, self);
        this.codec = Objects.requireNonNull(codec, "codec");
        this.rejected = Objects.requireNonNull(rejected, "rejected");
        this.runtime = Objects.requireNonNull(runtime, "runtime");
        this.publisher = new PublisherChannel(this::newChannel, runtime);
        this.calls = new CallChannel(this::newChannel, runtime);
        this.checks = RegistryThreads.fixed(self.name(), "checks", 1);
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

    @Override
    public void onConnectionLost(Runnable callback) {
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
     * {@link #abortConnection()}, the node is not told it crashed). For tests.
     */
    public void dropConnection() {
        connectionFactory.createConnection().getDelegate().abort();
    }

    @Override
    public void start(Consumer<Envelope> inbound) {
        declare();
        CompletableFuture<Void> consuming = new CompletableFuture<>();
        DirectMessageListenerContainer listener = new DirectMessageListenerContainer(connectionFactory);
        listener.setQueueNames(inbox);
        listener.setAcknowledgeMode(AcknowledgeMode.NONE);
        listener.setConsumersPerQueue(1);
        listener.setDeBatchingEnabled(false);
        listener.setDefaultRequeueRejected(false);
        listener.setShutdownTimeout(SHUTDOWN_TIMEOUT_MILLIS);
        listener.setMessageListener(new InboxListener(codec, rejected, runtime, inbound));
        listener.setApplicationEventPublisher(event -> {
            if (event instanceof ConsumeOkEvent) {
                consuming.complete(null);
            } else if (event instanceof ListenerContainerConsumerFailedEvent) {
                ListenerContainerConsumerFailedEvent failed = (ListenerContainerConsumerFailedEvent) event;
                if (!closed && !crashed && !leaving) {
                    LOG.warn("Inbox consumer of {} failed: {}", self, failed.getReason(), failed.getThrowable());
                }
            }
        });
        listener.setBeanName("global-registry-" + self.name() + "-inbox");
        listener.afterPropertiesSet();
        container = listener;
        listener.start();
        try {
            consuming.get(START_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new RegistryException("The inbox " + inbox + " was not consumed within " + START_TIMEOUT_MILLIS + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException("Interrupted while starting to consume " + inbox, e);
        } catch (ExecutionException e) {
            throw new RegistryException("Could not consume " + inbox, e.getCause());
        }
    }

    private void declare() {
        Channel channel = null;
        try {
            channel = newChannel();
            channel.exchangeDeclare(exchange, "topic", false, false, null);
            channel.queueDeclare(inbox, false, false, true, null);
            channel.queueBind(inbox, exchange, AmqpNames.BROADCAST_KEY);
            channel.queueBind(inbox, exchange, AmqpNames.directKey(self));
        } catch (IOException | AmqpException e) {
            throw new RegistryException("Could not declare the exchange " + exchange + " and the inbox " + inbox
                    + " (an existing exchange must be a non-durable topic exchange): " + BrokerErrors.describe(e), e);
        } finally {
            closeQuietly(channel);
        }
    }

    @Override
    public void broadcast(Envelope envelope) {
        publish(envelope, AmqpNames.BROADCAST_KEY, null);
    }

    /** Calls and replies may be sent from any thread (they go on the thread-safe {@link CallChannel}); other messages from the loop. */
    @Override
    public void send(NodeId to, Envelope envelope, Runnable onReturned) {
        Objects.requireNonNull(onReturned, "onReturned");
        if (envelope.body() instanceof Message.Call) {
            publish(envelope, AmqpNames.inbox(cluster, to), onReturned, true);
        } else if (envelope.body() instanceof Message.Reply) {
            publish(envelope, AmqpNames.inbox(cluster, to), null, true);
        } else {
            publish(envelope, AmqpNames.directKey(to), onReturned);
        }
    }

    private void publish(Envelope envelope, String routingKey, Runnable onReturned) {
        publish(envelope, routingKey, onReturned, false);
    }

    /**
     * Encodes and publishes, unless closed or too large; a failure is logged, never thrown on the loop.
     * {@code toQueue}: on the call channel, {@code target} being the inbox queue; else on the exchange with key {@code target}.
     */
    private void publish(Envelope envelope, String target, Runnable onReturned, boolean toQueue) {
        if (closed || crashed) {
            return;
        }
        EncodedMessage encoded = codec.encode(envelope);
        if (encoded.body().length > codec.maxMessageSize()) {
            logErrorLog.log("Not sending a {} of {} bytes to {}: over max-message-size {}", encoded.type(),
                    encoded.body().length, target, codec.maxMessageSize());
            return;
        }
        AMQP.BasicProperties.Builder properties = new AMQP.BasicProperties.Builder()
                .type(encoded.type())
                .contentType(encoded.contentType())
                .deliveryMode(1)
                .headers(encoded.headers());
        try {
            if (toQueue) {
                calls.publish(target, properties, encoded.body(), onReturned);
            } else {
                publisher.publish(exchange, target, properties, encoded.body(), onReturned);
            }
        } catch (IOException | RuntimeException e) {
            logErrorLog.log("Could not publish a {} to {}: {}", encoded.type(), target, BrokerErrors.describe(e));
        }
    }

    @Override
    public void checkAlive(NodeId node, Consumer<Boolean> alive) {
        String queue = AmqpNames.inbox(cluster, node);
        if (!AmqpNames.fits(queue)) {
            runtime.execute(() -> alive.accept(false)); // no such queue can exist
            return;
        }
        try {
            checks.execute(() -> {
                boolean answer = inboxExists(queue);
                runtime.execute(() -> alive.accept(answer));
            });
        } catch (RejectedExecutionException e) {
            runtime.execute(() -> alive.accept(true));
        }
    }

    /** A passive declare on a throwaway channel: 404 means the inbox is gone; any other failure counts as alive. */
    private boolean inboxExists(String queue) {
        if (closed || crashed) {
            return true;
        }
        Channel channel = null;
        try {
            channel = newChannel();
            if (channel == null) {
                LOG.warn("No channel available to check {}; assuming it is alive", queue);
                return true;
            }
            channel.queueDeclarePassive(queue);
            return true;
        } catch (Exception e) {
            if (BrokerErrors.isNotFound(e)) {
                return false;
            }
            LOG.warn("Could not check whether {} exists ({}); assuming its node is alive", queue, BrokerErrors.describe(e));
            return true;
        } finally {
            closeQuietly(channel);
        }
    }

    private static void closeQuietly(Channel channel) {
        if (channel != null && channel.isOpen()) {
            try {
                channel.close();
            } catch (Exception e) {
                LOG.trace("Closing a check channel failed", e);
            }
        }
    }

    /** Direct publishes that could still be returned (published within the last 10 s, not returned). */
    public long pendingDirect() {
        return publisher.pendingDirect();
    }

    /**
     * Cuts the connection abruptly, as a crash would: nothing more is published, the connection is
     * aborted (so the broker deletes the auto-delete inbox) and the container is stopped so it does
     * not reconnect. For tests.
     */
    public void abortConnection() {
        crashed = true;
        try {
            connectionFactory.createConnection().getDelegate().abort();
        } catch (RuntimeException e) {
            LOG.debug("Aborting the connection of {}: {}", self, e.toString());
        }
        DirectMessageListenerContainer listener = container;
        if (listener != null) {
            listener.setShutdownTimeout(0); // no cancel-ok will come on a dead connection
        }
        stopContainer();
        destroyFactory();
        checks.shutdownNow();
    }

    /**
     * Leaves: stops consuming (what was delivered is still handled: a call is answered
     * {@code NOT_OWNER} once the names are gone), deletes the inbox (a call sent to this node from
     * then on is returned to its sender, who goes to the name's next owner, instead of vanishing
     * with the queue when the connection closes), and only then stops publishing and disconnects.
     * Runs once: a second call, say while {@link #disconnect()} closes it, returns at once.
     */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        leaving = true;
        stopContainer();
        if (!crashed) {
            deleteInbox();
        }
        closed = true;
        publisher.close();
        calls.close();
        destroyFactory();
        checks.shutdownNow();
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

    private void stopContainer() {
        DirectMessageListenerContainer listener = container;
        if (listener != null) {
            try {
                listener.stop();
                listener.destroy();
            } catch (RuntimeException e) {
                LOG.debug("Stopping the inbox consumer of {}: {}", self, e.toString());
            }
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
