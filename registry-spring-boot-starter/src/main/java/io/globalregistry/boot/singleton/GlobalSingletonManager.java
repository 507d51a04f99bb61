package io.globalregistry.boot.singleton;

import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.LeaderListener;
import io.globalregistry.OwnerChange;
import io.globalregistry.OwnerChangeListener;
import io.globalregistry.Registration;
import io.globalregistry.membership.NodeId;
import io.globalregistry.name.GlobalName;
import io.globalregistry.name.NameCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.scheduling.annotation.ScheduledAnnotationBeanPostProcessor;
import org.springframework.scheduling.config.TaskSchedulerRouter;

/**
 * Creates each {@code @GlobalSingleton}'s real bean on the node that owns it, and only there.
 *
 * <p>Per singleton there are two registrations. The guard ({@link GlobalSingletonDefinition#guardName()}) decides
 * which node runs the bean: every node claims it when the context starts and, as a standby, again as soon as it
 * loses its owner (unregistered or owner down). The guard's winner creates the bean (full lifecycle: injection,
 * {@link io.globalregistry.boot.FencingTokenAware}, {@code @PostConstruct}, {@code @Scheduled}...) and only then
 * registers it under the singleton's name, so a call never reaches a half-made bean: meanwhile callers' proxies
 * wait for an owner. On stop (context close) it unregisters the name, destroys the bean ({@code @PreDestroy},
 * scheduled tasks cancelled), then releases the guard, so a standby takes over while this node is still
 * connected. The fencing token is the guard's, which grows with every change of owner.
 *
 * <p>When this node gives up its incarnation (it lost the broker) its singletons stop with its names (FENCED);
 * once it has rejoined the cluster as a new incarnation it claims every one again, standing by where another node
 * took them over meanwhile.
 *
 * <p>Under the {@code leader} strategy the singletons run on the leader node, as Couchbase's do: only the leader
 * claims them, when it becomes the leader, and a node that stops being the leader hands them over; so the
 * leader's failover is theirs.
 *
 * <p>The owner acts only while {@link GlobalNameRegistry#mayActAsOwner(Object)} says so for the guard: it holds
 * the guard and its lease is valid on the monotonic clock (docs/PROTOCOL.md, "Liveness"). A process resumed
 * after a pause (SIGSTOP, a long GC) may still hold an instance whose owner the cluster has replaced meanwhile,
 * so every run of the bean's {@code @Scheduled} methods checks it, on the thread that runs it, right before the
 * method, and is skipped when it is false (counted: {@link #skippedRuns()}; logged at WARN, at most once per
 * ten seconds per singleton); so is the creation of the bean, retried until allowed or the guard is lost. The
 * {@code @Scheduled} methods of the real bean are processed by a {@link ScheduledAnnotationBeanPostProcessor} of
 * its own bean factory (in place of the context's), whose scheduler is an {@link OwnerOnlyTaskScheduler} over a
 * {@link TaskSchedulerRouter}: the tasks run on the scheduler Spring would choose ({@code @Scheduled(scheduler =
 * ...)}, else the context's {@code TaskScheduler} or {@code ScheduledExecutorService} bean, else one thread of
 * its own). Without {@code @EnableScheduling} in the context, the methods do not run, as for any bean.
 *
 * <p>A <em>failover</em> is this node activating a singleton after it saw the previous owner lose it (died, handed
 * it over, or this node itself fenced); they are counted by {@link FailoverReason}.
 *
 * <p>Runs in phase {@link #PHASE}: after the web server started, stopped before it stops.
 *
 * <p>This class is the life cycle and the listeners: it decides when a singleton is claimed, stopped or handed
 * over; each singleton's state and those steps themselves are a {@link GlobalSingletonSlot}.
 */
public final class GlobalSingletonManager implements SmartLifecycle, OwnerChangeListener, DisposableBean {

    /** Why the previous owner of a singleton this node took over lost it. */
    public enum FailoverReason {
        /** The owner was certified dead, or is no longer a member. */
        OWNER_DOWN,
        /** The owner handed it over: it released the singleton, e.g. when its context closed. */
        HANDED_OVER,
        /** This node owned it and fenced itself (it stopped hearing itself through the broker). */
        FENCED;

        static FailoverReason of(OwnerChange.Reason reason) {
            return switch (reason) {
                case UNREGISTERED -> HANDED_OVER;
                case FENCED -> FENCED;
                default -> OWNER_DOWN;
            };
        }
    }

    /** Starts after the web server (phase {@code DEFAULT_PHASE - 2048}) and its graceful shutdown, stops before. */
    public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 512;

    private static final Log LOG = LogFactory.getLog(GlobalSingletonManager.class);

