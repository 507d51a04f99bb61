package io.globalregistry.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.globalregistry.OwnerChange;
import io.globalregistry.OwnerChange.Reason;
import io.globalregistry.Registration;
import io.globalregistry.membership.NodeId;
import io.globalregistry.test.TestBroker;
import io.globalregistry.test.WithBroker;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** A node whose connection dies abruptly loses its names on the survivors within 2 s. */
@WithBroker
class CrashedNodeTest {

    private static final int NAMES = 50;

    @Test
    void namesOfACrashedNodeAreFreedOnTheSurvivorsWithinTwoSeconds(TestBroker broker) throws Exception {
        try (ClusterFixture cluster = new ClusterFixture(broker)) {
            List<AmqpGlobalRegistry> nodes = cluster.start("a", "b", "c");
            AmqpGlobalRegistry a = nodes.get(0);
            AmqpGlobalRegistry b = nodes.get(1);
            AmqpGlobalRegistry c = nodes.get(2);
            await().atMost(Duration.ofSeconds(5)).until(() -> nodes.stream().allMatch(n -> n.members().size() == 3));
            for (int i = 0; i < NAMES; i++) {
                assertThat(c.register("crash-" + i, "t").registered()).isTrue();
            }
            NodeId dead = c.nodeId();
            await().atMost(Duration.ofSeconds(3)).until(() -> owned(a, dead) == NAMES && owned(b, dead) == NAMES);
            List<OwnerChange> downs = new CopyOnWriteArrayList<>();
            a.addListener(change -> {
                if (change.reason() == Reason.OWNER_DOWN) {
                    downs.add(change);
                }
            });

            long start = System.nanoTime();
            c.crash();
            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(10))
                    .until(() -> owned(a, dead) == 0 && owned(b, dead) == 0);
            long freedMillis = (System.nanoTime() - start) / 1_000_000;
            System.out.printf("[crashed-node] %d names of the crashed node freed on both survivors after %d ms%n",
                    NAMES, freedMillis);

            assertThat(freedMillis).as("ms until the survivors freed the names").isLessThan(2000);
            assertThat(a.members()).containsExactlyInAnyOrder(a.nodeId(), b.nodeId());
            await().atMost(Duration.ofSeconds(2)).until(() -> downs.size() == NAMES);
            assertThat(b.register("crash-0", "b's now").registered()).isTrue();
        }
    }

    private static long owned(AmqpGlobalRegistry node, NodeId owner) {
        long count = 0;
        for (int i = 0; i < NAMES; i++) {
            if (node.whereis("crash-" + i).map(Registration::owner).filter(owner::equals).isPresent()) {
                count++;
            }
        }
        return count;
    }
}
