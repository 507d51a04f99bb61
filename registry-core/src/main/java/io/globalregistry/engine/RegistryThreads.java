package io.globalregistry.engine;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Builds the registry's small daemon thread pools, named {@code global-registry-<node>-<role>}. */
public final class RegistryThreads {

    private RegistryThreads() {
    }

    /** A fixed pool of {@code threads} daemon threads with an unbounded queue; tasks run in order when {@code threads} is 1. */
    public static ExecutorService fixed(String nodeName, String role, int threads) {
        return new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                factory(nodeName, role));
    }

    /** Daemon threads named {@code global-registry-<node>-<role>[-n]}. */
    public static ThreadFactory factory(String nodeName, String role) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            int n = count.incrementAndGet();
            Thread t = new Thread(runnable, "global-registry-" + nodeName + "-" + role + (n > 1 ? "-" + n : ""));
            t.setDaemon(true);
            return t;
        };
    }
}
