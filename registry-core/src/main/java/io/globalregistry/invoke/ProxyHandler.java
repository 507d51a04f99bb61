package io.globalregistry.invoke;

import io.globalregistry.CallException;
import io.globalregistry.CallTimeoutException;
import io.globalregistry.MessageTooLargeException;
import io.globalregistry.NoSuchNameException;
import io.globalregistry.OwnerBusyException;
import io.globalregistry.Registration;
import io.globalregistry.RegistryException;
import io.globalregistry.RegistryObserver;
import io.globalregistry.RegistryObserver.CallOutcome;
import io.globalregistry.RemoteInvocationException;
import io.globalregistry.invoke.MethodPlan.Kind;
import io.globalregistry.membership.NodeId;
import io.globalregistry.support.RateLimitedLog;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Behind every proxy: {@code Object} and default methods run on the proxy; any other method runs
 * directly on the target when this node owns the name (and the target implements the method's
 * interface), else becomes a call to the owner ({@link RemoteCalls}), whose JSON result is read as
 * the method's declared type, on the caller's thread, or on the results executor for a future.
 * Every call's end is told to the {@link RegistryObserver}: timed when it went to another node, only
 * counted when it ran here (two clock reads would cost more than the call).
 */
final class ProxyHandler implements InvocationHandler {

    private static final Logger LOG = LoggerFactory.getLogger(ProxyHandler.class);
    private static final RateLimitedLog ONE_WAY_FAILURES = new RateLimitedLog(LOG, Level.WARN);
    private static final RateLimitedLog OBSERVER_FAILURES = new RateLimitedLog(LOG, Level.WARN);

    private final String key;
    private final Class<?> type;
    private final Map<Method, MethodPlan> plans;
    private final NodeId self;
    private final CallNetwork network;
    private final CallJson json;
    private final RemoteCalls remote;
    private final Executor results;
    private final RegistryObserver observer;
    private final boolean observed;

    ProxyHandler(String key, Class<?> type, Map<Method, MethodPlan> plans, NodeId self, CallNetwork network, CallJson json,
                 RemoteCalls remote, Executor results, RegistryObserver observer) {
        this.key = key;
        this.type = type;
        this.plans = plans;
        this.self = self;
        this.network = network;
        this.json = json;
        this.remote = remote;
        this.results = results;
        this.observer = observer;
        this.observed = observer != RegistryObserver.NO_OP;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        MethodPlan plan = plans.get(method);
        if (plan == null) {
            throw new IllegalStateException("No plan for " + method + " on a proxy of " + type.getName());
        }
        if (plan.kind == Kind.OBJECT) {
            return objectMethod(proxy, method, args);
        }
        if (plan.kind == Kind.DEFAULT) {
            return plan.invokeDefault(proxy, args);
        }
        Registration owner = network.lookup(key);
        if (owner != null && owner.isLocal() && plan.method.getDeclaringClass().isInstance(owner.target())) {
            return observed ? observedLocal(plan, owner.target(), args) : local(plan, owner.target(), args);
        }
        long started = System.nanoTime();
        try {
            return remote(plan, args, started);
        } catch (Throwable e) {
            finished(started, outcomeOf(e));
            throw e;
        }
    }

    /** The owner is elsewhere, or unknown yet: a call to it; the outcome is told here, or when the future completes. */
    private Object remote(MethodPlan plan, Object[] args, long started) throws Throwable {
        JsonNode arguments = json.arguments(key, plan, args);
        if (plan.oneWay) {
            remote.sendOneWay(key, plan, arguments);
            finished(started, CallOutcome.OK);
            return null;
        }
        if (plan.async) {
            return async(plan, remote.start(key, plan, arguments, true), started);
        }
        OutgoingCall call = remote.start(key, plan, arguments, false);
        Object result = read(plan, remote.await(call), call);
        finished(started, CallOutcome.OK);
        return result;
    }

    /** The target is here: call it directly, as an interface call would. */
    private Object local(MethodPlan plan, Object target, Object[] args) throws Throwable {
        try {
            return plan.method.invoke(target, args);
        } catch (InvocationTargetException e) {
            return targetFailed(plan, e.getCause());
        }
    }

