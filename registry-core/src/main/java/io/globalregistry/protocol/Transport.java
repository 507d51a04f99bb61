package io.globalregistry.protocol;

import io.globalregistry.membership.NodeId;
import io.globalregistry.wire.Envelope;
import java.util.function.Consumer;

/**
 * How a node reaches the others. Incoming messages are handed to {@link RegistryNode#onMessage}
 * on the node's event loop; callbacks here also run on that loop. Implementations: AMQP (one
 * exchange per cluster, one inbox per node) and the in-memory network of the simulation.
 */
public interface Transport {

    /** Publishes to every member's inbox, this node's included. */
    void broadcast(Envelope envelope);

    /**
     * Publishes this node's heartbeat. Under {@link RegistryConfig.Liveness#BROKER} it is a
     * {@link #broadcast}. Under {@link RegistryConfig.Liveness#LEASE} it goes to the cluster's lease
     * log (a RabbitMQ stream), which every node reads in one order and which hands an entry to its
     * readers only once a majority of broker nodes stores it; heartbeats then reach the node only
     * from that log, never through the inboxes.
     */
    default void heartbeat(Envelope envelope) {
        broadcast(envelope);
    }

    /**
     * Publishes to one member's inbox only. If it cannot be delivered (the inbox is gone),
     * {@code onReturned} runs: the message was certainly never delivered.
     */
    void send(NodeId to, Envelope envelope, Runnable onReturned);

    /**
     * Asks the broker whether {@code node}'s inbox still exists, i.e. whether its connection is
     * alive. Answers {@code false} only when the broker certifies the inbox is gone.
     */
    void checkAlive(NodeId node, Consumer<Boolean> alive);

    /**
     * Drops this node's inbox and connection without a word, e.g. after it fenced itself: the
     * broker then certifies it dead, so no claim waits for a node that will never answer again.
     */
    default void disconnect() {
    }

    /**
     * Strategy {@code leader}: publishes to the cluster's leader queue, whichever node holds it.
     * If no node holds it, the broker returns the message and {@code onReturned} runs on the loop.
     */
    default void sendToLeader(Envelope envelope, Runnable onReturned) {
        throw new UnsupportedOperationException("This transport has no leader queue");
    }

    /**
     * Strategy {@code leader}: contends for the cluster's leader queue, the broker-arbitrated lock
     * of leadership, until the transport is closed or disconnected. A node that does not hold it
     * tries again every {@code retryMillis}; the holder loses it only with its connection. When this
     * node gains it, {@code elected} runs on the loop and messages sent to the leader queue arrive
     * like any other inbound message; when it loses it, {@code deposed} runs on the loop.
     */
    default void contendForLeadership(long retryMillis, Runnable elected, Runnable deposed) {
        throw new UnsupportedOperationException("This transport has no leader election");
    }
}
