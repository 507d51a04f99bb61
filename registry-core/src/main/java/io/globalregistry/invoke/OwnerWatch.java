package io.globalregistry.invoke;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * Calls waiting for a name's owner to change (an owner to appear, or a dead one to be replaced).
 * At the next change of the name each is handed, once, to {@code wake} on the given executor,
 * never on the event loop that reports the change. Every change of a set is atomic per name, so a
 * call registered while a change is reported is either woken by it or still registered after it.
 */
final class OwnerWatch {

    private final ConcurrentHashMap<String, Set<OutgoingCall>> waiting = new ConcurrentHashMap<>();
    private final Executor executor;
    private final Consumer<OutgoingCall> wake;

    OwnerWatch(Executor executor, Consumer<OutgoingCall> wake) {
        this.executor = executor;
        this.wake = wake;
    }

    /** Wakes {@code call} at the next change of {@code key}'s owner. */
    void await(String key, OutgoingCall call) {
        waiting.compute(key, (k, calls) -> {
            Set<OutgoingCall> set = calls == null ? new HashSet<>() : calls;
            set.add(call);
            return set;
        });
    }

    /** Stops waiting for {@code call}; true if it was still waiting (so nobody else will wake it). */
    boolean cancel(String key, OutgoingCall call) {
        boolean[] removed = new boolean[1];
        waiting.computeIfPresent(key, (k, calls) -> {
            removed[0] = calls.remove(call);
            return calls.isEmpty() ? null : calls;
        });
        return removed[0];
    }

    /** {@code key}'s owner changed: wake every call waiting for it. Cheap when none waits. */
    void changed(String key) {
        if (waiting.isEmpty()) {
            return;
        }
        Set<OutgoingCall> calls = waiting.remove(key);
        if (calls == null) {
            return;
        }
        for (OutgoingCall call : calls) {
            try {
                executor.execute(() -> wake.accept(call));
            } catch (RejectedExecutionException e) {
                // closed: the call's own timeout or the close ends it
            }
        }
    }

    /** Removes and returns every waiting call. */
    List<OutgoingCall> drain() {
        List<OutgoingCall> all = new ArrayList<>();
        for (String key : waiting.keySet()) {
            Set<OutgoingCall> calls = waiting.remove(key);
            if (calls != null) {
                all.addAll(calls);
            }
        }
        return all;
    }

    /** How many calls wait. */
    int size() {
        return waiting.values().stream().mapToInt(Set::size).sum();
    }
}
