package io.globalregistry.invoke;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The calls sent and waiting for their reply, by correlation id. Each attempt of a call gets a
 * fresh id, so a late reply to an abandoned attempt finds nothing. Thread-safe.
 */
final class PendingCalls {

    private final ConcurrentHashMap<Long, OutgoingCall> byId = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();

    /** Registers an attempt of {@code call}; returns its correlation id. */
    long add(OutgoingCall call) {
        long id = ids.incrementAndGet();
        byId.put(id, call);
        return id;
    }

    /** The call waiting for the reply {@code id}, or null. */
    OutgoingCall get(long id) {
        return byId.get(id);
    }

    /** Forgets attempt {@code id} of {@code call}; false if it was not pending. */
    boolean remove(long id, OutgoingCall call) {
        return byId.remove(id, call);
    }

    /** The calls pending now. */
    List<OutgoingCall> all() {
        return new ArrayList<>(byId.values());
    }

    int size() {
        return byId.size();
    }
}
