package io.globalregistry.engine;

import io.globalregistry.DeliveryStats;
import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.OwnerChange;
import io.globalregistry.LeaderListener;
import io.globalregistry.OwnerChangeListener;
import io.globalregistry.Registration;
import io.globalregistry.RegistrationResult;
import io.globalregistry.RegistrationTimeoutException;
import io.globalregistry.RegistryException;
import io.globalregistry.RegistryObserver;
import io.globalregistry.RegistryObserver.RegistrationOutcome;
import io.globalregistry.claim.ClaimStrategy;
import io.globalregistry.leader.LeaderStrategy;
import io.globalregistry.invoke.Invocations;
import io.globalregistry.membership.Membership;
import io.globalregistry.membership.NodeId;
import io.globalregistry.name.GlobalName;
import io.globalregistry.name.NameCodec;
import io.globalregistry.protocol.NodeRuntime.Cancellable;
import io.globalregistry.protocol.NodeRuntime;
import io.globalregistry.protocol.RegistryConfig;
import io.globalregistry.protocol.RegistryNode;
import io.globalregistry.wire.Envelope;
import io.globalregistry.wire.Message;
import io.globalregistry.wire.RejectedMessages;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.ObjectMapper;

/**
 * The {@link GlobalNameRegistry} of one node over any {@link NodeTransport}: it owns the node's
 * {@link RegistryNode} and runs every protocol step on the node's event loop, while
 * {@link #whereis} reads the name table directly from the calling thread. Sends and deliveries
 * are in {@link Deliveries}, proxies and calls in {@link Invocations} (over {@link NodeCallNetwork}),
 * owner-change listeners in {@link OwnerChangeDispatcher}.
 */
public final class RegistryEngine implements GlobalNameRegistry {

    private static final Logger LOG = LoggerFactory.getLogger(RegistryEngine.class);
    private static final Duration LOOP_CALL_TIMEOUT = Duration.ofSeconds(10);
    private static final long MIN_MARGIN_MILLIS = 3_000;
    private static final long CALL_DRAIN_MILLIS = 2_000;
    /** How long a leaving node that served calls lately keeps answering NOT_OWNER: the unregister reaches callers in less. */
    private static final long CALL_LINGER_MILLIS = 100;

    private final NodeId self;
    private final RegistryConfig config;
    private final NodeRuntime runtime;
    private final AutoCloseable loopCloser;
    private final NodeTransport transport;
    private final RejectedMessages rejected;
    private final NameCodec names = new NameCodec();
    private final ExecutorService notifier;
    private final ExecutorService callbacks;
    private final ExecutorService handlers;
    private final OwnerChangeDispatcher listeners;
    private final RegistryNode node;
    private final Deliveries deliveries;
    private final ThreadPoolExecutor callExecutor;
    private final ScheduledThreadPoolExecutor callTimer;
    private final ExecutorService callResults;
    private final Invocations invocations;
    private final LoopCalls loop;
    private final ClaimWindow claims;
    private final Set<CompletableFuture<RegistrationResult>> inFlight = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final RegistryObserver observer;
    private volatile Consumer<String> giveUpWatcher = why -> { };

    /**
     * Builds the node; {@link #start()} connects it.
     *
     * @param self this node's identity
     * @param config the protocol settings
     * @param runtime the node's event loop
     * @param loopCloser stops the event loop on {@link #close()}
     * @param transport the transport, not started yet
     * @param rejected where the transport counts the messages it drops
     * @param payloadMapper converts sent messages to JSON and back; must not enable default typing
     * @param handlerThreads threads running {@link io.globalregistry.MessageHandler}s (1 keeps messages in order)
     * @param maxConcurrentClaims how many registrations this node claims at once; the others wait their turn
     */
    public RegistryEngine(NodeId self, RegistryConfig config, NodeRuntime runtime, AutoCloseable loopCloser,
                          NodeTransport transport, RejectedMessages rejected, ObjectMapper payloadMapper,
                          int handlerThreads, int maxConcurrentClaims) {
        this(self, config, runtime, loopCloser, transport, rejected, new DeliveryStats(), payloadMapper, handlerThreads,
                maxConcurrentClaims, RegistryObserver.NO_OP);
    }

