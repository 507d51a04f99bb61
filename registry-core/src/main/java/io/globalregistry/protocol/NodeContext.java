package io.globalregistry.protocol;

import io.globalregistry.clock.HybridLogicalClock;
import io.globalregistry.membership.Membership;
import io.globalregistry.membership.NodeId;
import io.globalregistry.wire.Message;
import java.util.function.Consumer;

/** What a registration strategy may use of its node. Every method runs on the node's event loop. */
public interface NodeContext {

    NodeId self();

    RegistryConfig config();

    NodeRuntime runtime();

    HybridLogicalClock clock();

    Membership membership();

    NameTable table();

    /** Stamps {@code message} with a fresh clock value and broadcasts it. */
    void broadcast(Message message);

    /** Stamps {@code message} and sends it to one member's inbox. */
    void send(NodeId to, Message message, Runnable onReturned);

    /** Asks the broker whether {@code node} is alive; a certified death is applied before {@code alive} runs. */
    void checkAlive(NodeId node, Consumer<Boolean> alive);

    /** Sends {@code to} the complete list of names this node owns ({@link io.globalregistry.wire.Message.Sync}). */
    void sendSync(NodeId to);

    /** Stamps {@code message} and sends it to the cluster's leader queue; {@code onReturned} if nobody holds it. */
    void sendToLeader(Message message, Runnable onReturned);

    /**
     * Contends for leadership (see {@link Transport#contendForLeadership}) every leader-retry;
     * {@code elected} and {@code deposed} run on the loop, never after this node stopped.
     */
    void contendForLeadership(Runnable elected, Runnable deposed);

    /** Gives the leader queue up if this node holds it, and contends again ({@link Transport#resignLeadership}). */
    void resignLeadership();

    /** The leader this node knows changed to {@code leader} (null: none known); listeners are told. */
    void leaderChanged(NodeId leader);
}
