package io.globalregistry.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.globalregistry.Registration;
import io.globalregistry.test.TestBroker;
import io.globalregistry.test.WithBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A node that joins late learns every existing name from the members' syncs. */
@WithBroker
class LateJoinerTest {

    private static final int PER_NODE = 100;

    @Test
    void aLateJoinerSeesEveryExistingName(TestBroker broker) throws Exception {
        try (ClusterFixture cluster = new ClusterFixture(broker)) {
            AmqpGlobalRegistry a = cluster.start("a");
            AmqpGlobalRegistry b = cluster.start("b");
            await().atMost(Duration.ofSeconds(5)).until(() -> a.members().size() == 2 && b.members().size() == 2);
            List<CompletableFuture<?>> registrations = new ArrayList<>();
            for (int i = 0; i < PER_NODE; i++) {
                registrations.add(a.registerAsync("a-" + i, "t"));
                registrations.add(b.registerAsync("b-" + i, "t"));
            }
            CompletableFuture.allOf(registrations.toArray(new CompletableFuture[0])).get(20, TimeUnit.SECONDS);

            long start = System.nanoTime();
            AmqpGlobalRegistry late = cluster.start("late");
            await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(10)).untilAsserted(() -> {
                for (int i = 0; i < PER_NODE; i++) {
                    assertThat(late.whereis("a-" + i).map(Registration::owner)).contains(a.nodeId());
                    assertThat(late.whereis("b-" + i).map(Registration::owner)).contains(b.nodeId());
                }
            });
            System.out.printf("[late-joiner] %d names known %d ms after the late node's start returned%n",
                    2 * PER_NODE, (System.nanoTime() - start) / 1_000_000);
            assertThat(late.register("a-0", "t").registered()).isFalse();
            assertThat(late.register("late-0", "t").registered()).isTrue();
        }
    }
}