    /** {@link #local}, counted for the observer. */
    private Object observedLocal(MethodPlan plan, Object target, Object[] args) throws Throwable {
        CallOutcome outcome = CallOutcome.ERROR;
        try {
            Object result = plan.method.invoke(target, args);
            outcome = CallOutcome.OK;
            return result;
        } catch (InvocationTargetException e) {
            return targetFailed(plan, e.getCause());
        } finally {
            try {
                observer.localCallFinished(outcome);
            } catch (RuntimeException e) {
                OBSERVER_FAILURES.log("Registry observer {} failed", observer, e);
            }
        }
    }

    /** A local target threw {@code cause}: rethrown as an interface call would, a one-way call's only logged. */
    private Object targetFailed(MethodPlan plan, Throwable cause) throws Throwable {
        if (plan.oneWay) {
            ONE_WAY_FAILURES.log("The one-way call {} on {} failed", plan.display, key, cause);
            return null;
        }
        if (cause instanceof RuntimeException || cause instanceof Error || declares(plan, cause)) {
            throw cause;
        }
        RemoteInvocationException wrapped = new RemoteInvocationException(key, plan.display, self,
                cause.getClass().getName(), cause.getMessage());
        wrapped.initCause(cause);
        throw wrapped;
    }

    private void finished(long started, CallOutcome outcome) {
        try {
            observer.callFinished(Duration.ofNanos(System.nanoTime() - started), outcome);
        } catch (RuntimeException e) {
            OBSERVER_FAILURES.log("Registry observer {} failed", observer, e);
        }
    }

    /** The outcome a caller sees when a call to a remote owner throws {@code error}. */
    static CallOutcome outcomeOf(Throwable error) {
        if (error instanceof CallTimeoutException) {
            return CallOutcome.TIMEOUT;
        }
        if (error instanceof OwnerBusyException) {
            return CallOutcome.BUSY;
        }
        if (error instanceof NoSuchNameException) {
            return CallOutcome.NO_OWNER;
        }
        if (error instanceof MessageTooLargeException) {
            return CallOutcome.TOO_LARGE;
        }
        if (error instanceof RemoteInvocationException || !(error instanceof RegistryException)) {
            return CallOutcome.ERROR; // the target threw; a declared exception comes back as itself
        }
        return CallOutcome.FAILED;
    }

    private CompletableFuture<Object> async(MethodPlan plan, OutgoingCall call, long started) {
        CompletableFuture<Object> future = new CompletableFuture<>();
        call.result.whenComplete((node, error) -> {
            Runnable complete = () -> {
                if (error != null) {
                    finished(started, outcomeOf(error));
                    future.completeExceptionally(error);
                    return;
                }
                Object value;
                try {
                    value = read(plan, node, call);
                } catch (RuntimeException e) {
                    finished(started, outcomeOf(e));
                    future.completeExceptionally(e);
                    return;
                }
                finished(started, CallOutcome.OK);
                future.complete(value);
            };
            try {
                results.execute(complete); // never the event loop or a consumer thread: users chain on this future
            } catch (RejectedExecutionException e) {
                complete.run();
            }
        });
        return future;
    }

    private Object read(MethodPlan plan, JsonNode node, OutgoingCall call) {
        try {
            return json.readResult(node, plan.resultType);
        } catch (JacksonException | IllegalArgumentException e) {
            throw new CallException(key, plan.display, call == null ? null : call.owner, "The result of " + plan.display
                    + " on " + key + " cannot be read as " + plan.resultType + ": " + e.getMessage(), e);
        }
    }

    private static boolean declares(MethodPlan plan, Throwable error) {
        for (Class<?> declared : plan.declaredExceptions) {
            if (declared.isInstance(error)) {
                return true;
            }
        }
        return false;
    }

    private Object objectMethod(Object proxy, Method method, Object[] args) {
        switch (method.getName()) {
            case "equals":
                return proxy == args[0];
            case "hashCode":
                return System.identityHashCode(proxy);
            case "toString":
                return "GlobalProxy[" + type.getName() + " -> " + key + "]";
            default:
                throw new IllegalStateException("Unexpected Object method " + method);
        }
    }
}
