package io.globalregistry.invoke;

import io.globalregistry.Registration;
import io.globalregistry.membership.NodeId;
import io.globalregistry.wire.Message.Call;
import io.globalregistry.wire.Message.Reply;

/**
 * What calls need of their node: its view of the name table and a way to reach other inboxes.
 * Implemented by the engine over the node's transport; every method may be called from any thread.
 */
public interface CallNetwork {

    /** The registration of a canonical name as this node's table has it, or null. */
    Registration lookup(String key);

    /**
     * The registration of a canonical name: the table, or when the table holds only some names
     * (strategy {@code leader}), the leader on a miss, and this node hears when an owner appears.
     * May wait for the leader's answer; never called on the node's event loop.
     */
    default Registration resolve(String key) {
        return lookup(key);
    }

    /**
     * Sends {@code call} to {@code owner}'s inbox, mandatory: if the broker returns it undelivered
     * (the inbox is gone), {@code onReturned} runs, on some registry thread.
     */
    void send(NodeId owner, Call call, Runnable onReturned);

    /** Sends {@code reply} to {@code caller}'s inbox; a reply that cannot be delivered is lost. */
    void reply(NodeId caller, Reply reply);

    /**
     * Whether this node may act as an owner now (its lease is valid on the monotonic clock,
     * docs/PROTOCOL.md "Liveness"): an incoming call runs only then, else it is answered NOT_OWNER.
     * With crash detection it may wait, up to the crash grace, for the broker to answer a ping. Any
     * thread but the node's loop.
     */
    default boolean leaseValid() {
        return true;
    }

    /**
     * Whether this node holds its lease now, a missing ping answer aside (see {@link #leaseValid()}): what
     * the loop checks before it hands an incoming call over. Never waits.
     */
    default boolean leaseHeld() {
        return leaseValid();
    }

    /**
     * {@code node} answered that it does not own {@code key}: where the table is only a cache
     * (strategy {@code leader}), the entry is stale and goes, so the next {@link #resolve} asks the leader.
     */
    default void notOwner(String key, NodeId node) {
    }

    /** The broker returned a message for {@code node}: have its liveness checked now (its death frees its names). */
    void suspect(NodeId node);
}
