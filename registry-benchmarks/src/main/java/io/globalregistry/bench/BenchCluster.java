package io.globalregistry.bench;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.globalregistry.RegistrationResult;
import io.globalregistry.amqp.AmqpGlobalRegistry;
import io.globalregistry.protocol.RegistryConfig;
import io.globalregistry.test.TestBroker;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.UnaryOperator;

/**
 * N registry nodes in this JVM, each on its own connection to the test broker, in a fresh cluster.
 * {@link #close()} closes every node and deletes the cluster's exchange.
 */
final class BenchCluster implements AutoCloseable {

    final List<AmqpGlobalRegistry> nodes = new ArrayList<>();
    final TestBroker broker = TestBroker.get();

    BenchCluster(int size) {
        this(size, UnaryOperator.identity());
    }

    /** With the default settings changed by {@code settings} (e.g. a secret). */
    BenchCluster(int size, UnaryOperator<RegistryConfig> settings) {
        RegistryConfig config = settings.apply(RegistryConfig.defaults("bench-" + UUID.randomUUID().toString().substring(0, 8)));
        for (int i = 0; i < size; i++) {
            nodes.add(AmqpGlobalRegistry.builder()
                    .rabbitConnectionFactory(broker.newConnectionFactory())
                    .config(config)
                    .nodeName("bench-" + i)
                    .start());
        }
    }

    AmqpGlobalRegistry node(int i) {
        return nodes.get(i);
    }

    @Override
    public void close() {
        String exchange = nodes.isEmpty() ? null : nodes.get(0).transport().exchange();
        nodes.forEach(AmqpGlobalRegistry::close);
        if (exchange != null) {
            try (Connection connection = broker.newConnectionFactory().newConnection("bench-cleanup");
                 Channel channel = connection.createChannel()) {
                channel.exchangeDelete(exchange);
            } catch (Exception e) {
                System.err.println("could not delete the exchange " + exchange + ": " + e);
            }
        }
    }

    /** Registers {@code count} fresh names {@code prefix-i} one after another on {@code node}; returns each one's nanoseconds. */
    static long[] registerSequentially(AmqpGlobalRegistry node, String prefix, int count) {
        long[] samples = new long[count];
        for (int i = 0; i < count; i++) {
            long start = System.nanoTime();
            RegistrationResult result = node.register(prefix + "-" + i, "target");
            samples[i] = System.nanoTime() - start;
            if (!result.registered()) {
                throw new IllegalStateException("fresh name " + prefix + "-" + i + " not registered: " + result);
            }
        }
        return samples;
    }
}
