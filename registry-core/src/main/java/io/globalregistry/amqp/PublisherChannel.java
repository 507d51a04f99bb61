package io.globalregistry.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Return;
import com.rabbitmq.client.ShutdownSignalException;
import io.globalregistry.protocol.NodeRuntime;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one channel a node publishes on, held for as long as it stays open, so a sender's messages
 * stay in order and a publish costs a few microseconds.
 *
 * <p>No publisher confirms: the protocol never waits for one, and on a 2-core machine they cost a
 * quarter of the registration throughput (3,291 vs 2,477 registrations/s, `./bench.sh registry`).
 * What a direct message needs is the proof it was never delivered: it is published
 * {@code mandatory} with a correlation id, and a basic.return (RabbitMQ and Qpid Broker-J both send
 * one for an unroutable mandatory message) runs its {@code onReturned} on the event loop. A return
 * comes within milliseconds; a direct message not returned within {@link #RETURN_WINDOW_NANOS} is
 * taken as delivered and forgotten. Publish from one thread at a time (the event loop's lock).
 */
final class PublisherChannel {

    private static final Logger LOG = LoggerFactory.getLogger(PublisherChannel.class);

    /** How long a direct message is remembered in case it comes back. */
    static final long RETURN_WINDOW_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final Supplier<Channel> opener;
    private final NodeRuntime runtime;
    private final AtomicLong correlations = new AtomicLong();
    private volatile Open current;

    /** A direct message that may still come back. */
    private record Direct(Runnable onReturned, long publishedAt) {
    }

    /** One open channel and its direct messages that may still be returned (correlation -> callback). */
    private final class Open {
        final Channel channel;
        final ConcurrentSkipListMap<Long, Direct> mayReturn = new ConcurrentSkipListMap<>();

        Open(Channel channel) {
            this.channel = channel;
            channel.addReturnListener(this::returned);
            channel.addShutdownListener(this::closed);
        }

        private void returned(Return returned) {
            String correlation = returned.getProperties().getCorrelationId();
            if (correlation == null) {
                return;
            }
            try {
                Direct direct = mayReturn.remove(Long.parseLong(correlation));
                if (direct != null) {
                    runtime.execute(direct.onReturned());
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
                LOG.warn("The publishing channel closed ({}); {} direct message(s) of unknown fate", cause.getMessage(),
                        mayReturn.size());
            }
            mayReturn.clear();
        }

        /** Forgets direct messages published longer than the return window ago (they were delivered). */
        void forgetDelivered(long now) {
            for (Map.Entry<Long, Direct> oldest = mayReturn.firstEntry();
                 oldest != null && now - oldest.getValue().publishedAt() > RETURN_WINDOW_NANOS;
                 oldest = mayReturn.firstEntry()) {
                mayReturn.remove(oldest.getKey());
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
     * Publishes; with {@code onReturned} the message is mandatory and its return runs it.
     *
     * @throws IOException if the channel could not be opened or the publish failed
     */
    void publish(String exchange, String routingKey, AMQP.BasicProperties.Builder properties, byte[] body,
                 Runnable onReturned) throws IOException {
        Open open = open();
        boolean mandatory = onReturned != null;
        long correlation = 0;
        if (mandatory) {
            long now = System.nanoTime();
            open.forgetDelivered(now);
            correlation = correlations.incrementAndGet();
            properties.correlationId(Long.toString(correlation));
            open.mayReturn.put(correlation, new Direct(onReturned, now));
        }
        try {
            open.channel.basicPublish(exchange, routingKey, mandatory, properties.build(), body);
        } catch (IOException | RuntimeException e) {
            if (mandatory) {
                open.mayReturn.remove(correlation);
            }
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

    /** Direct messages published within the return window and not returned (yet). */
    long pendingDirect() {
        Open open = current;
        return open == null ? 0 : open.mayReturn.size();
    }

    /**
     * Closes the channel. The broker handles what was published on it before the close, so a
     * node's last messages (its unregisters and bye) are not lost.
     */
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
