package io.globalregistry.amqp;

import io.globalregistry.DeliveryStats;
import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.OwnerChangeListener;
import io.globalregistry.Registration;
import io.globalregistry.RegistrationResult;
import io.globalregistry.RegistryObserver;
import io.globalregistry.engine.RegistryEngine;
import io.globalregistry.membership.NodeId;
import io.globalregistry.protocol.RegistryConfig;
import io.globalregistry.wire.RejectedMessages;
import io.globalregistry.wire.WireCodec;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.amqp.rabbit.connection.AbstractConnectionFactory;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The AMQP entry point: {@code AmqpGlobalRegistry.builder()...start()} connects one node to a
 * cluster over RabbitMQ (or any AMQP 0-9-1 broker) and returns it started. Each node has a
 * connection of its own, so its death is visible to the broker (its inbox disappears).
 *
 * <pre>{@code
 * try (GlobalNameRegistry registry = AmqpGlobalRegistry.builder()
 *         .host("localhost").port(5672).username("guest").password("guest")
 *         .cluster("shop").nodeName("billing-1")
 *         .start()) {
 *     registry.register("billing", billingService);
 * }
 * }</pre>
 */
public final class AmqpGlobalRegistry implements GlobalNameRegistry {

    private static final Logger LOG = LoggerFactory.getLogger(AmqpGlobalRegistry.class);

    private final RegistryEngine engine;
    private final AmqpTransport transport;

    private AmqpGlobalRegistry(RegistryEngine engine, AmqpTransport transport) {
        this.engine = engine;
        this.transport = transport;
    }

    /** A builder; set at least the cluster (or a config) and the node name. */
    public static Builder builder() {
        return new Builder();
    }

    /** Settings of one node: broker, cluster, node name, protocol settings. */
    public static final class Builder {
        private String host = "localhost";
        private int port = 5672;
        private String username = "guest";
        private String password = "guest";
        private String virtualHost = "/";
        private ConnectionFactory connectionFactory;
        private com.rabbitmq.client.ConnectionFactory rabbitConnectionFactory;
        private String cluster;
        private RegistryConfig config;
        private String nodeName;
        private ObjectMapper payloadMapper;
        private int handlerThreads = 1;
        private int maxConcurrentClaims = 32;
        private RegistryObserver observer = RegistryObserver.NO_OP;

        private Builder() {
        }

        public Builder host(String host) {
            this.host = Objects.requireNonNull(host, "host");
            return this;
        }

        public Builder port(int port) {
            this.port = port;
            return this;
        }

        public Builder username(String username) {
            this.username = Objects.requireNonNull(username, "username");
            return this;
        }

        public Builder password(String password) {
            this.password = Objects.requireNonNull(password, "password");
            return this;
        }

        public Builder virtualHost(String virtualHost) {
            this.virtualHost = Objects.requireNonNull(virtualHost, "virtualHost");
            return this;
        }

        /**
         * Connect with the broker settings of an existing Spring factory (e.g. Spring Boot's). The
         * registry still opens a connection of its own from the factory's RabbitMQ settings; a
         * factory that is not an {@link AbstractConnectionFactory} is used as is: its connection
         * must serve this node alone, since the node's inbox lives and dies with it.
         */
        public Builder connectionFactory(ConnectionFactory connectionFactory) {
            this.connectionFactory = Objects.requireNonNull(connectionFactory, "connectionFactory");
            return this;
        }

        /** Connect with the settings of an amqp-client factory (the registry opens its own connection from it). */
        public Builder rabbitConnectionFactory(com.rabbitmq.client.ConnectionFactory rabbitConnectionFactory) {
            this.rabbitConnectionFactory = Objects.requireNonNull(rabbitConnectionFactory, "rabbitConnectionFactory");
            return this;
        }

        /** The cluster to join, with default protocol settings unless {@link #config} is given. */
        public Builder cluster(String cluster) {
            this.cluster = Objects.requireNonNull(cluster, "cluster");
            return this;
        }

        /** The protocol settings, cluster included. */
        public Builder config(RegistryConfig config) {
            this.config = Objects.requireNonNull(config, "config");
            return this;
        }

        /** This node's name; an incarnation suffix is added at every start. */
        public Builder nodeName(String nodeName) {
            this.nodeName = Objects.requireNonNull(nodeName, "nodeName");
            return this;
        }

        /** The mapper for sent messages (default: a JsonMapper failing on empty beans). Never enable default typing on it. */
        public Builder payloadMapper(ObjectMapper payloadMapper) {
            this.payloadMapper = Objects.requireNonNull(payloadMapper, "payloadMapper");
            return this;
        }

        /** Threads running message handlers (default 1: each handler sees messages in arrival order). */
        public Builder handlerThreads(int handlerThreads) {
            this.handlerThreads = handlerThreads;
            return this;
        }

        /**
         * How many registrations this node claims at once (default 32); more wait their turn, so
         * a burst of registrations cannot make every claim outlive its grants.
         */
        public Builder maxConcurrentClaims(int maxConcurrentClaims) {
            this.maxConcurrentClaims = maxConcurrentClaims;
            return this;
        }

        /**
         * Told how long each registration and proxied call took and how it ended (default
         * {@link RegistryObserver#NO_OP}; with another one, calls to a local owner are timed too).
         */
        public Builder observer(RegistryObserver observer) {
            this.observer = Objects.requireNonNull(observer, "observer");
            return this;
        }

