package io.globalregistry;

import io.globalregistry.membership.NodeId;
import io.globalregistry.name.GlobalName;

/**
 * A name changed owner as this node sees it.
 *
 * @param name the name
 * @param previousOwner the owner before, or null when it had none
 * @param newOwner the owner now, or null when it has none
 * @param fencingToken the new owner's fencing token (0 when it has none)
 * @param reason why
 */
public record OwnerChange(GlobalName name, NodeId previousOwner, NodeId newOwner, long fencingToken, Reason reason) {

    /** Why a name changed owner. */
    public enum Reason {
        /** A node registered it (or this node learnt so). */
        REGISTERED,
        /** Its owner unregistered it. */
        UNREGISTERED,
        /** Its owner was certified dead or left the cluster. */
        OWNER_DOWN,
        /**
         * This node owned it and gave it up because it stopped hearing its own heartbeats through the
         * broker (self-fencing): the others may already consider it dead.
         */
        FENCED
    }
}
