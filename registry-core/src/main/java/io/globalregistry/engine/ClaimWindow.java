package io.globalregistry.engine;

import io.globalregistry.RegistrationResult;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Hands registrations to the node at most {@code limit} at a time; the others wait here, in order.
 *
 * <p>Why: a claim must be decided within twice the claim timeout of its start (its grants
 * expire). A node that starts thousands of claims at once makes every one of them wait for the
 * whole burst to drain through every member's inbox, so under load all of them fail together.
 * With a window, each claim starts only when there is room and is decided quickly; the burst
 * takes as long as before in total. Runs on the node's event loop only.
 */
final class ClaimWindow {

    /** A registration waiting for room: {@code caller} is what the API caller holds (done = timed out or closed). */
    record Entry(CompletableFuture<RegistrationResult> caller, Consumer<CompletableFuture<RegistrationResult>> start,
                 CompletableFuture<RegistrationResult> decided) {
    }

    private final int limit;
    private final ArrayDeque<Entry> waiting = new ArrayDeque<>();
    private int inFlight;
    private boolean draining;

    ClaimWindow(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("The claim window must be at least 1, got " + limit);
        }
        this.limit = limit;
    }

    /** Starts {@code entry} now if there is room, else queues it. */
    void submit(Entry entry) {
        waiting.add(entry);
        drain();
    }

    int inFlight() {
        return inFlight;
    }

    int waiting() {
        return waiting.size();
    }

    private void drain() {
        if (draining) {
            return; // a registration decided synchronously while we were starting one: the loop below goes on
        }
        draining = true;
        try {
            while (inFlight < limit && !waiting.isEmpty()) {
                Entry next = waiting.poll();
                if (next.caller().isDone()) {
                    continue; // timed out or closed while waiting: never started, nothing to undo
                }
                inFlight++;
                next.decided().whenComplete((r, e) -> {
                    inFlight--;
                    drain();
                });
                next.start().accept(next.decided());
            }
        } finally {
            draining = false;
        }
    }
}
