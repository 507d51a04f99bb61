package io.globalregistry.bench;

import io.globalregistry.amqp.AmqpGlobalRegistry;
import io.globalregistry.wire.SecurityConfig;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * {@code ./bench.sh calls}: on the local broker, 3 nodes in this JVM (own connection each), the
 * name owned by node 0 and called from node 1: call latency p50/p99 (sequential) and calls per
 * second with 64 in flight; in the same run the raw floor (plain amqp-client request/reply between
 * two connections); the same calls with a secret set (signed traffic); and, by JMH, a call whose
 * owner is local (without and with an observer) against a plain interface call.
 * Ends with one RESULT line.
 */
public final class CallBenchmark {

    private static final int WARMUP = 20_000;
    private static final int MEASURED = 20_000;
    private static final int IN_FLIGHT = 64;
    private static final long THROUGHPUT_MILLIS = 5_000;

    public static void main(String[] args) throws Exception {
        double rawP50;
        double rawP99;
        double rawPerSecond;
        double p50;
        double p99;
        double perSecond;
        try (BenchCluster cluster = new BenchCluster(3); RawRequestReply raw = new RawRequestReply(cluster.broker)) {
            System.out.println("broker: " + cluster.broker + ", nodes: " + cluster.nodes.size());
            AmqpGlobalRegistry owner = cluster.node(0);
            AmqpGlobalRegistry caller = cluster.node(1);
            if (!owner.register("bench-service", new BenchService.Impl()).registered()) {
                throw new IllegalStateException("bench-service not registered");
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (caller.whereis("bench-service").isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            BenchService service = caller.proxy("bench-service", BenchService.class);

            // warm both up, alternating, so neither runs on a cold JIT or a colder broker
            for (int round = 0; round < 2; round++) {
                raw.sequential(WARMUP / 2);
                sequential(service, WARMUP / 2);
            }
            raw.throughput(IN_FLIGHT, 1_000);
            throughput(service, 1_000);

            Percentiles rawLatency = new Percentiles(raw.sequential(MEASURED));
            Percentiles latency = new Percentiles(sequential(service, MEASURED));
            rawP50 = rawLatency.micros(50);
            rawP99 = rawLatency.micros(99);
            p50 = latency.micros(50);
            p99 = latency.micros(99);
            System.out.printf(Locale.ROOT, "raw amqp-client request/reply (%d sequential): p50 %.0f us, p90 %.0f us, p99 %.0f us,"
                    + " max %.0f us%n", MEASURED, rawP50, rawLatency.micros(90), rawP99, rawLatency.micros(100));
            System.out.printf(Locale.ROOT, "proxy call from a non-owner (%d sequential): p50 %.0f us, p90 %.0f us, p99 %.0f us,"
                    + " max %.0f us%n", MEASURED, p50, latency.micros(90), p99, latency.micros(100));

            rawPerSecond = raw.throughput(IN_FLIGHT, THROUGHPUT_MILLIS);
            perSecond = throughput(service, THROUGHPUT_MILLIS);
            System.out.printf(Locale.ROOT, "raw amqp-client, %d in flight: %.0f calls/s%n", IN_FLIGHT, rawPerSecond);
            System.out.printf(Locale.ROOT, "proxy calls (CompletableFuture), %d in flight: %.0f calls/s%n", IN_FLIGHT, perSecond);
            System.out.printf(Locale.ROOT, "ratios: p50 %.2fx raw, p99 %.2fx raw, throughput %.2fx raw%n",
                    p50 / rawP50, p99 / rawP99, perSecond / rawPerSecond);
        }
        signed();
        double[] local = localCall();
        System.out.printf(Locale.ROOT, "RESULT p50_us=%.0f p99_us=%.0f calls_per_s=%.0f raw_p50_us=%.0f raw_p99_us=%.0f"
                        + " raw_calls_per_s=%.0f local_call_ns=%.1f local_call_observed_ns=%.1f plain_call_ns=%.1f%n",
                p50, p99, perSecond, rawP50, rawP99, rawPerSecond, local[0], local[2], local[1]);
    }

    /** The same with a secret set: every message signed and checked (HMAC-SHA256, replay window). */
    private static void signed() throws Exception {
        try (BenchCluster cluster = new BenchCluster(3, c -> c.withSecurity(SecurityConfig.secret("bench-secret-" + UUID.randomUUID())))) {
            AmqpGlobalRegistry owner = cluster.node(0);
            AmqpGlobalRegistry caller = cluster.node(1);
            if (!owner.register("bench-service", new BenchService.Impl()).registered()) {
                throw new IllegalStateException("bench-service not registered");
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (caller.whereis("bench-service").isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            BenchService service = caller.proxy("bench-service", BenchService.class);
            sequential(service, WARMUP / 2);
            Percentiles latency = new Percentiles(sequential(service, MEASURED / 2));
            double perSecond = throughput(service, THROUGHPUT_MILLIS / 2);
            System.out.printf(Locale.ROOT, "signed (security.secret set): p50 %.0f us, p99 %.0f us, %.0f calls/s with %d in flight;"
                    + " rejected on the owner: %d%n", latency.micros(50), latency.micros(99), perSecond, IN_FLIGHT,
                    owner.rejected().total());
        }
    }

    private static long[] sequential(BenchService service, int count) {
        long[] samples = new long[count];
        for (int i = 0; i < count; i++) {
            long start = System.nanoTime();
            long sum = service.add(i, 1);
            samples[i] = System.nanoTime() - start;
            if (sum != i + 1) {
                throw new IllegalStateException("wrong sum " + sum);
            }
        }
        return samples;
    }

    private static double throughput(BenchService service, long millis) throws Exception {
        Semaphore window = new Semaphore(IN_FLIGHT);
        AtomicLong done = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long start = System.nanoTime();
        long end = start + TimeUnit.MILLISECONDS.toNanos(millis);
        for (long i = 0; System.nanoTime() < end; i++) {
            window.acquire();
            service.addAsync(i, 1).whenComplete((sum, error) -> {
                if (error != null) {
                    failure.compareAndSet(null, error);
                }
                done.incrementAndGet();
                window.release();
            });
        }
        window.acquire(IN_FLIGHT);
        if (failure.get() != null) {
            throw new IllegalStateException("a call failed", failure.get());
        }
        return done.get() / ((System.nanoTime() - start) / 1e9);
    }

    /** JMH: ns per local-owner proxy call, without and with an observer, and per plain interface call. */
    private static double[] localCall() throws Exception {
        Options options = new OptionsBuilder()
                .include(LocalCallBenchmark.class.getName())
                .forks(1)
                .warmupIterations(3).warmupTime(TimeValue.seconds(1))
                .measurementIterations(5).measurementTime(TimeValue.seconds(1))
                .build();
        double local = Double.NaN;
        double plain = Double.NaN;
        double observed = Double.NaN;
        for (RunResult result : new Runner(options).run()) {
            String label = result.getParams().getBenchmark();
            double score = result.getPrimaryResult().getScore();
            System.out.printf(Locale.ROOT, "%s: %.1f ns/op%n", label.substring(label.lastIndexOf('.') + 1), score);
            if (label.endsWith("localOwnerProxyCallObserved")) {
                observed = score;
            } else if (label.endsWith("localOwnerProxyCall")) {
                local = score;
            } else if (label.endsWith("plainInterfaceCall")) {
                plain = score;
            }
        }
        return new double[] {local, plain, observed};
    }
}
