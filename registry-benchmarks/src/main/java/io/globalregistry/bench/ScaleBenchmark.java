package io.globalregistry.bench;

import io.globalregistry.Registration;
import io.globalregistry.RegistrationResult;
import io.globalregistry.amqp.AmqpGlobalRegistry;
import io.globalregistry.amqp.AmqpTransport;
import io.globalregistry.amqp.LeaseStreamReads;
import io.globalregistry.membership.NodeId;
import io.globalregistry.protocol.RegistryConfig.Liveness;
import io.globalregistry.protocol.RegistryConfig.Strategy;
import io.globalregistry.test.TestBroker;
import io.globalregistry.wire.MessageType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;

/**
 * {@code ./bench.sh scale [N ...]}: what a cluster costs and how fast it is as it grows: 3, 10, 25
 * and 50 registry nodes (or the sizes given) in this JVM, each on its own connection to the local
 * broker, default settings (liveness {@code auto}: {@code lease} on RabbitMQ 3.9 and later, each
 * node's heartbeats go to the three lease streams and every node reads all three), a fresh cluster
 * for each size and strategy ({@code claim}, the default, then {@code leader}). For each:
 * <ol>
 *   <li>idle cost: once every node sees every member (and, under {@code leader}, all name the same
 *       leader) and {@value #SETTLE_MILLIS} ms more have passed, a {@value #WINDOW_MILLIS} ms window
 *       with nothing asked of the nodes: the broker's CPU (utime + stime of its {@code beam.smp}
 *       from {@code /proc}, see {@link ProcessCpu}) and this JVM's, in % of one core; messages
 *       published per second by all nodes (sum of {@link AmqpTransport#publishedMessages()},
 *       every lease-stream write counted, so 3 per heartbeat) and delivered to all nodes per
 *       second: lease-stream entries read (counted by the readers, {@link LeaseStreamReads}) plus
 *       inbox and leader-queue deliveries, which no counter records: derived from the publishes
 *       as broadcasts x members + direct messages. The same window with no node at all, once
 *       at the start, is the baseline;</li>
 *   <li>registration latency p50/p99: {@value #WARMUP} warm-up registrations, then
 *       {@value #MEASURED} fresh names registered one after another on a node that is not the
 *       leader;</li>
 *   <li>crash failover: another node that is not the leader registers a name; a third node
 *       (the registering one above) sees it owned; the owner crashes
 *       ({@link AmqpGlobalRegistry#crash()}: {@code transport().abortConnection()}, then its engine
 *       halts, as CrashedNodeTest does); the third node then tries {@code register} every
 *       {@value #RETRY_MILLIS} ms: the time from just before the crash until it returns
 *       registered.</li>
 * </ol>
 * A size whose nodes cannot start (or settle) is reported with the reason and skipped. Prints one
 * line per size and strategy and ends with one RESULT line.
 */
public final class ScaleBenchmark {

    private static final int[] DEFAULT_SIZES = {3, 10, 25, 50};
    private static final Strategy[] STRATEGIES = {Strategy.CLAIM, Strategy.LEADER};
    private static final long SETTLE_MILLIS = 5_000;
    private static final long WINDOW_MILLIS = 10_000;
    private static final int WARMUP = 50;
    private static final int MEASURED = 200;
    private static final long RETRY_MILLIS = 5;
    private static final long FAILOVER_TIMEOUT_MILLIS = 30_000;

    /** The idle window's figures: CPU in % of one core, messages per second. */
    private record Idle(double brokerCpu, double jvmCpu, double published, double streamReads, double queueDeliveries) {

        double delivered() {
            return streamReads + queueDeliveries;
        }
    }

    /** One size and strategy: null figures for what could not be measured. */
    private record Figures(int size, Strategy strategy, long startMillis, Idle idle, Percentiles register,
                           Long failoverMillis, String failure) {
    }

    public static void main(String[] args) throws Exception {
        int[] sizes = args.length == 0 ? DEFAULT_SIZES : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
        TestBroker broker = TestBroker.get();
        ProcessCpu brokerCpu = ProcessCpu.localBroker(broker.host(), broker.port());
        System.out.printf("broker %s:%d (%s), CPU %s; clock ticks %d/s; %d cores; max heap %d MiB%n", broker.host(),
                broker.port(), broker.kind(), brokerCpu == null ? "not measured" : "of pid " + brokerCpu.pid() + ", "
                        + brokerCpu.how(), ProcessCpu.TICKS_PER_SECOND, Runtime.getRuntime().availableProcessors(),
                Runtime.getRuntime().maxMemory() >> 20);

        Idle base = idle(brokerCpu, List.of());
        System.out.printf(Locale.ROOT, "no nodes: idle broker CPU %.1f%%, this JVM %.1f%% (baseline, %d s)%n",
                base.brokerCpu(), base.jvmCpu(), WINDOW_MILLIS / 1000);
        List<Figures> all = new ArrayList<>();
        for (int size : sizes) {
            for (Strategy strategy : STRATEGIES) {
                Figures figures = run(size, strategy, brokerCpu);
                all.add(figures);
                print(figures);
            }
        }
        System.out.println("(delivered/s = lease-stream entries read, counted by the readers, + inbox and leader-queue"
                + " deliveries, derived from the publishes: no counter records those)");
        System.out.println(result(base, all));
    }

