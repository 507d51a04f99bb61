package io.globalregistry.bench;

import java.util.Arrays;

/** Percentiles of a set of samples in nanoseconds. */
final class Percentiles {

    private final long[] sorted;

    Percentiles(long[] samples) {
        this.sorted = samples.clone();
        Arrays.sort(sorted);
    }

    /** The {@code p}-th percentile (0-100) in microseconds. */
    double micros(double p) {
        int index = (int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100.0 * sorted.length) - 1));
        return sorted[index] / 1_000.0;
    }
}
