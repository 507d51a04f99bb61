package io.globalregistry.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.globalregistry.Registration;
import io.globalregistry.RegistrationResult;
import io.globalregistry.membership.NodeId;
import io.globalregistry.test.TestBroker;
import io.globalregistry.test.WithBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Three nodes race for the same 1,000 names: one winner each, and every node agrees on it. */
@WithBroker
class ConcurrentClaimsTest {

    private static final int NAMES = 1000;

    @Test
    void everyNameEndsWithExactlyOneOwnerThatAllNodesAgreeOn(TestBroker broker) throws Exception {
        try (ClusterFixture cluster = new ClusterFixture(broker)) {
            List<AmqpGlobalRegistry> nodes = cluster.start("a", "b", "c");
            await().atMost(Duration.ofSeconds(5)).until(() -> nodes.stream().allMatch(n -> n.members().size() == 3));

            long start = System.nanoTime();
            Map<AmqpGlobalRegistry, List<CompletableFuture<RegistrationResult>>> results = new HashMap<>();
            for (AmqpGlobalRegistry node : nodes) {
                results.put(node, new ArrayList<>());
            }
            List<Long> decidedAt = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int i = 0; i < NAMES; i++) {
                for (AmqpGlobalRegistry node : nodes) {
                    CompletableFuture<RegistrationResult> f = node.registerAsync("name-" + i, node.nodeId().toString());
                    f.whenComplete((r, e) -> decidedAt.add((System.nanoTime() - start) / 1_000_000));
                    results.get(node).add(f);
                }
            }
            List<CompletableFuture<RegistrationResult>> all = new ArrayList<>();
            results.values().forEach(all::addAll);
            CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).exceptionally(e -> null)
                    .get(30, TimeUnit.SECONDS);
            long decidedMillis = (System.nanoTime() - start) / 1_000_000;
            List<Long> sorted = new ArrayList<>(decidedAt);
            java.util.Collections.sort(sorted);
            System.out.printf("[concurrent-claims] decided after (ms from the first call): p50 %d, p90 %d, p99 %d, max %d%n",
                    sorted.get(sorted.size() / 2), sorted.get(sorted.size() * 9 / 10), sorted.get(sorted.size() * 99 / 100),
                    sorted.get(sorted.size() - 1));

            List<Throwable> failures = new ArrayList<>();
            Map<String, NodeId> winners = new HashMap<>();
            for (int i = 0; i < NAMES; i++) {
                String name = "name-" + i;
                List<NodeId> registered = new ArrayList<>();
                for (AmqpGlobalRegistry node : nodes) {
                    CompletableFuture<RegistrationResult> f = results.get(node).get(i);
                    if (f.isCompletedExceptionally()) {
                        f.exceptionally(e -> {
                            failures.add(e);
                            return null;
                        });
                    } else if (f.join().registered()) {
                        registered.add(node.nodeId());
                    }
                }
                assertThat(registered).as("nodes told they registered %s", name).hasSizeLessThanOrEqualTo(1);
                if (registered.size() == 1) {
                    winners.put(name, registered.get(0));
                }
            }
            if (!failures.isEmpty()) {
                System.out.printf("[concurrent-claims] %d failed, e.g. %s%n", failures.size(), failures.get(0));
            }
            assertThat(failures).as("registrations that failed").isEmpty();
            assertThat(winners).as("names with a winner").hasSize(NAMES);

            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                for (AmqpGlobalRegistry node : nodes) {
                    for (Map.Entry<String, NodeId> winner : winners.entrySet()) {
                        assertThat(node.whereis(winner.getKey()).map(Registration::owner))
                                .as("owner of %s on %s", winner.getKey(), node.nodeId()).contains(winner.getValue());
                    }
                }
            });
            long agreedMillis = (System.nanoTime() - start) / 1_000_000;
            Map<NodeId, Long> perNode = new HashMap<>();
            winners.values().forEach(n -> perNode.merge(n, 1L, Long::sum));
            System.out.printf("[concurrent-claims] 3 nodes x %d names: all decided in %d ms, all nodes agree after %d ms;"
                    + " wins per node %s%n", NAMES, decidedMillis, agreedMillis, perNode);
        }
    }
}