    /**
     * Builds the node with an observer of its registrations and proxied calls, counting deliveries
     * where the caller says (so the counts can outlive this incarnation); {@link #start()} connects it.
     *
     * @param deliveryStats where what became of the messages sent to names is counted
     * @param observer told how long each registration and proxied call took and how it ended
     * @see #RegistryEngine(NodeId, RegistryConfig, NodeRuntime, AutoCloseable, NodeTransport, RejectedMessages,
     *      ObjectMapper, int, int)
     */
    public RegistryEngine(NodeId self, RegistryConfig config, NodeRuntime runtime, AutoCloseable loopCloser,
                          NodeTransport transport, RejectedMessages rejected, DeliveryStats deliveryStats,
                          ObjectMapper payloadMapper, int handlerThreads, int maxConcurrentClaims,
                          RegistryObserver observer) {
        this.self = Objects.requireNonNull(self, "self");
        this.config = Objects.requireNonNull(config, "config");
        this.runtime = Objects.requireNonNull(runtime, "runtime");
        this.loopCloser = Objects.requireNonNull(loopCloser, "loopCloser");
        this.transport = Objects.requireNonNull(transport, "transport");
        this.rejected = Objects.requireNonNull(rejected, "rejected");
        this.observer = Objects.requireNonNull(observer, "observer");
        if (handlerThreads < 1) {
            throw new IllegalArgumentException("handlerThreads must be at least 1, got " + handlerThreads);
        }
        this.notifier = RegistryThreads.fixed(self.name(), "listeners", 1);
        this.callbacks = RegistryThreads.fixed(self.name(), "callbacks", 1);
        this.handlers = RegistryThreads.fixed(self.name(), "handlers", handlerThreads);
        this.listeners = new OwnerChangeDispatcher(notifier);
        this.node = new RegistryNode(self, config, runtime, transport, this::ownerChanged,
                config.strategy() == RegistryConfig.Strategy.LEADER ? LeaderStrategy::new : ClaimStrategy::new);
        this.deliveries = new Deliveries(names, node, this::resolve, runtime, payloadMapper, handlers,
                config.maxMessageSize(), Objects.requireNonNull(deliveryStats, "deliveryStats"));
        this.node.onDeliver(deliveries::onDeliver);
        this.node.onLeaderChange(listeners::leaderChanged);
        this.node.onGiveUp(this::gaveUp);
        this.callExecutor = callExecutor(self, config);
        this.callTimer = new ScheduledThreadPoolExecutor(1, RegistryThreads.factory(self.name(), "call-timer"));
        this.callTimer.setRemoveOnCancelPolicy(true);
        this.callResults = RegistryThreads.fixed(self.name(), "call-results", 1);
        this.invocations = new Invocations(self, config, new NodeCallNetwork(node, runtime, transport, this::resolve),
                payloadMapper, callExecutor, callTimer, callResults, observer);
        this.loop = new LoopCalls(runtime, LOOP_CALL_TIMEOUT);
        this.claims = new ClaimWindow(maxConcurrentClaims);
    }

    /**
     * On the loop: protocol messages go to the node; calls and replies beside it, since they need
     * none of its state, and its filters would lose them: a node ignores everything once it has
     * left (a call must still be answered NOT_OWNER so its caller goes to the next owner) and
     * everything from a member that said bye (the replies it sent while draining its calls).
     */
    private void inbound(Envelope envelope) {
        Message body = envelope.body();
        if (body instanceof Message.Call || body instanceof Message.Reply) {
            if (!envelope.sender().equals(self)) {
                invocations.onMessage(envelope.sender(), body);
            }
            return;
        }
        node.onMessage(envelope);
    }

    /**
     * Runs {@code callback} with why once this node gives its incarnation up (it lost its connection, or
     * did not hear itself for 5 x fence-after): its names are gone, it is stopped and disconnected for
     * good, though not closed. It runs on the listeners' thread, after they were told of the FENCED
     * names. Set it before {@link #start()}.
     */
    public void onGaveUp(Consumer<String> callback) {
        this.giveUpWatcher = Objects.requireNonNull(callback, "callback");
    }

