package io.globalregistry.invoke;

import io.globalregistry.OwnerChange;
import io.globalregistry.RegistryObserver;
import io.globalregistry.membership.NodeId;
import io.globalregistry.protocol.RegistryConfig;
import io.globalregistry.wire.Message;
import io.globalregistry.wire.Message.Call;
import io.globalregistry.wire.Message.Reply;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import tools.jackson.databind.ObjectMapper;

/**
 * Calls to names' owners on one node: makes {@linkplain #proxy proxies}, takes the node's incoming
 * {@code call} and {@code reply} messages and its owner changes. Plain Java: it reaches the other
 * nodes only through a {@link CallNetwork}, and runs nothing on the node's event loop but quick
 * hand-overs. The parts: {@link ProxyHandler} (caller), {@link RemoteCalls} with
 * {@link PendingCalls} and {@link OwnerWatch} (sending, replies, retries, deadlines),
 * {@link IncomingCalls} with {@link TargetMethods} (owner), {@link CallJson} and {@link RemoteErrors}
 * (what travels).
 */
public final class Invocations {

    private static final Method EQUALS;
    private static final Method HASH_CODE;
    private static final Method TO_STRING;

    static {
        try {
            EQUALS = Object.class.getMethod("equals", Object.class);
            HASH_CODE = Object.class.getMethod("hashCode");
            TO_STRING = Object.class.getMethod("toString");
        } catch (NoSuchMethodException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final NodeId self;
    private final CallNetwork network;
    private final CallJson json;
    private final IncomingCalls incoming;
    private final RemoteCalls remote;
    private final Executor results;
    private final RegistryObserver observer;
    private final ConcurrentHashMap<Class<?>, Map<Method, MethodPlan>> plans = new ConcurrentHashMap<>();

    /**
     * @param self this node
     * @param config the node's settings (call-timeout, max-message-size)
     * @param network how this node reaches the others
     * @param mapper converts arguments and results; must not enable default typing
     * @param callExecutor runs incoming calls; bounded: throws {@code RejectedExecutionException} when full
     * @param timer schedules call deadlines and runs retries (quick tasks only)
     * @param results completes the futures returned by asynchronous proxy methods (users chain on them)
     * @param observer told how each proxied call ended ({@link RegistryObserver#NO_OP} for none)
     */
    public Invocations(NodeId self, RegistryConfig config, CallNetwork network, ObjectMapper mapper, Executor callExecutor,
                       ScheduledExecutorService timer, Executor results, RegistryObserver observer) {
        this.self = Objects.requireNonNull(self, "self");
        this.network = Objects.requireNonNull(network, "network");
        this.json = new CallJson(mapper, config.maxMessageSize());
        long timeout = config.callTimeout().toMillis();
        this.incoming = new IncomingCalls(network, new TargetMethods(json), json, callExecutor, timeout);
        this.remote = new RemoteCalls(self, network, incoming, timer, timer, timeout);
        this.results = Objects.requireNonNull(results, "results");
        this.observer = Objects.requireNonNull(observer, "observer");
    }

    /**
     * A proxy of {@code type} for the name with canonical form {@code key}.
     *
     * @throws IllegalArgumentException if {@code type} is not an interface or misuses {@code @OneWay}
     */
    public <T> T proxy(String key, Class<T> type) {
        InvocationHandler handler = handler(key, type);
        ClassLoader loader = type.getClassLoader() != null ? type.getClassLoader() : Invocations.class.getClassLoader();
        return type.cast(Proxy.newProxyInstance(loader, new Class<?>[] {type}, handler));
    }

    /**
     * What a proxy of {@code type} for the name {@code key} runs: for a proxy made elsewhere that
     * hands its calls to this node (say to whichever incarnation of a node is current).
     *
     * @throws IllegalArgumentException if {@code type} is not an interface or misuses {@code @OneWay}
     */
    public InvocationHandler handler(String key, Class<?> type) {
        if (type == null) {
            throw new IllegalArgumentException("The proxy type must not be null");
        }
        if (!type.isInterface()) {
            throw new IllegalArgumentException("Cannot make a proxy of " + type.getName()
                    + " for " + key + ": it is not an interface (proxies implement an interface; calls go to the owner's target)");
        }
        if (type.isAnnotation()) {
            throw new IllegalArgumentException("Cannot make a proxy of the annotation type " + type.getName());
        }
        Map<Method, MethodPlan> typePlans = plans.computeIfAbsent(type, this::plan);
        return new ProxyHandler(key, type, typePlans, self, network, json, remote, results, observer);
    }

    private Map<Method, MethodPlan> plan(Class<?> type) {
        Map<Method, MethodPlan> out = new HashMap<>();
        for (Method method : type.getMethods()) {
            if (MethodPlan.proxied(method)) {
                out.put(method, MethodPlan.of(type, method, json.types()));
            }
        }
        for (Method method : new Method[] {EQUALS, HASH_CODE, TO_STRING}) {
            out.put(method, MethodPlan.of(type, method, json.types()));
        }
        return Collections.unmodifiableMap(out);
    }

    /** A {@code call} or {@code reply} from {@code sender}; on the node's event loop. */
    public void onMessage(NodeId sender, Message message) {
        if (message instanceof Call) {
            incoming.onCall(sender, (Call) message);
        } else if (message instanceof Reply) {
            remote.onReply(sender, (Reply) message);
        }
    }

    /** A change of owner; on the node's event loop. */
    public void onOwnerChange(OwnerChange change) {
        remote.ownerChanged(change);
    }

    /** Ends every call under way with an exception saying {@code why}; calls started later fail at once. */
    public void close(String why) {
        remote.close(why);
    }

    /** Calls waiting for a reply (for tests and metrics). */
    public int pendingCalls() {
        return remote.pendingCount();
    }

    /** Calls waiting for an owner (for tests and metrics). */
    public int callsWaitingForOwner() {
        return remote.waitingCount();
    }

    /** Whether this node received a call within the last {@code millis}. */
    public boolean servedCallsWithin(long millis) {
        return incoming.receivedWithin(millis);
    }

    /** Incoming calls dropped unrun because they waited for a thread longer than call-timeout. */
    public long staleDrops() {
        return incoming.stale();
    }

    /** Incoming calls refused because the call executor was full. */
    public long busyRefusals() {
        return incoming.busy();
    }
}
