package io.globalregistry.clock;

import java.util.function.LongSupplier;

/**
 * A hybrid logical clock (Kulkarni et al.): a timestamp that stays close to the physical clock
 * yet never goes backwards and always moves past every timestamp it has seen.
 *
 * <p>A timestamp is packed in one {@code long}: the upper 48 bits hold milliseconds since the
 * epoch, the lower 16 bits a logical counter. Comparing two packed values compares the clocks.
 * The property the registry relies on: an event that happens after this clock has
 * {@linkplain #receive(long) received} a timestamp is always stamped with a larger one.
 *
 * <p>Not thread-safe: each node uses its clock from its own event loop.
 */
public final class HybridLogicalClock {

    /**
     * How far ahead of this node's physical clock a received timestamp may pull it. A larger one
     * (a badly skewed or forged clock) is merged as if it were this far ahead, so one bad sender
     * cannot push every clock to the end of time; causality holds for skews below this bound.
     */
    public static final long MAX_AHEAD_MILLIS = 60_000;

    private static final int LOGICAL_BITS = 16;
    private static final long LOGICAL_MASK = (1L << LOGICAL_BITS) - 1;

    private final LongSupplier physicalMillis;
    private long last;

    public HybridLogicalClock(LongSupplier physicalMillis) {
        this.physicalMillis = physicalMillis;
    }

    /** Returns a new timestamp for a local or send event, larger than any returned or received before. */
    public long tick() {
        long physical = physicalMillis.getAsLong() << LOGICAL_BITS;
        last = physical > last ? physical : last + 1;
        return last;
    }

    /** Merges a timestamp received from another node, then returns a new timestamp larger than both. */
    public long receive(long remote) {
        long now = physicalMillis.getAsLong();
        long physical = now << LOGICAL_BITS;
        long bound = (now + MAX_AHEAD_MILLIS) << LOGICAL_BITS;
        long max = Math.max(last, remote < 0 ? 0 : Math.min(remote, bound));
        last = physical > max ? physical : max + 1;
        return last;
    }

    /** The last timestamp issued, without advancing the clock. */
    public long peek() {
        return last;
    }

    /** The physical (millisecond) part of a packed timestamp. */
    public static long physicalMillis(long timestamp) {
        return timestamp >>> LOGICAL_BITS;
    }

    /** The logical counter of a packed timestamp. */
    public static int logical(long timestamp) {
        return (int) (timestamp & LOGICAL_MASK);
    }

    /** A readable form, {@code millis.counter}. */
    public static String format(long timestamp) {
        return physicalMillis(timestamp) + "." + logical(timestamp);
    }
}
