package io.globalregistry.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.globalregistry.Registration;
import io.globalregistry.test.TestBroker;
import io.globalregistry.test.WithBroker;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Prints rough figures (no timing assertions: performance belongs to the benchmarks). */
@WithBroker
class LatencyFiguresTest {

    @Test
    void printsWhereisCostAndRegistrationLatency(TestBroker broker) throws Exception {
        try (ClusterFixture cluster = new ClusterFixture(broker)) {
            List<AmqpGlobalRegistry> nodes = cluster.start("a", "b", "c");
            AmqpGlobalRegistry a = nodes.get(0);
            await().atMost(Duration.ofSeconds(5)).until(() -> nodes.stream().allMatch(n -> n.members().size() == 3));

            int rounds = 300;
            long[] micros = new long[rounds];
            for (int i = 0; i < rounds; i++) {
                long t0 = System.nanoTime();
                assertThat(a.register("latency-" + i, "t").registered()).isTrue();
                micros[i] = (System.nanoTime() - t0) / 1000;
            }
            long[] steady = Arrays.copyOfRange(micros, 100, rounds);
            Arrays.sort(steady);
            System.out.printf("[latency] register on a 3-node cluster (sequential, after 100 warm-up): p50 %d us,"
                    + " p90 %d us, p99 %d us%n", steady[steady.length / 2], steady[steady.length * 9 / 10],
                    steady[steady.length * 99 / 100]);

            AmqpGlobalRegistry b = nodes.get(1);
            await().atMost(Duration.ofSeconds(3)).until(() -> b.whereis("latency-0").isPresent());
            long sink = 0;
            for (int round = 0; round < 5; round++) {
                long t0 = System.nanoTime();
                int calls = 2_000_000;
                for (int i = 0; i < calls; i++) {
                    Optional<Registration> r = b.whereis("latency-0");
                    sink += r.isPresent() ? 1 : 0;
                }
                if (round == 4) {
                    System.out.printf("[latency] whereis(String) hit: %.1f ns per call (%d)%n",
                            (System.nanoTime() - t0) / (double) calls, sink % 3);
                }
            }
        }
    }
}
