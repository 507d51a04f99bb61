package io.globalregistry.bench;

import io.globalregistry.RegistrationResult;
import io.globalregistry.amqp.AmqpGlobalRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * {@code ./bench.sh registry}: on the local broker with 3 nodes in this JVM (own connection each),
 * prints registration latency p50/p99 (sequential, fresh names, one node), registrations per
 * second for 10,000 names (all three nodes registering their share with 64 in flight each), and
 * {@code whereis}-hit ns/op measured by JMH; ends with one RESULT line.
 */
public final class RegistryBenchmark {

    private static final int WARMUP = 3_000;
    private static final int MEASURED = 5_000;
    private static final int THROUGHPUT_NAMES = 10_000;
    private static final int IN_FLIGHT = 64;

    public static void main(String[] args) throws Exception {
        double p50;
        double p99;
        double perSecond;
        try (BenchCluster cluster = new BenchCluster(3)) {
            System.out.println("broker: " + cluster.broker + ", nodes: " + cluster.nodes.size());
            BenchCluster.registerSequentially(cluster.node(0), "warm", WARMUP);
            Percentiles latency = new Percentiles(BenchCluster.registerSequentially(cluster.node(0), "lat", MEASURED));
            p50 = latency.micros(50);
            p99 = latency.micros(99);
            System.out.printf(Locale.ROOT, "register latency (%d sequential, 3 nodes): p50 %.0f us, p90 %.0f us, p99 %.0f us,"
                    + " max %.0f us%n", MEASURED, p50, latency.micros(90), p99, latency.micros(100));
            perSecond = throughput(cluster);
            System.out.printf(Locale.ROOT, "registrations: %d names over 3 nodes, %d in flight per node: %.0f/s%n",
                    THROUGHPUT_NAMES, IN_FLIGHT, perSecond);
        }
        double whereisNs = whereis();
        System.out.printf(Locale.ROOT, "RESULT register_p50_us=%.0f register_p99_us=%.0f registrations_per_s=%.0f whereis_ns=%.1f%n",
                p50, p99, perSecond, whereisNs);
    }

    private static double throughput(BenchCluster cluster) throws Exception {
        List<CompletableFuture<RegistrationResult>> all = new ArrayList<>(THROUGHPUT_NAMES);
        long start = System.nanoTime();
        List<Thread> drivers = new ArrayList<>();
        for (int n = 0; n < cluster.nodes.size(); n++) {
            AmqpGlobalRegistry node = cluster.node(n);
            int first = n;
            Thread driver = new Thread(() -> {
                Semaphore window = new Semaphore(IN_FLIGHT);
                for (int i = first; i < THROUGHPUT_NAMES; i += cluster.nodes.size()) {
                    window.acquireUninterruptibly();
                    CompletableFuture<RegistrationResult> f = node.registerAsync("tp-" + i, "target");
                    f.whenComplete((r, e) -> window.release());
                    synchronized (all) {
                        all.add(f);
                    }
                }
            });
            drivers.add(driver);
            driver.start();
        }
        for (Thread driver : drivers) {
            driver.join();
        }
        List<CompletableFuture<RegistrationResult>> futures;
        synchronized (all) {
            futures = new ArrayList<>(all);
        }
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - start) / 1e9;
        long won = futures.stream().filter(f -> f.join().registered()).count();
        if (won != THROUGHPUT_NAMES) {
            throw new IllegalStateException(won + " of " + THROUGHPUT_NAMES + " fresh names registered");
        }
        return THROUGHPUT_NAMES / seconds;
    }

    private static double whereis() throws Exception {
        Options options = new OptionsBuilder()
                .include(WhereisBenchmark.class.getName())
                .forks(1)
                .warmupIterations(3).warmupTime(TimeValue.seconds(1))
                .measurementIterations(5).measurementTime(TimeValue.seconds(1))
                .build();
        double stringNs = Double.NaN;
        for (RunResult result : new Runner(options).run()) {
            String label = result.getParams().getBenchmark();
            double score = result.getPrimaryResult().getScore();
            System.out.printf(Locale.ROOT, "%s: %.1f ns/op%n", label.substring(label.lastIndexOf('.') + 1), score);
            if (label.endsWith("whereisStringHit")) {
                stringNs = score;
            }
        }
        return stringNs;
    }
}
