package io.globalregistry.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.ShutdownSignalException;
import io.globalregistry.RegistryException;
import io.globalregistry.membership.NodeId;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumer of a node's inbox on {@link AmqpTransport}'s connection: a plain amqp-client consumer
 * on a channel of its own, no acks ({@code autoAck}), whose deliveries go to the node's
 * {@link InboxListener} on the channel's dispatch thread, one after the other. No listener container:
 * it would turn every delivery into a Spring message (properties copied, header strings decoded)
 * before the listener decodes it again, a fifth of the inbox's cost under load, and its recovery
 * has nothing to recover (the inbox goes with the connection, and so does the node's incarnation).
 * {@link #start} returns once the broker answered consume-ok; a cancel by the broker or the channel's
 * close while the transport runs is logged at WARN ({@code quiet}: the transport is stopping, so it is
 * expected).
 */
final class InboxConsumer {

    private static final Logger LOG = LoggerFactory.getLogger(AmqpTransport.class);
    private static final long SHUTDOWN_TIMEOUT_MILLIS = 2_000;

    private final Supplier<Channel> opener;
    private final NodeId self;
    private final String inbox;
    private final BooleanSupplier quiet;
    private volatile Channel channel;
    private volatile Delivering consumer;
    private volatile long shutdownTimeoutMillis = SHUTDOWN_TIMEOUT_MILLIS;

    /** @param opener opens a new raw channel on the transport's connection */
    InboxConsumer(Supplier<Channel> opener, NodeId self, String inbox, BooleanSupplier quiet) {
        this.opener = opener;
        this.self = self;
        this.inbox = inbox;
        this.quiet = quiet;
    }

    /**
     * Starts consuming with {@code listener}; returns after consume-ok.
     *
     * @throws RegistryException if the consume fails
     */
    void start(InboxListener listener) {
        Channel opened;
        try {
            opened = opener.get();
        } catch (RuntimeException e) {
            throw new RegistryException("Could not consume " + inbox + ": " + BrokerErrors.describe(e), e);
        }
        if (opened == null) {
            throw new RegistryException("Could not consume " + inbox + ": no channel available (channel-max reached)");
        }
        channel = opened;
        Delivering delivering = new Delivering(opened, listener);
        try {
            opened.basicConsume(inbox, true, "global-registry-" + self.name() + "-inbox", false, false, null, delivering);
        } catch (IOException | RuntimeException e) {
            AmqpTransport.closeQuietly(opened);
            throw new RegistryException("Could not consume " + inbox + ": " + BrokerErrors.describe(e), e);
        }
        consumer = delivering;
    }

    /** A crash: no cancel-ok will come on a dead connection, so stopping does not wait for one. */
    void crashed() {
        shutdownTimeoutMillis = 0;
    }

    /**
     * Cancels the consumer and closes its channel, if started. What was delivered before the
     * cancel-ok is still handled: the channel closes once it was (at most 2 s later, not at all
     * after {@link #crashed()}).
     */
    void stop() {
        Delivering delivering = consumer;
        Channel open = channel;
        consumer = null;
        channel = null;
        if (open == null) {
            return;
        }
        if (delivering != null && open.isOpen() && shutdownTimeoutMillis > 0) {
            try {
                open.basicCancel(delivering.getConsumerTag());
                if (!delivering.cancelled.await(shutdownTimeoutMillis, TimeUnit.MILLISECONDS)) {
                    LOG.debug("The inbox consumer of {} did not finish within {} ms of its cancel", self,
                            shutdownTimeoutMillis);
                }
            } catch (IOException | RuntimeException e) {
                LOG.debug("Cancelling the inbox consumer of {}: {}", self, e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (shutdownTimeoutMillis == 0) {
            try {
                open.abort();
            } catch (IOException | RuntimeException e) {
                LOG.debug("Aborting the inbox channel of {}: {}", self, e.toString());
            }
        } else {
            AmqpTransport.closeQuietly(open);
        }
    }

    /** Hands each delivery to the listener, on the channel's dispatch thread. */
    private final class Delivering extends DefaultConsumer {
        private final InboxListener listener;
        private final CountDownLatch cancelled = new CountDownLatch(1);

        Delivering(Channel channel, InboxListener listener) {
            super(channel);
            this.listener = listener;
        }

        @Override
        public void handleDelivery(String consumerTag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
            listener.onDelivery(properties, body); // never throws
        }

        @Override
        public void handleCancelOk(String consumerTag) {
            cancelled.countDown();
        }

        @Override
        public void handleCancel(String consumerTag) {
            cancelled.countDown();
            if (!quiet.getAsBoolean()) {
                LOG.warn("Inbox consumer of {} failed: the broker cancelled it (was the inbox {} deleted?)", self, inbox);
            }
        }

        @Override
        public void handleShutdownSignal(String consumerTag, ShutdownSignalException sig) {
            cancelled.countDown();
            if (!quiet.getAsBoolean() && !sig.isInitiatedByApplication()) {
                LOG.warn("Inbox consumer of {} failed: its channel closed ({})", self, sig.getMessage());
            }
        }
    }
}