        /** Connects, joins the cluster and returns the started node. */
        public AmqpGlobalRegistry start() {
            RegistryConfig settings = settings();
            if (nodeName == null) {
                throw new IllegalArgumentException("The node name is required");
            }
            if (handlerThreads < 1) {
                throw new IllegalArgumentException("handlerThreads must be at least 1, got " + handlerThreads);
            }
            if (maxConcurrentClaims < 1) {
                throw new IllegalArgumentException("maxConcurrentClaims must be at least 1, got " + maxConcurrentClaims);
            }
            NodeId self = NodeId.fresh(nodeName);
            AmqpNames.checkCluster(settings.cluster(), self);
            if (!settings.security().enabled()) {
                LOG.warn("Node {} of cluster {} signs nothing: no security.secret is set, so any user of the broker can"
                        + " forge registry traffic (claims, advertisements, calls). Set a shared secret in production.",
                        self, settings.cluster());
            }
            ConnectionFactory factory = connectionFactory(self);
            boolean owned = factory != connectionFactory;
            EventLoopRuntime runtime = new EventLoopRuntime(nodeName);
            RejectedMessages rejected = new RejectedMessages();
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
            RegistryEngine engine = new RegistryEngine(self, settings, runtime, runtime, transport, rejected,
                    payloadMapper != null ? payloadMapper
                            : JsonMapper.builder().enable(SerializationFeature.FAIL_ON_EMPTY_BEANS).build(), handlerThreads,
                    maxConcurrentClaims, observer);
            engine.start();
            return new AmqpGlobalRegistry(engine, transport);
        }

        private RegistryConfig settings() {
            if (config == null) {
                if (cluster == null) {
                    throw new IllegalArgumentException("The cluster (or a config) is required");
                }
                return RegistryConfig.defaults(cluster);
            }
            if (cluster != null && !cluster.equals(config.cluster())) {
                throw new IllegalArgumentException("cluster '" + cluster + "' differs from the config's cluster '"
                        + config.cluster() + "'");
            }
            return config;
        }

        private ConnectionFactory connectionFactory(NodeId self) {
            com.rabbitmq.client.ConnectionFactory rabbit = rabbitConnectionFactory;
            if (connectionFactory instanceof AbstractConnectionFactory) {
                rabbit = ((AbstractConnectionFactory) connectionFactory).getRabbitConnectionFactory();
            } else if (connectionFactory != null) {
                return connectionFactory;
            }
            if (rabbit != null) {
                // a copy: the caller's factory stays as it was; the client's own recovery would bring
                // back a dead node's inbox under the same identity, so it is off
                rabbit = rabbit.clone();
                rabbit.setAutomaticRecoveryEnabled(false);
                rabbit.setTopologyRecoveryEnabled(false);
            } else {
                rabbit = new com.rabbitmq.client.ConnectionFactory();
                rabbit.setHost(host);
                rabbit.setPort(port);
                rabbit.setUsername(username);
                rabbit.setPassword(password);
                rabbit.setVirtualHost(virtualHost);
                rabbit.setAutomaticRecoveryEnabled(false);
                rabbit.setChannelRpcTimeout(10_000);
            }
            CachingConnectionFactory caching = new CachingConnectionFactory(rabbit);
            caching.setConnectionNameStrategy(f -> "global-registry " + self);
            return caching;
        }
    }

    /**
     * Simulates a crash of this node: the connection is aborted (the broker deletes its inbox at
     * once), nothing more is sent, and the node stops without unregistering or saying goodbye.
     * For tests; use {@link #close()} to leave.
     */
    public void crash() {
        transport.abortConnection();
        engine.halt();
    }

    /** This node's transport (queue names, publish counters). */
    public AmqpTransport transport() {
        return transport;
    }

    @Override
    public NodeId nodeId() {
        return engine.nodeId();
    }

    @Override
    public Optional<Registration> whereis(Object name) {
        return engine.whereis(name);
    }

    @Override
    public RegistrationResult register(Object name, Object target) {
        return engine.register(name, target);
    }

    @Override
    public CompletableFuture<RegistrationResult> registerAsync(Object name, Object target) {
        return engine.registerAsync(name, target);
    }

    @Override
    public boolean unregister(Object name) {
        return engine.unregister(name);
    }

    @Override
    public void send(Object name, Object message) {
        engine.send(name, message);
    }

    @Override
    public <T> T proxy(Object name, Class<T> type) {
        return engine.proxy(name, type);
    }

    /** This node's engine (calls under way, for tests and metrics). */
    public RegistryEngine engine() {
        return engine;
    }

    @Override
    public List<Registration> registrations() {
        return engine.registrations();
    }

    @Override
    public Set<NodeId> members() {
        return engine.members();
    }

    @Override
    public boolean isFenced() {
        return engine.isFenced();
    }

    @Override
    public Map<NodeId, Instant> lastHeartbeats() {
        return engine.lastHeartbeats();
    }

    @Override
    public void addListener(OwnerChangeListener listener) {
        engine.addListener(listener);
    }

    @Override
    public void removeListener(OwnerChangeListener listener) {
        engine.removeListener(listener);
    }

    @Override
    public RejectedMessages rejected() {
        return engine.rejected();
    }

    @Override
    public DeliveryStats deliveries() {
        return engine.deliveries();
    }

    @Override
    public void close() {
        engine.close();
    }

    @Override
    public String toString() {
        return engine.toString();
    }
}
