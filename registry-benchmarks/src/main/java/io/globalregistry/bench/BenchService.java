package io.globalregistry.bench;

import java.util.concurrent.CompletableFuture;

/** The service the call benchmarks call: one small argument pair and result, as a typical RPC. */
public interface BenchService {

    /** The sum, at once. */
    long add(long a, long b);

    /** The sum, as an already completed future (the caller's side stays asynchronous end to end). */
    CompletableFuture<Long> addAsync(long a, long b);

    /** The plain implementation. */
    final class Impl implements BenchService {
        @Override
        public long add(long a, long b) {
            return a + b;
        }

        @Override
        public CompletableFuture<Long> addAsync(long a, long b) {
            return CompletableFuture.completedFuture(a + b);
        }
    }
}