    /** Interval of the check for singletons without a live owner. */
    private static final long RECHECK_MILLIS = 2000;

    private final GlobalNameRegistry registry;
    private final Duration decisionTimeout;
    private final boolean onLeaderOnly;
    private final LeaderListener leaderListener = this::leaderChanged;
    private final Map<GlobalName, GlobalSingletonSlot> slotsByGuard = new LinkedHashMap<>();
    private final Map<FailoverReason, LongAdder> failovers = new EnumMap<>(FailoverReason.class);
    private final LongAdder skippedRuns = new LongAdder();
    private volatile boolean running;
    private ScheduledExecutorService executor;

    /**
     * @param decisionTimeout how long the startup waits for the guards to be decided, and the owner of a guard
     *                        retries registering the singleton's name (a dead owner's entry may linger a moment)
     */
    public GlobalSingletonManager(GlobalNameRegistry registry, ConfigurableListableBeanFactory beanFactory,
                                  GlobalSingletons singletons, Duration decisionTimeout) {
        this(registry, beanFactory, singletons, decisionTimeout, false);
    }

    /**
     * @param decisionTimeout how long the startup waits for the guards to be decided, and the owner of a guard
     *                        retries registering the singleton's name (a dead owner's entry may linger a moment)
     * @param onLeaderOnly    whether the singletons run on the leader node only (strategy {@code leader})
     */
    public GlobalSingletonManager(GlobalNameRegistry registry, ConfigurableListableBeanFactory beanFactory,
                                  GlobalSingletons singletons, Duration decisionTimeout, boolean onLeaderOnly) {
        this.onLeaderOnly = onLeaderOnly;
        this.registry = registry;
        this.decisionTimeout = decisionTimeout;
        for (FailoverReason reason : FailoverReason.values()) {
            failovers.put(reason, new LongAdder());
        }
        NameCodec names = new NameCodec();
        for (GlobalSingletonDefinition definition : singletons.definitions()) {
            slotsByGuard.put(names.encode(definition.guardName()), new GlobalSingletonSlot(definition, this, registry,
                    beanFactory, singletons, decisionTimeout));
        }
    }

    /** Whether this node runs the real bean of the singleton registered as {@code name}. */
    public boolean isActive(String name) {
        return slot(name).map(GlobalSingletonSlot::isActive).orElse(false);
    }

    /** The fencing token of this node's instance of {@code name}, when it runs it. */
    public Optional<Long> fencingToken(String name) {
        return slot(name).filter(GlobalSingletonSlot::isActive).map(GlobalSingletonSlot::token);
    }

    /** How many times this node took a singleton over, its previous owner having lost it for {@code reason}. */
    public long failovers(FailoverReason reason) {
        return failovers.get(reason).sum();
    }

    /**
     * How many runs of the singletons' scheduled tasks this node skipped because it could not act as their owner
     * ({@link GlobalNameRegistry#mayActAsOwner(Object)} false for the guard: lease not valid, or guard lost).
     */
    public long skippedRuns() {
        return skippedRuns.sum();
    }

    private Optional<GlobalSingletonSlot> slot(String name) {
        return slotsByGuard.values().stream().filter(slot -> slot.definition().name().equals(name)).findFirst();
    }

