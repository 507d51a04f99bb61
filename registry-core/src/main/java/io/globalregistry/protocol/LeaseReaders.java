package io.globalregistry.protocol;

import io.globalregistry.membership.Membership;
import io.globalregistry.membership.NodeId;
import io.globalregistry.wire.Message.Heartbeat;
import io.globalregistry.wire.Message.Summary;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Liveness {@code lease} with confirmed heartbeats (docs/PROTOCOL.md, "Liveness", rule 7): which nodes read the
 * lease logs, so the broker's idle work grows with the nodes, not with their square. A node holds its lease by
 * the broker's confirms; it reads the logs only while
 * <ul>
 *   <li>it joins (Join, step 3 under LEASE: it must see every member that acts), or</li>
 *   <li>it is one of the first {@link #READERS} in line (node id order) among the members it knows, or</li>
 *   <li>no reader's {@link Summary} came for {@link #ORPHANED_AFTER_SUSPECTS} x suspect-after (the readers are
 *       gone, or cut off: someone must read to certify them dead).</li>
 * </ul>
 * A reader certifies deaths by rule 3 and tells the others ({@code down}), and broadcasts, every
 * {@link #SUMMARY_EVERY_SUSPECTS} x suspect-after unless another reader's summary came since its last, a summary of
 * each member's newest heartbeat it read: the others learn members, their digests (anti-entropy),
 * leader epochs and crash graces from it. Event-loop only.
 */
final class LeaseReaders {

    /** How many nodes read the lease logs (besides joiners and nodes that hear no reader). */
    static final int READERS = 2;
    /** How many certified deaths a summary repeats at most, and for how many suspect-after periods. */
    static final int REMEMBERED_DEATHS = 64;
    static final int DEATHS_TOLD_FOR_SUSPECTS = 30;
    /** How many suspect-after periods go between two summaries of the readers. */
    static final int SUMMARY_EVERY_SUSPECTS = 2;
    /** How many suspect-after periods without a reader's summary make a node read the logs itself (3 summaries). */
    static final int ORPHANED_AFTER_SUSPECTS = 3 * SUMMARY_EVERY_SUSPECTS;

    private final NodeId self;
    private final Membership membership;
    private final long suspectAfterMillis;
    private final Map<NodeId, Heartbeat> newestRead = new HashMap<>();
    /** The deaths this node certified by the logs lately, told again in every summary (a {@code down} may be lost). */
    private final Map<NodeId, Long> certified = new java.util.LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<NodeId, Long> eldest) {
            return size() > REMEMBERED_DEATHS;
        }
    };
    private boolean reading = true; // a transport reads from its start
    private long lastSummaryHeard;
    /** When a reader's summary last listed each member as one it watches. */
    private final Map<NodeId, Long> watchedAt = new HashMap<>();
    private long lastSummarySent = Long.MIN_VALUE;
    /** When another reader's summary last came. */
    private long lastOtherSummary = Long.MIN_VALUE;

    LeaseReaders(NodeId self, Membership membership, long suspectAfterMillis) {
        this.self = self;
        this.membership = membership;
        this.suspectAfterMillis = suspectAfterMillis;
    }

    /** The node starts; it reads until it has joined. */
    void started(long now) {
        lastSummaryHeard = now;
    }

    /** Whether this node reads the logs now. */
    boolean reading() {
        return reading;
    }

    /**
     * Whether this node should read the logs at {@code now}; when that changes, the caller starts or stops
     * reading (and, starting, forgets what it read before: {@link Leases#restartReading()}).
     */
    boolean shouldRead(boolean joined, long now) {
        long orphaned = ORPHANED_AFTER_SUSPECTS * suspectAfterMillis;
        return !joined || firstInLine() || now - lastSummaryHeard > orphaned || unwatched(now, orphaned);
    }

    /**
     * Whether this node knows a member no reader has listed as one it watches for {@code orphaned} ms (a reader
     * that joined after it went silent, say, never heard of it): then this node reads, to certify it if it must.
     */
    private boolean unwatched(long now, long orphaned) {
        for (Membership.Member member : membership.members()) {
            long since = Math.max(member.joinedAt(), watchedAt.getOrDefault(member.id(), Long.MIN_VALUE));
            if (now - since > orphaned) {
                return true;
            }
        }
        return false;
    }

    /** Records that reading was turned on or off; on, what was read before counts no more. */
    void reading(boolean on) {
        reading = on;
        if (on) {
            newestRead.clear();
        }
    }

    /** Whether this node is one of the first {@link #READERS} by node id among itself and the members it knows. */
    boolean firstInLine() {
        TreeSet<NodeId> line = new TreeSet<>(membership.memberIds());
        line.add(self);
        int position = line.headSet(self).size();
        return position < READERS;
    }

    /** A member's heartbeat read from a log (the newest per member is summarised). */
    void read(NodeId member, Heartbeat heartbeat) {
        newestRead.put(member, heartbeat);
    }

    /** This node certified {@code member} dead by the logs at {@code now}. */
    void certified(NodeId member, long now) {
        certified.put(member, now);
    }

    /** A reader's summary came from {@code reader}. */
    void summaryHeard(NodeId reader, Summary summary, long now) {
        lastSummaryHeard = now;
        if (!reader.equals(self)) {
            lastOtherSummary = now;
        }
        watchedAt.put(reader, now);
        for (NodeId known : summary.known()) {
            watchedAt.put(known, now);
        }
    }

    /** The summary to broadcast now, if this node is a reader in line and one is due; else null. */
    Summary summaryDue(boolean joined, long now, Heartbeat own) {
        if (!reading || !joined || !firstInLine()
                || (lastSummarySent != Long.MIN_VALUE && now - lastSummarySent < SUMMARY_EVERY_SUSPECTS * suspectAfterMillis)) {
            return null;
        }
        // the other reader's summary came since our last: it speaks for both (each reads every log), ours waits
        boolean toldByAnother = lastSummarySent != Long.MIN_VALUE && lastOtherSummary > lastSummarySent;
        lastSummarySent = now;
        if (toldByAnother) {
            return null;
        }
        List<Summary.Entry> entries = new ArrayList<>();
        entries.add(entry(self, own));
        for (NodeId member : membership.memberIds()) {
            Heartbeat heartbeat = newestRead.get(member);
            if (heartbeat != null) {
                entries.add(entry(member, heartbeat));
            }
        }
        certified.values().removeIf(at -> now - at > DEATHS_TOLD_FOR_SUSPECTS * suspectAfterMillis);
        return new Summary(entries, List.copyOf(membership.memberIds()), List.copyOf(certified.keySet()));
    }

    private static Summary.Entry entry(NodeId node, Heartbeat heartbeat) {
        return new Summary.Entry(node, heartbeat.owned(), heartbeat.digest(), heartbeat.strategy(),
                heartbeat.leaderEpoch(), heartbeat.crashGrace(), heartbeat.lease());
    }

    /** {@code member} is gone. */
    void forget(NodeId member) {
        newestRead.remove(member);
        watchedAt.remove(member);
    }
}
