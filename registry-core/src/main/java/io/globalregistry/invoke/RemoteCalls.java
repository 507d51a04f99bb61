package io.globalregistry.invoke;

import io.globalregistry.CallTimeoutException;
import io.globalregistry.NoSuchNameException;
import io.globalregistry.OwnerBusyException;
import io.globalregistry.OwnerChange;
import io.globalregistry.Registration;
import io.globalregistry.RegistryException;
import io.globalregistry.RemoteInvocationException;
import io.globalregistry.invoke.OutgoingCall.State;
import io.globalregistry.membership.NodeId;
import io.globalregistry.support.RateLimitedLog;
import io.globalregistry.wire.Message.Call;
import io.globalregistry.wire.Message.Reply;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import tools.jackson.databind.JsonNode;

/**
 * The caller's side of calls to remote owners, and the retry rule:
 * <ol>
 *   <li>No owner now, or only one whose inbox is known gone -> wait for the name's next owner.</li>
 *   <li>Sent and returned by the broker (the inbox is gone), or answered {@code NOT_OWNER} -> it was
 *       never delivered: wait for the next owner and send it again.</li>
 *   <li>Sent and no reply -> {@link CallTimeoutException} at the deadline; sent again only if the method
 *       is {@code @Idempotent} and its owner is certified dead first.</li>
 *   <li>Every call ends by its deadline ({@code call-timeout} after it started), whatever happens.</li>
 * </ol>
 * A name that moved to this node meanwhile is run here, through the same executor as incoming calls.
 */
final class RemoteCalls {

    private static final Logger LOG = LoggerFactory.getLogger(RemoteCalls.class);

    private final NodeId self;
    private final CallNetwork network;
    private final IncomingCalls local;
    private final ScheduledExecutorService timer;
    private final Executor work;
    private final long timeoutMillis;
    private final PendingCalls pending = new PendingCalls();
    private final DeadInboxes dead = new DeadInboxes();
    private final OwnerWatch owners;
    private final Deadlines deadlines;
    private final RateLimitedLog warnLog = new RateLimitedLog(LOG, Level.WARN);
    private volatile String closed;

    /**
     * @param local runs calls for names owned here
     * @param timer schedules the deadlines of calls nobody waits on with a thread
     * @param work runs retries, off the event loop
     */
    RemoteCalls(NodeId self, CallNetwork network, IncomingCalls local, ScheduledExecutorService timer, Executor work,
                long timeoutMillis) {
        this.self = self;
        this.network = network;
        this.local = local;
        this.timer = timer;
        this.work = work;
        this.timeoutMillis = timeoutMillis;
        this.owners = new OwnerWatch(work, this::woken);
        this.deadlines = new Deadlines(timer, this::expire);
    }