    private static Figures run(int size, Strategy strategy, ProcessCpu brokerCpu) throws Exception {
        long started = System.nanoTime();
        BenchCluster cluster;
        try {
            cluster = new BenchCluster(size, c -> c.withStrategy(strategy));
        } catch (RuntimeException e) {
            return new Figures(size, strategy, -1, null, null, null, "could not start " + size + " nodes: " + e);
        }
        try (cluster) {
            Optional<NodeId> leader;
            try {
                leader = cluster.awaitSettled(strategy, 30_000 + 1_000L * size);
            } catch (IllegalStateException e) {
                return new Figures(size, strategy, millisSince(started), null, null, null, e.getMessage());
            }
            long startMillis = millisSince(started);
            Thread.sleep(SETTLE_MILLIS);
            Idle idle = idle(brokerCpu, cluster.nodes);

            List<AmqpGlobalRegistry> followers = new ArrayList<>();
            for (AmqpGlobalRegistry node : cluster.nodes) {
                if (leader.isEmpty() || !leader.get().equals(node.nodeId())) {
                    followers.add(node);
                }
            }
            AmqpGlobalRegistry registrant = followers.get(0);
            Percentiles register;
            try {
                BenchCluster.registerSequentially(registrant, "warm", WARMUP);
                register = new Percentiles(BenchCluster.registerSequentially(registrant, "reg", MEASURED));
            } catch (RuntimeException e) {
                return new Figures(size, strategy, startMillis, idle, null, null, "registrations failed: " + e);
            }
            try {
                Long failover = failover(followers.get(1), registrant);
                return new Figures(size, strategy, startMillis, idle, register, failover, failover != null ? null
                        : "no node owned the crashed node's name within " + FAILOVER_TIMEOUT_MILLIS + " ms");
            } catch (RuntimeException e) {
                return new Figures(size, strategy, startMillis, idle, register, null, "failover not measured: " + e);
            }
        }
    }

    /** The idle window over {@code nodes} (none: the baseline); broker CPU NaN if {@code brokerCpu} is null. */
    private static Idle idle(ProcessCpu brokerCpu, List<AmqpGlobalRegistry> nodes) throws InterruptedException {
        ProcessCpu jvm = ProcessCpu.self();
        Counts before = Counts.of(nodes);
        long brokerBefore = brokerCpu == null ? -1 : brokerCpu.ticks();
        long jvmBefore = jvm.ticks();
        long start = System.nanoTime();
        Thread.sleep(WINDOW_MILLIS);
        long brokerAfter = brokerCpu == null ? -1 : brokerCpu.ticks();
        long jvmAfter = jvm.ticks();
        long nanos = System.nanoTime() - start;
        Counts during = Counts.of(nodes).minus(before);
        double seconds = nanos / 1e9;
        return new Idle(ProcessCpu.percent(brokerBefore, brokerAfter, nanos), ProcessCpu.percent(jvmBefore, jvmAfter,
                nanos), during.published / seconds, during.streamReads / seconds, during.queueDeliveries / seconds);
    }

    /**
     * Counters summed over a set of nodes: publishes, lease-stream entries read, and the copies the
     * broker puts in inboxes and the leader queue for their publishes (a broadcast reaches every
     * member's inbox, the sender's included; heartbeats under {@code lease} go to the streams, not
     * the inboxes).
     */
    private record Counts(long published, long streamReads, long queueDeliveries) {

        static Counts of(List<AmqpGlobalRegistry> nodes) {
            long published = 0;
            long reads = 0;
            long queued = 0;
            for (AmqpGlobalRegistry node : nodes) {
                AmqpTransport transport = node.transport();
                published += transport.publishedMessages();
                reads += LeaseStreamReads.heartbeatsRead(transport);
                for (MessageType type : MessageType.values()) {
                    if (type == MessageType.HEARTBEAT && transport.liveness() == Liveness.LEASE) {
                        continue;
                    }
                    long broadcasts = transport.publishedBroadcasts(type);
                    queued += broadcasts * nodes.size() + transport.publishedMessages(type) - broadcasts;
                }
            }
            return new Counts(published, reads, queued);
        }

