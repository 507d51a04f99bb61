package io.globalregistry.amqp;

import io.globalregistry.RegistryException;
import io.globalregistry.membership.NodeId;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.amqp.core.AcknowledgeMode;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.listener.ConsumeOkEvent;
import org.springframework.amqp.rabbit.listener.DirectMessageListenerContainer;
import org.springframework.amqp.rabbit.listener.ListenerContainerConsumerFailedEvent;

/**
 * The consumer of a node's inbox on {@link AmqpTransport}'s connection: a {@link DirectMessageListenerContainer}
 * with one consumer, no acks, no de-batching and no requeue, whose listener is the node's {@link InboxListener}.
 * {@link #start} returns once the broker answered consume-ok; a consumer failure while the transport runs is
 * logged at WARN ({@code quiet}: the transport is stopping, so it is expected).
 */
final class InboxConsumer {

    private static final Logger LOG = LoggerFactory.getLogger(AmqpTransport.class);
    private static final long START_TIMEOUT_MILLIS = 10_000;
    private static final long SHUTDOWN_TIMEOUT_MILLIS = 2_000;

    private final ConnectionFactory connectionFactory;
    private final NodeId self;
    private final String inbox;
    private final BooleanSupplier quiet;
    private volatile DirectMessageListenerContainer container;

    InboxConsumer(ConnectionFactory connectionFactory, NodeId self, String inbox, BooleanSupplier quiet) {
        this.connectionFactory = connectionFactory;
        this.self = self;
        this.inbox = inbox;
        this.quiet = quiet;
    }

    /**
     * Starts consuming with {@code listener} and waits for consume-ok.
     *
     * @throws RegistryException if it is not consumed within 10 s or the consume fails
     */
    void start(InboxListener listener) {
        CompletableFuture<Void> consuming = new CompletableFuture<>();
        DirectMessageListenerContainer consumer = new DirectMessageListenerContainer(connectionFactory);
        consumer.setQueueNames(inbox);
        consumer.setAcknowledgeMode(AcknowledgeMode.NONE);
        consumer.setConsumersPerQueue(1);
        consumer.setDeBatchingEnabled(false);
        consumer.setDefaultRequeueRejected(false);
        consumer.setShutdownTimeout(SHUTDOWN_TIMEOUT_MILLIS);
        consumer.setMessageListener(listener);
        consumer.setApplicationEventPublisher(event -> {
            if (event instanceof ConsumeOkEvent) {
                consuming.complete(null);
            } else if (event instanceof ListenerContainerConsumerFailedEvent) {
                ListenerContainerConsumerFailedEvent failed = (ListenerContainerConsumerFailedEvent) event;
                if (!quiet.getAsBoolean()) {
                    LOG.warn("Inbox consumer of {} failed: {}", self, failed.getReason(), failed.getThrowable());
                }
            }
        });
        consumer.setBeanName("global-registry-" + self.name() + "-inbox");
        consumer.afterPropertiesSet();
        container = consumer;
        consumer.start();
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

    /** A crash: no cancel-ok will come on a dead connection, so stopping does not wait for one. */
    void crashed() {
        DirectMessageListenerContainer consumer = container;
        if (consumer != null) {
            consumer.setShutdownTimeout(0);
        }
    }

    /** Stops and destroys the container, if started (what was delivered is still handled). */
    void stop() {
        DirectMessageListenerContainer consumer = container;
        if (consumer != null) {
            try {
                consumer.stop();
                consumer.destroy();
            } catch (RuntimeException e) {
                LOG.debug("Stopping the inbox consumer of {}: {}", self, e.toString());
            }
        }
    }
}
