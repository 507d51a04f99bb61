package io.globalregistry.boot.singleton;

import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.Registration;
import io.globalregistry.RegistrationResult;
import io.globalregistry.RegistryException;
import io.globalregistry.boot.singleton.GlobalSingletonManager.FailoverReason;
import io.globalregistry.support.RateLimitedLog;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.config.EmbeddedValueResolver;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.scheduling.annotation.ScheduledAnnotationBeanPostProcessor;
import org.springframework.scheduling.config.TaskSchedulerRouter;

/**
 * One {@code @GlobalSingleton}'s state on this node, and the steps that change it: claim its guard, create the
 * real bean in a bean factory of its own once it may act as the owner and register it under the singleton's
 * name (with the guard's fencing token), stop it when this node fenced itself, or hand it over.
 *
 * <p>The {@link GlobalSingletonManager} decides when: it calls these steps from its life cycle and listeners;
 * a slot reads from it only whether it runs, whether this node may run the singletons now (strategy), the thread
 * the steps run on, and counts its failovers and skipped runs there. It logs under the manager's name.
 */
final class GlobalSingletonSlot {

    private static final Log LOG = LogFactory.getLog(GlobalSingletonManager.class);

    /** Delay before trying again to create a bean whose guard this node won while it could not act as owner. */
    private static final long ACTIVATION_RETRY_MILLIS = 100;

    private final GlobalSingletonManager manager;
    private final GlobalNameRegistry registry;
    private final ConfigurableListableBeanFactory beanFactory;
    private final GlobalSingletons singletons;
    private final Duration decisionTimeout;

    private final GlobalSingletonDefinition definition;
    private final String guardTarget;
    private final Object claimLock = new Object();
    private volatile boolean claiming;
    private volatile boolean claimAgain;
    private volatile Object instance;
    private volatile long token;
    /** Why the guard's previous owner lost it, until this node takes over or sees another node do so. */
    private volatile FailoverReason lostBecause;
    /** The factory of the real bean, from {@code start()}. */
    private volatile DefaultListableBeanFactory factory;
    /** Its {@code @Scheduled} processing and the schedulers behind, when the context has scheduling. */
    private volatile ScheduledAnnotationBeanPostProcessor scheduling;
    private volatile TaskSchedulerRouter schedulers;
    /** Skipped runs and deferred creations, when this node may not act as the owner. */
    private final RateLimitedLog notOwnerLog = new RateLimitedLog(LoggerFactory.getLogger(GlobalSingletonManager.class),
            Level.WARN);

    /**
     * @param decisionTimeout how long the owner of the guard retries registering the singleton's name (a dead
     *                        owner's entry may linger a moment)
     */
    GlobalSingletonSlot(GlobalSingletonDefinition definition, GlobalSingletonManager manager,
                        GlobalNameRegistry registry, ConfigurableListableBeanFactory beanFactory,
                        GlobalSingletons singletons, Duration decisionTimeout) {
        this.manager = manager;
        this.registry = registry;
        this.beanFactory = beanFactory;
        this.singletons = singletons;
        this.decisionTimeout = decisionTimeout;
        this.definition = definition;
        this.guardTarget = "guard of @GlobalSingleton bean '" + definition.beanName() + "'";
    }

    GlobalSingletonDefinition definition() {
        return definition;
    }

    /** Whether this node runs the real bean. */
    boolean isActive() {
        return instance != null;
    }

    /** The fencing token of this node's instance, when it runs it. */
    long token() {
        return token;
    }

    /** Whether a claim of the guard is under way (or its won bean being created). */
    boolean isClaiming() {
        return claiming;
    }

    /** Records why the guard's previous owner lost it; null: another node took it over. */
    void lostBecause(FailoverReason reason) {
        lostBecause = reason;
    }

    /** Makes the factory of the real bean (from {@code start()}). */
    void createFactory() {
        factory = targetFactory();
    }

