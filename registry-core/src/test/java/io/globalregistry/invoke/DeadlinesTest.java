package io.globalregistry.invoke;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DeadlinesTest {

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final List<OutgoingCall> expired = new CopyOnWriteArrayList<>();
    private final List<Long> lateness = new CopyOnWriteArrayList<>();
    private final Deadlines deadlines = new Deadlines(timer, call -> {
        lateness.add(System.nanoTime() - call.deadlineNanos);
        expired.add(call);
    });

    @AfterEach
    void stop() {
        timer.shutdownNow();
    }

    private static OutgoingCall call(String key, long inMillis) {
        return new OutgoingCall(key, null, null, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(inMillis));
    }

    @Test
    void endsCallsAtTheirDeadlineInOrder() {
        OutgoingCall first = call("a", 50);
        deadlines.add(first);
        OutgoingCall second = call("b", 120);
        deadlines.add(second);

        await().atMost(Duration.ofSeconds(2)).until(() -> expired.size() == 2);
        assertThat(expired).containsExactly(first, second);
        assertThat(lateness).allSatisfy(late -> assertThat(late).isBetween(0L, TimeUnit.MILLISECONDS.toNanos(50)));
        assertThat(deadlines.size()).isZero();
    }

    @Test
    void leavesClearedCallsAlone() throws Exception {
        OutgoingCall ended = call("a", 30);
        deadlines.add(ended).clear();
        OutgoingCall open = call("b", 60);
        deadlines.add(open);

        await().atMost(Duration.ofSeconds(2)).until(() -> expired.size() == 1);
        assertThat(expired).containsExactly(open);
        Thread.sleep(50);
        assertThat(expired).containsExactly(open);
    }

    @Test
    void armsAgainAfterTheQueueRanDry() {
        deadlines.add(call("a", 10));
        await().atMost(Duration.ofSeconds(2)).until(() -> expired.size() == 1);
        OutgoingCall later = call("b", 20);
        deadlines.add(later);
        await().atMost(Duration.ofSeconds(2)).until(() -> expired.size() == 2);
        assertThat(expired.get(1)).isSameAs(later);
    }
}
