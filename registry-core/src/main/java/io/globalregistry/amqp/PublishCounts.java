package io.globalregistry.amqp;

import io.globalregistry.wire.MessageType;
import java.util.concurrent.atomic.LongAdder;

/**
 * The messages one transport handed to its channels without an error, by type and by route: a
 * broadcast (one publish, routed to every member's inbox) or anything else (one queue: a direct
 * message, a request to the leader queue, a call or a reply). Without publisher confirms, a counted
 * message is one the client library accepted, not one the broker is known to have routed.
 * Thread-safe.
 */
final class PublishCounts {

    private final LongAdder[] broadcasts = adders();
    private final LongAdder[] others = adders();

    private static LongAdder[] adders() {
        LongAdder[] adders = new LongAdder[MessageType.values().length];
        for (int i = 0; i < adders.length; i++) {
            adders[i] = new LongAdder();
        }
        return adders;
    }

    void count(MessageType type, boolean broadcast) {
        (broadcast ? broadcasts : others)[type.ordinal()].increment();
    }

    /** Every message counted. */
    long total() {
        long sum = 0;
        for (MessageType type : MessageType.values()) {
            sum += of(type);
        }
        return sum;
    }

    /** The messages of {@code type}, whatever their route. */
    long of(MessageType type) {
        return broadcasts[type.ordinal()].sum() + others[type.ordinal()].sum();
    }

    /** The broadcasts of {@code type}. */
    long broadcasts(MessageType type) {
        return broadcasts[type.ordinal()].sum();
    }
}
