package io.globalregistry.test.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.rabbitmq.client.Connection;

/**
 * A 3-node cluster under {@code cluster_partition_handling = pause_minority}: cutting node 0
 * off pauses it (its clients are disconnected), healing brings all three back without help, and
 * {@code kill -9} of node 1 leaves a running majority of two. Prints {@code FACT} lines with the
 * timings and the errors clients see.
 */
class RabbitClusterPauseMinorityTest {

    private static final int TICK = 10;
    private static RabbitCluster cluster;

    @BeforeAll
    static void startCluster() {
        RabbitCluster.assumeAvailable();
        cluster = RabbitCluster.start(
                RabbitCluster.Options.nodes(3).partitionHandling("pause_minority").netTicktimeSeconds(TICK));
    }

    @AfterAll
    static void closeCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static void fact(String text) {
        System.out.println("FACT [pause_minority] " + text);
    }

    @Test
    void cutPausesTheMinorityHealRejoinsKillLeavesMajority() throws Exception {
        assertThat(cluster.runningNodes(1)).containsExactly(0, 1, 2);
        Amqp.CLOSURES.clear();
        Connection c0 = Amqp.connect(cluster, 0, "client-node0");
        Connection c1 = Amqp.connect(cluster, 1, "client-node1");

        Amqp.mark("cut");
        cluster.partition(0);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while ((c0.isOpen() || !cluster.runningNodes(1).equals(Set.of(1, 2))) && System.nanoTime() < deadline) {
            Thread.sleep(250);
        }
        fact("after partition(0): node-0 client connection open=" + c0.isOpen() + ", node-1 client open=" + c1.isOpen()
                + "; node 1 sees running " + cluster.runningNodes(1) + " at " + Amqp.at(System.nanoTime())
                + "; closures: " + Amqp.CLOSURES);
        assertThat(c0.isOpen()).as("the paused minority closes its client connections").isFalse();
        assertThat(c1.isOpen()).isTrue();
        String reconnect;
        try (Connection again = Amqp.connect(cluster, 0, "reconnect-node0")) {
            reconnect = "connected (open=" + again.isOpen() + ")";
        } catch (Exception e) {
            reconnect = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        fact("a new connection to paused node 0 at " + Amqp.at(System.nanoTime()) + ": " + reconnect);
        RabbitCluster.CtlResult status = cluster.tryRabbitmqctl(0, "cluster_status", "--formatter", "json", "-q");
        fact("rabbitmqctl cluster_status on paused node 0: exit " + status.exitCode() + " ("
                + status.stderr().strip().lines().findFirst().orElse("") + "); runningNodes(0) = " + cluster.runningNodes(0));

        Amqp.mark("heal");
        cluster.heal();
        Duration rejoined = cluster.awaitRunningNodes(Set.of(0, 1, 2), Duration.ofSeconds(90));
        fact(String.format("after heal: every node sees all 3 running after %.1f s", rejoined.toMillis() / 1000.0));
        assertThat(cluster.runningNodes(0)).containsExactly(0, 1, 2);
        try (Connection back = Amqp.connect(cluster, 0, "after-heal-node0")) {
            assertThat(back.isOpen()).isTrue();
        }

        Amqp.mark("kill");
        long pid = cluster.beamPid(1);
        cluster.kill(1);
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("beam pid " + pid).isFalse();
        String nsPids = cluster.isRunning(1) ? "?" : String.join(",", pidsIn(cluster.namespace(1)));
        assertThat(nsPids.split(",")).doesNotContain(String.valueOf(pid));
        Duration majority = cluster.awaitRunningNodes(Set.of(0, 2), Duration.ofSeconds(60));
        fact(String.format("kill(1): beam pid %d gone; nodes 0 and 2 see running [0, 2] after %.1f s; node-1 client: %s;"
                + " still in namespace %s: pids %s (epmd)", pid, majority.toMillis() / 1000.0,
                c1.isOpen() ? "open" : "closed", cluster.namespace(1), nsPids));
        assertThat(c1.isOpen()).isFalse();

        Amqp.mark("start");
        cluster.start(1);
        Duration back = cluster.awaitRunningNodes(Set.of(0, 1, 2), Duration.ofSeconds(60));
        fact(String.format("start(1): booted and all 3 running at %s (%.1f s of views waiting)", Amqp.at(System.nanoTime()),
                back.toMillis() / 1000.0));
        c0.abort();
    }

    private static List<String> pidsIn(String namespace) throws Exception {
        Process p = new ProcessBuilder("ip", "netns", "pids", namespace).redirectErrorStream(true).start();
        List<String> pids = new String(p.getInputStream().readAllBytes()).lines().map(String::strip).toList();
        p.waitFor();
        return pids;
    }
}
