package io.globalregistry.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Return;
import com.rabbitmq.client.ShutdownSignalException;
import io.globalregistry.protocol.NodeRuntime;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The channel {@code call} and {@code reply} messages travel on, apart from the protocol's
 * {@link PublisherChannel}: published through the default exchange straight to the recipient's
 * inbox queue (no topic routing), from the thread that makes them (thread-safe: the threads running
 * calls do not queue on the event loop's lock). A call is published {@code mandatory}: a
 * {@code basic.return} (RabbitMQ and Qpid Broker-J both send one) proves it never reached an inbox.
 * A reply is not mandatory: a lost reply ends as its call's timeout.
 *
 * <p>A returned call is matched to its {@code onReturned} through the correlation id, in a ring of
 * the last {@value #SLOTS} mandatory publishes (a return comes within milliseconds, long before its
 * slot is reused; a return that found its slot reused would leave the call to its timeout, never
 * run it twice).
 */
final class CallChannel {

    private static final Logger LOG = LoggerFactory.getLogger(CallChannel.class);
    static final int SLOTS = 1 << 16;
    /** The default exchange: routes by queue name. */
    private static final String DEFAULT_EXCHANGE = "";

    /** One mandatory publish waiting for a possible return. */
    private record Slot(long seq, Runnable onReturned) {
    }

    private final Supplier<Channel> opener;
    private final NodeRuntime runtime;
    private final AtomicReferenceArray<Slot> slots = new AtomicReferenceArray<>(SLOTS);
    private final AtomicLong sequence = new AtomicLong();
    private volatile Channel current;

    /**
     * @param opener opens a new raw channel on the node's connection
     * @param runtime the node's event loop, where {@code onReturned} callbacks run
     */
    CallChannel(Supplier<Channel> opener, NodeRuntime runtime) {
        this.opener = opener;
        this.runtime = runtime;
    }

    /**
     * Publishes to {@code queue}; with {@code onReturned} the message is mandatory and its return runs it.
     *
     * @throws IOException if the channel could not be opened or the publish failed
     */
    void publish(String queue, AMQP.BasicProperties.Builder properties, byte[] body, Runnable onReturned)
            throws IOException {
        Channel channel = open();
        boolean mandatory = onReturned != null;
        if (mandatory) {
            long seq = sequence.incrementAndGet();
            slots.set(slot(seq), new Slot(seq, onReturned));
            properties.correlationId(Long.toString(seq));
        }
        channel.basicPublish(DEFAULT_EXCHANGE, queue, mandatory, properties.build(), body);
    }

    private static int slot(long seq) {
        return (int) (seq & (SLOTS - 1));
    }

    private void returned(Return returned) {
        String correlation = returned.getProperties().getCorrelationId();
        if (correlation == null) {
            return;
        }
        long seq;
        try {
            seq = Long.parseLong(correlation);
        } catch (NumberFormatException e) {
            LOG.debug("A returned message with a foreign correlation id {}", correlation);
            return;
        }
        int index = slot(seq);
        Slot slot = slots.get(index);
        if (slot != null && slot.seq() == seq && slots.compareAndSet(index, slot, null)) {
            runtime.execute(slot.onReturned());
        }
    }

    private Channel open() throws IOException {
        Channel channel = current;
        if (channel != null && channel.isOpen()) {
            return channel;
        }
        return reopen();
    }

    private synchronized Channel reopen() throws IOException {
        Channel channel = current;
        if (channel == null || !channel.isOpen()) {
            channel = opener.get();
            if (channel == null) {
                throw new IOException("No channel available (channel-max reached)");
            }
            channel.addReturnListener(this::returned);
            channel.addShutdownListener(this::closed);
            current = channel;
        }
        return channel;
    }

    private void closed(ShutdownSignalException cause) {
        if (!cause.isInitiatedByApplication()) {
            LOG.warn("The call channel closed ({}); calls under way end by their timeout", cause.getMessage());
        }
    }

    /** Closes the channel. */
    void close() {
        Channel channel = current;
        current = null;
        if (channel != null && channel.isOpen()) {
            try {
                channel.close();
            } catch (Exception e) {
                LOG.trace("Closing the call channel", e);
            }
        }
    }
}
