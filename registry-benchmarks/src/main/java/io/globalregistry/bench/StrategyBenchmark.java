package io.globalregistry.bench;

import io.globalregistry.Registration;
import io.globalregistry.amqp.AmqpGlobalRegistry;
import io.globalregistry.amqp.AmqpTransport;
import io.globalregistry.membership.NodeId;
import io.globalregistry.protocol.RegistryConfig.Strategy;
import io.globalregistry.wire.MessageType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;

/**
 * {@code ./bench.sh strategies}: the two registration strategies side by side on the local broker,
 * with 3, 5 and 9 nodes in this JVM (own connection each, default settings but the strategy). For
 * each configuration, from a node that is not the leader (under {@code leader}, once every node
 * names the same leader):
 * <ul>
 *   <li>registration latency p50/p99: sequential {@code register} of fresh names from one node;</li>
 *   <li>messages per registration: the publishes of all nodes during those registrations, by type,
 *       heartbeats excluded (they go on in the background whatever the strategy); "delivered" counts
 *       a broadcast once per member inbox (the sender's own included) and any other message once;</li>
 *   <li>whereis of a name registered on another node, from a third node that never looked it up
 *       (under {@code leader} a cache miss that asks the leader; under {@code claim} a read of the
 *       local table, which holds every name), then the same names again (cached hits), then names
 *       nobody registered (a true miss: under {@code leader} it asks the leader every time, misses
 *       are not cached).</li>
 * </ul>
 * Prints a table and ends with one RESULT line.
 */
public final class StrategyBenchmark {

    private static final int[] SIZES = {3, 5, 9};
    private static final Strategy[] STRATEGIES = {Strategy.CLAIM, Strategy.LEADER};
    private static final int WARMUP = 500;
    private static final int MEASURED = 1_500;
    private static final long SETTLE_MILLIS = 100;
    private static final long READY_TIMEOUT_SECONDS = 20;

    /** The figures of one configuration, latencies in microseconds. */
    private record Figures(String label, int nodes, Percentiles register, double published, double delivered,
                           String breakdown, Percentiles miss, Percentiles hit, Percentiles absent) {
    }

    public static void main(String[] args) throws Exception {
        List<Figures> all = new ArrayList<>();
        for (int size : SIZES) {
            for (Strategy strategy : STRATEGIES) {
                Figures figures = run(strategy, size);
                all.add(figures);
                System.out.printf(Locale.ROOT, "%s: register p50 %.0f us p99 %.0f us; per registration %.2f published,"
                                + " %.2f delivered (%s); whereis miss p50 %.2f us p99 %.2f us, cached hit p50 %.2f us"
                                + " p99 %.2f us, unregistered name p50 %.2f us p99 %.2f us%n",
                        figures.label(), figures.register().micros(50), figures.register().micros(99),
                        figures.published(), figures.delivered(), figures.breakdown(),
                        figures.miss().micros(50), figures.miss().micros(99), figures.hit().micros(50),
                        figures.hit().micros(99), figures.absent().micros(50), figures.absent().micros(99));
            }
        }
        printTable(all);
        StringJoiner result = new StringJoiner(" ", "RESULT ", "");
        for (Figures f : all) {
            String p = f.label();
            result.add(String.format(Locale.ROOT, "%s_reg_p50_us=%.0f %s_reg_p99_us=%.0f %s_msgs_per_reg=%.2f"
                            + " %s_delivered_per_reg=%.2f %s_miss_p50_us=%.2f %s_miss_p99_us=%.2f %s_hit_p50_us=%.2f"
                            + " %s_hit_p99_us=%.2f %s_absent_p50_us=%.2f %s_absent_p99_us=%.2f",
                    p, f.register().micros(50), p, f.register().micros(99), p, f.published(), p, f.delivered(),
                    p, f.miss().micros(50), p, f.miss().micros(99), p, f.hit().micros(50), p, f.hit().micros(99),
                    p, f.absent().micros(50), p, f.absent().micros(99)));
        }
        System.out.println(result);
    }

    private static Figures run(Strategy strategy, int size) throws Exception {
        String label = strategy.name().toLowerCase(Locale.ROOT) + size;
        try (BenchCluster cluster = new BenchCluster(size, c -> c.withStrategy(strategy))) {
            Optional<NodeId> leader = cluster.awaitSettled(strategy, TimeUnit.SECONDS.toMillis(READY_TIMEOUT_SECONDS));
            List<AmqpGlobalRegistry> followers = new ArrayList<>();
            for (AmqpGlobalRegistry node : cluster.nodes) {
                if (leader.isEmpty() || !leader.get().equals(node.nodeId())) {
                    followers.add(node);
                }
            }
            AmqpGlobalRegistry registrant = followers.get(0);
            AmqpGlobalRegistry looker = followers.get(1);
            System.out.printf("%s: %d nodes, leader %s, registering on %s, looking up on %s%n", label, size,
                    leader.map(NodeId::toString).orElse("none"), registrant.nodeId(), looker.nodeId());

            BenchCluster.registerSequentially(registrant, "warm", WARMUP);
            Thread.sleep(SETTLE_MILLIS);
            Traffic before = Traffic.of(cluster.nodes);
            Percentiles register = new Percentiles(BenchCluster.registerSequentially(registrant, "reg", MEASURED));
            Thread.sleep(SETTLE_MILLIS); // the last publishes counted on every node
            Traffic during = Traffic.of(cluster.nodes).minus(before);

            awaitVisible(looker, "reg-" + (MEASURED - 1), strategy);
            lookups(looker, "warm", WARMUP, registrant.nodeId()); // warms the lookup path (misses under leader)
            Percentiles miss = new Percentiles(lookups(looker, "reg", MEASURED, registrant.nodeId()));
            Percentiles hit = new Percentiles(lookups(looker, "reg", MEASURED, registrant.nodeId()));
            lookups(looker, "absent-warm", WARMUP, null);
            Percentiles absent = new Percentiles(lookups(looker, "absent", MEASURED, null));
            return new Figures(label, size, register, during.published() / (double) MEASURED,
                    during.delivered(size) / (double) MEASURED, during.breakdown(MEASURED), miss, hit, absent);
        }
    }