        Counts minus(Counts earlier) {
            return new Counts(published - earlier.published, streamReads - earlier.streamReads,
                    queueDeliveries - earlier.queueDeliveries);
        }
    }

    /**
     * {@code owner} registers a name, {@code taker} sees it owned; {@code owner} crashes and
     * {@code taker} registers it again and again: the milliseconds from the crash until it wins,
     * null if not within {@link #FAILOVER_TIMEOUT_MILLIS}.
     */
    private static Long failover(AmqpGlobalRegistry owner, AmqpGlobalRegistry taker) throws InterruptedException {
        String name = "failover";
        if (!owner.register(name, "owner's").registered()) {
            throw new IllegalStateException(owner.nodeId() + " could not register " + name);
        }
        NodeId dead = owner.nodeId();
        long seen = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!taker.whereis(name).map(Registration::owner).filter(dead::equals).isPresent()) {
            if (System.nanoTime() > seen) {
                throw new IllegalStateException(taker.nodeId() + " never saw " + name + " owned by " + dead);
            }
            Thread.sleep(RETRY_MILLIS);
        }
        Thread.sleep(200);
        long start = System.nanoTime();
        owner.crash();
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(FAILOVER_TIMEOUT_MILLIS);
        while (System.nanoTime() < deadline) {
            try {
                RegistrationResult result = taker.register(name, "taker's");
                if (result.registered()) {
                    return millisSince(start);
                }
            } catch (RuntimeException e) {
                // e.g. a claim that timed out while the dead node was still a member: try again
            }
            Thread.sleep(RETRY_MILLIS);
        }
        return null;
    }

    private static long millisSince(long nanoTime) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanoTime);
    }

    private static void print(Figures f) {
        String label = String.format(Locale.ROOT, "%2d nodes %-6s", f.size(), f.strategy().name().toLowerCase(Locale.ROOT));
        if (f.idle() == null) {
            System.out.println(label + ": not measured: " + f.failure());
            return;
        }
        Idle idle = f.idle();
        System.out.printf(Locale.ROOT, "%s: started+settled in %d ms; idle broker CPU %.1f%% (this JVM %.1f%%),"
                        + " %.0f published/s, %.0f delivered/s (%.0f lease-stream reads + %.0f inbox/leader queue);"
                        + " register %s; crash failover %s%n",
                label, f.startMillis(), idle.brokerCpu(), idle.jvmCpu(), idle.published(), idle.delivered(),
                idle.streamReads(), idle.queueDeliveries(), f.register() == null ? "not measured"
                        : String.format(Locale.ROOT, "p50 %.2f ms p99 %.2f ms", f.register().micros(50) / 1000,
                                f.register().micros(99) / 1000),
                f.failoverMillis() == null ? "not measured" : f.failoverMillis() + " ms");
        if (f.failure() != null) {
            System.out.println(label + ": " + f.failure());
        }
    }

    /** "RESULT cpu_idle_base=.. cpu_3=.. ..." ({@code na} for what was not measured). */
    private static String result(Idle base, List<Figures> all) {
        StringJoiner out = new StringJoiner(" ", "RESULT ", "");
        out.add("cpu_idle_base=" + number(base.brokerCpu(), 1));
        for (Figures f : all) {
            String strategy = f.strategy().name().toLowerCase(Locale.ROOT);
            Idle idle = f.idle();
            String n = "_" + f.size();
            String prefix = f.strategy() == Strategy.CLAIM ? "" : strategy + "_"; // claim is the default
            out.add(prefix + "cpu" + n + "=" + (idle == null ? "na" : number(idle.brokerCpu(), 1)));
            out.add(prefix + "jvm_cpu" + n + "=" + (idle == null ? "na" : number(idle.jvmCpu(), 1)));
            out.add(prefix + "pub_s" + n + "=" + (idle == null ? "na" : number(idle.published(), 0)));
            out.add(prefix + "deliv_s" + n + "=" + (idle == null ? "na" : number(idle.delivered(), 0)));
            out.add(strategy + "_p50" + n + "=" + (f.register() == null ? "na" : number(f.register().micros(50) / 1000, 2)));
            out.add(strategy + "_p99" + n + "=" + (f.register() == null ? "na" : number(f.register().micros(99) / 1000, 2)));
            out.add("failover_" + strategy + n + "=" + (f.failoverMillis() == null ? "na" : f.failoverMillis()));
        }
        return out.toString();
    }

    private static String number(double value, int decimals) {
        return Double.isNaN(value) ? "na" : String.format(Locale.ROOT, "%." + decimals + "f", value);
    }
}
