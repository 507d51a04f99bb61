package io.globalregistry.amqp;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class EventLoopRuntimeTest {

    @Test
    void runsTasksInOrderOnOneNamedDaemonThreadAndSurvivesFailures() throws Exception {
        try (EventLoopRuntime loop = new EventLoopRuntime("n1")) {
            List<String> seen = new CopyOnWriteArrayList<>();
            CountDownLatch done = new CountDownLatch(1);
            loop.execute(() -> seen.add("first " + Thread.currentThread().getName() + " " + Thread.currentThread().isDaemon()));
            loop.execute(() -> {
                throw new IllegalStateException("boom (expected by the test)");
            });
            loop.execute(() -> {
                throw new AssertionError("an Error too (expected by the test)");
            });
            loop.execute(() -> {
                seen.add("after");
                done.countDown();
            });
            assertThat(done.await(2, TimeUnit.SECONDS)).isTrue();
            assertThat(seen).containsExactly("first global-registry-n1 true", "after");
        }
    }

    @Test
    void timersRunLaterAndCanBeCancelled() throws Exception {
        try (EventLoopRuntime loop = new EventLoopRuntime("n2")) {
            List<String> seen = new CopyOnWriteArrayList<>();
            CountDownLatch done = new CountDownLatch(1);
            long start = loop.monotonicMillis();
            loop.schedule(50, () -> seen.add("cancelled")).cancel();
            loop.schedule(80, () -> {
                seen.add("timer " + (loop.monotonicMillis() - start >= 80) + " " + loop.inLoop());
                done.countDown();
            });
            assertThat(done.await(2, TimeUnit.SECONDS)).isTrue();
            assertThat(seen).containsExactly("timer true true");
            assertThat(loop.wallClockMillis()).isCloseTo(System.currentTimeMillis(), org.assertj.core.data.Offset.offset(1000L));
        }
    }

    @Test
    void dropsWorkAfterClose() {
        EventLoopRuntime loop = new EventLoopRuntime("n3");
        loop.close();
        List<String> seen = new CopyOnWriteArrayList<>();
        loop.execute(() -> seen.add("late"));
        loop.schedule(1, () -> seen.add("late timer")).cancel();
        assertThat(loop.isClosed()).isTrue();
        assertThat(seen).isEmpty();
    }
}
