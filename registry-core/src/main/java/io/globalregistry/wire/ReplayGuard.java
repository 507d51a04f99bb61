package io.globalregistry.wire;

import io.globalregistry.clock.HybridLogicalClock;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * Refuses signed messages that are replays: older (by the physical part of their hybrid logical
 * clock) than {@code window} behind this node's wall clock, or exact copies (same signature) of a
 * message accepted within the window. Remembers at most {@code capacity} signatures; when it must
 * forget one still inside the window, it raises a floor and refuses anything not newer than the
 * forgotten one, so a replay is never let through for lack of memory. Thread-safe.
 */
final class ReplayGuard {

    /** A signature remembered: its first 8 bytes and the message's physical time. */
    private record Seen(long key, long millis) {
    }

    private final long windowMillis;
    private final int capacity;
    private final LongSupplier wallClock;
    private final ArrayDeque<Seen> order = new ArrayDeque<>();
    private final Set<Long> seen = new HashSet<>();
    private long floorMillis = Long.MIN_VALUE;

    ReplayGuard(long windowMillis, int capacity, LongSupplier wallClock) {
        this.windowMillis = windowMillis;
        this.capacity = capacity;
        this.wallClock = wallClock;
    }

    /** Null if the message is fresh (and remembers it); otherwise why it is a replay. */
    synchronized String check(long hlc, byte[] signature) {
        long millis = HybridLogicalClock.physicalMillis(hlc);
        long oldest = wallClock.getAsLong() - windowMillis;
        forgetOlderThan(oldest);
        if (millis < oldest) {
            return "sent at " + millis + ", more than the replay window of " + windowMillis + " ms ago";
        }
        if (millis <= floorMillis) {
            return "sent at " + millis + ", before the oldest message still remembered (" + floorMillis + ")";
        }
        long key = ByteBuffer.wrap(signature, 0, Long.BYTES).getLong();
        if (!seen.add(key)) {
            return "a copy of a message already received";
        }
        order.addLast(new Seen(key, millis));
        if (order.size() > capacity) {
            Seen forgotten = order.removeFirst();
            seen.remove(forgotten.key());
            floorMillis = Math.max(floorMillis, forgotten.millis());
        }
        return null;
    }

    private void forgetOlderThan(long oldest) {
        Seen first;
        while ((first = order.peekFirst()) != null && first.millis() < oldest) {
            order.removeFirst();
            seen.remove(first.key());
        }
    }

    /** How many signatures are remembered. */
    synchronized int size() {
        return order.size();
    }
}
