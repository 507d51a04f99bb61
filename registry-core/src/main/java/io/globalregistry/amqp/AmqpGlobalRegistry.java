package io.globalregistry.amqp;

import com.rabbitmq.client.Address;
import com.rabbitmq.client.ListAddressResolver;
import io.globalregistry.DeliveryStats;
import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.LeaderListener;
import io.globalregistry.OwnerChangeListener;
import io.globalregistry.Registration;
import io.globalregistry.RegistrationResult;
import io.globalregistry.RegistryException;
import io.globalregistry.RegistryObserver;
import io.globalregistry.engine.RegistryEngine;
import io.globalregistry.membership.NodeId;
import io.globalregistry.name.NameCodec;
import io.globalregistry.protocol.RegistryConfig;
import io.globalregistry.wire.RejectedMessages;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
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
 * <p>When the node gives up its incarnation (its connection is lost, or it does not hear itself
 * through the broker for 5 x fence-after), it rejoins the cluster as a new incarnation, retrying
 * while the broker cannot be reached (see {@link OwnerChangeListener#onRejoined}); proxies made
 * before keep working, listeners stay. Meanwhile it owns nothing and knows no name, and
 * registrations, sends and calls fail at once with a {@link RegistryException}.
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

    private final Incarnations incarnations;
    private final NodeStarter starter;
    private final NameCodec names = new NameCodec();

    private AmqpGlobalRegistry(Incarnations incarnations, NodeStarter starter) {
        this.incarnations = incarnations;
        this.starter = starter;
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
        private List<Address> addresses;
        private ConnectionFactory connectionFactory;
        private com.rabbitmq.client.ConnectionFactory rabbitConnectionFactory;
        private String cluster;
        private RegistryConfig config;
        private String nodeName;
        private ObjectMapper payloadMapper;
        private int handlerThreads = 1;
        private int maxConcurrentClaims = 32;
        private RegistryObserver observer = RegistryObserver.NO_OP;
        private boolean rejoin = true;

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
         * The broker nodes to connect to, comma-separated {@code host[:port]} as Spring's
         * {@code setAddresses(String)} takes them (e.g. {@code "rabbit-1:5672,rabbit-2:5672,rabbit-3:5672"};
         * without a port, 5672, or 5671 with TLS). They replace the host and port of whichever
         * settings are given (these, {@link #rabbitConnectionFactory} or {@link #connectionFactory});
         * credentials, virtual host and TLS still come from those.
         *
         * <p>Every connection of the node (its own and its leader-election connection) tries the
         * list in turn and takes the first broker node that accepts it. The node's first incarnation
         * starts with the first address; each new incarnation (after the node gave up the one before,
         * e.g. its connection was lost) starts one address further on, wrapping around, so it does
         * not insist on the broker node that just failed. The connections never recover by
         * themselves (amqp-client's automatic recovery stays off): a lost connection is a new
         * incarnation.
         */
        public Builder addresses(String addresses) {
            return addresses(BrokerAddresses.parse(addresses));
        }

        /** The broker nodes to connect to, tried as {@link #addresses(String)} says. */
        public Builder addresses(List<Address> addresses) {
            Objects.requireNonNull(addresses, "addresses");
            if (addresses.isEmpty()) {
                throw new IllegalArgumentException("At least one broker address is required");
            }
            this.addresses = List.copyOf(addresses);
            return this;
        }

        /**
         * Connect with the broker settings of an existing Spring factory (e.g. Spring Boot's). The
         * registry still opens a connection of its own from the factory's RabbitMQ settings; a
         * factory that is not an {@link AbstractConnectionFactory} is used as is: its connection
         * must serve this node alone, since the node's inbox lives and dies with it. The address
         * list of a Spring factory ({@code setAddresses}) cannot be read from it: only its RabbitMQ
         * factory's host and port are used unless {@link #addresses} is given too.
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
         * {@link RegistryObserver#NO_OP}); calls to a local owner are only counted.
         */
        public Builder observer(RegistryObserver observer) {
            this.observer = Objects.requireNonNull(observer, "observer");
            return this;
        }

        /**
         * Whether the node rejoins the cluster as a new incarnation after it gave up the one before
         * (default true); with false it stays stopped, owning nothing, until closed.
         */
        public Builder rejoin(boolean rejoin) {
            this.rejoin = rejoin;
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
            NodeId first = NodeId.fresh(nodeName);
            AmqpNames.checkCluster(settings.cluster(), first);
            if (!settings.security().enabled()) {
                LOG.warn("Node {} of cluster {} signs nothing: no security.secret is set, so any user of the broker can"
                        + " forge registry traffic (claims, advertisements, calls). Set a shared secret in production.",
                        nodeName, settings.cluster());
            }
            NodeStarter starter = new NodeStarter(settings, nodeName, connections(), connectionFactory,
                    payloadMapper != null ? payloadMapper
                            : JsonMapper.builder().enable(SerializationFeature.FAIL_ON_EMPTY_BEANS).build(),
                    handlerThreads, maxConcurrentClaims, observer);
            Incarnations incarnations = new Incarnations(starter, rejoin);
            incarnations.start();
            return new AmqpGlobalRegistry(incarnations, starter);
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

        /**
         * The connection factory of each incarnation, from the broker settings as they are now: a
         * user's non-Spring-Boot factory as is; otherwise a new one (named after the incarnation) on
         * a copy of the client settings, with the client's own recovery off, trying the broker
         * addresses in the incarnation's order (see {@link BrokerAddresses}), which its leader
         * election uses too.
         */
        Function<NodeId, ConnectionFactory> connections() {
            if (connectionFactory != null && !(connectionFactory instanceof AbstractConnectionFactory)) {
                if (addresses != null) {
                    throw new IllegalArgumentException("addresses(...) cannot apply to a "
                            + connectionFactory.getClass().getName() + ", which the registry uses as is; give an"
                            + " AbstractConnectionFactory (e.g. a CachingConnectionFactory) or a RabbitMQ factory");
                }
                ConnectionFactory shared = connectionFactory;
                return self -> shared;
            }
            com.rabbitmq.client.ConnectionFactory rabbit;
            if (connectionFactory != null) {
                rabbit = ((AbstractConnectionFactory) connectionFactory).getRabbitConnectionFactory().clone();
            } else if (rabbitConnectionFactory != null) {
                rabbit = rabbitConnectionFactory.clone();
            } else {
                rabbit = new com.rabbitmq.client.ConnectionFactory();
                rabbit.setHost(host);
                rabbit.setPort(port);
                rabbit.setUsername(username);
                rabbit.setPassword(password);
                rabbit.setVirtualHost(virtualHost);
                rabbit.setChannelRpcTimeout(10_000);
            }
            withoutRecovery(rabbit);
            BrokerAddresses brokers = new BrokerAddresses(addresses != null ? addresses
                    : List.of(new Address(rabbit.getHost(), rabbit.getPort())));
            LOG.debug("Node {} connects to the broker at {} (each incarnation one address further on)", nodeName,
                    brokers);
            return self -> {
                com.rabbitmq.client.ConnectionFactory own = withoutRecovery(rabbit.clone());
                List<Address> order = brokers.nextOrder();
                BrokerAddresses.attach(own, order); // for the incarnation's leader election
                CachingConnectionFactory caching = new CachingConnectionFactory(own);
                caching.setAddressResolver(new ListAddressResolver(order)); // tried in this order, not shuffled
                caching.setConnectionNameStrategy(f -> CrashDetection.connectionName(self));
                return caching;
            };
        }

        /** The broker addresses the node will use (the given list, else the settings' host and port), for logs. */
        public List<Address> brokerAddresses() {
            if (addresses != null) {
                return addresses;
            }
            if (connectionFactory instanceof AbstractConnectionFactory factory) {
                com.rabbitmq.client.ConnectionFactory rabbit = factory.getRabbitConnectionFactory();
                return List.of(new Address(rabbit.getHost(), rabbit.getPort()));
            }
            if (connectionFactory != null) {
                return List.of(new Address(connectionFactory.getHost(), connectionFactory.getPort()));
            }
            if (rabbitConnectionFactory != null) {
                return List.of(new Address(rabbitConnectionFactory.getHost(), rabbitConnectionFactory.getPort()));
            }
            return List.of(new Address(host, port));
        }

        /** The client's own recovery would bring back a dead node's inbox under the same identity. */
        private static com.rabbitmq.client.ConnectionFactory withoutRecovery(com.rabbitmq.client.ConnectionFactory rabbit) {
            rabbit.setAutomaticRecoveryEnabled(false);
            rabbit.setTopologyRecoveryEnabled(false);
            return rabbit;
        }
    }

    /**
     * Simulates a crash of this node: the connection is aborted (the broker deletes its inbox at
     * once), nothing more is sent, and the node stops without unregistering or saying goodbye (nor
     * rejoining). For tests; use {@link #close()} to leave.
     */
    public void crash() {
        incarnations.crash();
    }

    /** The transport of this node's current incarnation (queue names, publish counters). */
    public AmqpTransport transport() {
        return incarnations.current().transport();
    }

    /** The engine of this node's current incarnation (calls under way, for tests and metrics). */
    public RegistryEngine engine() {
        return now();
    }

    private RegistryEngine now() {
        return incarnations.current().engine();
    }

    /** Why nothing can be done while the node rejoins. */
    private RegistryException rejoining() {
        return new RegistryException("The registry node " + nodeId() + " gave up its incarnation and is rejoining the"
                + " cluster as a new one; try again shortly");
    }

    @Override
    public NodeId nodeId() {
        return now().nodeId();
    }

    @Override
    public Optional<Registration> whereis(Object name) {
        if (incarnations.isRejoining()) {
            names.encode(name);
            return Optional.empty();
        }
        return now().whereis(name);
    }

    @Override
    public RegistrationResult register(Object name, Object target) {
        if (incarnations.isRejoining()) {
            throw rejoining();
        }
        return now().register(name, target);
    }

    @Override
    public CompletableFuture<RegistrationResult> registerAsync(Object name, Object target) {
        if (incarnations.isRejoining()) {
            names.encode(name);
            return CompletableFuture.failedFuture(rejoining());
        }
        return now().registerAsync(name, target);
    }

    @Override
    public boolean unregister(Object name) {
        if (incarnations.isRejoining()) {
            names.encode(name);
            return false; // it owns nothing
        }
        return now().unregister(name);
    }

    @Override
    public void send(Object name, Object message) {
        if (incarnations.isRejoining()) {
            throw rejoining();
        }
        now().send(name, message);
    }

    /** {@inheritDoc} The proxy calls through whichever incarnation of this node is current. */
    @Override
    public <T> T proxy(Object name, Class<T> type) {
        String key = names.canonicalKey(name);
        Incarnation current = incarnations.current();
        if (current.engine().isClosed() && !incarnations.isRejoining()) {
            throw new IllegalStateException("The registry node " + current.id() + " is closed");
        }
        InvocationHandler first = current.engine().invocations().handler(key, type);
        ClassLoader loader = type.getClassLoader() != null ? type.getClassLoader() : AmqpGlobalRegistry.class.getClassLoader();
        return type.cast(Proxy.newProxyInstance(loader, new Class<?>[] {type},
                new CurrentIncarnationHandler(incarnations, key, type, current, first)));
    }

    @Override
    public List<Registration> registrations() {
        return incarnations.isRejoining() ? List.of() : now().registrations();
    }

    @Override
    public Set<NodeId> members() {
        return incarnations.isRejoining() ? Set.of(nodeId()) : now().members();
    }

    @Override
    public boolean mayActAsOwner(Object name) {
        return !incarnations.isRejoining() && now().mayActAsOwner(name);
    }

    @Override
    public boolean isFenced() {
        return incarnations.isRejoining() || now().isFenced();
    }

    @Override
    public long rejoins() {
        return incarnations.rejoins();
    }

    @Override
    public Map<NodeId, Instant> lastHeartbeats() {
        return incarnations.isRejoining() ? Map.of() : now().lastHeartbeats();
    }

    @Override
    public void addListener(OwnerChangeListener listener) {
        incarnations.addListener(Objects.requireNonNull(listener, "listener"));
    }

    @Override
    public void removeListener(OwnerChangeListener listener) {
        incarnations.removeListener(listener);
    }

    @Override
    public Optional<NodeId> leader() {
        return incarnations.isRejoining() ? Optional.empty() : now().leader();
    }

    /** {@inheritDoc} The listener is the node's: it hears every incarnation's leader changes. */
    @Override
    public void addLeaderListener(LeaderListener listener) {
        incarnations.addLeaderListener(Objects.requireNonNull(listener, "listener"));
    }

    @Override
    public void removeLeaderListener(LeaderListener listener) {
        incarnations.removeLeaderListener(listener);
    }

    @Override
    public RejectedMessages rejected() {
        return starter.rejected();
    }

    /** {@inheritDoc} Counted over every incarnation of this node. */
    @Override
    public DeliveryStats deliveries() {
        return starter.deliveries();
    }

    @Override
    public void close() {
        incarnations.close();
    }

    @Override
    public String toString() {
        return now().toString();
    }
}