    @Override
    public void start() {
        if (slotsByGuard.isEmpty()) {
            running = true;
            return;
        }
        for (GlobalSingletonSlot slot : slotsByGuard.values()) {
            slot.createFactory();
        }
        executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "global-singletons");
            thread.setDaemon(true);
            return thread;
        });
        executor.scheduleWithFixedDelay(this::claimOrphans, RECHECK_MILLIS, RECHECK_MILLIS, TimeUnit.MILLISECONDS);
        running = true;
        registry.addListener(this); // before claiming: no release may go unseen
        if (onLeaderOnly) {
            registry.addLeaderListener(leaderListener); // the leader claims them when it becomes the leader
        }
        List<CompletableFuture<?>> decisions = new ArrayList<>();
        for (GlobalSingletonSlot slot : slotsByGuard.values()) {
            decisions.add(slot.claim());
        }
        try {
            CompletableFuture.allOf(decisions.toArray(new CompletableFuture<?>[0]))
                    .get(decisionTimeout.toMillis() * 2, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            LOG.warn("Global singletons not all decided within " + decisionTimeout.multipliedBy(2)
                    + "; the startup goes on, they are claimed in the background");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            LOG.warn("Claiming the global singletons failed", e.getCause());
        }
    }

    /** Whether this node may run the singletons: always under {@code claim}; under {@code leader} while it leads. */
    boolean mayRun() {
        return !onLeaderOnly || registry.leader().map(registry.nodeId()::equals).orElse(false);
    }

    /** The thread the singletons' claims and creations run on, from {@code start()}. */
    ScheduledExecutorService executor() {
        return executor;
    }

    /** Counts a failover of a singleton this node just activated. */
    void countFailover(FailoverReason reason) {
        failovers.get(reason).increment();
    }

    /** Counts a run of a singleton's scheduled task skipped because this node could not act as its owner. */
    void countSkippedRun() {
        skippedRuns.increment();
    }

    /** Strategy {@code leader}: the leader claims every singleton; a node that no longer leads hands them over. */
    private void leaderChanged(NodeId leader) {
        if (!running) {
            return;
        }
        executor.execute(() -> {
            if (!running) {
                return;
            }
            if (mayRun()) {
                LOG.info("This node " + registry.nodeId() + " leads the cluster: it claims its global singletons");
                for (GlobalSingletonSlot slot : slotsByGuard.values()) {
                    slot.claim();
                }
            } else {
                for (GlobalSingletonSlot slot : slotsByGuard.values()) {
                    if (slot.isActive()) {
                        LOG.info("Global singleton '" + slot.definition().name() + "': this node no longer leads the "
                                + "cluster (leader " + leader + "); handing it over");
                    }
                    slot.handOver();
                }
            }
        });
    }

    @Override
    public void onOwnerChange(OwnerChange change) {
        if (!running || change.newOwner() != null || !mayRun()) {
            return;
        }
        GlobalSingletonSlot slot = slotsByGuard.get(change.name());
        if (slot != null) {
            if (change.previousOwner() != null) {
                slot.lostBecause(FailoverReason.of(change.reason()));
            }
            if (change.reason() == OwnerChange.Reason.FENCED) {
                // no claim while fenced: the orphan check claims once this node hears itself again, and a
                // node that gives up claims as soon as it rejoins (onRejoined)
                slot.stopFenced();
                return;
            }
            LOG.info("Global singleton '" + slot.definition().name() + "' has no owner (" + change.reason()
                    + " by " + change.previousOwner() + "): claiming it");
            slot.claim();
        }
    }

    /** This node is a new incarnation, owning nothing: claim every singleton again (after the FENCED changes). */
    @Override
    public void onRejoined(NodeId previous, NodeId current) {
        if (!running || slotsByGuard.isEmpty()) {
            return;
        }
        LOG.info("This node rejoined the cluster as " + current + " (was " + previous + "); claiming its global "
                + "singletons again");
        executor.execute(() -> { // after the outcomes of claims made on the old incarnation, queued there before
            for (GlobalSingletonSlot slot : slotsByGuard.values()) {
                slot.stopFenced(); // none should run: the FENCED changes came first
                slot.claim();
            }
        });
    }

    /**
     * The safety net behind the owner-change events: claims every guard this node sees without a live owner
     * (say a claim lost to a competitor that then failed, or an event that came while a claim was under way).
     * Not while this node is fenced: it could not register.
     */
    private void claimOrphans() {
        if (!running || registry.isFenced() || !mayRun()) {
            return;
        }
        try {
            Set<NodeId> members = registry.members();
            for (GlobalSingletonSlot slot : slotsByGuard.values()) {
                if (!slot.isActive() && !slot.isClaiming()) {
                    Optional<Registration> guard = registry.whereis(slot.definition().guardName());
                    if (guard.isEmpty() || !members.contains(guard.get().owner())) {
                        if (guard.isPresent()) {
                            slot.lostBecause(FailoverReason.OWNER_DOWN);
                        }
                        slot.claim();
                    }
                }
            }
        } catch (RuntimeException e) {
            LOG.debug("Checking the global singletons' owners failed", e);
        }
    }

    @Override
    public void stop() {
        running = false;
        if (slotsByGuard.isEmpty()) {
            return;
        }
        registry.removeListener(this);
        if (onLeaderOnly) {
            registry.removeLeaderListener(leaderListener);
        }
        try {
            for (GlobalSingletonSlot slot : slotsByGuard.values()) {
                slot.handOver();
            }
        } finally {
            executor.shutdownNow();
            closeScheduling();
        }
    }

    /** Backs {@link #stop()} up when the context closes without having stopped this manager (a failed start). */
    @Override
    public void destroy() {
        closeScheduling();
    }

    /** Cancels what is left of the real beans' scheduled tasks and shuts down a scheduler made for them. */
    private void closeScheduling() {
        for (GlobalSingletonSlot slot : slotsByGuard.values()) {
            try {
                slot.closeScheduling();
            } catch (RuntimeException e) {
                LOG.warn("Shutting down the scheduling of global singleton '" + slot.definition().name()
                        + "' failed", e);
            }
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }
}