    /**
     * Starts a call that expects a reply. With {@code timed}, it ends at its deadline ({@link Deadlines});
     * without, the caller must {@link #await} it (its own timed wait is the deadline).
     */
    OutgoingCall start(String key, MethodPlan plan, JsonNode args, boolean timed) {
        OutgoingCall call = new OutgoingCall(key, plan, args, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis));
        if (timed) {
            call.timer = deadlines.add(call)::clear;
        }
        attempt(call);
        return call;
    }

    /**
     * Sends a one-way call. A call returned undelivered is sent again to the next owner until its
     * deadline, in the background.
     *
     * @throws NoSuchNameException if nobody owns the name now
     */
    void sendOneWay(String key, MethodPlan plan, JsonNode args) {
        if (network.resolve(key) == null) {
            throw new NoSuchNameException(key);
        }
        attempt(new OutgoingCall(key, plan, args, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis)));
    }

    /**
     * Waits for the outcome of {@code call} until its deadline.
     *
     * @return the JSON result
     * @throws Throwable what the proxy must throw
     */
    JsonNode await(OutgoingCall call) throws Throwable {
        long remaining = call.deadlineNanos - System.nanoTime();
        try {
            return call.result.get(Math.max(0, remaining), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            expire(call);
        } catch (ExecutionException e) {
            throw e.getCause();
        } catch (InterruptedException e) {
            end(call, new RegistryException("Interrupted while calling " + call));
            Thread.currentThread().interrupt();
        }
        try {
            return call.result.getNow(null);
        } catch (CompletionException e) {
            throw e.getCause();
        }
    }

    // ---- attempts ------------------------------------------------------------------------------

    private void attempt(OutgoingCall call) {
        if (closed != null) {
            end(call, new RegistryException(closed));
            return;
        }
        Registration owner = network.resolve(call.key);
        Call message = null;
        synchronized (call) {
            if (call.state == State.DONE) {
                return;
            }
            if (usable(owner, call)) {
                call.state = State.SENT;
                call.owner = owner.owner();
                call.id = call.plan.oneWay ? 0 : pending.add(call);
                message = new Call(call.key, call.id, call.plan.method.getName(), call.plan.params, call.args,
                        call.plan.oneWay);
            } else {
                call.state = State.WAITING_FOR_OWNER;
                if (call.plan.oneWay && call.timer == null) {
                    call.timer = schedule(call, TimeUnit.NANOSECONDS.toMillis(call.deadlineNanos - System.nanoTime()));
                }
                owners.await(call.key, call);
            }
        }
        if (message == null) {
            // the owner may have changed between the look-up and the registration: look again
            if (usable(network.lookup(call.key), call) && owners.cancel(call.key, call)) {
                attempt(call);
            }
            return;
        }
        long id = message.id();
        NodeId to = owner.owner();
        if (owner.isLocal()) {
            local.submit(owner.target(), message, reply -> {
                if (!call.plan.oneWay && pending.remove(id, call)) {
                    handle(call, id, self, reply);
                }
            });
        } else {
            network.send(to, message, () -> execute(() -> returned(call, id, to)));
        }
    }

    private boolean usable(Registration owner, OutgoingCall call) {
        return owner != null && (owner.isLocal()
                || (!dead.contains(owner.owner()) && !owner.owner().equals(call.excluded)));
    }

    /** The name's owner changed while {@code call} waited. */
    private void woken(OutgoingCall call) {
        synchronized (call) {
            if (call.state != State.WAITING_FOR_OWNER) {
                return;
            }
            call.excluded = null;
        }
        attempt(call);
    }

    /** The broker returned attempt {@code id} of {@code call}: it was never delivered, and {@code to} is gone. */
    private void returned(OutgoingCall call, long id, NodeId to) {
        if (dead.add(to)) {
            LOG.debug("The inbox of {} is gone; asking the broker whether it is dead", to);
            network.suspect(to);
        }
        if (!call.plan.oneWay && !pending.remove(id, call)) {
            return;
        }
        synchronized (call) {
            if (call.state != State.SENT || call.id != id) {
                return;
            }
            call.state = State.WAITING_FOR_OWNER;
        }
        attempt(call);
    }

    // ---- replies -------------------------------------------------------------------------------

    /** A reply from {@code sender}; on the event loop. */
    void onReply(NodeId sender, Reply reply) {
        OutgoingCall call = pending.get(reply.id());
        if (call == null) {
            LOG.debug("A reply from {} to a call no longer waiting ({})", sender, reply.id());
            return;
        }
        synchronized (call) {
            if (call.state != State.SENT || call.id != reply.id() || !sender.equals(call.owner)) {
                return;
            }
        }
        if (pending.remove(reply.id(), call)) {
            handle(call, reply.id(), sender, reply);
        }
    }

    private void handle(OutgoingCall call, long id, NodeId from, Reply reply) {
        switch (reply.outcome()) {
            case OK:
                finish(call, id, reply.result(), null);
                break;
            case FAILED:
                finish(call, id, null, RemoteErrors.rebuild(call.plan, call.key, from, reply.errorTypes(), reply.error()));
                break;
            case INVALID:
                finish(call, id, null, new RemoteInvocationException(call.key, call.plan.display, from,
                        reply.errorTypes().isEmpty() ? "unknown" : reply.errorTypes().get(0), reply.error()));
                break;
            case BUSY:
                finish(call, id, null, new OwnerBusyException(call.key, call.plan.display, from));
                break;
            case NOT_OWNER:
                synchronized (call) {
                    if (call.state != State.SENT || call.id != id) {
                        return;
                    }
                    call.state = State.WAITING_FOR_OWNER;
                    call.excluded = from;
                }
                network.notOwner(call.key, from);
                execute(() -> attempt(call));
                break;
            default:
                throw new IllegalStateException("Unknown outcome " + reply.outcome());
        }
    }

    private void finish(OutgoingCall call, long id, JsonNode value, Throwable error) {
        synchronized (call) {
            if (call.state != State.SENT || call.id != id) {
                return;
            }
            call.state = State.DONE;
        }
        if (call.timer != null) {
            call.timer.run();
        }
        if (error != null) {
            call.result.completeExceptionally(error);
        } else {
            call.result.complete(value);
        }
    }

    // ---- owners --------------------------------------------------------------------------------

    /** A change of owner, on the event loop. */
    void ownerChanged(OwnerChange change) {
        String key = change.name().key();
        NodeId previous = change.previousOwner();
        if (change.reason() == OwnerChange.Reason.OWNER_DOWN && previous != null && !previous.equals(self)) {
            dead.add(previous);
            if (pending.size() > 0) {
                execute(() -> ownerDown(key, previous));
            }
        }
        owners.changed(key);
    }

    /** {@code node} is dead: idempotent calls it did not answer go to the next owner. */
    private void ownerDown(String key, NodeId node) {
        for (OutgoingCall call : pending.all()) {
            if (!call.plan.idempotent || !call.key.equals(key)) {
                continue;
            }
            long id;
            synchronized (call) {
                if (call.state != State.SENT || !node.equals(call.owner)) {
                    continue;
                }
                id = call.id;
                call.state = State.WAITING_FOR_OWNER;
                call.mayHaveRun = true;
            }
            pending.remove(id, call);
            LOG.debug("{} died before answering {}; sending it to the next owner (idempotent)", node, call);
            attempt(call);
        }
    }

    // ---- endings -------------------------------------------------------------------------------

    /** The deadline of {@code call} passed. */
    void expire(OutgoingCall call) {
        Ending ending = markDone(call);
        if (ending == null) {
            return;
        }
        forget(call, ending);
        Throwable error;
        if (ending.was() == State.SENT) {
            error = new CallTimeoutException(call.key, call.plan.display, call.owner, timeoutMillis, true);
        } else {
            Registration now = network.lookup(call.key);
            if (call.owner == null && now == null) {
                error = new NoSuchNameException(call.key, "no node owned it within " + timeoutMillis + " ms, so "
                        + call.plan.display + " was never sent");
            } else {
                error = new CallTimeoutException(call.key, call.plan.display,
                        call.owner != null ? call.owner : now.owner(), timeoutMillis, call.mayHaveRun);
            }
        }
        if (call.plan.oneWay) {
            warnLog.log("Dropped a one-way call: {}", error.getMessage());
        }
        call.result.completeExceptionally(error);
    }

    /** Ends {@code call} with {@code error} wherever it is. */
    private void end(OutgoingCall call, Throwable error) {
        Ending ending = markDone(call);
        if (ending == null) {
            return;
        }
        forget(call, ending);
        if (call.timer != null) {
            call.timer.run();
        }
        call.result.completeExceptionally(error);
    }

    /** Where a call was when it ended: waiting for a reply (SENT, under {@code id}) or for an owner. */
    private record Ending(State was, long id) {
    }

    /** Marks {@code call} done; returns where it was, or null when it had ended already. */
    private static Ending markDone(OutgoingCall call) {
        synchronized (call) {
            if (call.state == State.DONE) {
                return null;
            }
            Ending ending = new Ending(call.state, call.id);
            call.state = State.DONE;
            return ending;
        }
    }

    /** Takes an ended call out of the table it waited in. */
    private void forget(OutgoingCall call, Ending ending) {
        if (ending.was() == State.SENT) {
            pending.remove(ending.id(), call);
        } else {
            owners.cancel(call.key, call);
        }
    }

    /** Ends every call under way with a {@link RegistryException} saying {@code why}; later calls fail at once. */
    void close(String why) {
        closed = why;
        for (OutgoingCall call : pending.all()) {
            end(call, new RegistryException(why));
        }
        for (OutgoingCall call : owners.drain()) {
            end(call, new RegistryException(why));
        }
    }

    /** A timer ending {@code call} in {@code delayMillis} (a one-way call waiting for an owner): its cancel. */
    private Runnable schedule(OutgoingCall call, long delayMillis) {
        try {
            Future<?> scheduled = timer.schedule(() -> expire(call), Math.max(0, delayMillis), TimeUnit.MILLISECONDS);
            return () -> scheduled.cancel(false);
        } catch (RejectedExecutionException e) {
            return null; // closed: close() ends the call
        }
    }

    private void execute(Runnable task) {
        try {
            work.execute(task);
        } catch (RejectedExecutionException e) {
            LOG.debug("Registry closed; a call step was dropped");
        }
    }

    /** Calls waiting for a reply now. */
    int pendingCount() {
        return pending.size();
    }

    /** Calls waiting for an owner now. */
    int waitingCount() {
        return owners.size();
    }
}
