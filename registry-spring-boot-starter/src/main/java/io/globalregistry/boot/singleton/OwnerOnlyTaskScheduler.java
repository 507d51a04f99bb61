package io.globalregistry.boot.singleton;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.ScheduledFuture;
import java.util.function.BooleanSupplier;
import org.springframework.scheduling.SchedulingAwareRunnable;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.scheduling.Trigger;

/**
 * The {@link TaskScheduler} of one {@code @GlobalSingleton}'s real bean: schedules on {@code delegate}, but every
 * run of a task first asks {@code mayRun} (on the thread that runs it, right before the task) and is skipped when
 * told no. The scheduling itself is untouched: a skipped run is not made up for, the next one comes on time.
 * The wrapped task keeps its {@link SchedulingAwareRunnable} qualifier, so {@code @Scheduled(scheduler = ...)}
 * still chooses the scheduler.
 */
final class OwnerOnlyTaskScheduler implements TaskScheduler {

    private final TaskScheduler delegate;
    private final BooleanSupplier mayRun;

    /** @param mayRun asked before each run; counts and logs a refusal itself */
    OwnerOnlyTaskScheduler(TaskScheduler delegate, BooleanSupplier mayRun) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.mayRun = Objects.requireNonNull(mayRun, "mayRun");
    }

    @Override
    public Clock getClock() {
        return delegate.getClock();
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable task, Trigger trigger) {
        return delegate.schedule(guarded(task), trigger);
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable task, Instant startTime) {
        return delegate.schedule(guarded(task), startTime);
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable task, Instant startTime, Duration period) {
        return delegate.scheduleAtFixedRate(guarded(task), startTime, period);
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable task, Duration period) {
        return delegate.scheduleAtFixedRate(guarded(task), period);
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable task, Instant startTime, Duration delay) {
        return delegate.scheduleWithFixedDelay(guarded(task), startTime, delay);
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable task, Duration delay) {
        return delegate.scheduleWithFixedDelay(guarded(task), delay);
    }

    private Runnable guarded(Runnable task) {
        return new Guarded(Objects.requireNonNull(task, "task"), mayRun);
    }

    /** A task that runs only when allowed, at each run. */
    private static final class Guarded implements SchedulingAwareRunnable {
        private final Runnable task;
        private final BooleanSupplier mayRun;

        Guarded(Runnable task, BooleanSupplier mayRun) {
            this.task = task;
            this.mayRun = mayRun;
        }

        @Override
        public void run() {
            if (mayRun.getAsBoolean()) {
                task.run();
            }
        }

        @Override
        public boolean isLongLived() {
            return task instanceof SchedulingAwareRunnable && ((SchedulingAwareRunnable) task).isLongLived();
        }

        @Override
        public String getQualifier() {
            return task instanceof SchedulingAwareRunnable ? ((SchedulingAwareRunnable) task).getQualifier() : null;
        }

        @Override
        public String toString() {
            return task.toString();
        }
    }
}