    /** On the loop, from the node giving up: tell whoever watches, after the listeners' FENCED changes. */
    private void gaveUp(String why) {
        LOG.warn("Registry node {} gave up its incarnation: {}", self, why);
        try {
            notifier.execute(() -> giveUpWatcher.accept(why));
        } catch (RejectedExecutionException e) {
            LOG.debug("Registry node {} closed; its giving up is not told", self);
        }
    }

    /** On the loop: calls waiting for this name's owner learn first, then the listeners (on their thread). */
    private void ownerChanged(OwnerChange change) {
        invocations.onOwnerChange(change);
        listeners.accept(change);
    }

    /** The bounded executor of incoming calls: full -> {@link RejectedExecutionException} -> the caller hears "busy". */
    private static ThreadPoolExecutor callExecutor(NodeId self, RegistryConfig config) {
        BlockingQueue<Runnable> queue = config.callQueue() == 0 ? new SynchronousQueue<>()
                : new ArrayBlockingQueue<>(config.callQueue());
        ThreadPoolExecutor executor = new ThreadPoolExecutor(config.callThreads(), config.callThreads(), 60,
                TimeUnit.SECONDS, queue, RegistryThreads.factory(self.name(), "calls"), new ThreadPoolExecutor.AbortPolicy());
        executor.allowCoreThreadTimeOut(true);
        return executor;
    }

    /** Starts consuming the inbox, then joins the cluster (hello, then the join window). */
    public void start() {
        try {
            transport.onConnectionLost(() -> runtime.execute(node::connectionLost));
            transport.start(this::inbound, node::onLeaseHeartbeat);
            loop.run(node::start);
        } catch (RuntimeException e) {
            shutDown();
            throw e;
        }
    }

    @Override
    public NodeId nodeId() {
        return self;
    }

    /**
     * Under the claim strategy (every node holds every name) and for the names this node owns or
     * has cached, a read of the table from the calling thread. Under the leader strategy a miss asks
     * the leader and waits for its answer, at most claim-timeout; concurrent misses of one name
     * share one request, and a found owner is cached.
     */
    @Override
    public Optional<Registration> whereis(Object name) {
        return Optional.ofNullable(resolve(names.canonicalKey(name), false));
    }

    /** Crash detection: the grace this node announces, in ms; 0 when off (see RegistryConfig#crashGrace). */
    public long crashGraceMillis() {
        return node.crashGraceMillis();
    }

    @Override
    public boolean mayActAsOwner(Object name) {
        Registration registration = node.lookup(names.canonicalKey(name));
        return !closed.get() && registration != null && registration.isLocal() && node.leaseValidWaiting();
    }

    @Override
    public Optional<NodeId> leader() {
        return Optional.ofNullable(node.leader());
    }

