package io.globalregistry.protocol;

import io.globalregistry.membership.NodeId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongUnaryOperator;

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
 * <p>Each heartbeat announces the lease it gives ({@code L}: the busy {@code lease}, or an idle node's longer one,
 * rule 8). It keeps the incarnation for {@code s + L} (a membership lease: when that lapses the incarnation ends), but
 * lets its node act as an owner only until {@code s + min(L, lease)}: acting rests on the busy lease alone, so an idle
 * node about to act heartbeats first. A reader's bound for a member in log {@code j} is the latest
 * {@code r + takeover(L)} over the member's heartbeats it read there ({@code r}: when, {@code L}: what it announced);
 * a member it never read counts as read when it first looked, announcing the longest lease any node may.
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

    /** One heartbeat of ours: when it was sent, and the lease it announced. */
    record Sent(long at, long lease) {
    }

    private final long leaseMillis;
    private final long takeoverMillis;
    private final long maxLeaseMillis;
    private final LongUnaryOperator takeover;
    private final int logs;
    private final int quorum;
    private final Map<Long, Sent> sentAt = new LinkedHashMap<>(64, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Sent> eldest) {
            return size() > REMEMBERED;
        }
    };
    /**
     * Per log: until when we are fresh in it as a member (by the leases our heartbeats announced) and as an owner (by
     * at most the busy lease); the send time of our newest heartbeat read back from it.
     */
    private final long[] freshUntil;
    private final long[] actingUntilIn;
    private final long[] newestReadBack;
    /** Per member, per log: the latest {@code r + takeover(L)} of its heartbeats we read there. */
    private final Map<NodeId, long[]> bounds = new HashMap<>();
    private volatile long memberUntil = Long.MIN_VALUE;
    private volatile long actingUntil = Long.MIN_VALUE;

    /**
     * @param leaseMillis the busy lease: how long a heartbeat lets its node act
     * @param maxLeaseMillis the longest lease a node of the cluster may announce (an idle node's)
     * @param takeover the takeover time of a lease: the lease and a margin for the rates of two clocks
     */
    Leases(long leaseMillis, long maxLeaseMillis, LongUnaryOperator takeover, int logs) {
        this.leaseMillis = leaseMillis;
        this.maxLeaseMillis = Math.max(leaseMillis, maxLeaseMillis);
        this.takeover = takeover;
        this.takeoverMillis = takeover.applyAsLong(leaseMillis);
        this.logs = logs;
        this.quorum = logs / 2 + 1;
        this.freshUntil = new long[logs];
        this.actingUntilIn = new long[logs];
        this.newestReadBack = new long[logs];
        Arrays.fill(freshUntil, Long.MIN_VALUE);
        Arrays.fill(actingUntilIn, Long.MIN_VALUE);
        Arrays.fill(newestReadBack, Long.MIN_VALUE);
    }

    int logs() {
        return logs;
    }

    /** Our heartbeat stamped {@code hlc}, announcing {@code lease}, was published (to every log) at {@code now}. */
    void sent(long hlc, long now, long lease) {
        sentAt.put(hlc, new Sent(now, lease));
    }

    /** Our heartbeat stamped {@code hlc} was published at {@code now}, announcing the busy lease. */
    void sent(long hlc, long now) {
        sent(hlc, now, leaseMillis);
    }

    /** When our heartbeat stamped {@code hlc} was sent and what it announced, or null if it is not one we remember. */
    Sent sendTimeOf(long hlc) {
        return sentAt.get(hlc);
    }

    /** Whether a (membership) lease was held and ran out before {@code now}: the incarnation must end. */
    boolean lapsed(long now) {
        return memberUntil != Long.MIN_VALUE && now > memberUntil;
    }

    /** A heartbeat of ours, {@code sent}, was read back from {@code log}: it extends the lease, and certificates. */
    void extend(int log, Sent sent) {
        newestReadBack[log] = Math.max(newestReadBack[log], sent.at());
        confirmed(log, sent);
    }

    /**
     * A heartbeat of ours, {@code sent}, is stored by a majority of {@code log}'s replicas (the broker's publisher
     * confirm, which a stream sends once the entry is committed): it extends the lease like a read-back, but proves
     * nothing about what we read, so it certifies nobody.
     */
    void confirmed(int log, Sent sent) {
        freshUntil[log] = Math.max(freshUntil[log], sent.at() + Math.max(sent.lease(), leaseMillis));
        actingUntilIn[log] = Math.max(actingUntilIn[log], sent.at() + Math.min(sent.lease(), leaseMillis));
        memberUntil = Math.max(memberUntil, quorumOf(freshUntil));
        actingUntil = Math.max(actingUntil, quorumOf(actingUntilIn));
    }

    /** The latest instant until which {@code quorum} of the per-log values last. */
    private long quorumOf(long[] perLog) {
        long[] sorted = perLog.clone();
        Arrays.sort(sorted);
        return sorted[logs - quorum];
    }

    /** Whether this node may act as an owner at {@code now} (the busy lease). Any thread. */
    boolean validAt(long now) {
        return now <= actingUntil;
    }

    /** Whether this node's incarnation holds at {@code now}: its membership lease runs. Any thread. */
    boolean memberAt(long now) {
        return now <= memberUntil;
    }

    /** When the right to act runs out (monotonic ms), or {@link Long#MIN_VALUE} before the first. */
    long validUntil() {
        return actingUntil;
    }

    /** When the membership lease runs out (monotonic ms), or {@link Long#MIN_VALUE} before the first. */
    long memberUntil() {
        return memberUntil;
    }

    /**
     * Whether heartbeats of ours sent after {@code since + takeover} were read back from a quorum of
     * logs: any member acting since then has a heartbeat before one of them, so we know it (the join waits).
     * Acting rests on the busy lease, whatever a heartbeat announced, so the busy takeover is enough.
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

    /** We read a heartbeat of {@code member} announcing {@code lease} (0: not said) from {@code log} at {@code now}. */
    void read(NodeId member, int log, long now, long lease) {
        long[] reads = bounds.computeIfAbsent(member, m -> firstLook(now));
        long announced = lease <= 0 ? maxLeaseMillis : Math.max(lease, leaseMillis);
        reads[log] = Math.max(reads[log], now + takeover.applyAsLong(announced));
    }

    /** We read a heartbeat of {@code member} announcing the busy lease. */
    void read(NodeId member, int log, long now) {
        read(member, log, now, leaseMillis);
    }

    /**
     * Which of {@code members} are certainly not acting, by what we read back so far. A member never
     * read in a log counts as read there at {@code now} the first time it is looked at (it was heard of
     * no earlier than that, and this node read the logs before), with the longest lease a node may announce.
     */
    List<NodeId> expired(Iterable<NodeId> members, long now) {
        List<NodeId> gone = new ArrayList<>();
        for (NodeId member : members) {
            long[] reads = bounds.computeIfAbsent(member, m -> firstLook(now));
            if (certified(reads)) {
                gone.add(member);
            }
        }
        return gone;
    }

    /** Whether some {@code quorum} logs have {@code max(bound) < min(newestReadBack)}. */
    private boolean certified(long[] reads) {
        for (int subset = 0; subset < (1 << logs); subset++) {
            if (Integer.bitCount(subset) != quorum) {
                continue;
            }
            long latestBound = Long.MIN_VALUE;
            long earliestOwn = Long.MAX_VALUE;
            for (int log = 0; log < logs; log++) {
                if ((subset & (1 << log)) != 0) {
                    latestBound = Math.max(latestBound, reads[log]);
                    earliestOwn = Math.min(earliestOwn, newestReadBack[log]);
                }
            }
            if (earliestOwn != Long.MIN_VALUE && latestBound < earliestOwn) {
                return true;
            }
        }
        return false;
    }

    private long[] firstLook(long now) {
        long[] reads = new long[logs];
        Arrays.fill(reads, now + takeover.applyAsLong(maxLeaseMillis));
        return reads;
    }

    /**
     * This node starts reading the logs again from their next entries, after a time it did not: what it read
     * before proves nothing now (a member may have had heartbeats in between), so every member counts as read
     * now and no heartbeat of ours as read back yet.
     */
    void restartReading() {
        bounds.clear();
        Arrays.fill(newestReadBack, Long.MIN_VALUE);
    }

    /** {@code member} is gone: nothing more to keep. */
    void forget(NodeId member) {
        bounds.remove(member);
    }

    long leaseMillis() {
        return leaseMillis;
    }
}
