package io.globalregistry;

import io.globalregistry.membership.NodeId;
import io.globalregistry.name.GlobalName;

/**
 * What one node knows about one name.
 *
 * @param name the name in canonical form
 * @param owner the owning node; for {@link State#PENDING} the claimant (this node)
 * @param state whether this node owns it, knows another owner, or is claiming it
 * @param fencingToken a number that grows with every change of owner (0 while pending)
 * @param sinceMillis wall-clock time (ms since the epoch) this node learnt of the current owner
 * @param target the registered object, only on the owning node (else null)
 */
public record Registration(GlobalName name, NodeId owner, State state, long fencingToken, long sinceMillis,
                           Object target) {

    /** The three states of a name as one node sees it. */
    public enum State {
        /** Owned by this node. */
        LOCAL,
        /** Owned by another node. */
        REMOTE,
        /** Being claimed by this node. */
        PENDING
    }

    /** Whether this node owns the name. */
    public boolean isLocal() {
        return state == State.LOCAL;
    }
}
