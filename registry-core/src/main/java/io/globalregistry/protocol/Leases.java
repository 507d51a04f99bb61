package io.globalregistry.protocol;

import io.globalregistry.membership.NodeId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one node knows of leases (docs/PROTOCOL.md, "Liveness"): its own, from the heartbeats it read
 * back from the lease logs, and when it last read each member's heartbeat in each log. Times are this
 * node's monotonic milliseconds.
 *
 * <p>Under {@link RegistryConfig.Liveness#LEASE} every heartbeat goes to each of {@code logs} lease logs
 * (RabbitMQ streams whose leaders sit on different broker nodes). Each log is read by every node in one
 * order and hands an entry to its readers only once a majority of broker nodes stores it. So, with
 * {@code quorum} = a majority of the logs:
 * <ul>
 *   <li>A heartbeat of ours sent at {@code s} and read back from log {@code j} makes us fresh in
 *       {@code j} until {@code s + lease}. We may act while we are fresh in {@code quorum} logs. A lease
 *       held without a gap is the only right to act; one that lapsed ends the incarnation (the others
 *       may already have certified it dead).</li>
 *   <li>A member whose newest heartbeat in log {@code j} we read at {@code r_j} cannot be fresh in
 *       {@code j} at any time in {@code [r_j + lease, s_j]}, where {@code s_j} is the send time of a
 *       heartbeat of ours read back from {@code j} with none of the member's before it: had it been, it
 *       would have had a heartbeat sent after {@code r_j} and read back before {@code s_j}, which the
 *       log holds before ours. If those intervals of {@code quorum} logs share an instant (their
 *       {@code max r + takeover < min s}), the member was fresh in fewer than {@code quorum} logs then:
 *       its lease lapsed, so it acts no more. It is dead.</li>
 * </ul>
 * A reader cut off with a minority of broker nodes reads nothing of its own back, so it certifies
 * nothing; a log whose leader is cut off stops for everyone until RabbitMQ moves it, but the others
 * keep the leases (and the certificates) going.
 *
 * <p>Under {@link RegistryConfig.Liveness#BROKER} there is one log (the inbox) and only the own lease
 * is kept, {@code fence-after} from the send time of the newest heartbeat heard back, for the checks
 * where an owner acts.
 *
 * <p>Event-loop only, except {@link #validAt}, which any thread may call.
 */
final class Leases {

    /** How many sent heartbeats are remembered by their clock value: read-backs come within seconds. */
    private static final int REMEMBERED = 512;

    private final long leaseMillis;
    private final long takeoverMillis;
    private final int logs;
    private final int quorum;
    private final Map<Long, Long> sentAt = new LinkedHashMap<>(64, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Long> eldest) {
            return size() > REMEMBERED;
        }
    };
    /** Per log: until when we are fresh in it; the send time of our newest heartbeat read back from it. */
    private final long[] freshUntil;
    private final long[] newestReadBack;
    /** Per member, per log: when we read its newest heartbeat there. */
    private final Map<NodeId, long[]> lastRead = new HashMap<>();
    private volatile long validUntil = Long.MIN_VALUE;

    Leases(long leaseMillis, long takeoverMillis, int logs) {
        this.leaseMillis = leaseMillis;
        this.takeoverMillis = takeoverMillis;
        this.logs = logs;
        this.quorum = logs / 2 + 1;
        this.freshUntil = new long[logs];
        this.newestReadBack = new long[logs];
        Arrays.fill(freshUntil, Long.MIN_VALUE);
        Arrays.fill(newestReadBack, Long.MIN_VALUE);
    }

    int logs() {
        return logs;
    }

    /** Our heartbeat stamped {@code hlc} was published (to every log) at {@code now}. */
    void sent(long hlc, long now) {
        sentAt.put(hlc, now);
    }

    /** When our heartbeat stamped {@code hlc} was sent, or null if it is not one we remember. */
    Long sendTimeOf(long hlc) {
        return sentAt.get(hlc);
    }

    /** Whether a lease was held and ran out before {@code now}: the incarnation must end. */
    boolean lapsed(long now) {
        return validUntil != Long.MIN_VALUE && now > validUntil;
    }

    /** A heartbeat of ours sent at {@code sent} was read back from {@code log}: it extends the lease, and certificates. */
    void extend(int log, long sent) {
        newestReadBack[log] = Math.max(newestReadBack[log], sent);
        confirmed(log, sent);
    }

    /**
     * A heartbeat of ours sent at {@code sent} is stored by a majority of {@code log}'s replicas (the broker's
     * publisher confirm, which a stream sends once the entry is committed): it extends the lease like a read-back,
     * but proves nothing about what we read, so it certifies nobody.
     */
    void confirmed(int log, long sent) {
        freshUntil[log] = Math.max(freshUntil[log], sent + leaseMillis);
        long[] sorted = freshUntil.clone();
        Arrays.sort(sorted);
        validUntil = Math.max(validUntil, sorted[logs - quorum]); // fresh in `quorum` logs until then
    }

    /** Whether this node may act as an owner at {@code now}. Any thread. */
    boolean validAt(long now) {
        return now <= validUntil;
    }

    /** When the lease runs out (monotonic ms), or {@link Long#MIN_VALUE} before the first. */
    long validUntil() {
        return validUntil;
    }

    /**
     * Whether heartbeats of ours sent after {@code since + takeover} were read back from a quorum of
     * logs: any member acting since then has a heartbeat before one of them, so we know it (the join waits).
     */
    boolean readBackSentAfter(long since) {
        int count = 0;
        for (long sent : newestReadBack) {
            if (sent != Long.MIN_VALUE && sent > since + takeoverMillis) {
                count++;
            }
        }
        return count >= quorum;
    }

    /** We read a heartbeat of {@code member} from {@code log} at {@code now}. */
    void read(NodeId member, int log, long now) {
        long[] reads = lastRead.computeIfAbsent(member, m -> filled(now));
        reads[log] = Math.max(reads[log], now);
    }

    /**
     * Which of {@code members} are certainly not acting, by what we read back so far. A member never
     * read in a log counts as read there at {@code now} the first time it is looked at (it was heard of
     * no earlier than that, and this node read the logs before).
     */
    List<NodeId> expired(Iterable<NodeId> members, long now) {
        List<NodeId> gone = new ArrayList<>();
        for (NodeId member : members) {
            long[] reads = lastRead.computeIfAbsent(member, m -> filled(now));
            if (certified(reads)) {
                gone.add(member);
            }
        }
        return gone;
    }

    /** Whether some {@code quorum} logs have {@code max(read) + takeover < min(newestReadBack)}. */
    private boolean certified(long[] reads) {
        for (int subset = 0; subset < (1 << logs); subset++) {
            if (Integer.bitCount(subset) != quorum) {
                continue;
            }
            long latestRead = Long.MIN_VALUE;
            long earliestOwn = Long.MAX_VALUE;
            for (int log = 0; log < logs; log++) {
                if ((subset & (1 << log)) != 0) {
                    latestRead = Math.max(latestRead, reads[log]);
                    earliestOwn = Math.min(earliestOwn, newestReadBack[log]);
                }
            }
            if (earliestOwn != Long.MIN_VALUE && latestRead + takeoverMillis < earliestOwn) {
                return true;
            }
        }
        return false;
    }

    private long[] filled(long now) {
        long[] reads = new long[logs];
        Arrays.fill(reads, now);
        return reads;
    }

    /**
     * This node starts reading the logs again from their next entries, after a time it did not: what it read
     * before proves nothing now (a member may have had heartbeats in between), so every member counts as read
     * now and no heartbeat of ours as read back yet.
     */
    void restartReading() {
        lastRead.clear();
        Arrays.fill(newestReadBack, Long.MIN_VALUE);
    }

    /** {@code member} is gone: nothing more to keep. */
    void forget(NodeId member) {
        lastRead.remove(member);
    }

    long leaseMillis() {
        return leaseMillis;
    }
}