    /** Under {@code claim} the registrations reach the looker by broadcast: waits for the last one. */
    private static void awaitVisible(AmqpGlobalRegistry looker, String name, Strategy strategy) throws Exception {
        if (strategy == Strategy.LEADER) {
            return; // a lookup would fill the cache; the leader knows every name once registered
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(READY_TIMEOUT_SECONDS);
        while (looker.whereis(name).isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(name + " never reached " + looker.nodeId());
            }
            Thread.sleep(10);
        }
    }

    /** One whereis of each name {@code prefix-i}, checking the owner ({@code null}: nobody owns it). */
    private static long[] lookups(AmqpGlobalRegistry node, String prefix, int count, NodeId owner) {
        long[] samples = new long[count];
        for (int i = 0; i < count; i++) {
            String name = prefix + "-" + i;
            long start = System.nanoTime();
            Optional<Registration> found = node.whereis(name);
            samples[i] = System.nanoTime() - start;
            NodeId foundOwner = found.map(Registration::owner).orElse(null);
            if (owner == null ? foundOwner != null : !owner.equals(foundOwner)) {
                throw new IllegalStateException("whereis(" + name + ") on " + node.nodeId() + " found " + foundOwner
                        + ", expected " + owner);
            }
        }
        return samples;
    }

    /** The publishes of a set of nodes by message type, heartbeats apart. */
    private record Traffic(long[] byType, long[] broadcastsByType) {

        static Traffic of(List<AmqpGlobalRegistry> nodes) {
            long[] published = new long[MessageType.values().length];
            long[] broadcasts = new long[published.length];
            for (AmqpGlobalRegistry node : nodes) {
                AmqpTransport transport = node.transport();
                for (MessageType type : MessageType.values()) {
                    published[type.ordinal()] += transport.publishedMessages(type);
                    broadcasts[type.ordinal()] += transport.publishedBroadcasts(type);
                }
            }
            return new Traffic(published, broadcasts);
        }

        Traffic minus(Traffic earlier) {
            long[] p = byType.clone();
            long[] b = broadcastsByType.clone();
            for (int i = 0; i < p.length; i++) {
                p[i] -= earlier.byType[i];
                b[i] -= earlier.broadcastsByType[i];
            }
            return new Traffic(p, b);
        }

        /** Publishes, heartbeats excluded. */
        long published() {
            long sum = 0;
            for (MessageType type : counted()) {
                sum += byType[type.ordinal()];
            }
            return sum;
        }

        /** Copies put in inboxes (and the leader queue), heartbeats excluded: a broadcast reaches every member. */
        long delivered(int members) {
            long sum = 0;
            for (MessageType type : counted()) {
                long b = broadcastsByType[type.ordinal()];
                sum += b * members + (byType[type.ordinal()] - b);
            }
            return sum;
        }

        /** Per registration, each type sent: "claim 1.00 bcast, claim-reply 2.00". */
        String breakdown(int registrations) {
            StringJoiner out = new StringJoiner(", ");
            for (MessageType type : counted()) {
                long b = broadcastsByType[type.ordinal()];
                long direct = byType[type.ordinal()] - b;
                if (b > 0) {
                    out.add(String.format(Locale.ROOT, "%s %.2f bcast", type.wireName(), b / (double) registrations));
                }
                if (direct > 0) {
                    out.add(String.format(Locale.ROOT, "%s %.2f", type.wireName(), direct / (double) registrations));
                }
            }
            return out.length() == 0 ? "nothing" : out.toString();
        }

        private static List<MessageType> counted() {
            List<MessageType> types = new ArrayList<>(List.of(MessageType.values()));
            types.remove(MessageType.HEARTBEAT);
            return types;
        }
    }

    private static void printTable(List<Figures> all) {
        System.out.println();
        System.out.println("Latencies in us; messages per registration, heartbeats excluded: published = AMQP publishes of all"
                + " nodes, delivered = broadcasts x nodes + the rest.");
        System.out.println("whereis from a node that never looked the name up: miss = first lookup of a name another node owns,"
                + " hit = the same again, absent = a name nobody registered.");
        String header = String.format(Locale.ROOT, "%-9s %5s | %9s %9s | %9s %9s | %9s %9s | %9s %9s | %9s %9s",
                "strategy", "nodes", "reg p50", "reg p99", "published", "delivered", "miss p50", "miss p99",
                "hit p50", "hit p99", "absent50", "absent99");
        System.out.println(header);
        System.out.println("-".repeat(header.length()));
        for (Figures f : all) {
            System.out.printf(Locale.ROOT, "%-9s %5d | %9.0f %9.0f | %9.2f %9.2f | %9.2f %9.2f | %9.2f %9.2f | %9.2f %9.2f%n",
                    f.label().replaceAll("\\d+$", ""), f.nodes(), f.register().micros(50), f.register().micros(99),
                    f.published(), f.delivered(), f.miss().micros(50), f.miss().micros(99), f.hit().micros(50),
                    f.hit().micros(99), f.absent().micros(50), f.absent().micros(99));
        }
        System.out.println();
    }
}
