package io.globalregistry.amqp;

import io.globalregistry.OwnerChangeListener;
import io.globalregistry.engine.RegistryEngine;
import io.globalregistry.membership.NodeId;
import java.util.concurrent.atomic.AtomicBoolean;

/** One run of a node: its identity, engine (event loop, node, calls) and transport (connection, inbox). */
final class Incarnation {

    private final RegistryEngine engine;
    private final AmqpTransport transport;
    private final AtomicBoolean forwarding = new AtomicBoolean();

    Incarnation(RegistryEngine engine, AmqpTransport transport) {
        this.engine = engine;
        this.transport = transport;
    }

    NodeId id() {
        return engine.nodeId();
    }

    RegistryEngine engine() {
        return engine;
    }

    AmqpTransport transport() {
        return transport;
    }

    /** Adds {@code forwarder} as this incarnation's listener, once however often it is called. */
    void forwardTo(OwnerChangeListener forwarder) {
        if (forwarding.compareAndSet(false, true)) {
            engine.addListener(forwarder);
        }
    }
}
