package io.globalregistry.sample.app;

import io.globalregistry.Idempotent;

/** A cluster-wide sequence: one instance in the cluster, whichever node calls it. */
public interface SequenceService {

    /**
     * The next number, and the node that served it. Marked {@link Idempotent}: when the owner dies after the
     * call reached it, asking its successor again is harmless (the dead owner's numbers died with it).
     */
    @Idempotent
    SequenceValue next();

    /** A number of the sequence and the configured name of the node that served it. */
    record SequenceValue(long value, String servedBy) {
    }
}
