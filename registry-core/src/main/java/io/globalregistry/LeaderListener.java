package io.globalregistry;

import io.globalregistry.membership.NodeId;

/**
 * Told when the leader this node knows changes (strategy {@code leader} only). Must not block: it
 * runs on a registry thread, in order with {@link OwnerChangeListener}s.
 */
@FunctionalInterface
public interface LeaderListener {

    /** {@code leader} leads the cluster now, as this node learnt; null when the leader is gone and none is known yet. */
    void onLeaderChange(NodeId leader);
}
