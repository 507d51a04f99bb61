package io.globalregistry.amqp;

import io.globalregistry.protocol.NodeRuntime;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real event loop of one node: a single daemon thread {@code global-registry-<nodeName>}
 * running queued tasks and timers in order, with the system clocks, and one lock that every task
 * holds while it runs, so {@link #runNow} can run a task on the calling thread (the inbox
 * consumer, an API caller) with the same mutual exclusion and without a thread hop. A task that
 * throws is logged and the loop goes on; tasks submitted after {@link #close()} are dropped.
 */
public final class EventLoopRuntime implements NodeRuntime, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EventLoopRuntime.class);
    private static final Cancellable NOTHING = () -> { };

    private final ScheduledThreadPoolExecutor executor;
    private final String threadName;
    private final ReentrantLock lock = new ReentrantLock();
    private volatile Thread thread;

    /** Starts the loop thread for the node called {@code nodeName}. */
    public EventLoopRuntime(String nodeName) {
        this.threadName = "global-registry-" + nodeName;
        this.executor = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread t = new Thread(runnable, threadName);
            t.setDaemon(true);
            thread = t;
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        executor.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
        executor.prestartCoreThread();
    }

    @Override
    public long monotonicMillis() {
        return System.nanoTime() / 1_000_000L;
    }

    @Override
    public long wallClockMillis() {
        return System.currentTimeMillis();
    }

    @Override
    public Cancellable schedule(long delayMillis, Runnable task) {
        try {
            ScheduledFuture<?> future = executor.schedule(guarded(task), Math.max(0, delayMillis), TimeUnit.MILLISECONDS);
            return () -> future.cancel(false);
        } catch (RejectedExecutionException e) {
            LOG.debug("{} is closed; timer dropped", threadName);
            return NOTHING;
        }
    }

    @Override
    public void execute(Runnable task) {
        try {
            executor.execute(guarded(task));
        } catch (RejectedExecutionException e) {
            LOG.debug("{} is closed; task dropped", threadName);
        }
    }

    @Override
    public void runNow(Runnable task) {
        if (executor.isShutdown()) {
            LOG.debug("{} is closed; task dropped", threadName);
            return;
        }
        guarded(task).run();
    }

    /** Whether the calling thread is running one of this loop's tasks. */
    public boolean inLoop() {
        return Thread.currentThread() == thread || lock.isHeldByCurrentThread();
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return executor.isShutdown();
    }

    /** Stops the loop: queued tasks still run (up to 5 s), timers are dropped, later tasks are refused. */
    @Override
    public void close() {
        executor.shutdown();
        if (inLoop()) {
            return;
        }
        try {
            if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warn("{} did not finish its tasks within 5 s; interrupting it", threadName);
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    private Runnable guarded(Runnable task) {
        return () -> {
            lock.lock();
            try {
                task.run();
            } catch (Throwable t) {
                LOG.error("Task on {} failed; the loop goes on", threadName, t);
            } finally {
                lock.unlock();
            }
        };
    }

    @Override
    public String toString() {
        return threadName;
    }
}
