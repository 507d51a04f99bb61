package io.globalregistry.test.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;

/**
 * A 3-node cluster under {@code cluster_partition_handling = ignore}: node 0 is cut off from
 * nodes 1 and 2 (the majority) while clients in the root namespace still reach all three. Prints
 * one {@code FACT} line per observation the registry's protocol depends on, then heals, shows the
 * partition that {@code ignore} leaves behind, and recovers by restarting node 0.
 */
class RabbitClusterIgnoreModeTest {

    private static final int TICK = 10;
    private static RabbitCluster cluster;

    @BeforeAll
    static void startCluster() {
        RabbitCluster.assumeAvailable();
        cluster = RabbitCluster.start(RabbitCluster.Options.nodes(3).partitionHandling("ignore").netTicktimeSeconds(TICK));
    }

    @AfterAll
    static void closeCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static void fact(String text) {
        System.out.println("FACT [ignore] " + text);
    }

    @Test
    void cutHealAndRecoverUnderIgnore() throws Exception {
        assertThat(cluster.runningNodes(0)).containsExactly(0, 1, 2);
        assertThat(cluster.amqpAddresses()).isEqualTo("10.213.77.10:5672,10.213.77.11:5672,10.213.77.12:5672");

        Amqp.CLOSURES.clear();
        Connection c0 = Amqp.connect(cluster, 0, "setup-node0");
        Connection c1 = Amqp.connect(cluster, 1, "owner-node1");
        Channel ch0 = c0.createChannel();
        Channel ch1 = c1.createChannel();

        // before the cut: queues whose leader sits on the minority node 0 and on the majority node 1
        List<String> queues = List.of("qq.leader1", "qq.leader0", "stream.leader1", "stream.leader0");
        ch0.queueDeclare("qq.leader0", true, false, false, Amqp.quorum());
        ch1.queueDeclare("qq.leader1", true, false, false, Amqp.quorum());
        ch0.queueDeclare("stream.leader0", true, false, false, Amqp.stream());
        ch1.queueDeclare("stream.leader1", true, false, false, Amqp.stream());
        // a transient auto-delete queue declared and consumed by a connection on node 1
        ch1.queueDeclare("transient.ad", false, false, true, null);
        ch1.basicConsume("transient.ad", true, new DefaultConsumer(ch1));
        String leaders = oneLine(cluster.rabbitmqctl(1, "list_queues", "-q", "name", "type", "leader", "--no-table-headers"));
        fact("queue leaders before the cut: " + leaders);
        assertThat(leaders).contains("qq.leader0 quorum rabbit@10.213.77.10").contains("qq.leader1 quorum rabbit@10.213.77.11");

        for (String q : queues) {
            assertThat(Amqp.publishConfirmed(c1, q, "warmup", 10_000, null)).as("warm-up publish to " + q).isEqualTo("confirmed");
        }
        // one connection per probe on the minority side, so that one probe's connection error
        // (a 506 closes the whole connection) does not spoil the others
        Map<String, Connection> pub0 = new LinkedHashMap<>();
        for (String q : queues) {
            pub0.put(q, Amqp.connect(cluster, 0, "publisher-node0-" + q));
        }
        Amqp.StreamConsumer minorityConsumer = new Amqp.StreamConsumer(Amqp.connect(cluster, 0, "stream-consumer-node0"),
                "stream.leader1", "next");
        Connection late0 = Amqp.connect(cluster, 0, "late-subscriber-node0");
        Connection decl0 = Amqp.connect(cluster, 0, "declarer-node0");
        Connection excl0 = Amqp.connect(cluster, 0, "exclusive-node0");
        Connection excl1 = Amqp.connect(cluster, 1, "exclusive-node1");
        Thread.sleep(500);
        assertThat(Amqp.publishConfirmed(c1, "stream.leader1", "pre-cut", 5_000, null)).isEqualTo("confirmed");
        awaitCount(minorityConsumer, "pre-cut", 1, Duration.ofSeconds(10));
        assertThat(decl0.createChannel().queueDeclarePassive("transient.ad").getConsumerCount()).isEqualTo(1);
        c0.close();

        // the cut
        Amqp.mark("cut");
        long cut = System.nanoTime();
        cluster.partition(0);
        waitForViews(Map.of(0, Set.of(0), 1, Set.of(1, 2)), Duration.ofSeconds(60));
        fact(String.format("partition(0) seen by both sides (node 0 sees [0], node 1 sees [1, 2]) at %s"
                + " (net_ticktime %d s; includes up to ~1.5 s of rabbitmqctl polling)", Amqp.at(System.nanoTime()), TICK));
        long minWait = (long) (TICK * 1.5 * 1000) - (System.nanoTime() - cut) / 1_000_000;
        if (minWait > 0) {
            Thread.sleep(minWait);
        }
        fact("measurements start at " + Amqp.at(System.nanoTime()) + "; connections closed by then: " + Amqp.CLOSURES);

        // 1. publisher confirms from the minority and from the majority
        List<Amqp.Late> pending = new ArrayList<>();
        Map<String, CompletableFuture<String>> publishes = new LinkedHashMap<>();
        for (String q : queues) {
            publishes.put("from node 0 (minority) to " + q,
                    CompletableFuture.supplyAsync(() -> Amqp.publishConfirmed(pub0.get(q), q, "cut-node0", 3_000, pending)));
        }
        for (String q : queues) {
            publishes.put("from node 1 (majority) to " + q,
                    CompletableFuture.supplyAsync(() -> Amqp.publishConfirmed(c1, q, "cut-node1", 3_000, pending)));
        }
        Map<String, String> publishOutcome = new LinkedHashMap<>();
        publishes.forEach((what, f) -> {
            publishOutcome.put(what, f.join());
            fact("1. publish with confirms " + what + ": " + publishOutcome.get(what) + " (3 s limit)");
        });
        assertThat(publishOutcome.get("from node 1 (majority) to qq.leader1")).isEqualTo("confirmed");

        // 2. the stream consumer on node 0 while the majority publishes
        CompletableFuture<Object> lateSubscribe = CompletableFuture.supplyAsync(() -> {
            try {
                return new Amqp.StreamConsumer(late0, "stream.leader1", "next");
            } catch (Exception e) {
                return Amqp.describe(e) + " (at " + Amqp.at(System.nanoTime()) + ")";
            }
        });
        int batch = 20;
        int confirmed = 0;
        for (int n = 0; n < batch; n++) {
            if ("confirmed".equals(Amqp.publishConfirmed(c1, "stream.leader1", "during-" + n, 3_000, null))) {
                confirmed++;
            }
        }
        Thread.sleep(3_000);
        fact("2. majority (node 1) published " + batch + " to stream.leader1 during the cut, " + confirmed
                + " confirmed; the node-0 stream consumer (subscribed before the cut, offset next) got "
                + minorityConsumer.count("during-") + " of them within 3 s; its state: " + minorityConsumer.state());
        Object late = lateSubscribe.get();
        fact("2. basic.consume on stream.leader1 from node 0 during the cut (offset next): "
                + (late instanceof Amqp.StreamConsumer lc ? "consume-ok; got " + lc.count("during-") + "; " + lc.state() : late));
        assertThat(confirmed).isEqualTo(batch);

        // 3. passive declare of node 1's transient auto-delete queue
        String passive0 = passiveDeclare(decl0, "transient.ad");
        String passive1 = passiveDeclare(c1, "transient.ad");
        fact("3. passive declare of 'transient.ad' (transient auto-delete, declared and consumed by a node-1 connection)"
                + " from node 0: " + passive0);
        fact("3. the same from node 1: " + passive1);
        assertThat(passive1).startsWith("ok");

        // 4. the same exclusive queue from both sides
        String exclusive0 = declare(excl0, "excl.same-name", false, true, true);
        String exclusive1 = declare(excl1, "excl.same-name", false, true, true);
        fact("4. exclusive queue 'excl.same-name' declared during the cut from node 0: " + exclusive0 + "; from node 1: "
                + exclusive1);
        fact("4b. node 0 declaring 'transient.ad' (the queue node 1 owns) anew during the cut: "
                + declare(decl0, "transient.ad", false, false, true));

        // heal
        Amqp.mark("heal");
        cluster.heal();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (minorityConsumer.count("during-") < batch && System.nanoTime() < deadline) {
            Thread.sleep(250);
        }
        fact("2. after heal the node-0 stream consumer (subscribed before the cut) has " + minorityConsumer.count("during-")
                + " of the " + batch + " during-cut messages (first at " + minorityConsumer.firstArrival("during-")
                + ", checked until " + Amqp.at(System.nanoTime()) + "); state: " + minorityConsumer.state());
        if (late instanceof Amqp.StreamConsumer lc) {
            fact("2. after heal the consumer subscribed during the cut has " + lc.count("during-") + "; " + lc.state());
        }
        for (Amqp.Late p : pending) {
            fact("1. final answer to the during-cut publish '" + p.body + "' to " + p.queue + ": " + p.outcome());
        }
        fact("connection closures so far: " + Amqp.CLOSURES);
        fact(String.format("after heal (at %s), ignore mode: node 0 sees running %s, node 1 sees %s; %s",
                Amqp.at(System.nanoTime()), cluster.runningNodes(0), cluster.runningNodes(1), partitions(0)));
        try (Connection fresh0 = Amqp.connect(cluster, 0, "after-heal-node0")) {
            fact("after heal, from a new node-0 connection: passive declare 'transient.ad': " + passiveDeclare(fresh0, "transient.ad")
                    + "; passive declare 'excl.same-name': " + passiveDeclare(fresh0, "excl.same-name"));
        }

        // recover the ignore-mode partition the documented way: restart the minority node
        Amqp.mark("restart");
        long oldPid = cluster.beamPid(0);
        cluster.kill(0);
        assertThat(ProcessHandle.of(oldPid).map(ProcessHandle::isAlive).orElse(false)).as("killed beam pid").isFalse();
        cluster.start(0);
        Duration rejoin = cluster.awaitRunningNodes(Set.of(0, 1, 2), Duration.ofSeconds(60));
        fact(String.format("recovery: kill(0) + start(0): all 3 running on every node at %s (%.1f s of that waiting"
                + " for the views); %s", Amqp.at(System.nanoTime()), rejoin.toMillis() / 1000.0, partitions(1)));
        assertThat(cluster.runningNodes(1)).containsExactly(0, 1, 2);
        try (Connection fresh0 = Amqp.connect(cluster, 0, "after-restart-node0")) {
            fact("after recovery, from node 0: passive declare 'transient.ad': " + passiveDeclare(fresh0, "transient.ad")
                    + "; stream.leader1 / qq.leader0 / qq.leader1 message counts: " + passiveDeclare(fresh0, "stream.leader1")
                    + " / " + passiveDeclare(fresh0, "qq.leader0") + " / " + passiveDeclare(fresh0, "qq.leader1"));
        }
        c1.abort();
    }

