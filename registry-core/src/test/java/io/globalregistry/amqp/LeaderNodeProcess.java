package io.globalregistry.amqp;

import io.globalregistry.RegistrationResult;
import io.globalregistry.RegistryException;
import io.globalregistry.protocol.RegistryConfig;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;

/**
 * One leader-strategy node in a JVM of its own, for {@link LeaderFailoverTest}: starts with the
 * short timings of {@link ClusterFixture} (heartbeat 100 ms, suspect-after 400 ms, claim-timeout
 * 1 s, join-window 300 ms) and leader-retry 250 ms unless given, registers
 * {@code ["owned-by", <node name>]}, prints {@code READY <node id>}, then {@code LEADER <node id>}
 * (or {@code LEADER none}) at every leader change it learns, and runs until it is killed.
 *
 * <p>It also ends, closing its node, when its standard input ends, so that a test JVM that dies
 * leaves no node behind.
 *
 * <p>Arguments: {@code cluster nodeName host port username password virtualHost [leaderRetryMillis]}.
 */
public final class LeaderNodeProcess {

    private static final Duration REGISTER_WITHIN = Duration.ofSeconds(30);

    private LeaderNodeProcess() {
    }

    public static void main(String[] args) {
        try {
            run(args);
        } catch (Throwable e) {
            System.out.println("FAILED: " + e);
            e.printStackTrace(System.out);
            System.exit(1);
        }
    }

    private static void run(String[] args) throws Exception {
        if (args.length < 7 || args.length > 8) {
            System.err.println("usage: LeaderNodeProcess cluster nodeName host port username password virtualHost"
                    + " [leaderRetryMillis]");
            System.exit(2);
        }
        String cluster = args[0];
        String nodeName = args[1];
        com.rabbitmq.client.ConnectionFactory rabbit = new com.rabbitmq.client.ConnectionFactory();
        rabbit.setHost(args[2]);
        rabbit.setPort(Integer.parseInt(args[3]));
        rabbit.setUsername(args[4]);
        rabbit.setPassword(args[5]);
        rabbit.setVirtualHost(args[6]);
        Duration leaderRetry = args.length == 8 ? Duration.ofMillis(Long.parseLong(args[7]))
                : RegistryConfig.DEFAULT_LEADER_RETRY;
        RegistryConfig config = RegistryConfig.defaults(cluster)
                .withHeartbeat(Duration.ofMillis(100), Duration.ofMillis(400))
                .withClaimTimeout(Duration.ofSeconds(1))
                .withJoinWindow(Duration.ofMillis(300))
                .withStrategy(RegistryConfig.Strategy.LEADER)
                .withLeaderRetry(leaderRetry)
                .withLiveness(RegistryConfig.Liveness.BROKER);

        AmqpGlobalRegistry node = AmqpGlobalRegistry.builder()
                .rabbitConnectionFactory(rabbit)
                .config(config)
                .nodeName(nodeName)
                .start();
        node.addLeaderListener(leader -> System.out.println("LEADER " + (leader == null ? "none" : leader)));
        RegistrationResult result = register(node, ownName(nodeName));
        if (result == null || !result.registered()) {
            System.out.println("FAILED to register " + ownName(nodeName)
                    + (result == null ? " within " + REGISTER_WITHIN.toSeconds() + " s" : ": owned by " + result.owner()));
            node.close();
            System.exit(1);
        }
        System.out.println("READY " + node.nodeId());

        drain(System.in); // until the parent goes
        node.close();
        System.exit(0);
    }

    /**
     * Registers {@code name}, trying again while the registration fails (e.g. abandoned because the
     * node fenced itself while its JVM was warming up on a busy machine); null if it never succeeded.
     */
    private static RegistrationResult register(AmqpGlobalRegistry node, List<String> name) throws InterruptedException {
        long deadline = System.nanoTime() + REGISTER_WITHIN.toNanos();
        while (true) {
            try {
                return node.register(name, "process " + ProcessHandle.current().pid());
            } catch (RegistryException e) {
                System.out.println("registering " + name + " failed (" + e.getMessage() + "); trying again");
                if (System.nanoTime() > deadline) {
                    return null;
                }
                Thread.sleep(200);
            }
        }
    }

    /** The name each node process registers. */
    static List<String> ownName(String nodeName) {
        return List.of("owned-by", nodeName);
    }

    private static void drain(InputStream in) {
        byte[] buffer = new byte[256];
        try {
            while (in.read(buffer) >= 0) {
                // nothing is sent; the end of the stream is the signal
            }
        } catch (IOException e) {
            // the parent is gone either way
        }
    }
}
