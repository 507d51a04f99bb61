package io.globalregistry.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Return;
import com.rabbitmq.client.ShutdownSignalException;
import io.globalregistry.protocol.NodeRuntime;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one channel a node publishes on, in confirm mode, held for as long as it stays open.
 *
 * <p>Why not a {@code RabbitTemplate} on the caching factory: with correlated confirms the
 * factory returns a channel to its cache only once all its confirms have arrived, so a burst of
 * publishes opens a new channel (two round trips) for nearly every message, about 200 us each,
 * and consecutive messages of one sender travel on different channels and may overtake each
 * other. One channel keeps a sender's messages in order and a publish at a few microseconds.
 *
 * <p>Each publish is remembered by its sequence number until the broker confirms it. A direct
 * message carries its sequence number as correlation id, so a basic.return (RabbitMQ: returned,
 * then acked) or a broker nack (Qpid Broker-J) runs its {@code onReturned} on the event loop. When
 * the channel closes, what was not confirmed is forgotten without running anything: its fate is
 * unknown. Publish from one thread (the event loop).
 */
final class PublisherChannel {

    private static final Logger LOG = LoggerFactory.getLogger(PublisherChannel.class);
    private static final Runnable NOTHING = () -> { };

    private final Supplier<Channel> opener;
    private final NodeRuntime runtime;
    private volatile Open current;

    /** One open channel and its unconfirmed publishes (sequence number -> onReturned). */
    private final class Open {
        final Channel channel;
        final ConcurrentSkipListMap<Long, Runnable> unconfirmed = new ConcurrentSkipListMap<>();

        Open(Channel channel) throws IOException {
            this.channel = channel;
            channel.confirmSelect();
            channel.addConfirmListener((seq, multiple) -> settle(seq, multiple, false),
                    (seq, multiple) -> settle(seq, multiple, true));
            channel.addReturnListener(this::returned);
            channel.addShutdownListener(this::closed);
        }

        private void settle(long seq, boolean multiple, boolean nack) {
            if (!multiple) {
                Runnable callback = unconfirmed.remove(seq);
                if (nack && callback != null) {
                    notDelivered(callback);
                }
                return;
            }
            ConcurrentNavigableMap<Long, Runnable> settled = unconfirmed.headMap(seq, true);
            if (nack) {
                for (Map.Entry<Long, Runnable> entry : settled.entrySet()) {
                    notDelivered(entry.getValue());
                }
            }
            settled.clear();
        }

        private void returned(Return returned) {
            String correlation = returned.getProperties().getCorrelationId();
            if (correlation == null) {
                return;
            }
            try {
                Runnable callback = unconfirmed.remove(Long.parseLong(correlation));
                if (callback != null) {
                    notDelivered(callback);
                }
            } catch (NumberFormatException e) {
                LOG.debug("A returned message with a foreign correlation id {}", correlation);
            }
        }

        private void closed(ShutdownSignalException cause) {
            if (current == this) {
                current = null;
            }
            if (!cause.isInitiatedByApplication()) {
                LOG.warn("The publishing channel closed ({}); {} publish(es) unconfirmed, their fate unknown",
                        cause.getMessage(), unconfirmed.size());
            }
            unconfirmed.clear();
        }

        private void notDelivered(Runnable callback) {
            if (callback != NOTHING) {
                runtime.execute(callback);
            }
        }
    }

    /**
     * @param opener opens a new raw channel on the node's connection
     * @param runtime the node's event loop, where {@code onReturned} callbacks run
     */
    PublisherChannel(Supplier<Channel> opener, NodeRuntime runtime) {
        this.opener = opener;
        this.runtime = runtime;
    }

    /**
     * Publishes; with {@code onReturned} the message is mandatory and its return or nack runs it.
     *
     * @throws IOException if the channel could not be opened or the publish failed
     */
    void publish(String exchange, String routingKey, AMQP.BasicProperties.Builder properties, byte[] body,
                 Runnable onReturned) throws IOException {
        Open open = open();
        long seq = open.channel.getNextPublishSeqNo();
        boolean mandatory = onReturned != null;
        if (mandatory) {
            properties.correlationId(Long.toString(seq));
        }
        open.unconfirmed.put(seq, mandatory ? onReturned : NOTHING);
        try {
            open.channel.basicPublish(exchange, routingKey, mandatory, properties.build(), body);
        } catch (IOException | RuntimeException e) {
            open.unconfirmed.remove(seq);
            throw e;
        }
    }

    private Open open() throws IOException {
        Open open = current;
        if (open == null || !open.channel.isOpen()) {
            Channel channel = opener.get();
            if (channel == null) {
                throw new IOException("No channel available (channel-max reached)");
            }
            open = new Open(channel);
            current = open;
        }
        return open;
    }

    /** Publishes not confirmed yet on the current channel. */
    int unconfirmed() {
        Open open = current;
        return open == null ? 0 : open.unconfirmed.size();
    }

    /** Direct publishes still waiting for their confirm. */
    long pendingDirect() {
        Open open = current;
        return open == null ? 0 : open.unconfirmed.values().stream().filter(r -> r != NOTHING).count();
    }

    /** Waits up to {@code timeoutMillis} for every publish to be confirmed; returns whether they were. */
    boolean awaitConfirms(long timeoutMillis) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (unconfirmed() > 0) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /** Closes the channel (pending confirms are forgotten). */
    void close() {
        Open open = current;
        current = null;
        if (open != null && open.channel.isOpen()) {
            try {
                open.channel.close();
            } catch (Exception e) {
                LOG.trace("Closing the publishing channel", e);
            }
        }
    }
}
