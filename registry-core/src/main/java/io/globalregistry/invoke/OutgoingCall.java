package io.globalregistry.invoke;

import io.globalregistry.membership.NodeId;
import java.util.concurrent.CompletableFuture;
import tools.jackson.databind.JsonNode;

/**
 * One call on its way, across every attempt: what to send, the deadline, where it is now, and the
 * future its caller holds. Its fields are guarded by the object's monitor; {@link RemoteCalls}
 * moves it through its states.
 */
final class OutgoingCall {

    /** Where a call is. */
    enum State {
        /** Not sent yet, or sent and certainly not delivered: waiting for an owner to send it to. */
        WAITING_FOR_OWNER,
        /** Sent to {@link #owner} with correlation id {@link #id}: waiting for the reply. */
        SENT,
        /** Ended: {@link #result} is complete. */
        DONE
    }

    final String key;
    final MethodPlan plan;
    final JsonNode args;
    final long deadlineNanos;
    final CompletableFuture<JsonNode> result = new CompletableFuture<>();

    State state = State.WAITING_FOR_OWNER;
    /** The correlation id of the current attempt (0 before the first). */
    long id;
    /** The owner of the current or last attempt, null before the first. */
    NodeId owner;
    /** An owner not to send to again until the name's owner changes (it answered NOT_OWNER). */
    NodeId excluded;
    /** Whether an earlier attempt was delivered and abandoned (an idempotent call whose owner died). */
    boolean mayHaveRun;
    /** Cancels the timer that ends the call at its deadline, if one is set. */
    Runnable timer;

    OutgoingCall(String key, MethodPlan plan, JsonNode args, long deadlineNanos) {
        this.key = key;
        this.plan = plan;
        this.args = args;
        this.deadlineNanos = deadlineNanos;
    }

    @Override
    public String toString() {
        return plan.display + " on " + key;
    }
}
