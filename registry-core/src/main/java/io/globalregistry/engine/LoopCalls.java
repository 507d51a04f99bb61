package io.globalregistry.engine;

import io.globalregistry.RegistryException;
import io.globalregistry.protocol.NodeRuntime;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/** Runs a task exclusively with the node's event loop ({@link NodeRuntime#runNow}) and waits for its result. */
final class LoopCalls {

    private final NodeRuntime runtime;
    private final Duration timeout;

    LoopCalls(NodeRuntime runtime, Duration timeout) {
        this.runtime = runtime;
        this.timeout = timeout;
    }

    <T> T call(Supplier<T> task) {
        CompletableFuture<T> result = new CompletableFuture<>();
        runtime.runNow(() -> {
            try {
                result.complete(task.get());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        try {
            return result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException("Interrupted while waiting for the registry's event loop", e);
        } catch (TimeoutException e) {
            throw new RegistryException("The registry's event loop did not answer within " + timeout.toMillis()
                    + " ms (is the registry closed?)", e);
        } catch (ExecutionException e) {
            throw Failures.unwrap(e.getCause());
        }
    }

    void run(Runnable task) {
        call(() -> {
            task.run();
            return null;
        });
    }
}
