package io.globalregistry.amqp;

import io.globalregistry.DeliveryStats;
import io.globalregistry.RegistryException;
import io.globalregistry.RegistryObserver;
import io.globalregistry.engine.RegistryEngine;
import io.globalregistry.membership.NodeId;
import io.globalregistry.protocol.RegistryConfig;
import io.globalregistry.protocol.RegistryConfig.Liveness;
import io.globalregistry.wire.RejectedMessages;
import io.globalregistry.wire.WireCodec;
import java.util.Map;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import tools.jackson.databind.ObjectMapper;

/**
 * Builds incarnations of one node from its builder's settings: each with a fresh {@link NodeId}, an
 * event loop, a connection and inbox of its own, and an engine; the counts of rejected messages and
 * deliveries are the node's, shared by all its incarnations.
 *
 * <p>The liveness rule is resolved here, so the protocol never sees {@link Liveness#AUTO}: each
 * incarnation opens its connection first and reads the broker's {@code product} and
 * {@code version} ({@link LivenessChoice}). The node's first incarnation fixes the rule (one INFO
 * line says which and why) and every later one keeps it: a node does not change its rule while it
 * runs; should a later incarnation find a broker without streams under {@code lease}, it fails to
 * start (and its node tries again).
 */
final class NodeStarter {

    private static final Logger LOG = LoggerFactory.getLogger(NodeStarter.class);

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
    private volatile Liveness resolved; // fixed by the first incarnation that connected

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

    /** The settings as given; {@link #liveness()} is the rule they resolved to. */
    RegistryConfig settings() {
        return settings;
    }

    /** The liveness rule of this node's incarnations: null until the first one connected. */
    Liveness liveness() {
        return resolved;
    }

    RejectedMessages rejected() {
        return rejected;
    }

    DeliveryStats deliveries() {
        return deliveries;
    }

    /**
     * A new incarnation, built but not started: its connection is open (to resolve the liveness
     * rule), nothing is declared before its engine's {@code start()}.
     *
     * @throws RuntimeException if the broker cannot be reached, or refuses the liveness rule
     */
    Incarnation create() {
        NodeId self = NodeId.fresh(nodeName);
        ConnectionFactory factory = connections.apply(self);
        boolean owned = factory != shared;
        EventLoopRuntime runtime = null;
        try {
            RegistryConfig config = settings.withLiveness(resolve(factory));
            runtime = new EventLoopRuntime(nodeName);
            AmqpTransport transport = new AmqpTransport(factory, owned, self, config.cluster(),
                    new WireCodec(config.cluster(), config.maxMessageSize(), config.security(),
                            System::currentTimeMillis), rejected, runtime, config.liveness());
            RegistryEngine engine = new RegistryEngine(self, config, runtime, runtime, transport, rejected, deliveries,
                    payloadMapper, handlerThreads, maxConcurrentClaims, observer);
            return new Incarnation(engine, transport);
        } catch (RuntimeException e) {
            if (runtime != null) {
                runtime.close();
            }
            if (owned && factory instanceof CachingConnectionFactory) {
                ((CachingConnectionFactory) factory).destroy();
            }
            throw e;
        }
    }

    /** The rule for an incarnation on {@code factory}'s connection (opened here); the first fixes the node's. */
    private Liveness resolve(ConnectionFactory factory) {
        Liveness fixed = resolved;
        Liveness requested = fixed != null ? fixed : settings.liveness();
        Map<String, Object> server;
        try {
            server = factory.createConnection().getDelegate().getServerProperties();
        } catch (RuntimeException e) {
            throw new RegistryException("Could not connect to the broker: " + BrokerErrors.describe(e), e);
        }
        LivenessChoice choice = LivenessChoice.resolve(requested, server, settings.cluster());
        if (fixed == null) {
            resolved = choice.liveness();
            LOG.info("Registry node {} of cluster {}: {}", nodeName, settings.cluster(), choice.logLine());
        } else {
            LOG.debug("Registry node {} keeps {}", nodeName, choice.logLine());
        }
        return choice.liveness();
    }
}
