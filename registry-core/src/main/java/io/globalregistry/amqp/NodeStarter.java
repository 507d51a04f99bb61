package io.globalregistry.amqp;

import io.globalregistry.DeliveryStats;
import io.globalregistry.RegistryObserver;
import io.globalregistry.engine.RegistryEngine;
import io.globalregistry.membership.NodeId;
import io.globalregistry.protocol.RegistryConfig;
import io.globalregistry.wire.RejectedMessages;
import io.globalregistry.wire.WireCodec;
import java.util.function.Function;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import tools.jackson.databind.ObjectMapper;

/**
 * Builds incarnations of one node from its builder's settings: each with a fresh {@link NodeId}, an
 * event loop, a connection and inbox of its own, and an engine; the counts of rejected messages and
 * deliveries are the node's, shared by all its incarnations.
 */
final class NodeStarter {

    private final RegistryConfig settings;
    private final String nodeName;
    private final Function<NodeId, ConnectionFactory> connections;
    private final ConnectionFactory shared;
    private final ObjectMapper payloadMapper;
    private final int handlerThreads;
    private final int maxConcurrentClaims;
    private final RegistryObserver observer;
    private final RejectedMessages rejected = new RejectedMessages();
    private final DeliveryStats deliveries = new DeliveryStats();

    /**
     * @param connections a connection factory for each incarnation
     * @param shared the factory given by the user, if any: used as is and never destroyed by the registry
     */
    NodeStarter(RegistryConfig settings, String nodeName, Function<NodeId, ConnectionFactory> connections,
                ConnectionFactory shared, ObjectMapper payloadMapper, int handlerThreads, int maxConcurrentClaims,
                RegistryObserver observer) {
        this.settings = settings;
        this.nodeName = nodeName;
        this.connections = connections;
        this.shared = shared;
        this.payloadMapper = payloadMapper;
        this.handlerThreads = handlerThreads;
        this.maxConcurrentClaims = maxConcurrentClaims;
        this.observer = observer;
    }

    String nodeName() {
        return nodeName;
    }

    RegistryConfig settings() {
        return settings;
    }

    RejectedMessages rejected() {
        return rejected;
    }

    DeliveryStats deliveries() {
        return deliveries;
    }

    /** A new incarnation, built but not started (nothing connects before its engine's {@code start()}). */
    Incarnation create() {
        NodeId self = NodeId.fresh(nodeName);
        ConnectionFactory factory = connections.apply(self);
        boolean owned = factory != shared;
        EventLoopRuntime runtime = new EventLoopRuntime(nodeName);
        AmqpTransport transport;
        try {
            transport = new AmqpTransport(factory, owned, self, settings.cluster(),
                    new WireCodec(settings.cluster(), settings.maxMessageSize(), settings.security(),
                            System::currentTimeMillis), rejected, runtime);
        } catch (RuntimeException e) {
            runtime.close();
            if (owned) {
                ((CachingConnectionFactory) factory).destroy();
            }
            throw e;
        }
        RegistryEngine engine = new RegistryEngine(self, settings, runtime, runtime, transport, rejected, deliveries,
                payloadMapper, handlerThreads, maxConcurrentClaims, observer);
        return new Incarnation(engine, transport);
    }
}
