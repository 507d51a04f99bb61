package io.globalregistry.engine;

import io.globalregistry.protocol.Transport;
import io.globalregistry.wire.Envelope;
import java.util.function.Consumer;

/** A {@link Transport} with a life cycle: started once the node exists, closed when it leaves. */
public interface NodeTransport extends Transport, AutoCloseable {

    /**
     * Starts consuming this node's inbox and returns once it is consuming. Every valid incoming
     * envelope is handed to {@code inbound} on the node's event loop; invalid ones are dropped
     * and counted by the transport.
     */
    void start(Consumer<Envelope> inbound);

    /**
     * Like {@link #start(Consumer)}; under liveness LEASE the heartbeats read from lease log {@code log}
     * go to {@code leases} instead, on the loop, in each log's order.
     */
    default void start(Consumer<Envelope> inbound, LeaseInbound leases) {
        start(inbound);
    }

    /** Where heartbeats read from the lease logs go. */
    @FunctionalInterface
    interface LeaseInbound {
        void accept(int log, Envelope envelope);
    }

    /**
     * Runs {@code callback} when the connection to the broker is lost while the node runs: the
     * broker then deletes the inbox, so the others will soon certify this node dead.
     */
    default void onConnectionLost(Runnable callback) {
    }

    /** Stops consuming and disconnects, after a short wait for messages still in flight. */
    @Override
    void close();
}
