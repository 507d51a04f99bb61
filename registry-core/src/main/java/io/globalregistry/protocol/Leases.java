package io.globalregistry.protocol;

import io.globalregistry.membership.NodeId;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one node knows of leases (docs/PROTOCOL.md, "Liveness"): its own, from the heartbeats it read
 * back, and when it last read each member's heartbeat. Times are this node's monotonic milliseconds.
 *
 * <p>Under {@link RegistryConfig.Liveness#LEASE} heartbeats are read from one log in one order, and
 * the log hands an entry to its readers only once a majority of broker nodes stores it. So:
 * <ul>
 *   <li>A heartbeat of ours sent at {@code s} and read back lets us act until {@code s + lease}. A
 *       lease held without a gap is the only right to act; one that lapsed ends the incarnation (the
 *       others may already have certified it dead).</li>
 *   <li>A member whose newest heartbeat we read at {@code r}, when we read back a heartbeat of ours
 *       sent after {@code r + takeover} with none of the member's in between, is certainly not acting:
 *       had it acted at {@code r + lease}, it would have held a heartbeat sent after {@code r} and read
 *       back before {@code r + lease}, which the log holds before ours, so we would have read it.</li>
 * </ul>
 * Under {@link RegistryConfig.Liveness#BROKER} only the own lease is kept (for the checks where an
 * owner acts), {@code fence-after} from the send time of the newest heartbeat heard back.
 *
 * <p>Event-loop only, except {@link #validAt}, which any thread may call.
 */
final class Leases {

    /** How many sent heartbeats are remembered by their clock value: read-backs come within seconds. */
    private static final int REMEMBERED = 512;

    private final long leaseMillis;
    private final long takeoverMillis;
    private final Map<Long, Long> sentAt = new LinkedHashMap<>(64, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Long> eldest) {
            return size() > REMEMBERED;
        }
    };
    private final Map<NodeId, Long> lastRead = new HashMap<>();
    private volatile long validUntil = Long.MIN_VALUE;
    private boolean held;
    private long newestReadBack = Long.MIN_VALUE;

    Leases(long leaseMillis, long takeoverMillis) {
        this.leaseMillis = leaseMillis;
        this.takeoverMillis = takeoverMillis;
    }

    /** Our heartbeat stamped {@code hlc} was published at {@code now}. */
    void sent(long hlc, long now) {
        sentAt.put(hlc, now);
    }

    /** When our heartbeat stamped {@code hlc} was sent, or null if it is not one we remember. */
    Long sendTimeOf(long hlc) {
        return sentAt.get(hlc);
    }

    /** Whether a lease was held and ran out before {@code now}: the incarnation must end. */
    boolean lapsed(long now) {
        return held && now > validUntil;
    }

    /** A heartbeat of ours sent at {@code sent} was read back: the lease runs until {@code sent + lease} at least. */
    void extend(long sent) {
        held = true;
        newestReadBack = Math.max(newestReadBack, sent);
        validUntil = Math.max(validUntil, sent + leaseMillis);
    }

    /** Whether this node may act as an owner at {@code now}. Any thread. */
    boolean validAt(long now) {
        return now <= validUntil;
    }

    /** When the lease runs out (monotonic ms), or {@link Long#MIN_VALUE} before the first. */
    long validUntil() {
        return validUntil;
    }

    /** Whether a heartbeat of ours sent after {@code since + takeover} was read back (the join waits for one). */
    boolean readBackSentAfter(long since) {
        return newestReadBack > since + takeoverMillis;
    }

    /** We read a heartbeat of {@code member} at {@code now}. */
    void read(NodeId member, long now) {
        lastRead.put(member, now);
    }

    /**
     * Which of {@code members} are certainly not acting, now that a heartbeat of ours sent at
     * {@code sent} was read back. A member never read counts as read at {@code now}, the first time
     * it is looked at (it was heard of no earlier than that, and this node read the log before).
     */
    List<NodeId> expired(Iterable<NodeId> members, long sent, long now) {
        List<NodeId> gone = new java.util.ArrayList<>();
        for (NodeId member : members) {
            long read = lastRead.computeIfAbsent(member, m -> now);
            if (sent > read + takeoverMillis) {
                gone.add(member);
            }
        }
        return gone;
    }

    /** {@code member} is gone: nothing more to keep. */
    void forget(NodeId member) {
        lastRead.remove(member);
    }

    long leaseMillis() {
        return leaseMillis;
    }
}