    /**
     * The factory of one real bean: a child of the context's, configured like it (post-processors, autowiring,
     * {@code @Value} resolution, conversion), which holds only its definition (a concrete copy of the context's
     * abstract one); where the context processes {@code @Scheduled} methods, its own processor does instead, on a
     * scheduler that runs a task only while this node may act as the singleton's owner.
     */
    private DefaultListableBeanFactory targetFactory() {
        DefaultListableBeanFactory factory = new DefaultListableBeanFactory(beanFactory);
        factory.copyConfigurationFrom(beanFactory);
        if (factory.getBeanPostProcessors().stream().anyMatch(ScheduledAnnotationBeanPostProcessor.class::isInstance)) {
            TaskSchedulerRouter schedulers = new TaskSchedulerRouter(); // Spring's choice of scheduler, per task
            schedulers.setBeanName(definition.targetBeanName() + ".scheduler");
            schedulers.setBeanFactory(factory);
            ScheduledAnnotationBeanPostProcessor scheduling = new ScheduledAnnotationBeanPostProcessor();
            scheduling.setBeanName(definition.targetBeanName() + ".scheduling");
            scheduling.setBeanFactory(factory);
            scheduling.setEmbeddedValueResolver(new EmbeddedValueResolver(factory));
            scheduling.setScheduler(new OwnerOnlyTaskScheduler(schedulers, () -> mayActAsOwner()));
            scheduling.afterSingletonsInstantiated(); // no context: registration ends now, the tasks start at once
            factory.getBeanPostProcessors().replaceAll(processor ->
                    processor instanceof ScheduledAnnotationBeanPostProcessor ? scheduling : processor);
            this.scheduling = scheduling;
            this.schedulers = schedulers;
        }
        factory.registerBeanDefinition(definition.targetBeanName(), definition.realBeanDefinition(beanFactory));
        return factory;
    }

    /**
     * Whether this node may act as the owner of this singleton now; when not, counts and logs (rate limited) a
     * skipped run. Asked before each run of its scheduled tasks, on their thread.
     */
    private boolean mayActAsOwner() {
        boolean may;
        try {
            may = registry.mayActAsOwner(definition.guardName());
        } catch (RuntimeException e) {
            may = false; // say the registry is closing: not the owner
        }
        if (!may) {
            manager.countSkippedRun();
            notOwnerLog.log("Global singleton '{}': a scheduled run was skipped, this node {} may not act as "
                    + "its owner now (its lease is not valid, say after a pause, or it no longer holds the "
                    + "singleton); the runs go on once it may again, or the instance stops", definition.name(),
                    registry.nodeId());
        }
        return may;
    }

    /** Claims the guard; when won, creates the bean and registers it (on the manager's thread). */
    CompletableFuture<?> claim() {
        synchronized (claimLock) { // not the slot's monitor, held while a bean is made: this runs on registry threads
            if (!manager.isRunning() || instance != null || !manager.mayRun()) {
                return CompletableFuture.completedFuture(null);
            }
            if (claiming) {
                claimAgain = true; // released while our claim was on its way: try again once it is decided
                return CompletableFuture.completedFuture(null);
            }
            claiming = true;
        }
        CompletableFuture<RegistrationResult> claimed;
        try {
            claimed = registry.registerAsync(definition.guardName(), guardTarget);
        } catch (RuntimeException e) {
            claiming = false;
            LOG.warn("Could not claim global singleton '" + definition.name() + "'", e);
            return CompletableFuture.completedFuture(null);
        }
        return claimed.handleAsync((result, error) -> {
            if (error != null) {
                claiming = false;
                LOG.warn("Claim of global singleton '" + definition.name() + "' failed; it stays on standby "
                        + "until its owner changes", error);
            } else if (result.registered()) {
                try {
                    activate();
                } finally {
                    claiming = false; // only now: a claim meanwhile would be for a guard this node holds
                    claimAgain = false;
                }
            } else {
                claiming = false;
                if (result.owner() != null) {
                    lostBecause = null; // another node took it over
                }
                LOG.info("Global singleton '" + definition.name() + "' "
                        + (result.owner() == null ? "is being claimed by another node" : "runs on " + result.owner())
                        + "; this node stands by");
                if (claimAgain || registry.whereis(definition.guardName()).isEmpty()) {
                    claimAgain = false; // the guard was released meanwhile, or its claimant is not known yet
                    manager.executor().schedule(() -> claim(), 100, TimeUnit.MILLISECONDS);
                }
            }
            return null;
        }, manager.executor());
    }

