package io.globalregistry.protocol;

import io.globalregistry.wire.SecurityConfig;
import java.time.Duration;
import java.util.Objects;

/**
 * The protocol's settings for one node.
 *
 * @param cluster the cluster this node belongs to; nodes of other clusters are ignored
 * @param heartbeatInterval how often a node broadcasts its heartbeat
 * @param suspectAfter how long a silent member goes before the broker is asked whether it is alive
 * @param claimTimeout how long a claim waits for every live member's answer
 * @param joinWindow how long a joining node collects the others' names before it may claim; it waits
 *                   fence-after + 2 x heartbeat-interval at least (see {@link #joinMillis()})
 * @param maxMessageSize the largest message accepted or sent, in bytes
 * @param claimOrdering how claims are ordered; {@link ClaimOrdering#HLC} is the only safe choice
 * @param callTimeout how long a proxied call may take in all, waiting for an owner and retries included
 * @param callThreads how many threads run incoming calls on the owner
 * @param callQueue how many incoming calls may wait for a thread; beyond that the caller is told the owner is busy
 * @param security whether messages are signed (HMAC-SHA256) and checked
 * @param fenceAfter how long a node goes without hearing its own heartbeat through the broker before it
 *                   gives up its names (self-fencing); must stay below the broker's connection heartbeat timeout
 * @param strategy how the cluster decides who owns a name; every node of a cluster must use the same
 * @param leaderRetry under {@link Strategy#LEADER}: how often a node that is not the leader tries to become it
 * @param liveness what makes a node an owner that may act, and another one dead: see {@link Liveness}
 * @param crashGrace under {@link Liveness#LEASE}, when the broker reports closed connections (RabbitMQ's event
 *                   exchange): how long after the broker reported a node's connection closed the node is
 *                   certified dead; an owner then acts only while the broker answered a ping of its sent less
 *                   than nine tenths of this ago ({@link #crashLeaseMillis()}). {@link Duration#ZERO}: off, a
 *                   crashed node is certified dead by the lease logs only (after {@link #takeoverMillis()})
 * @param idleHeartbeatInterval under {@link Liveness#LEASE}: how often a node that owns nothing, leads nothing and
 *                   reads no lease log heartbeats; its heartbeats then announce the longer lease
 *                   {@link #idleLeaseMillis()}, so a silent idle member is certified dead only after
 *                   {@link #idleTakeoverMillis()}. At least {@code heartbeatInterval}; every node of a cluster uses the same
 */
