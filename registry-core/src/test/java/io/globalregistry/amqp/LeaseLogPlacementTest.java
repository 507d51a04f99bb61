package io.globalregistry.amqp;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Address;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.globalregistry.protocol.RegistryConfig;
import io.globalregistry.test.cluster.RabbitCluster;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Where the lease logs' leaders sit on a real 3-node RabbitMQ cluster ({@link RabbitCluster}) when three nodes,
 * each given every address in another order and connected first to a broker node of its own, start at once
 * (docs/PROTOCOL.md "Wire", {@link LeaseLogPlacement}). Beside it, what RabbitMQ's {@code balanced} locator
 * does with three streams declared at once from three broker nodes (the rule before): printed, not asserted.
 * Every node also subscribes to each log from its own broker node, whose replica of a log another node has just
 * created may not run yet: the node waits for it instead of failing to start (as it once did in CI).
 */
class LeaseLogPlacementTest {

    private static final int ROUNDS = 5;
    private static RabbitCluster brokers;

    @BeforeAll
    static void startBrokers() {
        RabbitCluster.assumeAvailable();
        brokers = RabbitCluster.start(RabbitCluster.Options.nodes(3).partitionHandling("pause_minority")
                .netTicktimeSeconds(10));
    }

    @AfterAll
    static void stopBrokers() {
        if (brokers != null) {
            brokers.close();
        }
    }

    private static ConnectionFactory guest() {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUsername("guest");
        factory.setPassword("guest");
        return factory;
    }

    /** node-i given the addresses from broker node i on (i, i+1, i+2). */
    private static String addressesFrom(int first) {
        List<String> addresses = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            addresses.add(brokers.amqpAddress((first + k) % 3));
        }
        return String.join(",", addresses);
    }

    @Test
    void logsCreatedByNodesStartingAtOnceShouldLeadOnThreeBrokerNodesInSortedAddressOrder() throws Exception {
        List<Address> sorted = LeaseLogPlacement.sorted(BrokerAddresses.parse(addressesFrom(2)));
        List<String> rounds = new ArrayList<>();
        long replicaWaits = 0;
        for (int round = 0; round < ROUNDS; round++) {
            String cluster = "place-" + UUID.randomUUID().toString().substring(0, 8);
            RegistryConfig config = RegistryConfig.defaults(cluster).withLiveness(RegistryConfig.Liveness.LEASE);
            List<CompletableFuture<AmqpGlobalRegistry>> starts = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                int first = i;
                starts.add(CompletableFuture.supplyAsync(() -> AmqpGlobalRegistry.builder()
                        .rabbitConnectionFactory(guest()).addresses(addressesFrom(first)).config(config)
                        .nodeName("n" + first).start()));
            }
            List<AmqpGlobalRegistry> nodes = starts.stream().map(CompletableFuture::join).toList();
            try {
                Map<String, Integer> leaders = brokers.queueLeaders(0, AmqpNames.leaseStream(cluster, 0)
                        .replaceAll("0$", ""));
                rounds.add(leaders.toString());
                assertThat(leaders).hasSize(3);
                for (int log = 0; log < 3; log++) {
                    int expected = brokers.host(0).equals(sorted.get(log).getHost()) ? 0
                            : brokers.host(1).equals(sorted.get(log).getHost()) ? 1 : 2;
                    assertThat(leaders.get(AmqpNames.leaseStream(cluster, log)))
                            .as("round %d: the leader of log %d: the broker node of sorted address %d", round, log, log)
                            .isEqualTo(expected);
                }
                assertThat(new TreeSet<>(leaders.values())).as("round %d: three broker nodes", round).hasSize(3);
                for (AmqpGlobalRegistry node : nodes) {
                    for (int log = 0; log < 3; log++) {
                        replicaWaits += node.transport().leaseStreamReader(log).replicaWaits();
                    }
                }
            } finally {
                for (AmqpGlobalRegistry node : nodes) {
                    node.close();
                }
            }
        }
        System.out.println("[lease log placement] client-local through the sorted addresses, 3 nodes starting at once,"
                + " leaders by broker node: " + rounds + "; subscriptions that waited for the local replica: "
                + replicaWaits);
    }

    /** The rule before: every stream declared with balanced, by three clients on three broker nodes at once. */
    @Test
    void balancedLocatorWithThreeDeclaresAtOnceIsPrinted() throws Exception {
        int colocated = 0;
        List<String> rounds = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            String prefix = "global-registry.balanced-" + UUID.randomUUID().toString().substring(0, 8) + ".lease.";
            List<CompletableFuture<Void>> declares = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                int broker = i;
                declares.add(CompletableFuture.runAsync(() -> {
                    ConnectionFactory factory = guest();
                    try (Connection connection = factory.newConnection(List.of(new Address(brokers.host(broker),
                            5672)));
                         Channel channel = connection.createChannel()) {
                        for (int log = 0; log < 3; log++) {
                            Map<String, Object> arguments = new HashMap<>(LeaseStream.arguments());
                            arguments.put("x-queue-leader-locator", "balanced");
                            channel.queueDeclare(prefix + log, true, false, false, arguments);
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            declares.forEach(CompletableFuture::join);
            Thread.sleep(500);
            Map<String, Integer> leaders = brokers.queueLeaders(0, prefix);
            rounds.add(leaders.values().toString());
            if (new TreeSet<>(leaders.values()).size() < 3) {
                colocated++;
            }
            try (Connection connection = guest().newConnection(List.of(new Address(brokers.host(0), 5672)));
                 Channel channel = connection.createChannel()) {
                for (int log = 0; log < 3; log++) {
                    channel.queueDelete(prefix + log);
                }
            }
        }
        System.out.println("[lease log placement] the rule before (balanced, three declares at once): two logs or more"
                + " on one broker node in " + colocated + " of " + ROUNDS + " rounds; leaders by broker node: " + rounds);
    }
}
