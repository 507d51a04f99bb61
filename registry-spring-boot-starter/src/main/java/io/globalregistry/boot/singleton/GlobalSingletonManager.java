package io.globalregistry.boot.singleton;

import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.LeaderListener;
import io.globalregistry.OwnerChange;
import io.globalregistry.OwnerChangeListener;
import io.globalregistry.Registration;
import io.globalregistry.RegistrationResult;
import io.globalregistry.RegistryException;
import io.globalregistry.membership.NodeId;
import io.globalregistry.name.GlobalName;
import io.globalregistry.name.NameCodec;
import io.globalregistry.support.RateLimitedLog;
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
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.config.EmbeddedValueResolver;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
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

    /** Delay before trying again to create a bean whose guard this node won while it could not act as owner. */
    private static final long ACTIVATION_RETRY_MILLIS = 100;

    private final GlobalNameRegistry registry;
    private final ConfigurableListableBeanFactory beanFactory;
    private final GlobalSingletons singletons;
    private final Duration decisionTimeout;
    private final boolean onLeaderOnly;
    private final LeaderListener leaderListener = this::leaderChanged;
    private final Map<GlobalName, Slot> slotsByGuard = new LinkedHashMap<>();
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
        this.beanFactory = beanFactory;
        this.singletons = singletons;
        this.decisionTimeout = decisionTimeout;
        for (FailoverReason reason : FailoverReason.values()) {
            failovers.put(reason, new LongAdder());
        }
        NameCodec names = new NameCodec();
        for (GlobalSingletonDefinition definition : singletons.definitions()) {
            slotsByGuard.put(names.encode(definition.guardName()), new Slot(definition));
        }
    }

    /** Whether this node runs the real bean of the singleton registered as {@code name}. */
    public boolean isActive(String name) {
        return slot(name).map(slot -> slot.instance != null).orElse(false);
    }

    /** The fencing token of this node's instance of {@code name}, when it runs it. */
    public Optional<Long> fencingToken(String name) {
        return slot(name).filter(slot -> slot.instance != null).map(slot -> slot.token);
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

    private Optional<Slot> slot(String name) {
        return slotsByGuard.values().stream().filter(slot -> slot.definition.name().equals(name)).findFirst();
    }

    @Override
    public void start() {
        if (slotsByGuard.isEmpty()) {
            running = true;
            return;
        }
        for (Slot slot : slotsByGuard.values()) {
            slot.factory = targetFactory(slot);
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
        for (Slot slot : slotsByGuard.values()) {
            decisions.add(claim(slot));
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

    /**
     * The factory of one real bean: a child of the context's, configured like it (post-processors, autowiring,
     * {@code @Value} resolution, conversion), which holds only its definition; where the context processes
     * {@code @Scheduled} methods, its own processor does instead, on a scheduler that runs a task only while this
     * node may act as the singleton's owner.
     */
    private DefaultListableBeanFactory targetFactory(Slot slot) {
        DefaultListableBeanFactory factory = new DefaultListableBeanFactory(beanFactory);
        factory.copyConfigurationFrom(beanFactory);
        if (factory.getBeanPostProcessors().stream().anyMatch(ScheduledAnnotationBeanPostProcessor.class::isInstance)) {
            TaskSchedulerRouter schedulers = new TaskSchedulerRouter(); // Spring's choice of scheduler, per task
            schedulers.setBeanName(slot.definition.targetBeanName() + ".scheduler");
            schedulers.setBeanFactory(factory);
            ScheduledAnnotationBeanPostProcessor scheduling = new ScheduledAnnotationBeanPostProcessor();
            scheduling.setBeanName(slot.definition.targetBeanName() + ".scheduling");
            scheduling.setBeanFactory(factory);
            scheduling.setEmbeddedValueResolver(new EmbeddedValueResolver(factory));
            scheduling.setScheduler(new OwnerOnlyTaskScheduler(schedulers, () -> mayActAsOwner(slot)));
            scheduling.afterSingletonsInstantiated(); // no context: registration ends now, the tasks start at once
            factory.getBeanPostProcessors().replaceAll(processor ->
                    processor instanceof ScheduledAnnotationBeanPostProcessor ? scheduling : processor);
            slot.scheduling = scheduling;
            slot.schedulers = schedulers;
        }
        factory.registerBeanDefinition(slot.definition.targetBeanName(), slot.definition.target());
        return factory;
    }

    /**
     * Whether this node may act as the owner of {@code slot}'s singleton now; when not, counts and logs (rate
     * limited) a skipped run. Asked before each run of its scheduled tasks, on their thread.
     */
    private boolean mayActAsOwner(Slot slot) {
        boolean may;
        try {
            may = registry.mayActAsOwner(slot.definition.guardName());
        } catch (RuntimeException e) {
            may = false; // say the registry is closing: not the owner
        }
        if (!may) {
            skippedRuns.increment();
            slot.notOwnerLog.log("Global singleton '{}': a scheduled run was skipped, this node {} may not act as "
                    + "its owner now (its lease is not valid, say after a pause, or it no longer holds the "
                    + "singleton); the runs go on once it may again, or the instance stops", slot.definition.name(),
                    registry.nodeId());
        }
        return may;
    }

    /** Whether this node may run the singletons: always under {@code claim}; under {@code leader} while it leads. */
    private boolean mayRun() {
        return !onLeaderOnly || registry.leader().map(registry.nodeId()::equals).orElse(false);
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
                for (Slot slot : slotsByGuard.values()) {
                    claim(slot);
                }
            } else {
                for (Slot slot : slotsByGuard.values()) {
                    if (slot.instance != null) {
                        LOG.info("Global singleton '" + slot.definition.name() + "': this node no longer leads the "
                                + "cluster (leader " + leader + "); handing it over");
                    }
                    handOver(slot);
                }
            }
        });
    }

    @Override
    public void onOwnerChange(OwnerChange change) {
        if (!running || change.newOwner() != null || !mayRun()) {
            return;
        }
        Slot slot = slotsByGuard.get(change.name());
        if (slot != null) {
            if (change.previousOwner() != null) {
                slot.lostBecause = FailoverReason.of(change.reason());
            }
            if (change.reason() == OwnerChange.Reason.FENCED) {
                // no claim while fenced: the orphan check claims once this node hears itself again, and a
                // node that gives up claims as soon as it rejoins (onRejoined)
                stopFenced(slot);
                return;
            }
            LOG.info("Global singleton '" + slot.definition.name() + "' has no owner (" + change.reason()
                    + " by " + change.previousOwner() + "): claiming it");
            claim(slot);
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
            for (Slot slot : slotsByGuard.values()) {
                stopFenced(slot); // none should run: the FENCED changes came first
                claim(slot);
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
            for (Slot slot : slotsByGuard.values()) {
                if (slot.instance == null && !slot.claiming) {
                    Optional<Registration> guard = registry.whereis(slot.definition.guardName());
                    if (guard.isEmpty() || !members.contains(guard.get().owner())) {
                        if (guard.isPresent()) {
                            slot.lostBecause = FailoverReason.OWNER_DOWN;
                        }
                        claim(slot);
                    }
                }
            }
        } catch (RuntimeException e) {
            LOG.debug("Checking the global singletons' owners failed", e);
        }
    }

    /** Claims the guard; when won, creates the bean and registers it (on this manager's thread). */
    private CompletableFuture<?> claim(Slot slot) {
        synchronized (slot.claimLock) { // not the slot's monitor, held while a bean is made: this runs on registry threads
            if (!running || slot.instance != null || !mayRun()) {
                return CompletableFuture.completedFuture(null);
            }
            if (slot.claiming) {
                slot.claimAgain = true; // released while our claim was on its way: try again once it is decided
                return CompletableFuture.completedFuture(null);
            }
            slot.claiming = true;
        }
        CompletableFuture<RegistrationResult> claimed;
        try {
            claimed = registry.registerAsync(slot.definition.guardName(), slot.guardTarget);
        } catch (RuntimeException e) {
            slot.claiming = false;
            LOG.warn("Could not claim global singleton '" + slot.definition.name() + "'", e);
            return CompletableFuture.completedFuture(null);
        }
        return claimed.handleAsync((result, error) -> {
            if (error != null) {
                slot.claiming = false;
                LOG.warn("Claim of global singleton '" + slot.definition.name() + "' failed; it stays on standby "
                        + "until its owner changes", error);
            } else if (result.registered()) {
                try {
                    activate(slot);
                } finally {
                    slot.claiming = false; // only now: a claim meanwhile would be for a guard this node holds
                    slot.claimAgain = false;
                }
            } else {
                slot.claiming = false;
                if (result.owner() != null) {
                    slot.lostBecause = null; // another node took it over
                }
                LOG.info("Global singleton '" + slot.definition.name() + "' "
                        + (result.owner() == null ? "is being claimed by another node" : "runs on " + result.owner())
                        + "; this node stands by");
                if (slot.claimAgain || registry.whereis(slot.definition.guardName()).isEmpty()) {
                    slot.claimAgain = false; // the guard was released meanwhile, or its claimant is not known yet
                    executor.schedule(() -> claim(slot), 100, TimeUnit.MILLISECONDS);
                }
            }
            return null;
        }, executor);
    }

    private void activate(Slot slot) {
        GlobalSingletonDefinition definition = slot.definition;
        synchronized (slot) {
            if (slot.instance != null) {
                return;
            }
            if (!running) {
                registry.unregister(definition.guardName());
                return;
            }
            if (!registry.mayActAsOwner(definition.guardName())) {
                // won, then paused, say: its lease is not valid now; the bean's creation is owner's work too
                slot.notOwnerLog.log("Global singleton '{}': this node {} won it but may not act as its owner now "
                        + "(its lease is not valid); it creates the bean once it may, unless it loses it",
                        definition.name(), registry.nodeId());
                executor.schedule(() -> activateIfStillHeld(slot), ACTIVATION_RETRY_MILLIS, TimeUnit.MILLISECONDS);
                return;
            }
            long token = registry.whereis(definition.guardName()).map(Registration::fencingToken).orElse(0L);
            singletons.fencingToken(definition.targetBeanName(), token);
            long started = System.nanoTime();
            Object bean;
            try {
                bean = slot.factory.getBean(definition.targetBeanName());
            } catch (RuntimeException e) {
                // the guard is kept: another node would fail the same way; the proxies wait, then time out
                LOG.error("Could not create global singleton '" + definition.name() + "' (bean '"
                        + definition.beanName() + "'); this node keeps its guard, the singleton is unavailable", e);
                return;
            }
            if (register(definition, bean)) {
                slot.instance = bean;
                slot.token = token;
                FailoverReason failover = slot.lostBecause;
                slot.lostBecause = null;
                if (failover != null) {
                    failovers.get(failover).increment();
                }
                LOG.info("Global singleton '" + definition.name() + "' is active on this node "
                        + registry.nodeId() + " (fencing token " + token + ", created and registered in "
                        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) + " ms"
                        + (failover == null ? ")" : "; a failover: its previous owner lost it, " + failover + ")"));
            } else {
                destroy(slot, bean);
                registry.unregister(definition.guardName());
            }
        }
    }

    /** Creates the bean of a singleton whose guard this node won while it could not act, if it still holds it. */
    private void activateIfStillHeld(Slot slot) {
        try {
            if (running && slot.instance == null && registry.whereis(slot.definition.guardName())
                    .map(Registration::isLocal).orElse(false)) {
                activate(slot);
            }
        } catch (RuntimeException e) {
            LOG.warn("Could not create global singleton '" + slot.definition.name() + "'", e);
        }
    }

    /**
     * This node fenced itself (it stopped hearing itself through the broker): another node may take the
     * singleton over at any moment, so the local instance stops now.
     */
    private void stopFenced(Slot slot) {
        synchronized (slot) {
            Object bean = slot.instance;
            if (bean != null) {
                slot.instance = null;
                destroy(slot, bean);
                LOG.warn("Global singleton '" + slot.definition.name() + "' stopped on this node: the node fenced "
                        + "itself and gave its names up; it claims it again once it hears itself or has rejoined");
            }
        }
    }

    /** Registers the created bean under the singleton's name; a dead owner's entry may linger briefly. */
    private boolean register(GlobalSingletonDefinition definition, Object bean) {
        long deadline = System.nanoTime() + decisionTimeout.toNanos();
        RegistrationResult last = null;
        while (running && System.nanoTime() < deadline) {
            try {
                last = registry.register(definition.name(), bean);
                if (last.registered()) {
                    return true;
                }
            } catch (RegistryException e) {
                LOG.debug("Registering global singleton '" + definition.name() + "' failed, retrying", e);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        LOG.error("Global singleton '" + definition.name() + "': this node owns its guard, but the name itself "
                + "stays registered elsewhere (" + (last == null ? "unknown owner" : last.owner()) + "). Is it "
                + "also registered by application code? The bean was destroyed again");
        return false;
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
            for (Slot slot : slotsByGuard.values()) {
                handOver(slot);
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
        for (Slot slot : slotsByGuard.values()) {
            try {
                slot.closeScheduling();
            } catch (RuntimeException e) {
                LOG.warn("Shutting down the scheduling of global singleton '" + slot.definition.name() + "' failed", e);
            }
        }
    }

    /** Stops the local instance, if any, and releases the singleton's name and guard, so a standby claims it now. */
    private void handOver(Slot slot) {
        synchronized (slot) {
            GlobalSingletonDefinition definition = slot.definition;
            Object bean = slot.instance;
            if (bean != null) {
                slot.instance = null;
                release(definition.name()); // new calls wait for the next owner
                destroy(slot, bean);
                LOG.info("Global singleton '" + definition.name() + "' stopped on this node; handing it over");
            }
            release(definition.guardName()); // a standby claims it now
        }
    }

    /** Unregisters {@code name}; when that fails (say the registry was closed) the bean is still destroyed. */
    private void release(Object name) {
        try {
            registry.unregister(name);
        } catch (RuntimeException e) {
            LOG.warn("Could not unregister " + name + " (" + e.getMessage() + ")");
        }
    }

    private void destroy(Slot slot, Object bean) {
        GlobalSingletonDefinition definition = slot.definition;
        try {
            slot.factory.destroyBean(definition.targetBeanName(), bean); // cancels its scheduled tasks too
        } catch (RuntimeException e) {
            LOG.warn("Destroying global singleton '" + definition.name() + "' failed", e);
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

    /** One singleton's state on this node. */
    private static final class Slot {
        final GlobalSingletonDefinition definition;
        final String guardTarget;
        final Object claimLock = new Object();
        volatile boolean claiming;
        volatile boolean claimAgain;
        volatile Object instance;
        volatile long token;
        /** Why the guard's previous owner lost it, until this node takes over or sees another node do so. */
        volatile FailoverReason lostBecause;
        /** The factory of the real bean, from {@code start()}. */
        volatile DefaultListableBeanFactory factory;
        /** Its {@code @Scheduled} processing and the schedulers behind, when the context has scheduling. */
        volatile ScheduledAnnotationBeanPostProcessor scheduling;
        volatile TaskSchedulerRouter schedulers;
        /** Skipped runs and deferred creations, when this node may not act as the owner. */
        final RateLimitedLog notOwnerLog = new RateLimitedLog(LoggerFactory.getLogger(GlobalSingletonManager.class),
                Level.WARN);

        Slot(GlobalSingletonDefinition definition) {
            this.definition = definition;
            this.guardTarget = "guard of @GlobalSingleton bean '" + definition.beanName() + "'";
        }

        /** Cancels what is left of the scheduled tasks and shuts the scheduler down if it made one of its own. */
        void closeScheduling() {
            ScheduledAnnotationBeanPostProcessor processor = scheduling;
            TaskSchedulerRouter router = schedulers;
            scheduling = null;
            schedulers = null;
            if (processor != null) {
                processor.destroy();
            }
            if (router != null) {
                router.destroy();
            }
        }
    }
}