    private static String passiveDeclare(Connection connection, String queue) {
        try (Channel channel = connection.createChannel()) {
            AMQP.Queue.DeclareOk ok = channel.queueDeclarePassive(queue);
            return "ok (messages=" + ok.getMessageCount() + ", consumers=" + ok.getConsumerCount() + ")";
        } catch (Exception e) {
            return Amqp.describe(e);
        }
    }

    private static String declare(Connection connection, String queue, boolean durable, boolean exclusive,
            boolean autoDelete) {
        try {
            Channel channel = connection.createChannel(); // left open: an exclusive queue lives with its connection
            AMQP.Queue.DeclareOk ok = channel.queueDeclare(queue, durable, exclusive, autoDelete, null);
            return "ok (consumers=" + ok.getConsumerCount() + ")";
        } catch (Exception e) {
            return Amqp.describe(e);
        }
    }

    private static String partitions(int node) {
        RabbitCluster.CtlResult r = cluster.tryRabbitmqctl(node, "cluster_status", "--formatter", "json", "-q");
        if (!r.ok()) {
            return "(cluster_status failed: " + r.stderr().strip() + ")";
        }
        int at = r.stdout().indexOf("\"partitions\"");
        if (at < 0) {
            return "(none)";
        }
        int end = r.stdout().indexOf('}', at);
        return r.stdout().substring(at, end + 1);
    }

    private static void waitForViews(Map<Integer, Set<Integer>> expected, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<Integer, Set<Integer>> seen = new LinkedHashMap<>();
        while (System.nanoTime() < deadline) {
            boolean all = true;
            for (Map.Entry<Integer, Set<Integer>> e : expected.entrySet()) {
                Set<Integer> view = cluster.runningNodes(e.getKey());
                seen.put(e.getKey(), view);
                all &= view.equals(e.getValue());
            }
            if (all) {
                return;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("views " + seen + " never became " + expected);
    }

    private static void awaitCount(Amqp.StreamConsumer consumer, String prefix, int n, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (consumer.count(prefix) < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("stream consumer got " + consumer.bodies + ", state " + consumer.state());
            }
            Thread.sleep(100);
        }
    }

    private static double seconds(long sinceNanos) {
        return (System.nanoTime() - sinceNanos) / 1e9;
    }

    private static String oneLine(String s) {
        return s.strip().replaceAll("\\s*\\n\\s*", "; ").replaceAll("\\t", " ");
    }
}
