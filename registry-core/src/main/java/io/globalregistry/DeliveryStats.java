package io.globalregistry;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts what became of the messages sent to names, on the node that handled them: delivered to a
 * {@link MessageHandler}, or dropped and why. Thread-safe.
 */
public final class DeliveryStats {

    /** What became of one message. */
    public enum Outcome {
        /** Handed to the target's {@link MessageHandler} (counted when the handler returned normally). */
        DELIVERED,
        /** The payload could not be converted to the handler's message type. */
        UNCONVERTIBLE,
        /** The target does not implement {@link MessageHandler}. */
        NOT_A_HANDLER,
        /** The handler threw. */
        HANDLER_FAILED,
        /** The name had no owner any more when the message was about to leave. */
        NO_OWNER,
        /** The owner's inbox was gone: the broker returned the message undelivered. */
        RETURNED
    }

    private final Map<Outcome, LongAdder> counts = new EnumMap<>(Outcome.class);

    public DeliveryStats() {
        for (Outcome outcome : Outcome.values()) {
            counts.put(outcome, new LongAdder());
        }
    }

    /** Counts one message with {@code outcome}; called by the registry. */
    public void record(Outcome outcome) {
        counts.get(outcome).increment();
    }

    /** How many messages ended with {@code outcome}. */
    public long count(Outcome outcome) {
        return counts.get(outcome).sum();
    }

    @Override
    public String toString() {
        Map<Outcome, Long> out = new EnumMap<>(Outcome.class);
        counts.forEach((k, v) -> out.put(k, v.sum()));
        return "DeliveryStats" + out;
    }
}
