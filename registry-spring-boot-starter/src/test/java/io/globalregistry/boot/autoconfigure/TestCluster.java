package io.globalregistry.boot.autoconfigure;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.globalregistry.test.TestBroker;
import java.io.IOException;
import java.util.UUID;
import org.springframework.boot.amqp.autoconfigure.RabbitAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * A cluster with a random name on the shared test broker, and context runners for its nodes: Spring
 * Boot's RabbitMQ auto-configuration pointed at the broker, the starter, and short timings
 * (heartbeat 100 ms, suspect-after 400 ms, fence-after 300 ms, claim-timeout 1 s, join-window 300 ms).
 * {@link #close()} deletes the cluster's exchange, if a node declared it.
 */
final class TestCluster implements AutoCloseable {

    final TestBroker broker = TestBroker.get();
    final String name = "starter-" + UUID.randomUUID().toString().substring(0, 8);

    /** A runner for a node called {@code nodeName} of this cluster. */
    ApplicationContextRunner node(String nodeName) {
        return brokerOnly().withPropertyValues(
                "global-registry.cluster=" + name,
                "global-registry.node-name=" + nodeName);
    }

    /** A runner with the broker and the timings, but no cluster or node name. */
    ApplicationContextRunner brokerOnly() {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(RabbitAutoConfiguration.class,
                        GlobalRegistryAutoConfiguration.class))
                .withPropertyValues(
                        "spring.rabbitmq.host=" + broker.host(),
                        "spring.rabbitmq.port=" + broker.port(),
                        "spring.rabbitmq.username=" + broker.username(),
                        "spring.rabbitmq.password=" + broker.password(),
                        "spring.rabbitmq.virtual-host=" + broker.virtualHost(),
                        "global-registry.heartbeat-interval=100ms",
                        "global-registry.suspect-after=400ms",
                        "global-registry.fence-after=300ms",
                        "global-registry.claim-timeout=1s",
                        "global-registry.join-window=300ms");
    }

    @Override
    public void close() throws Exception {
        String exchange = "global-registry." + name;
        try (Connection connection = broker.newConnectionFactory().newConnection("starter-test-cleanup")) {
            Channel probe = connection.createChannel();
            try {
                probe.exchangeDeclarePassive(exchange);
            } catch (IOException notDeclared) {
                return; // no node of this cluster ever started
            }
            probe.close();
            try (Channel channel = connection.createChannel()) {
                channel.exchangeDelete(exchange);
            }
        }
    }
}
