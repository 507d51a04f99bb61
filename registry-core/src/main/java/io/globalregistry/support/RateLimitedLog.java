package io.globalregistry.support;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.event.Level;

/**
 * Logs at most one line per ten seconds at the given level (the others go to DEBUG), so a flood
 * of bad messages or failing publishes never floods the log. ERROR, WARN or INFO. Thread-safe.
 */
public final class RateLimitedLog {

    private static final long INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final Logger logger;
    private final Level level;
    private final AtomicLong last = new AtomicLong(System.nanoTime() - INTERVAL_NANOS);

    public RateLimitedLog(Logger logger, Level level) {
        this.logger = logger;
        this.level = level;
    }

    /** Logs {@code format} with {@code args} at the level if none was logged in the last ten seconds, else at DEBUG. */
    public void log(String format, Object... args) {
        long now = System.nanoTime();
        long previous = last.get();
        if (now - previous >= INTERVAL_NANOS && last.compareAndSet(previous, now)) {
            String line = format + " [at most one such line per 10 s]";
            if (level == Level.ERROR) {
                logger.error(line, args); // a trailing Throwable argument is logged as the cause
            } else if (level == Level.WARN) {
                logger.warn(line, args);
            } else {
                logger.info(line, args);
            }
        } else {
            logger.debug(format, args);
        }
    }
}
