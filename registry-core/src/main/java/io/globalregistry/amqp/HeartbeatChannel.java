package io.globalregistry.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConfirmListener;
import io.globalregistry.protocol.NodeRuntime;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Liveness {@code lease}: the channel a node publishes its heartbeats to the lease logs on, in confirm mode.
 * A stream confirms an entry once a majority of its replicas stores it (its commit), which is what a lease needs
 * (docs/PROTOCOL.md, "Liveness", rule 1): each ack runs the publish's {@code confirmed} on the loop; a nack or a
 * channel that closes first confirms nothing (the lease is not extended by that heartbeat). Publish from one
 * thread at a time (the loop).
 */
final class HeartbeatChannel {

    private static final Logger LOG = LoggerFactory.getLogger(AmqpTransport.class);

    private final Supplier<Channel> opener;
    private final NodeRuntime runtime;
    private volatile Open current;

    /** One channel in confirm mode and its publishes not confirmed yet (sequence number -> callback). */
    private final class Open implements ConfirmListener {
        final Channel channel;
        final ConcurrentSkipListMap<Long, Runnable> unconfirmed = new ConcurrentSkipListMap<>();

        Open(Channel channel) throws IOException {
            this.channel = channel;
            channel.confirmSelect();
            channel.addConfirmListener(this);
            channel.addShutdownListener(cause -> {
                if (current == this) {
                    current = null;
                }
                unconfirmed.clear();
            });
        }

        @Override
        public void handleAck(long tag, boolean multiple) {
            for (Runnable confirmed : done(tag, multiple).values()) {
                runtime.execute(confirmed);
            }
        }

        @Override
        public void handleNack(long tag, boolean multiple) {
            int refused = done(tag, multiple).size();
            LOG.debug("The broker refused {} heartbeat(s) (nack): they extend no lease", refused);
        }

        private Map<Long, Runnable> done(long tag, boolean multiple) {
            ConcurrentNavigableMap<Long, Runnable> settled = multiple ? unconfirmed.headMap(tag, true)
                    : unconfirmed.subMap(tag, true, tag, true);
            Map<Long, Runnable> copy = Map.copyOf(settled);
            settled.clear();
            return copy;
        }
    }

    HeartbeatChannel(Supplier<Channel> opener, NodeRuntime runtime) {
        this.opener = opener;
        this.runtime = runtime;
    }

    /** Publishes {@code body} to {@code stream} (default exchange); {@code confirmed} runs on the loop on the ack. */
    void publish(String stream, AMQP.BasicProperties.Builder properties, byte[] body, Runnable confirmed)
            throws IOException {
        Open open = open();
        long sequence = open.channel.getNextPublishSeqNo();
        open.unconfirmed.put(sequence, confirmed);
        try {
            open.channel.basicPublish("", stream, false, properties.build(), body);
        } catch (IOException | RuntimeException e) {
            open.unconfirmed.remove(sequence);
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

    void close() {
        Open open = current;
        current = null;
        AmqpTransport.closeQuietly(open == null ? null : open.channel);
    }
}
