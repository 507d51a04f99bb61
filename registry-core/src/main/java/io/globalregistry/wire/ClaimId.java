package io.globalregistry.wire;

import io.globalregistry.membership.NodeId;
import java.util.Comparator;
import java.util.Objects;

/**
 * One attempt by one node to claim a name: the claimant's hybrid-logical-clock timestamp when it
 * started and its node id. Claims are totally ordered by {@code (hlc, node)}; the earlier wins a tie.
 */
public record ClaimId(long hlc, NodeId node) implements Comparable<ClaimId> {

    private static final Comparator<ClaimId> ORDER =
            Comparator.comparingLong(ClaimId::hlc).thenComparing(ClaimId::node);

    public ClaimId {
        Objects.requireNonNull(node, "node");
    }

    @Override
    public int compareTo(ClaimId other) {
        return ORDER.compare(this, other);
    }

    /** Whether this claim orders before {@code other}. */
    public boolean before(ClaimId other) {
        return compareTo(other) < 0;
    }
}
