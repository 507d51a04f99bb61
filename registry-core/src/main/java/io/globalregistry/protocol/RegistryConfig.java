package io.globalregistry.protocol;

import java.time.Duration;
import java.util.Objects;

/**
 * The protocol's settings for one node.
 *
 * @param cluster the cluster this node belongs to; nodes of other clusters are ignored
 * @param heartbeatInterval how often a node broadcasts its heartbeat
 * @param suspectAfter how long a silent member goes before the broker is asked whether it is alive
 * @param claimTimeout how long a claim waits for every live member's answer
 * @param joinWindow how long a joining node collects the others' names before it may claim
 * @param maxMessageSize the largest message accepted or sent, in bytes
 * @param claimOrdering how claims are ordered; {@link ClaimOrdering#HLC} is the only safe choice
 */
public record RegistryConfig(String cluster, Duration heartbeatInterval, Duration suspectAfter,
                             Duration claimTimeout, Duration joinWindow, int maxMessageSize,
                             ClaimOrdering claimOrdering) {

    /** How claims are ordered. */
    public enum ClaimOrdering {
        /** By hybrid logical clock, then node id: a claim made after seeing another orders after it. */
        HLC,
        /** By wall clock, as kz_globals does. Unsafe under clock skew; kept to show the simulation catches it. */
        WALL_CLOCK
    }

    public RegistryConfig {
        Objects.requireNonNull(cluster, "cluster");
        positive(heartbeatInterval, "heartbeat-interval");
        positive(suspectAfter, "suspect-after");
        positive(claimTimeout, "claim-timeout");
        Objects.requireNonNull(joinWindow, "join-window");
        Objects.requireNonNull(claimOrdering, "claimOrdering");
        if (suspectAfter.compareTo(heartbeatInterval) <= 0) {
            throw new IllegalArgumentException("suspect-after (" + suspectAfter
                    + ") must be longer than heartbeat-interval (" + heartbeatInterval + ")");
        }
        if (maxMessageSize < 4096) {
            throw new IllegalArgumentException("max-message-size must be at least 4096 bytes, got " + maxMessageSize);
        }
    }

    /** The defaults: 250 ms heartbeats, suspicion after 1 s, 2 s claims, 1 MiB messages. */
    public static RegistryConfig defaults(String cluster) {
        return new RegistryConfig(cluster, Duration.ofMillis(250), Duration.ofSeconds(1), Duration.ofSeconds(2),
                Duration.ofMillis(500), 1024 * 1024, ClaimOrdering.HLC);
    }

    public RegistryConfig withHeartbeat(Duration interval, Duration suspect) {
        return new RegistryConfig(cluster, interval, suspect, claimTimeout, joinWindow, maxMessageSize, claimOrdering);
    }

    public RegistryConfig withClaimTimeout(Duration timeout) {
        return new RegistryConfig(cluster, heartbeatInterval, suspectAfter, timeout, joinWindow, maxMessageSize, claimOrdering);
    }

    public RegistryConfig withJoinWindow(Duration window) {
        return new RegistryConfig(cluster, heartbeatInterval, suspectAfter, claimTimeout, window, maxMessageSize, claimOrdering);
    }

    public RegistryConfig withMaxMessageSize(int bytes) {
        return new RegistryConfig(cluster, heartbeatInterval, suspectAfter, claimTimeout, joinWindow, bytes, claimOrdering);
    }

    public RegistryConfig withClaimOrdering(ClaimOrdering ordering) {
        return new RegistryConfig(cluster, heartbeatInterval, suspectAfter, claimTimeout, joinWindow, maxMessageSize, ordering);
    }

    /** How long a grant binds the granting node: long enough to outlive any claim that can still win. */
    public long grantTtlMillis() {
        return 2 * claimTimeout.toMillis();
    }

    private static void positive(Duration d, String property) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(property + " must be a positive duration, got " + d);
        }
    }
}
