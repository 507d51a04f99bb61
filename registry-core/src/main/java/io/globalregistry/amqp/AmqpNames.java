package io.globalregistry.amqp;

import io.globalregistry.membership.NodeId;
import java.nio.charset.StandardCharsets;

/**
 * The broker objects of one cluster: the topic exchange {@code global-registry.<cluster>}, each
 * node's inbox {@code global-registry.<cluster>.node.<nodeId>}, the leader queue
 * {@code global-registry.<cluster>.leader} (strategy {@code leader}), the lease streams
 * {@code global-registry.<cluster>.lease.<j>}, j = 0..2 (liveness {@code lease}), and the routing keys {@code all}
 * (broadcasts) and {@code node.<nodeId>} (one node).
 */
final class AmqpNames {

    /** The longest queue or exchange name AMQP 0-9-1 allows, in bytes (a short string). */
    static final int MAX_NAME_BYTES = 255;

    static final String BROADCAST_KEY = "all";

    private AmqpNames() {
    }

    static String exchange(String cluster) {
        return "global-registry." + cluster;
    }

    static String inbox(String cluster, NodeId node) {
        return exchange(cluster) + ".node." + node;
    }

    /**
     * The queue whose holder is the cluster's leader; bound to nothing (requests reach it through the
     * default exchange). Never longer than an inbox name, so {@link #checkCluster} covers it.
     */
    static String leader(String cluster) {
        return exchange(cluster) + ".leader";
    }

    /**
     * The cluster's lease stream {@code log} (liveness {@code lease}): every node's heartbeats, read by
     * every node; reached through the default exchange. Never longer than an inbox name.
     */
    static String leaseStream(String cluster, int log) {
        return exchange(cluster) + ".lease." + log;
    }

    static String directKey(NodeId node) {
        return "node." + node;
    }

    static boolean fits(String name) {
        return name.getBytes(StandardCharsets.UTF_8).length <= MAX_NAME_BYTES;
    }

    /** Checks that a cluster name makes valid broker names; throws {@link IllegalArgumentException} if not. */
    static void checkCluster(String cluster, NodeId self) {
        if (cluster.isEmpty()) {
            throw new IllegalArgumentException("The cluster name must not be empty");
        }
        for (int i = 0; i < cluster.length(); i++) {
            char c = cluster.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_' || c == '.' || c == ':';
            if (!ok) {
                throw new IllegalArgumentException("The cluster name '" + cluster
                        + "' may hold only letters, digits, '-', '_', '.' and ':'");
            }
        }
        String inbox = inbox(cluster, self);
        if (!fits(inbox)) {
            throw new IllegalArgumentException("The inbox queue name '" + inbox + "' is longer than "
                    + MAX_NAME_BYTES + " bytes: shorten the cluster or node name");
        }
    }
}