    private void activate() {
        synchronized (this) {
            if (instance != null) {
                return;
            }
            if (!manager.isRunning()) {
                registry.unregister(definition.guardName());
                return;
            }
            if (!registry.mayActAsOwner(definition.guardName())) {
                // won, then paused, say: its lease is not valid now; the bean's creation is owner's work too
                notOwnerLog.log("Global singleton '{}': this node {} won it but may not act as its owner now "
                        + "(its lease is not valid); it creates the bean once it may, unless it loses it",
                        definition.name(), registry.nodeId());
                manager.executor().schedule(() -> activateIfStillHeld(), ACTIVATION_RETRY_MILLIS,
                        TimeUnit.MILLISECONDS);
                return;
            }
            long token = registry.whereis(definition.guardName()).map(Registration::fencingToken).orElse(0L);
            singletons.fencingToken(definition.targetBeanName(), token);
            long started = System.nanoTime();
            Object bean;
            try {
                bean = factory.getBean(definition.targetBeanName());
            } catch (RuntimeException e) {
                // the guard is kept: another node would fail the same way; the proxies wait, then time out
                LOG.error("Could not create global singleton '" + definition.name() + "' (bean '"
                        + definition.beanName() + "'); this node keeps its guard, the singleton is unavailable", e);
                return;
            }
            if (register(bean)) {
                instance = bean;
                this.token = token;
                FailoverReason failover = lostBecause;
                lostBecause = null;
                if (failover != null) {
                    manager.countFailover(failover);
                }
                LOG.info("Global singleton '" + definition.name() + "' is active on this node "
                        + registry.nodeId() + " (fencing token " + token + ", created and registered in "
                        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) + " ms"
                        + (failover == null ? ")" : "; a failover: its previous owner lost it, " + failover + ")"));
            } else {
                destroy(bean);
                registry.unregister(definition.guardName());
            }
        }
    }

    /** Creates the bean of a singleton whose guard this node won while it could not act, if it still holds it. */
    private void activateIfStillHeld() {
        try {
            if (manager.isRunning() && instance == null && registry.whereis(definition.guardName())
                    .map(Registration::isLocal).orElse(false)) {
                activate();
            }
        } catch (RuntimeException e) {
            LOG.warn("Could not create global singleton '" + definition.name() + "'", e);
        }
    }

    /**
     * This node fenced itself (it stopped hearing itself through the broker): another node may take the
     * singleton over at any moment, so the local instance stops now.
     */
    void stopFenced() {
        synchronized (this) {
            Object bean = instance;
            if (bean != null) {
                instance = null;
                destroy(bean);
                LOG.warn("Global singleton '" + definition.name() + "' stopped on this node: the node fenced "
                        + "itself and gave its names up; it claims it again once it hears itself or has rejoined");
            }
        }
    }

    /** Registers the created bean under the singleton's name; a dead owner's entry may linger briefly. */
    private boolean register(Object bean) {
        long deadline = System.nanoTime() + decisionTimeout.toNanos();
        RegistrationResult last = null;
        while (manager.isRunning() && System.nanoTime() < deadline) {
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

    /** Stops the local instance, if any, and releases the singleton's name and guard, so a standby claims it now. */
    void handOver() {
        synchronized (this) {
            Object bean = instance;
            if (bean != null) {
                instance = null;
                release(definition.name()); // new calls wait for the next owner
                destroy(bean);
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

    private void destroy(Object bean) {
        try {
            factory.destroyBean(definition.targetBeanName(), bean); // cancels its scheduled tasks too
        } catch (RuntimeException e) {
            LOG.warn("Destroying global singleton '" + definition.name() + "' failed", e);
        }
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
