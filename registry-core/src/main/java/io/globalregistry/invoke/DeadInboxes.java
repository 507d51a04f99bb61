package io.globalregistry.invoke;

import io.globalregistry.membership.NodeId;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Nodes whose inbox is known to be gone (the broker returned a message for them, or they were
 * certified dead), so calls wait for the next owner instead of sending there again while the
 * table still names them. A node id is never reused, so an entry never goes stale; the set is
 * emptied when it reaches {@value #LIMIT} entries (by then the tables have dropped those nodes).
 */
final class DeadInboxes {

    static final int LIMIT = 1024;

    private final Set<NodeId> dead = ConcurrentHashMap.newKeySet();

    /** Records {@code node} as gone; true if it was not known to be. */
    boolean add(NodeId node) {
        if (dead.size() >= LIMIT) {
            dead.clear();
        }
        return dead.add(node);
    }

    boolean contains(NodeId node) {
        return !dead.isEmpty() && dead.contains(node);
    }
}
