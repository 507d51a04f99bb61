package io.globalregistry.protocol;

/**
 * Time and scheduling for one node's event loop. The real runtime uses a single thread and the
 * system clocks; the simulation uses virtual time, so every schedule is reproducible from a seed.
 */
public interface NodeRuntime {

    /** Monotonic milliseconds, for timeouts and intervals. */
    long monotonicMillis();

    /** Wall-clock milliseconds since the epoch (may be skewed), the physical part of the HLC. */
    long wallClockMillis();

    /** Runs {@code task} on the node's event loop after {@code delayMillis}. */
    Cancellable schedule(long delayMillis, Runnable task);

    /** Runs {@code task} on the node's event loop. */
    void execute(Runnable task);

    /**
     * Runs {@code task} exclusively with every other task of the loop, on the calling thread when
     * the runtime allows it (the real one does: it saves a thread hop on the hot path of every
     * incoming message and registration), else queued like {@link #execute}.
     */
    default void runNow(Runnable task) {
        execute(task);
    }

    /** A scheduled task that can be cancelled. */
    @FunctionalInterface
    interface Cancellable {
        void cancel();
    }
}
