package io.globalregistry.wire;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts the messages one node dropped, by {@link RejectReason}, and logs them at WARN without
 * flooding the log: at most one line per reason every {@link #LOG_INTERVAL_NANOS 10 s}, saying how
 * many were dropped since the previous line. Thread-safe and cheap on the hot path.
 */
public final class RejectedMessages {

    /** The shortest time between two log lines for the same reason. */
    public static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

    private static final Logger LOG = LoggerFactory.getLogger(RejectedMessages.class);

    private final Map<RejectReason, Counter> counters = new EnumMap<>(RejectReason.class);
    private final LongSupplier nanoTime;
    private final Logger log;

    /** The count and the log throttle of one reason. */
    private static final class Counter {
        final LongAdder total = new LongAdder();
        final AtomicLong sinceLastLog = new AtomicLong();
        final AtomicLong lastLogAt;

        Counter(long initial) {
            lastLogAt = new AtomicLong(initial);
        }
    }

    public RejectedMessages() {
        this(System::nanoTime, LOG);
    }

    /** For tests: a given clock (nanoseconds) and logger. */
    public RejectedMessages(LongSupplier nanoTime, Logger log) {
        this.nanoTime = nanoTime;
        this.log = log;
        long longAgo = nanoTime.getAsLong() - LOG_INTERVAL_NANOS;
        for (RejectReason reason : RejectReason.values()) {
            counters.put(reason, new Counter(longAgo));
        }
    }

    /** Counts one dropped message and logs it if this reason was not logged in the last 10 s. */
    public void record(RejectedMessageException rejected) {
        record(rejected.reason(), rejected.detail());
    }

    /** Counts one dropped message and logs it if this reason was not logged in the last 10 s. */
    public void record(RejectReason reason, String detail) {
        Counter counter = counters.get(reason);
        counter.total.increment();
        counter.sinceLastLog.incrementAndGet();
        long now = nanoTime.getAsLong();
        long last = counter.lastLogAt.get();
        if (now - last >= LOG_INTERVAL_NANOS && counter.lastLogAt.compareAndSet(last, now)) {
            long dropped = counter.sinceLastLog.getAndSet(0);
            log.warn("Dropped {} incoming registry message(s) as {} since the last report; latest: {}",
                    dropped, reason, detail);
        }
    }

    /** How many messages were dropped for {@code reason}. */
    public long count(RejectReason reason) {
        return counters.get(reason).total.sum();
    }

    /** How many messages were dropped in all. */
    public long total() {
        long sum = 0;
        for (Counter counter : counters.values()) {
            sum += counter.total.sum();
        }
        return sum;
    }

    /** The counts by reason (every reason present), for metrics and the endpoint. */
    public Map<RejectReason, Long> counts() {
        Map<RejectReason, Long> out = new EnumMap<>(RejectReason.class);
        counters.forEach((reason, counter) -> out.put(reason, counter.total.sum()));
        return out;
    }

    @Override
    public String toString() {
        return "RejectedMessages" + counts();
    }
}
