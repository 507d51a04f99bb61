package io.globalregistry.amqp;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.globalregistry.protocol.RegistryConfig;
import io.globalregistry.test.TestBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * Nodes of one test cluster with a random name and short timings (heartbeat 100 ms, suspect-after
 * 400 ms, claim-timeout 1 s, join-window 300 ms) and liveness {@code broker} (a suite may choose {@code lease}:
 * RegistryContractTest runs under both), each on its own connection. {@link #close()} closes every node
 * and deletes the cluster's exchange and lease streams.
 */
final class ClusterFixture implements AutoCloseable {

    final TestBroker broker;
    final String cluster = "test-" + UUID.randomUUID().toString().substring(0, 8);
    final RegistryConfig config;
    private final List<AmqpGlobalRegistry> nodes = new ArrayList<>();

    ClusterFixture(TestBroker broker) {
        this(broker, UnaryOperator.identity());
    }

    /** With the short timings changed by {@code customize} (e.g. a call timeout or a secret). */
    ClusterFixture(TestBroker broker, UnaryOperator<RegistryConfig> customize) {
        this.broker = broker;
        this.config = customize.apply(RegistryConfig.defaults(cluster)
                .withHeartbeat(Duration.ofMillis(100), Duration.ofMillis(400))
                .withClaimTimeout(Duration.ofSeconds(1))
                .withJoinWindow(Duration.ofMillis(300))
                .withLiveness(RegistryConfig.Liveness.BROKER));
    }

    AmqpGlobalRegistry start(String nodeName) {
        return start(nodeName, config);
    }

    /** A node with settings of its own (same cluster). */
    AmqpGlobalRegistry start(String nodeName, RegistryConfig settings) {
        return start(nodeName, settings, builder -> { });
    }

    /** A node whose builder is changed by {@code customize} (e.g. an observer). */
    AmqpGlobalRegistry start(String nodeName, Consumer<AmqpGlobalRegistry.Builder> customize) {
        return start(nodeName, config, customize);
    }

    private AmqpGlobalRegistry start(String nodeName, RegistryConfig settings, Consumer<AmqpGlobalRegistry.Builder> customize) {
        AmqpGlobalRegistry.Builder builder = AmqpGlobalRegistry.builder()
                .rabbitConnectionFactory(broker.newConnectionFactory())
                .config(settings)
                .nodeName(nodeName);
        customize.accept(builder);
        AmqpGlobalRegistry node = builder.start();
        nodes.add(node);
        return node;
    }

    List<AmqpGlobalRegistry> start(String... nodeNames) {
        List<AmqpGlobalRegistry> started = new ArrayList<>();
        for (String name : nodeNames) {
            started.add(start(name));
        }
        return started;
    }

    String exchange() {
        return AmqpNames.exchange(cluster);
    }

    @Override
    public void close() throws Exception {
        for (AmqpGlobalRegistry node : nodes) {
            node.close();
        }
        try (Connection connection = broker.newConnectionFactory().newConnection("test-cleanup");
             Channel channel = connection.createChannel()) {
            channel.exchangeDelete(exchange());
        }
        try (Connection connection = broker.newConnectionFactory().newConnection("test-cleanup");
             Channel channel = connection.createChannel()) {
            for (int log = 0; log < io.globalregistry.protocol.RegistryConfig.LEASE_LOGS; log++) {
                channel.queueDelete(AmqpNames.leaseStream(cluster, log)); // durable, if a node used liveness lease
            }
        } catch (Exception e) {
            // Qpid Broker-J answers 404 for a queue that is not there
        }
    }
}