public record RegistryConfig(String cluster, Duration heartbeatInterval, Duration suspectAfter,
                             Duration claimTimeout, Duration joinWindow, int maxMessageSize,
                             ClaimOrdering claimOrdering, Duration callTimeout, int callThreads, int callQueue,
                             SecurityConfig security, Duration fenceAfter, Strategy strategy,
                             Duration leaderRetry, Liveness liveness, Duration crashGrace,
                             Duration idleHeartbeatInterval) {

    /**
     * {@link Liveness#LEASE}: how many lease logs (streams) every heartbeat goes to; a node acts while it
     * is fresh in a majority of them, so one log whose leader is cut off or lost stops nobody.
     */
    public static final int LEASE_LOGS = 3;

    /** The default self-fencing delay: 1 s. */
    public static final Duration DEFAULT_FENCE_AFTER = Duration.ofSeconds(1);
    /** The default call timeout: 5 s. */
    public static final Duration DEFAULT_CALL_TIMEOUT = Duration.ofSeconds(5);
    /** The default number of threads running incoming calls: 8. */
    public static final int DEFAULT_CALL_THREADS = 8;
    /** The default number of incoming calls that may wait for a thread: 256. */
    public static final int DEFAULT_CALL_QUEUE = 256;

    /** The default crash grace: 150 ms (see {@link #crashGrace()}). */
    public static final Duration DEFAULT_CRASH_GRACE = Duration.ofMillis(150);

    /** The default idle heartbeat interval: 4 s (see {@link #idleHeartbeatInterval()}). */
    public static final Duration DEFAULT_IDLE_HEARTBEAT_INTERVAL = Duration.ofSeconds(4);

    /** The default leader retry: 250 ms. */
    public static final Duration DEFAULT_LEADER_RETRY = Duration.ofMillis(250);

    /** How a cluster decides who owns a name (DESIGN 5 and 6). */
    public enum Strategy {
        /** Every member votes on each claim (kz_globals, hardened); every node holds the whole table. */
        CLAIM,
        /** One leader, elected by the broker, decides alone; other nodes keep a read-through cache (leader_registry). */
        LEADER
    }

    /**
     * What a node's right to act as an owner rests on, and so what certifies another node's death
     * (docs/PROTOCOL.md, "Liveness"). Every node of a cluster must use the same.
     */
    public enum Liveness {
        /**
         * Chosen by the transport from what the broker supports: {@link #LEASE} on RabbitMQ 3.9 and
         * later (it has streams), else {@link #BROKER}.
         */
        AUTO,
        /**
         * A single broker node is the authority: a node acts while it hears its own heartbeats through
         * the broker, and a member is dead once the broker answers 404 for its inbox. Safe only when the
         * broker is one node (or a broker that is never partitioned), e.g. Qpid Broker-J in tests.
         */
        BROKER,
        /**
         * A majority of broker nodes is the authority: heartbeats go to the cluster's lease stream, which
         * a node reads back only once a majority of broker nodes stores them. A node acts only while its
         * lease (the send time of its newest heartbeat read back, plus {@link #leaseMillis()}) runs; a
         * member is dead once this node read back a heartbeat of its own sent later than
         * {@link #takeoverMillis()} after it last read one of that member's. A lease that lapses ends the
         * incarnation. Safe on a partitioned broker cluster, whatever its partition handling.
         */
        LEASE
    }

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
        positive(callTimeout, "call-timeout");
        Objects.requireNonNull(joinWindow, "join-window");
        Objects.requireNonNull(claimOrdering, "claimOrdering");
        Objects.requireNonNull(security, "security");
        positive(fenceAfter, "fence-after");
        Objects.requireNonNull(strategy, "strategy");
        positive(leaderRetry, "leader-retry");
        Objects.requireNonNull(liveness, "liveness");
        Objects.requireNonNull(crashGrace, "crash-grace");
        if (crashGrace.isNegative() || (!crashGrace.isZero() && crashGrace.toMillis() < 20)) {
            throw new IllegalArgumentException("crash-grace must be 0 (off) or at least 20 ms, got " + crashGrace);
        }
        Objects.requireNonNull(idleHeartbeatInterval, "idle-heartbeat-interval");
        if (idleHeartbeatInterval.compareTo(heartbeatInterval) < 0) {
            throw new IllegalArgumentException("idle-heartbeat-interval (" + idleHeartbeatInterval
                    + ") must not be shorter than heartbeat-interval (" + heartbeatInterval + ")");
        }
        if (fenceAfter.compareTo(heartbeatInterval) <= 0) {
            throw new IllegalArgumentException("fence-after (" + fenceAfter
                    + ") must be longer than heartbeat-interval (" + heartbeatInterval + ")");
        }
        if (suspectAfter.compareTo(heartbeatInterval) <= 0) {
            throw new IllegalArgumentException("suspect-after (" + suspectAfter
                    + ") must be longer than heartbeat-interval (" + heartbeatInterval + ")");
        }
        if (maxMessageSize < 4096) {
            throw new IllegalArgumentException("max-message-size must be at least 4096 bytes, got " + maxMessageSize);
        }
        if (callThreads < 1) {
            throw new IllegalArgumentException("call-threads must be at least 1, got " + callThreads);
        }
        if (callQueue < 0) {
            throw new IllegalArgumentException("call-queue must not be negative, got " + callQueue);
        }
    }

    /** The settings before the idle heartbeat interval existed: it takes its default. */
    public RegistryConfig(String cluster, Duration heartbeatInterval, Duration suspectAfter, Duration claimTimeout,
                          Duration joinWindow, int maxMessageSize, ClaimOrdering claimOrdering, Duration callTimeout,
                          int callThreads, int callQueue, SecurityConfig security, Duration fenceAfter, Strategy strategy,
                          Duration leaderRetry, Liveness liveness, Duration crashGrace) {
        this(cluster, heartbeatInterval, suspectAfter, claimTimeout, joinWindow, maxMessageSize, claimOrdering,
                callTimeout, callThreads, callQueue, security, fenceAfter, strategy, leaderRetry, liveness, crashGrace,
                max(DEFAULT_IDLE_HEARTBEAT_INTERVAL, heartbeatInterval));
    }

    private static Duration max(Duration a, Duration b) {
        return b == null || a.compareTo(b) >= 0 ? a : b;
    }

    /** The settings before calls and security existed; those take their defaults. */
    public RegistryConfig(String cluster, Duration heartbeatInterval, Duration suspectAfter, Duration claimTimeout,
                          Duration joinWindow, int maxMessageSize, ClaimOrdering claimOrdering) {
        this(cluster, heartbeatInterval, suspectAfter, claimTimeout, joinWindow, maxMessageSize, claimOrdering,
                DEFAULT_CALL_TIMEOUT, DEFAULT_CALL_THREADS, DEFAULT_CALL_QUEUE, SecurityConfig.NONE, DEFAULT_FENCE_AFTER,
                Strategy.CLAIM, DEFAULT_LEADER_RETRY, Liveness.AUTO, DEFAULT_CRASH_GRACE);
    }

    /**
     * The defaults: 250 ms heartbeats, suspicion after 1 s, 2 s claims, 1 MiB messages, 5 s calls
     * run by 8 threads with 256 waiting at most, no signing.
     */
    public static RegistryConfig defaults(String cluster) {
        return new RegistryConfig(cluster, Duration.ofMillis(250), Duration.ofSeconds(1), Duration.ofSeconds(2),
                Duration.ofMillis(500), 1024 * 1024, ClaimOrdering.HLC);
    }

    public RegistryConfig withHeartbeat(Duration interval, Duration suspect) {
        return new RegistryConfig(cluster, interval, suspect, claimTimeout, joinWindow, maxMessageSize, claimOrdering,
                callTimeout, callThreads, callQueue, security, fenceAfter, strategy,
                leaderRetry, liveness, crashGrace, max(idleHeartbeatInterval, interval));
    }

    public RegistryConfig withClaimTimeout(Duration timeout) {
        return new RegistryConfig(cluster, heartbeatInterval, suspectAfter, timeout, joinWindow, maxMessageSize,
                claimOrdering, callTimeout, callThreads, callQueue, security, fenceAfter, strategy,
                leaderRetry, liveness, crashGrace, idleHeartbeatInterval);
    }

    public RegistryConfig withJoinWindow(Duration window) {
        return new RegistryConfig(cluster, heartbeatInterval, suspectAfter, claimTimeout, window, maxMessageSize,
                claimOrdering, callTimeout, callThreads, callQueue, security, fenceAfter, strategy,
                leaderRetry, liveness, crashGrace, idleHeartbeatInterval);
    }

    public RegistryConfig withMaxMessageSize(int bytes) {
        return new RegistryConfig(cluster, heartbeatInterval, suspectAfter, claimTimeout, joinWindow, bytes,
                claimOrdering, callTimeout, callThreads, callQueue, security, fenceAfter, strategy,
                leaderRetry, liveness, crashGrace, idleHeartbeatInterval);
    }

    public RegistryConfig withClaimOrdering(ClaimOrdering ordering) {
        return new RegistryConfig(cluster, heartbeatInterval, suspectAfter, claimTimeout, joinWindow, maxMessageSize,
                ordering, callTimeout, callThreads, callQueue, security, fenceAfter, strategy,
                leaderRetry, liveness, crashGrace, idleHeartbeatInterval);
    }

    /** The same with another call timeout. */
    public RegistryConfig withCallTimeout(Duration timeout) {
        return new RegistryConfig(cluster, heartbeatInterval, suspectAfter, claimTimeout, joinWindow, maxMessageSize,
                claimOrdering, timeout, callThreads, callQueue, security, fenceAfter, strategy,
                leaderRetry, liveness, crashGrace, idleHeartbeatInterval);
    }

    /** The same with another call executor: {@code threads} threads, {@code queue} calls waiting at most. */
    public RegistryConfig withCallExecutor(int threads, int queue) {
        return new RegistryConfig(cluster, heartbeatInterval, suspectAfter, claimTimeout, joinWindow, maxMessageSize,
                claimOrdering, callTimeout, threads, queue, security, fenceAfter, strategy,
                leaderRetry, liveness, crashGrace, idleHeartbeatInterval);
    }

    /** The same with other security settings. */
    public RegistryConfig withSecurity(SecurityConfig settings) {
        return new RegistryConfig(cluster, heartbeatInterval, suspectAfter, claimTimeout, joinWindow, maxMessageSize,
                claimOrdering, callTimeout, callThreads, callQueue, settings, fenceAfter, strategy,
                leaderRetry, liveness, crashGrace, idleHeartbeatInterval);
    }

    /** The same with another self-fencing delay. */
    public RegistryConfig withFenceAfter(Duration fence) {
        return new RegistryConfig(cluster, heartbeatInterval, suspectAfter, claimTimeout, joinWindow, maxMessageSize,
                claimOrdering, callTimeout, callThreads, callQueue, security, fence, strategy,
                leaderRetry, liveness, crashGrace, idleHeartbeatInterval);
    }

    /** The same with another registration strategy. */
    public RegistryConfig withStrategy(Strategy kind) {
        return new RegistryConfig(cluster, heartbeatInterval, suspectAfter, claimTimeout, joinWindow, maxMessageSize,
                claimOrdering, callTimeout, callThreads, callQueue, security, fenceAfter, kind, leaderRetry, liveness, crashGrace, idleHeartbeatInterval);
    }

    /** The same with another leader retry interval. */
    public RegistryConfig withLeaderRetry(Duration retry) {
        return new RegistryConfig(cluster, heartbeatInterval, suspectAfter, claimTimeout, joinWindow, maxMessageSize,
                claimOrdering, callTimeout, callThreads, callQueue, security, fenceAfter, strategy, retry, liveness, crashGrace, idleHeartbeatInterval);
    }

    /**
     * How long a starting node waits before it claims: {@code joinWindow}, but never less than
     * fence-after + 2 x heartbeat-interval. A member cut off from the broker hears no hello and
     * reaches nobody, so a joiner may not know it, yet it holds its names until it fences: at most
     * fence-after + one heartbeat interval after it last heard itself, which was less than one
     * heartbeat interval after the joiner's inbox existed (a later heartbeat would have reached the
     * joiner, which would then wait for its answer). Every node of a cluster uses the same settings.
     */
    public long joinMillis() {
        return Math.max(joinWindow.toMillis(), fenceAfter.toMillis() + 2 * heartbeatInterval.toMillis());
    }

    /** The same with another liveness rule. */
    public RegistryConfig withLiveness(Liveness rule) {
        return new RegistryConfig(cluster, heartbeatInterval, suspectAfter, claimTimeout, joinWindow, maxMessageSize,
                claimOrdering, callTimeout, callThreads, callQueue, security, fenceAfter, strategy, leaderRetry, rule, crashGrace, idleHeartbeatInterval);
    }

    /**
     * {@link Liveness#LEASE}: how long a heartbeat read back from the lease stream lets its node act,
     * counted from when it was sent: fence-after + 2 x heartbeat-interval, so a pause of up to
     * fence-after (a GC pause) does not cost the node its lease while the stream answers within a
     * heartbeat interval.
     */
    public long leaseMillis() {
        return fenceAfter.toMillis() + 2 * heartbeatInterval.toMillis();
    }

    /**
     * {@link Liveness#LEASE}: how much longer than a lease another node waits before it takes over:
     * the lease plus a margin for the rates of two monotonic clocks (a tenth of the lease, one
     * heartbeat interval at least).
     */
    public long takeoverMillis() {
        return takeoverMillis(leaseMillis());
    }

    /**
     * {@link Liveness#LEASE}: the lease an idle node's heartbeat announces (rule 8): fence-after + idle-heartbeat-interval
     * + heartbeat-interval, so an idle node keeps its membership without a gap while the logs confirm within a heartbeat
     * interval, a pause of up to fence-after included. It keeps the incarnation only: a node acts as an owner within
     * {@link #leaseMillis()} of a heartbeat's send time, whatever the heartbeat announced.
     */
    public long idleLeaseMillis() {
        return Math.max(leaseMillis(), fenceAfter.toMillis() + idleHeartbeatInterval.toMillis()
                + heartbeatInterval.toMillis());
    }

    /** {@link Liveness#LEASE}: the takeover time of a heartbeat announcing {@code lease} (see {@link #takeoverMillis()}). */
    public long takeoverMillis(long lease) {
        return lease + Math.max(lease / 10, heartbeatInterval.toMillis());
    }

    /** {@link Liveness#LEASE}: how long a silent idle member goes before it is certified dead. */
    public long idleTakeoverMillis() {
        return takeoverMillis(idleLeaseMillis());
    }

    /** How many heartbeat intervals go between two heartbeats of an idle node. */
    public int idleHeartbeatTicks() {
        return (int) Math.max(1, idleHeartbeatInterval.toMillis() / heartbeatInterval.toMillis());
    }

    /** The same with another idle heartbeat interval. */
    public RegistryConfig withIdleHeartbeatInterval(Duration interval) {
        return new RegistryConfig(cluster, heartbeatInterval, suspectAfter, claimTimeout, joinWindow, maxMessageSize,
                claimOrdering, callTimeout, callThreads, callQueue, security, fenceAfter, strategy, leaderRetry, liveness,
                crashGrace, interval);
    }

    /** The same with another crash grace ({@link Duration#ZERO}: crash detection off). */
    public RegistryConfig withCrashGrace(Duration grace) {
        return new RegistryConfig(cluster, heartbeatInterval, suspectAfter, claimTimeout, joinWindow, maxMessageSize,
                claimOrdering, callTimeout, callThreads, callQueue, security, fenceAfter, strategy, leaderRetry, liveness,
                grace, idleHeartbeatInterval);
    }

    /**
     * Crash detection: how long an owner may act after sending a ping the broker answered: nine tenths of
     * the crash grace, so another node, which waits the whole grace after the broker reported the owner's
     * connection closed, leaves a margin for the rates of the two monotonic clocks. Any answer the owner
     * gets was written before its connection closed, so the owner stops acting before the other takes over.
     */
    public long crashLeaseMillis() {
        long grace = crashGrace.toMillis();
        return grace - Math.max(grace / 10, 1);
    }

    /** Crash detection: how often an owner pings the broker (a quarter of the crash grace). */
    public long crashPingMillis() {
        return Math.max(1, crashGrace.toMillis() / 4);
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
