package io.globalregistry;

import io.globalregistry.membership.NodeId;

/** Told of every change of owner this node sees. Must not block: it runs on a registry thread. */
@FunctionalInterface
public interface OwnerChangeListener {

    void onOwnerChange(OwnerChange change);

    /**
     * This node gave up its incarnation {@code previous} (it lost its broker connection, or stopped
     * hearing itself for long: listeners were told {@link OwnerChange.Reason#FENCED} for every name
     * it owned) and joined the cluster again as {@code current}, owning nothing. Names it owned may
     * have been taken by other nodes meanwhile; they stay with them. Whoever registered names
     * registers again what it still wants to own. Runs once per rejoin, after the FENCED changes.
     */
    default void onRejoined(NodeId previous, NodeId current) {
    }
}
