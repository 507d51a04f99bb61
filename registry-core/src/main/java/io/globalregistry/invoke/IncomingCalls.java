package io.globalregistry.invoke;

import io.globalregistry.Registration;
import io.globalregistry.invoke.TargetMethods.Target;
import io.globalregistry.membership.NodeId;
import io.globalregistry.support.RateLimitedLog;
import io.globalregistry.wire.Message.Call;
import io.globalregistry.wire.Message.Outcome;
import io.globalregistry.wire.Message.Reply;
import java.lang.reflect.InvocationTargetException;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import tools.jackson.databind.JsonNode;

/**
 * The owner's side of calls: a call for a name registered here runs on the bounded call executor
 * and its outcome goes back to the caller as a {@link Reply}. A call for a name not registered here
 * is answered {@code NOT_OWNER}, and one that finds the executor full {@code BUSY}; neither runs. A
 * call that waited in the queue longer than {@code call-timeout} is dropped unrun: its caller gave up.
 * A call runs only while this node's lease is valid, checked when it arrives and again when a thread
 * takes it (a pause may come between); otherwise it is answered {@code NOT_OWNER} unrun, so its caller
 * goes to the next owner (docs/PROTOCOL.md "Liveness").
 */
final class IncomingCalls {

    private static final Logger LOG = LoggerFactory.getLogger(IncomingCalls.class);

    private final CallNetwork network;
    private final TargetMethods methods;
    private final CallJson json;
    private final Executor executor;
    private final long staleAfterNanos;
    private final LongAdder busy = new LongAdder();
    private final LongAdder stale = new LongAdder();
    private final RateLimitedLog warnLog = new RateLimitedLog(LOG, Level.WARN);
    private volatile long lastReceived = System.nanoTime() - TimeUnit.DAYS.toNanos(1);

    /**
     * @param executor runs the targets; throws {@link RejectedExecutionException} when full
     * @param staleAfterMillis how long a call may wait for a thread before it is dropped
     */
    IncomingCalls(CallNetwork network, TargetMethods methods, CallJson json, Executor executor, long staleAfterMillis) {
        this.network = network;
        this.methods = methods;
        this.json = json;
        this.executor = executor;
        this.staleAfterNanos = TimeUnit.MILLISECONDS.toNanos(staleAfterMillis);
    }

    /** A call from {@code caller}; on the node's event loop, so it only looks and hands over. */
    void onCall(NodeId caller, Call call) {
        lastReceived = System.nanoTime();
        Registration registration = network.lookup(call.name());
        if (registration == null || !registration.isLocal() || !network.leaseHeld()) {
            if (call.oneWay()) {
                warnLog.log("Dropped a one-way call of {} on {}: the name is not registered here (or its lease is not"
                        + " valid)", call.method(), call.name());
            } else {
                network.reply(caller, new Reply(call.id(), Outcome.NOT_OWNER, null, null, null));
            }
            return;
        }
        submit(registration.target(), call, reply -> network.reply(caller, reply));
    }

    /** Runs {@code call} on {@code target} on the call executor; {@code replyTo} gets the outcome. */
    void submit(Object target, Call call, Consumer<Reply> replyTo) {
        Consumer<Reply> to = call.oneWay() ? oneWayOutcome(call) : replyTo;
        long received = System.nanoTime();
        try {
            executor.execute(() -> {
                if (System.nanoTime() - received > staleAfterNanos) {
                    stale.increment();
                    LOG.debug("Dropped a call of {} on {} that waited longer than call-timeout", call.method(), call.name());
                    return;
                }
                if (!network.leaseValid()) {
                    if (!call.oneWay()) {
                        to.accept(new Reply(call.id(), Outcome.NOT_OWNER, null, null, null));
                    }
                    return;
                }
                execute(target, call, to);
            });
        } catch (RejectedExecutionException e) {
            busy.increment();
            if (call.oneWay()) {
                warnLog.log("Dropped a one-way call of {} on {}: the call executor is full", call.method(), call.name());
            }
            to.accept(new Reply(call.id(), Outcome.BUSY, null, null, null));
        }
    }

    /** Invokes {@code call} on {@code target} on this thread; {@code replyTo} gets the outcome (later for a future). */
    void execute(Object target, Call call, Consumer<Reply> replyTo) {
        Target method = methods.find(target.getClass(), call.method(), call.params());
        if (method == null) {
            replyTo.accept(invalid(call, "java.lang.NoSuchMethodException", "a " + target.getClass().getName()
                    + " has no public method " + call.method() + " with " + call.params().size()
                    + " parameters matching " + call.params()));
            return;
        }
        Object[] args;
        try {
            args = json.readArguments(call.args(), method.parameterTypes);
        } catch (RuntimeException e) {
            replyTo.accept(invalid(call, e.getClass().getName(), "cannot read the arguments of " + call.method()
                    + ": " + e.getMessage()));
            return;
        }
        Object result;
        try {
            result = method.method.invoke(target, args);
        } catch (InvocationTargetException e) {
            replyTo.accept(failed(call, e.getCause()));
            return;
        } catch (ReflectiveOperationException | RuntimeException e) {
            replyTo.accept(invalid(call, e.getClass().getName(), "cannot invoke " + call.method() + ": " + e.getMessage()));
            return;
        }
        if (method.async && result instanceof CompletionStage) {
            ((CompletionStage<?>) result).whenComplete((value, error) ->
                    replyTo.accept(error != null ? failed(call, unwrap(error)) : ok(call, value)));
        } else {
            replyTo.accept(ok(call, result));
        }
    }

    private Reply ok(Call call, Object value) {
        JsonNode result;
        try {
            result = json.result(value);
        } catch (RuntimeException e) {
            return invalid(call, e.getClass().getName(), e.getMessage());
        }
        return new Reply(call.id(), Outcome.OK, result, null, null);
    }

    private static Reply failed(Call call, Throwable error) {
        return new Reply(call.id(), Outcome.FAILED, null, RemoteErrors.typesOf(error), RemoteErrors.messageOf(error));
    }

    private static Reply invalid(Call call, String type, String message) {
        return new Reply(call.id(), Outcome.INVALID, null, List.of(type), message);
    }

    private static Throwable unwrap(Throwable error) {
        Throwable cause = error;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    /** Nobody waits for a one-way call's outcome: a failure is logged here. */
    private Consumer<Reply> oneWayOutcome(Call call) {
        return reply -> {
            if (reply.outcome() == Outcome.FAILED || reply.outcome() == Outcome.INVALID) {
                warnLog.log("A one-way call of {} on {} failed: " + reply.errorTypes() + ": " + reply.error(), call.method(),
                        call.name());
            }
        };
    }

    /** Whether a call came from another node within the last {@code millis}. */
    boolean receivedWithin(long millis) {
        return System.nanoTime() - lastReceived < TimeUnit.MILLISECONDS.toNanos(millis);
    }

    /** How many calls were refused because the executor was full. */
    long busy() {
        return busy.sum();
    }

    /** How many calls were dropped because they waited longer than call-timeout. */
    long stale() {
        return stale.sum();
    }
}
