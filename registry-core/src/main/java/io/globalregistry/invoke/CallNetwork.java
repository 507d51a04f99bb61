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

    /** The registration of a canonical name as this node sees it, or null. */
    Registration lookup(String key);

    /**
     * Sends {@code call} to {@code owner}'s inbox, mandatory: if the broker returns it undelivered
     * (the inbox is gone), {@code onReturned} runs, on some registry thread.
     */
    void send(NodeId owner, Call call, Runnable onReturned);

    /** Sends {@code reply} to {@code caller}'s inbox; a reply that cannot be delivered is lost. */
    void reply(NodeId caller, Reply reply);

    /** The broker returned a message for {@code node}: have its liveness checked now (its death frees its names). */
    void suspect(NodeId node);
}
