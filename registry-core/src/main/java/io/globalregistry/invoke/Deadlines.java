package io.globalregistry.invoke;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The deadlines of calls that started with the same timeout (call-timeout), so they come due in the
 * order they were added: a queue, and one timer task at a time, for the oldest. A call that ends first
 * only clears its entry; it leaves the queue when its deadline comes, unnoticed. So a call costs a
 * lock-free offer instead of a scheduled task and its cancel (under the timer's lock, with threads
 * parked on it: the largest source of wake-ups with many calls in flight). An entry added out of order
 * (two threads racing between taking the time and adding) is ended as soon as the entries ahead of
 * it: microseconds late. Thread-safe.
 */
final class Deadlines {

    private static final Logger LOG = LoggerFactory.getLogger(Deadlines.class);

    /** One call's deadline; {@link #clear} when the call ended first. */
    static final class Entry {
        private final long deadlineNanos;
        private volatile OutgoingCall call;

        private Entry(long deadlineNanos, OutgoingCall call) {
            this.deadlineNanos = deadlineNanos;
            this.call = call;
        }

        /** The call ended: nothing to do at the deadline (and it is not kept reachable until then). */
        void clear() {
            call = null;
        }
    }

    private final ConcurrentLinkedQueue<Entry> queue = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean armed = new AtomicBoolean();
    private final ScheduledExecutorService timer;
    private final Consumer<OutgoingCall> expire;

    /**
     * @param timer runs {@code expire}
     * @param expire ends a call whose deadline passed
     */
    Deadlines(ScheduledExecutorService timer, Consumer<OutgoingCall> expire) {
        this.timer = timer;
        this.expire = expire;
    }

    /** Ends {@code call} at its deadline (on the timer's thread) unless the entry is cleared first. */
    Entry add(OutgoingCall call) {
        Entry entry = new Entry(call.deadlineNanos, call);
        queue.offer(entry);
        if (armed.compareAndSet(false, true)) {
            arm(entry.deadlineNanos);
        }
        return entry;
    }

    /** On the timer: ends the calls come due, then waits for the next (one failing end stops neither). */
    private void due() {
        long now = System.nanoTime();
        for (Entry head = queue.peek(); head != null && head.deadlineNanos - now <= 0; head = queue.peek()) {
            queue.poll();
            OutgoingCall call = head.call;
            if (call != null) {
                try {
                    expire.accept(call);
                } catch (RuntimeException e) {
                    LOG.warn("Ending {} at its deadline failed", call, e);
                }
            }
        }
        armed.set(false);
        Entry next = queue.peek(); // after the reset: an entry added since is seen here or arms itself
        if (next != null && armed.compareAndSet(false, true)) {
            arm(next.deadlineNanos);
        }
    }

    private void arm(long deadlineNanos) {
        try {
            timer.schedule(this::due, Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            armed.set(false); // closed: close() ends the calls
        }
    }

    /** Entries waiting for their deadline, cleared ones included (for tests). */
    int size() {
        return queue.size();
    }
}
