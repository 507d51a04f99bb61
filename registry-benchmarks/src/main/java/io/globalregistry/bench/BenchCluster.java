package io.globalregistry.bench;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.globalregistry.RegistrationResult;
import io.globalregistry.amqp.AmqpGlobalRegistry;
import io.globalregistry.amqp.AmqpTransport;
import io.globalregistry.membership.NodeId;
import io.globalregistry.protocol.RegistryConfig;
import io.globalregistry.protocol.RegistryConfig.Strategy;
import io.globalregistry.protocol.RegistryConfig.Liveness;
import io.globalregistry.test.TestBroker;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * N registry nodes in this JVM, each on its own connection to the test broker, in a fresh cluster.
 * {@link #close()} closes every node and deletes the cluster's exchange and its lease streams
 * (durable: liveness {@code lease}, the default on RabbitMQ 3.9 and later, declares them). If a
 * node fails to start, the constructor closes the ones started and deletes the same, then throws.
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
        try {
            for (int i = 0; i < size; i++) {
                nodes.add(AmqpGlobalRegistry.builder()
                        .rabbitConnectionFactory(broker.newConnectionFactory())
                        .config(config)
                        .nodeName("bench-" + i)
                        .start());
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Waits until every node sees every member and, under {@code leader}, all name the same leader; returns it
     * (empty under {@code claim}).
     *
     * @throws IllegalStateException if that takes over {@code timeoutMillis}
     */
    Optional<NodeId> awaitSettled(Strategy strategy, long timeoutMillis) throws InterruptedException {
        int size = nodes.size();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (true) {
            boolean everyone = nodes.stream().allMatch(n -> n.members().size() == size);
            Set<Optional<NodeId>> leaders = new HashSet<>();
            nodes.forEach(n -> leaders.add(n.leader()));
            boolean agreed = strategy == Strategy.CLAIM
                    ? leaders.equals(Set.of(Optional.empty()))
                    : leaders.size() == 1 && leaders.iterator().next().isPresent();
            if (everyone && agreed) {
                return leaders.iterator().next();
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(size + " nodes did not settle within " + timeoutMillis + " ms: members "
                        + nodes.stream().map(n -> n.members().size()).toList() + ", leaders " + leaders);
            }
            Thread.sleep(20);
        }
    }

    AmqpGlobalRegistry node(int i) {
        return nodes.get(i);
    }

    @Override
    public void close() {
        if (nodes.isEmpty()) {
            return;
        }
        AmqpTransport transport = nodes.get(0).transport();
        String exchange = transport.exchange();
        List<String> streams = transport.liveness() == Liveness.LEASE ? transport.leaseStreams() : List.of();
        nodes.forEach(AmqpGlobalRegistry::close);
        deleteExchangeAndStreams(broker, exchange, streams);
    }

    /**
     * Closes {@code node} and deletes its cluster's exchange and lease streams, which are durable and would
     * otherwise pile up on the broker run after run (and cost it CPU: RabbitMQ gathers every stream's metrics).
     */
    static void closeAndCleanUp(TestBroker broker, AmqpGlobalRegistry node) {
        AmqpTransport transport = node.transport();
        String exchange = transport.exchange();
        List<String> streams = transport.liveness() == Liveness.LEASE ? transport.leaseStreams() : List.of();
        node.close();
        deleteExchangeAndStreams(broker, exchange, streams);
    }

    private static void deleteExchangeAndStreams(TestBroker broker, String exchange, List<String> streams) {
        try (Connection connection = broker.newConnectionFactory().newConnection("bench-cleanup")) {
            try (Channel channel = connection.createChannel()) {
                channel.exchangeDelete(exchange);
            } catch (Exception e) {
                System.err.println("could not delete the exchange " + exchange + ": " + e);
            }
            for (String stream : streams) {
                try (Channel channel = connection.createChannel()) {
                    channel.queueDelete(stream);
                } catch (Exception e) {
                    System.err.println("could not delete the lease stream " + stream + ": " + e);
                }
            }
        } catch (Exception e) {
            System.err.println("could not clean up the exchange " + exchange + " and the lease streams: " + e);
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