    /**
     * The registration of {@code key}: the table's, or on a miss under the leader strategy the
     * leader's answer ({@code watch}: this node also hears when an owner appears). Must not be
     * called on the event loop, whose thread delivers the answer.
     */
    Registration resolve(String key, boolean watch) {
        Registration known = node.lookup(key);
        if (known != null || config.strategy() != RegistryConfig.Strategy.LEADER || closed.get()) {
            return known;
        }
        CompletableFuture<Registration> answer = new CompletableFuture<>();
        runtime.execute(() -> node.resolve(new GlobalName(key), watch, answer));
        try {
            return answer.get(config.claimTimeout().toMillis() + MIN_MARGIN_MILLIS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException("Interrupted while asking the leader who owns " + key, e);
        }
    }

    @Override
    public RegistrationResult register(Object name, Object target) {
        Registering registering = startRegistration(name, target);
        long bound = registrationTimeoutMillis();
        try {
            // the loop's own future is one thread hop faster; the caller's side also ends on close
            Object decided = CompletableFuture.anyOf(registering.decided, registering.result)
                    .get(bound, TimeUnit.MILLISECONDS);
            return (RegistrationResult) decided;
        } catch (TimeoutException e) {
            // completing the caller's side makes a registration still waiting for room never start;
            // one already started that wins after this is unregistered (see deliver)
            RegistrationTimeoutException timeout = new RegistrationTimeoutException(registering.key.key(),
                    "no decision within " + bound + " ms");
            if (registering.result.completeExceptionally(timeout)) {
                throw timeout;
            }
            try {
                return registering.result.join();
            } catch (CompletionException decidedMeanwhile) {
                throw Failures.unwrap(decidedMeanwhile);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            registering.result.completeExceptionally(new RegistryException("Interrupted while registering"));
            throw new RegistryException("Interrupted while registering " + registering.key, e);
        } catch (ExecutionException e) {
            throw Failures.unwrap(e.getCause());
        }
    }

    /**
     * Registers without blocking. The claim may wait for room in the claim window (at most
     * {@code maxConcurrentClaims} at once per node); from the moment it starts it is decided within
     * {@link #registrationTimeoutMillis()} or fails with {@link RegistrationTimeoutException}. The
     * future completes on a registry callback thread, never on the event loop.
     */
    @Override
    public CompletableFuture<RegistrationResult> registerAsync(Object name, Object target) {
        return startRegistration(name, target).result;
    }

    /** A registration under way: {@code decided} completes on the loop, {@code result} on the callback thread. */
    private record Registering(GlobalName key, CompletableFuture<RegistrationResult> decided,
                               CompletableFuture<RegistrationResult> result) {
    }

    private Registering startRegistration(Object name, Object target) {
        GlobalName key = names.encode(name);
        if (target == null) {
            throw new IllegalArgumentException("The target registered under " + key + " must not be null");
        }
        checkOpen();
        long timeoutMillis = registrationTimeoutMillis();
        long begun = System.nanoTime();
        CompletableFuture<RegistrationResult> result = new CompletableFuture<>();
        inFlight.add(result);
        result.whenComplete((r, e) -> {
            inFlight.remove(result);
            registrationFinished(begun, e != null ? RegistrationOutcome.FAILED
                    : r.registered() ? RegistrationOutcome.WON : RegistrationOutcome.LOST);
        });
        CompletableFuture<RegistrationResult> decided = new CompletableFuture<>();
        decided.whenComplete((r, e) -> onCallbackThread(() -> deliver(key, result, r, e)));
        runtime.runNow(() -> claims.submit(new ClaimWindow.Entry(result, started -> {
            Cancellable timer = runtime.schedule(timeoutMillis, () -> onCallbackThread(() -> result.completeExceptionally(
                    new RegistrationTimeoutException(key.key(), "no decision within " + timeoutMillis + " ms"))));
            started.whenComplete((r, e) -> timer.cancel());
            node.register(key, target, started);
        }, decided)));
        return new Registering(key, decided, result);
    }

    /**
     * claim-timeout + the join ({@link RegistryConfig#joinMillis()}) + a margin (at least 3 s, at least
     * two more claim-timeouts): the margin covers the broker check of silent members and a busy event loop.
     */
    long registrationTimeoutMillis() {
        long claim = config.claimTimeout().toMillis();
        return claim + config.joinMillis() + Math.max(MIN_MARGIN_MILLIS, 2 * claim);
    }

    private void deliver(GlobalName key, CompletableFuture<RegistrationResult> result, RegistrationResult r, Throwable e) {
        boolean delivered = e == null ? result.complete(r) : result.completeExceptionally(Failures.unwrap(e));
        if (!delivered && e == null && r.registered()) {
            LOG.warn("Registration of {} was decided after the caller was told it timed out; unregistering it", key);
            runtime.execute(() -> node.unregister(key));
        }
    }

    private void registrationFinished(long started, RegistrationOutcome outcome) {
        try {
            observer.registrationFinished(Duration.ofNanos(System.nanoTime() - started), outcome);
        } catch (RuntimeException e) {
            LOG.warn("Registry observer {} failed", observer, e);
        }
    }

    private void onCallbackThread(Runnable task) {
        try {
            callbacks.execute(task);
        } catch (RejectedExecutionException e) {
            task.run();
        }
    }

    @Override
    public boolean unregister(Object name) {
        GlobalName key = names.encode(name);
        checkOpen();
        return loop.call(() -> node.unregister(key));
    }

    @Override
    public void send(Object name, Object message) {
        checkOpen();
        deliveries.send(name, message);
    }

    @Override
    public <T> T proxy(Object name, Class<T> type) {
        String key = names.canonicalKey(name);
        checkOpen();
        return invocations.proxy(key, type);
    }

    /** This node's calls (pending counts, busy refusals). */
    public Invocations invocations() {
        return invocations;
    }

    @Override
    public List<Registration> registrations() {
        checkOpen();
        return Collections.unmodifiableList(loop.call(() -> new ArrayList<>(node.registrations())));
    }

    @Override
    public Set<NodeId> members() {
        checkOpen();
        return Collections.unmodifiableSet(loop.call(() -> {
            Set<NodeId> members = new TreeSet<>(node.membership().memberIds());
            members.add(self);
            return members;
        }));
    }

    @Override
    public void addListener(OwnerChangeListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    @Override
    public void removeListener(OwnerChangeListener listener) {
        listeners.remove(listener);
    }

    @Override
    public void addLeaderListener(LeaderListener listener) {
        listeners.addLeaderListener(Objects.requireNonNull(listener, "listener"));
    }

    @Override
    public void removeLeaderListener(LeaderListener listener) {
        listeners.removeLeaderListener(listener);
    }

    @Override
    public RejectedMessages rejected() {
        return rejected;
    }

    @Override
    public DeliveryStats deliveries() {
        return deliveries.stats();
    }

    @Override
    public Map<NodeId, Instant> lastHeartbeats() {
        checkOpen();
        return Collections.unmodifiableMap(loop.call(() -> {
            long wall = runtime.wallClockMillis();
            long monotonic = runtime.monotonicMillis();
            Map<NodeId, Instant> heard = new TreeMap<>();
            for (Membership.Member member : node.membership().members()) {
                heard.put(member.id(), Instant.ofEpochMilli(wall - (monotonic - member.lastHeard())));
            }
            return heard;
        }));
    }

    @Override
    public boolean isFenced() {
        return !closed.get() && loop.call(node::isFenced);
    }

    /** Whether {@link #close()} (or {@link #halt()}) was called. */
    public boolean isClosed() {
        return closed.get();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            loop.run(node::leave);
        } catch (RuntimeException e) {
            LOG.warn("Node {} could not leave gracefully: {}", self, e.toString());
        }
        // names are gone (new calls are answered NOT_OWNER and go to the next owner); let running ones reply,
        // and if this node served calls lately, linger a moment for calls already on their way to it
        callExecutor.shutdown();
        try {
            if (!callExecutor.awaitTermination(Math.min(CALL_DRAIN_MILLIS, config.callTimeout().toMillis()),
                    TimeUnit.MILLISECONDS)) {
                LOG.warn("Calls still running on {} after {} ms; closing anyway", self, CALL_DRAIN_MILLIS);
            }
            if (invocations.servedCallsWithin(config.callTimeout().toMillis())) {
                Thread.sleep(CALL_LINGER_MILLIS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        shutDown();
    }

    /**
     * Stops without a word, as a crashed process would: the node halts and the loop stops. The
     * caller kills the transport first (e.g. by aborting its connection). For tests.
     */
    public void halt() {
        halt("The registry node " + self + " was closed");
    }

    /**
     * {@link #halt()}, with {@code why} as the failure of every registration and call under way, e.g.
     * after this node gave its incarnation up.
     */
    public void halt(String why) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        runtime.execute(node::halt);
        shutDown(why);
    }

    private void shutDown() {
        shutDown("The registry node " + self + " was closed");
    }

    private void shutDown(String why) {
        closed.set(true);
        try {
            transport.close();
        } catch (RuntimeException e) {
            LOG.warn("Closing the transport of {} failed: {}", self, e.toString());
        }
        try {
            loopCloser.close();
        } catch (Exception e) {
            LOG.warn("Closing the event loop of {} failed: {}", self, e.toString());
        }
        IllegalStateException closedError = new IllegalStateException(why);
        for (CompletableFuture<RegistrationResult> pending : List.copyOf(inFlight)) {
            pending.completeExceptionally(closedError);
        }
        invocations.close(why);
        callExecutor.shutdownNow();
        callTimer.shutdownNow();
        callResults.shutdown();
        notifier.shutdown();
        handlers.shutdown();
        callbacks.shutdown();
        try {
            handlers.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException("The registry node " + self + " is closed");
        }
    }

    @Override
    public String toString() {
        return "GlobalNameRegistry[" + self + " in " + config.cluster() + "]";
    }
}
