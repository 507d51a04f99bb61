package io.globalregistry.protocol;

import io.globalregistry.membership.NodeId;
import io.globalregistry.wire.Envelope;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

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
     * Under {@link RegistryConfig.Liveness#LEASE}: whether {@link #heartbeat(Envelope, IntConsumer)} reports the
     * broker's confirms, so a node need not read the lease logs to hold its lease (docs/PROTOCOL.md, "Liveness").
     */
    default boolean confirmsHeartbeats() {
        return false;
    }

    /**
     * {@link #heartbeat(Envelope)}; when {@link #confirmsHeartbeats()}, {@code confirmed} runs on the loop with
     * each lease log that stored it on a majority of its replicas.
     */
    default void heartbeat(Envelope envelope, IntConsumer confirmed) {
        heartbeat(envelope);
    }

    /**
     * Under {@link RegistryConfig.Liveness#LEASE}: reads the lease logs from their next entries, or stops reading;
     * {@code attached} runs on the loop once the readers are attached (reading) or detached.
     */
    default void readLeaseLogs(boolean read, Runnable attached) {
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
     * Crash detection: starts telling this node, on its loop, whenever the broker reports that another
     * node's connection closed (RabbitMQ's event exchange, {@code connection.closed}). A report comes only
     * from the broker node that held the connection, so a partition or a dead broker node stops it, never
     * fakes it. Returns false, and tells nothing, when the broker makes no such reports.
     */
    default boolean watchConnections(Consumer<NodeId> closed) {
        return false;
    }

    /**
     * Crash detection: asks the broker, over this node's connection, for an answer; {@code answered} runs
     * (on any thread) when it comes, so the connection was still open at the broker after the ping was
     * sent. Does nothing while an earlier ping is unanswered.
     */
    default void ping(Runnable answered) {
    }

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

    /**
     * Strategy {@code leader}: gives the leader queue up if this node holds it, and contends again. A
     * holder that hears of a leader with a newer epoch does so: on a broker cluster whose queue records
     * split in a partition, each side's records may hold the queue for another node.
     */
    default void resignLeadership() {
    }
}
