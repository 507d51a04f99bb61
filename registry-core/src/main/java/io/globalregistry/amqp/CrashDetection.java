package io.globalregistry.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import io.globalregistry.membership.NodeId;
import io.globalregistry.protocol.NodeRuntime;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Crash detection on RabbitMQ (docs/PROTOCOL.md, "Liveness"): the broker's reports of closed connections,
 * and pings that prove this node's own connection still open.
 *
 * <ul>
 *   <li>{@link #watch}: when the exchange {@value #EVENTS} exists (plugin {@code rabbitmq_event_exchange}),
 *       an exclusive queue of this node's, bound with {@value #CLOSED}, consumed without acks. Each event
 *       whose {@code user_provided_name} is a registry node's connection name ({@value #NAME_PREFIX} + node
 *       id, as every incarnation names its connection) goes to the node's loop. The broker node that held a
 *       connection publishes its event, so a partition or a dead broker node stops reports, never fakes one.</li>
 *   <li>{@link #ping}: a {@code basic.qos} on a channel of its own, answered by the broker's channel process
 *       over this node's connection; one at a time.</li>
 * </ul>
 * Every broker event {@value #CLOSED} reaches every registry node (the plugin cannot filter): one delivery
 * per node for each connection any client of the broker closes.
 */
final class CrashDetection {

    /** RabbitMQ's event exchange (plugin {@code rabbitmq_event_exchange}). */
    static final String EVENTS = "amq.rabbitmq.event";
    /** The routing key of a closed connection's event. */
    static final String CLOSED = "connection.closed";
    /** How every incarnation names its connection: this, then its node id. */
    static final String NAME_PREFIX = "global-registry ";

    private static final Logger LOG = LoggerFactory.getLogger(AmqpTransport.class);

    private final NodeId self;
    private final String queue;
    private final Supplier<Channel> channels;
    private final Supplier<com.rabbitmq.client.Connection> connection;
    private final NodeRuntime runtime;
    /** The connection the pings prove open: the one of this incarnation when it started watching, never a later one. */
    private volatile com.rabbitmq.client.Connection pinned;
    private final AtomicBoolean pinging = new AtomicBoolean();
    private final AtomicLong reports = new AtomicLong();
    private volatile Channel pingChannel;

    /**
     * @param channels opens a raw channel on the node's connection
     * @param connection the node's connection now (its factory may open a new one after a loss: pings never use that)
     */
    CrashDetection(NodeId self, String queue, Supplier<Channel> channels,
                   Supplier<com.rabbitmq.client.Connection> connection, NodeRuntime runtime) {
        this.self = self;
        this.queue = queue;
        this.channels = channels;
        this.connection = connection;
        this.runtime = runtime;
    }

    /** The connection name of {@code node}'s incarnation: what a {@value #CLOSED} event names. */
    static String connectionName(NodeId node) {
        return NAME_PREFIX + node;
    }

    /** The node a connection name belongs to, or null if it is not a registry node's main connection. */
    static NodeId nodeOf(Object connectionName) {
        if (connectionName == null) {
            return null;
        }
        String name = connectionName.toString();
        if (!name.startsWith(NAME_PREFIX) || name.indexOf(' ', NAME_PREFIX.length()) >= 0) {
            return null; // another client's, or one of a node's other connections (its leader election, say)
        }
        try {
            return NodeId.parse(name.substring(NAME_PREFIX.length()));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * Starts consuming the broker's reports of closed connections; false (and nothing started) when the
     * broker has no event exchange.
     */
    boolean watch(Consumer<NodeId> closed) {
        if (!eventExchangeExists()) {
            return false;
        }
        pinned = connection.get();
        Channel channel = channels.get();
        try {
            channel.queueDeclare(queue, false, true, true, null);
            channel.queueBind(queue, EVENTS, CLOSED);
            channel.basicConsume(queue, true, new DefaultConsumer(channel) {
                @Override
                public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties properties,
                                           byte[] body) {
                    Map<String, Object> headers = properties.getHeaders();
                    NodeId node = nodeOf(headers == null ? null : headers.get("user_provided_name"));
                    if (node != null && !node.equals(self)) {
                        reports.incrementAndGet();
                        runtime.execute(() -> closed.accept(node));
                    }
                }
            });
            return true;
        } catch (IOException | RuntimeException e) {
            LOG.warn("{} could not watch the broker's {} events on {} ({}): crash detection is off",
                    self, CLOSED, EVENTS, BrokerErrors.describe(e));
            try {
                channel.abort();
            } catch (IOException | RuntimeException ignored) {
                // closed already
            }
            return false;
        }
    }

    private boolean eventExchangeExists() {
        Channel probe = channels.get();
        try {
            probe.exchangeDeclarePassive(EVENTS);
            return true;
        } catch (IOException | RuntimeException e) {
            return false; // 404: the plugin is off (or not RabbitMQ); the channel is closed by the broker
        } finally {
            if (probe.isOpen()) {
                try {
                    probe.close();
                } catch (IOException | RuntimeException | java.util.concurrent.TimeoutException ignored) {
                    // closing anyway
                }
            }
        }
    }

    /** How many reports of another registry node's closed connection came so far. */
    long reports() {
        return reports.get();
    }

    /** Sends a ping unless one is unanswered; {@code answered} runs on the client's thread when the broker answers. */
    void ping(Runnable answered) {
        if (!pinging.compareAndSet(false, true)) {
            return;
        }
        try {
            com.rabbitmq.client.Connection proven = pinned;
            Channel channel = pingChannel;
            if (channel == null || !channel.isOpen()) {
                if (proven == null || !proven.isOpen()) {
                    pinging.set(false); // that connection is gone: an answer over another one would prove nothing
                    return;
                }
                channel = proven.createChannel();
                pingChannel = channel;
            }
            channel.asyncCompletableRpc(new AMQP.Basic.Qos.Builder().prefetchCount(0).build())
                    .whenComplete((command, error) -> {
                        pinging.set(false);
                        if (error == null) {
                            answered.run();
                        }
                    });
        } catch (IOException | RuntimeException e) {
            pinging.set(false); // the connection is going; its loss is handled where it is noticed
        }
    }
}
