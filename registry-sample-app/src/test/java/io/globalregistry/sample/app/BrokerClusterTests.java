package io.globalregistry.sample.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.globalregistry.sample.app.SampleNodes.Node;
import io.globalregistry.test.cluster.RabbitCluster;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Three sample-app JVMs (the sample's default timings, liveness {@code auto}, which is {@code lease} on
 * RabbitMQ 3.10) on a real 3-node RabbitMQ cluster ({@link RabbitCluster}: one broker node per network
 * namespace, {@code net_ticktime} 10 s), node-i connected first to broker node i, every node given all
 * three addresses. docs/PROTOCOL.md "Liveness"; invariants I1, I7, I8.
 * <ul>
 *   <li>For each partition handling and both strategies: the broker node of the singleton's owner is cut
 *       off from the other two for longer than net_ticktime, then healed (under {@code ignore} the
 *       operator then restarts it, as RabbitMQ's documentation says to). Sampled every 250 ms: never two
 *       nodes hold {@code sequence} LOCAL, never two ticks of the singleton in one second; after the heal
 *       every node agrees on one owner. Time to fence, to take over and to converge printed.</li>
 *   <li>A hung owner, for both strategies (under {@code leader} the singleton runs on the leader, so it is the
 *       leader that hangs) (SIGSTOP, kept stopped): a survivor serves the singleton within 5 s; after SIGCONT
 *       the old owner runs no scheduled task; then two pauses of 4 s, never two nodes active.</li>
 *   <li>A broker node killed (kill -9 of its beam; strategy claim): the node on it moves to another broker node and
 *       rejoins; names of the nodes on the other broker nodes never move; then the owner's broker node is
 *       killed and the singleton is served again. Figures printed.</li>
 * </ul>
 */
class BrokerClusterTests {

    private static final String SEQUENCE = "\"sequence\"";
    private static final Duration PARTITION = Duration.ofSeconds(25);
    private static final Duration SAMPLE = Duration.ofMillis(250);

    private final List<String> figures = new ArrayList<>();

    @BeforeAll
    static void clusterHarnessAvailable() {
        RabbitCluster.assumeAvailable();
    }

    @Test
    void ownersBrokerNodeCutOffUnderPauseMinorityShouldNeverMakeTwoOwners() throws Exception {
        partitionRuns("pause_minority");
    }

    @Test
    void ownersBrokerNodeCutOffUnderAutohealShouldNeverMakeTwoOwners() throws Exception {
        partitionRuns("autoheal");
    }

    @Test
    void ownersBrokerNodeCutOffUnderIgnoreShouldNeverMakeTwoOwners() throws Exception {
        partitionRuns("ignore");
    }

    /**
     * One run per strategy, each on a broker cluster of its own: a second run on the same one, started seconds
     * after an autoheal had restarted the losing side, saw its new lease streams stall for ~10 s (every node's
     * lease lapsed 2 s after it started; each rejoined), twice in two tries; under pause_minority once in two.
     */
    private void partitionRuns(String mode) throws Exception {
        String strategies = System.getProperty("bct.strategies", "claim,leader");
        for (String strategy : List.of(strategies.split(","))) {
            try (RabbitCluster brokers = RabbitCluster.start(RabbitCluster.Options.nodes(3).partitionHandling(mode)
                    .netTicktimeSeconds(10))) {
                partitionRun(brokers, mode, strategy);
            }
        }
        figures.forEach(System.out::println);
    }

    private void partitionRun(RabbitCluster brokers, String mode, String strategy) throws Exception {
        String label = "[partition " + mode + " " + strategy + "]";
        try (SampleNodes apps = new SampleNodes(Paths.get("target", "broker-cluster", mode + "-" + strategy))) {
            List<Node> nodes = startNodes(apps, brokers, strategy);
            int owner = awaitOneOwner(apps, nodes, Duration.ofSeconds(30));
            String oldOwner = nodes.get(owner).name();
            // the lease logs' leaders: one per broker node (LeaseLogPlacement), so the cut stops one log only
            Map<String, Integer> leaders = new java.util.TreeMap<>(brokers.queueLeaders(0, "global-registry.bc-"));
            leaders.keySet().removeIf(queue -> !queue.contains(".lease."));
            assertThat(new TreeSet<>(leaders.values())).as(label + " broker nodes leading the lease logs " + leaders)
                    .containsExactly(0, 1, 2);
            long cut = System.nanoTime();
            brokers.partition(owner);
            long fenced = -1;
            long tookOver = -1;
            int doubles = 0;
            List<String> doubleSamples = new ArrayList<>();
            while (System.nanoTime() - cut < PARTITION.toNanos()) {
                List<String> views = views(apps, nodes);
                long at = millisSince(cut);
                List<String> local = localOwners(views);
                if (local.size() > 1) {
                    doubles++;
                    doubleSamples.add(at + " ms: " + views);
                }
                if (fenced < 0 && !local.contains(oldOwner)) {
                    fenced = at;
                }
                if (tookOver < 0 && local.size() == 1 && !local.contains(oldOwner)) {
                    tookOver = at;
                }
                Thread.sleep(SAMPLE.toMillis());
            }
            long healed = System.nanoTime();
            brokers.heal();
            String whileSplit = "";
            if (mode.equals("ignore")) {
                // RabbitMQ never merges the two sides' records: look at what the nodes say, then restart the cut one
                Thread.sleep(5_000);
                whileSplit = " views 5 s after the heal (records still split): " + views(apps, nodes) + ";";
                brokers.kill(owner);
                brokers.start(owner);
            }
            long converged = awaitAgreement(apps, nodes, healed, Duration.ofSeconds(60));
            // pause_minority and autoheal restart the cut-off (losing) side's rabbit application some seconds after
            // the heal, which drops the connections of the nodes on it: agreement again once the cluster is whole
            // (the agreement is checked again then; a cluster that never lists no partition is waited for 60 s)
            String whole;
            try {
                brokers.awaitSettled(Duration.ofSeconds(60));
                whole = millisSince(healed) + " ms after the heal";
            } catch (IllegalStateException notWhole) {
                // seen once under autoheal: every node running, one still listing the partition after 2 min
                whole = "not within 60 s (" + notWhole.getMessage() + ")";
            }
            long agreedWhole = awaitAgreement(apps, nodes, healed, Duration.ofSeconds(60));
            Map<Long, TreeSet<String>> ticks = SampleNodes.ticksBySecond(nodes);
            List<Long> sharedSeconds = ticks.entrySet().stream().filter(e -> e.getValue().size() > 1)
                    .map(Map.Entry::getKey).toList();
            String line = label + " owner " + oldOwner + " (broker node " + owner + "; lease logs led by broker nodes "
                    + leaders.values() + ") cut off " + PARTITION.toSeconds() + " s: it stopped holding "
                    + SEQUENCE + " after " + fenced + " ms, " + "a new owner held it after " + tookOver + " ms;"
                    + " samples with two LOCAL owners: " + doubles + " (every " + SAMPLE.toMillis() + " ms);"
                    + whileSplit + " one owner agreed by all " + converged + " ms after the heal; the broker cluster whole"
                    + " again (every node running, no partition listed) " + whole + ", one owner agreed"
                    + " then " + agreedWhole + " ms after the heal; ticks in "
                    + ticks.size() + " seconds, shared by two nodes in " + sharedSeconds.size();
            figures.add(line);
            System.out.println(line);
            assertThat(doubleSamples).as(label + " samples with two LOCAL owners").isEmpty();
            assertThat(sharedSeconds).as(label + " seconds in which two nodes ticked").isEmpty();
            assertThat(tookOver).as(label + " a node on the majority side took over").isPositive();
            assertThat(converged).as(label + " one owner agreed after the heal").isNotNegative();
            assertThat(agreedWhole).as(label + " one owner agreed once the broker cluster was whole").isNotNegative();
        }
    }

    @Test
    void hungOwnerShouldBeReplacedWithinFiveSecondsAndActNoMoreAfterItResumes() throws Exception {
        hungOwner("claim");
    }

    /** Strategy leader: the singleton runs on the leader, so the hung owner is the hung leader. */
    @Test
    void hungLeaderShouldBeReplacedWithinFiveSecondsAndActNoMoreAfterItResumes() throws Exception {
        hungOwner("leader");
    }

    private void hungOwner(String strategy) throws Exception {
        String label = "[hung owner " + strategy + "]";
        try (RabbitCluster brokers = RabbitCluster.start(RabbitCluster.Options.nodes(3)
                .partitionHandling("pause_minority").netTicktimeSeconds(10));
             SampleNodes apps = new SampleNodes(Paths.get("target", "broker-cluster", "hung-" + strategy))) {
            List<Node> nodes = startNodes(apps, brokers, strategy);
            int owner = awaitOneOwner(apps, nodes, Duration.ofSeconds(30));
            Node hung = nodes.get(owner);
            Node survivor = nodes.get((owner + 1) % 3);
            long stopped = System.nanoTime();
            SampleNodes.signal(hung, "STOP");
            String servedBy = awaitServedByAnotherThan(apps, survivor, hung.name(), Duration.ofSeconds(15));
            long served = servedBy == null ? -1 : millisSince(stopped);
            Thread.sleep(2_000); // kept stopped a while after the takeover
            long resumedWall = System.currentTimeMillis();
            SampleNodes.signal(hung, "CONT");
            Thread.sleep(5_000);
            List<Long> ticksAfterResume = SampleNodes.tickMillis(hung).stream().filter(t -> t >= resumedWall).toList();
            List<String> servedAfter = new ArrayList<>();
            for (Node node : nodes) {
                servedAfter.add(apps.json(apps.get(node, "/demo/next", Duration.ofSeconds(6)).body())
                        .get("servedBy").asString());
            }
            // two pauses of 4 s of whoever owns it then
            List<String> pauses = new ArrayList<>();
            for (int round = 0; round < 2; round++) {
                int current = awaitOneOwner(apps, nodes, Duration.ofSeconds(20));
                SampleNodes.signal(nodes.get(current), "STOP");
                Thread.sleep(4_000);
                SampleNodes.signal(nodes.get(current), "CONT");
                Thread.sleep(4_000);
                pauses.add(nodes.get(current).name());
            }
            awaitOneOwner(apps, nodes, Duration.ofSeconds(20));
            Map<Long, TreeSet<String>> ticks = SampleNodes.ticksBySecond(nodes);
            List<Long> sharedSeconds = ticks.entrySet().stream().filter(e -> e.getValue().size() > 1)
                    .map(Map.Entry::getKey).toList();
            System.out.println(label + " " + hung.name() + " SIGSTOPped: the singleton was served by " + servedBy
                    + " " + served + " ms later; after SIGCONT " + hung.name() + " ticked " + ticksAfterResume.size()
                    + " times in 5 s and every node's /demo/next was served by " + servedAfter + "; then 4 s pauses of "
                    + pauses + "; ticks in " + ticks.size() + " seconds, shared by two nodes in " + sharedSeconds.size());
            assertThat(served).as(label + " a survivor serves the singleton after the owner hung").isBetween(0L, 5_000L);
            assertThat(ticksAfterResume).as(label + " scheduled runs of the old owner after SIGCONT").isEmpty();
            assertThat(servedAfter).as(label + " served by the new owner only").containsOnly(servedBy);
            assertThat(sharedSeconds).as(label + " seconds in which two nodes ticked").isEmpty();
        }
    }

    @Test
    void killedBrokerNodeShouldMoveItsClientsAndLeaveOtherNamesWhereTheyAre() throws Exception {
        try (RabbitCluster brokers = RabbitCluster.start(RabbitCluster.Options.nodes(3)
                .partitionHandling("pause_minority").netTicktimeSeconds(10));
             SampleNodes apps = new SampleNodes(Paths.get("target", "broker-cluster", "kill"))) {
            List<Node> nodes = startNodes(apps, brokers, "claim");
            int owner = awaitOneOwner(apps, nodes, Duration.ofSeconds(30));
            for (Node node : nodes) {
                assertThat(apps.post(node, "/rooms/r-" + node.name()).statusCode()).isEqualTo(200);
            }
            // 1. the broker node of a node that does not own the singleton
            int victim = (owner + 1) % 3;
            long killed = System.nanoTime();
            brokers.kill(victim);
            long moved = -1;
            List<String> movedNames = new ArrayList<>();
            while (millisSince(killed) < 15_000) {
                for (int i = 0; i < 3; i++) {
                    if (i == victim) {
                        continue;
                    }
                    for (Node reader : nodes) {
                        if (reader == nodes.get(victim)) {
                            continue;
                        }
                        String room = apps.view(reader, "[\"room\",\"r-" + nodes.get(i).name() + "\"]", Duration.ofSeconds(1));
                        String expected = (reader == nodes.get(i) ? "local:" : "remote:") + nodes.get(i).name();
                        if (!expected.equals(room)) {
                            movedNames.add(millisSince(killed) + " ms: " + reader.name() + " sees room of "
                                    + nodes.get(i).name() + " as " + room);
                        }
                    }
                }
                String seq = apps.view(nodes.get(owner), SEQUENCE, Duration.ofSeconds(1));
                if (!("local:" + nodes.get(owner).name()).equals(seq)) {
                    movedNames.add(millisSince(killed) + " ms: the singleton's owner sees " + seq);
                }
                if (moved < 0 && Objects.equals(apps.view(nodes.get(victim), SEQUENCE, Duration.ofSeconds(1)),
                        "remote:" + nodes.get(owner).name())) {
                    moved = millisSince(killed);
                }
                if (moved >= 0 && millisSince(killed) > moved + 3_000) {
                    break;
                }
                Thread.sleep(SAMPLE.toMillis());
            }
            brokers.start(victim);
            // 2. the owner's broker node
            long killedOwners = System.nanoTime();
            brokers.kill(owner);
            Node reader = nodes.get(victim);
            String newOwner = awaitServedByAnotherThan(apps, reader, nodes.get(owner).name(), Duration.ofSeconds(20));
            long servedAgain = newOwner == null ? -1 : millisSince(killedOwners);
            System.out.println("[broker kill] broker node of " + nodes.get(victim).name() + " killed: it rejoined through"
                    + " another broker node and saw the singleton again after " + moved + " ms; names of the other"
                    + " nodes that moved or vanished meanwhile: " + movedNames.size() + "; then the broker node of the"
                    + " owner " + nodes.get(owner).name() + " killed: the singleton was served again by " + newOwner
                    + " after " + servedAgain + " ms");
            assertThat(moved).as("the node of the killed broker node rejoined through another").isNotNegative();
            assertThat(movedNames).as("names on nodes whose broker node stayed up").isEmpty();
            assertThat(servedAgain).as("the singleton served again after its owner's broker node died").isNotNegative();
        }
    }

    // ---- helpers -----------------------------------------------------------------------------

    /** node-i on broker node i first, then the others: every node is given every address. */
    private static List<Node> startNodes(SampleNodes apps, RabbitCluster brokers, String strategy) throws Exception {
        String cluster = "bc-" + strategy + "-" + UUID.randomUUID().toString().substring(0, 8);
        List<Node> nodes = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            List<String> addresses = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
                addresses.add(brokers.amqpAddress((i + k) % 3));
            }
            nodes.add(apps.start("node-" + (i + 1), List.of(
                    "--spring.rabbitmq.addresses=" + String.join(",", addresses),
                    "--spring.rabbitmq.username=guest", "--spring.rabbitmq.password=guest",
                    "--global-registry.cluster=" + cluster,
                    "--global-registry.strategy=" + strategy)));
        }
        for (Node node : nodes) {
            apps.awaitServing(node, Duration.ofSeconds(90));
        }
        return nodes;
    }

    /**
     * Polls {@code reader}'s {@code /demo/next} every 50 ms until a node other than {@code old} serves it;
     * returns that node's name, or null after {@code timeout}. A call may time out while the old owner hangs.
     */
    private static String awaitServedByAnotherThan(SampleNodes apps, Node reader, String old, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                JsonNode body = apps.json(apps.get(reader, "/demo/next", Duration.ofSeconds(6)).body());
                if (body.has("servedBy") && !body.get("servedBy").asString().equals(old)) {
                    return body.get("servedBy").asString();
                }
            } catch (java.io.IOException | RuntimeException notYet) {
                // not served yet
            }
            Thread.sleep(50);
        }
        return null;
    }

    /** Every node's view of the singleton, read in parallel. */
    private static List<String> views(SampleNodes apps, List<Node> nodes) {
        List<CompletableFuture<String>> reads = nodes.stream()
                .map(node -> CompletableFuture.supplyAsync(() -> apps.view(node, SEQUENCE, Duration.ofMillis(900))))
                .toList();
        return reads.stream().map(CompletableFuture::join).collect(Collectors.toList());
    }

    private static List<String> localOwners(List<String> views) {
        return views.stream().filter(v -> v != null && v.startsWith("local:")).map(v -> v.substring(6)).toList();
    }

    /**
     * Waits until one node holds the singleton LOCAL and the others name it; returns its index. A node that
     * names nobody or another owner calls {@code /demo/next} (under the leader strategy a node knows an owner
     * only once it looked the name up: its cache starts empty after every change of leader).
     */
    private static int awaitOneOwner(SampleNodes apps, List<Node> nodes, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> views = List.of();
        while (System.nanoTime() < deadline) {
            views = views(apps, nodes);
            List<String> local = localOwners(views);
            String owner = local.size() == 1 ? local.get(0) : null;
            List<CompletableFuture<?>> lookups = new ArrayList<>();
            for (int i = 0; i < nodes.size(); i++) {
                if (owner == null || views.get(i) == null || !views.get(i).endsWith(":" + owner)) {
                    Node node = nodes.get(i);
                    lookups.add(CompletableFuture.runAsync(() -> callQuietly(apps, node)));
                }
            }
            if (owner != null && lookups.isEmpty()) {
                for (int i = 0; i < nodes.size(); i++) {
                    if (nodes.get(i).name().equals(owner)) {
                        return i;
                    }
                }
            }
            lookups.forEach(CompletableFuture::join);
            Thread.sleep(100);
        }
        throw new AssertionError("no single agreed owner of " + SEQUENCE + " within " + timeout + ": " + views);
    }

    /** One {@code /demo/next} on {@code node}, its outcome ignored. */
    private static void callQuietly(SampleNodes apps, Node node) {
        try {
            apps.get(node, "/demo/next", Duration.ofSeconds(2));
        } catch (java.io.IOException | RuntimeException e) {
            // not served (yet): the next round asks again
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Milliseconds from {@code since} until one owner is agreed by every node, or -1. */
    private static long awaitAgreement(SampleNodes apps, List<Node> nodes, long since, Duration timeout)
            throws InterruptedException {
        try {
            awaitOneOwner(apps, nodes, timeout);
            return millisSince(since);
        } catch (AssertionError e) {
            System.out.println(e.getMessage());
            return -1;
        }
    }

    private static long millisSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
    }
}
