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
}
