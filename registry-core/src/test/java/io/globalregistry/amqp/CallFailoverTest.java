package io.globalregistry.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.globalregistry.CallTimeoutException;
import io.globalregistry.Idempotent;
import io.globalregistry.NoSuchNameException;
import io.globalregistry.OwnerChange;
import io.globalregistry.Registration;
import io.globalregistry.test.TestBroker;
import io.globalregistry.test.WithBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The owner's connection is cut while another node calls it: every call ends within call-timeout
 * with a result or a clear exception, a call that is not idempotent never runs twice (counted on
 * the targets), an idempotent one in flight is run again on the next owner, and calls made once the
 * new owner is in place succeed.
 */
@WithBroker
class CallFailoverTest {

    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(2);
    private static final long MARGIN_MILLIS = 300;

    /** The service behind the name. */
    interface Account {
        /** Not idempotent: each id must run at most once, on whichever node. */
        String apply(long id);

        long hold(long millis);

        @Idempotent
        long holdIdempotent(long millis);
    }

    /** Counts every run per id, on every node alike. */
    static final class AccountTarget implements Account {
        final String node;
        final Map<Long, AtomicInteger> runs;
        final AtomicInteger holds = new AtomicInteger();
        final CountDownLatch holding = new CountDownLatch(1);

        AccountTarget(String node, Map<Long, AtomicInteger> runs) {
            this.node = node;
            this.runs = runs;
        }

        @Override
        public String apply(long id) {
            runs.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
            return node;
        }

        @Override
        public long hold(long millis) {
            holds.incrementAndGet();
            holding.countDown();
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return millis;
        }

        @Override
        public long holdIdempotent(long millis) {
            return hold(millis);
        }
    }

    /** The outcome of one call. */
    private record Outcome(long id, long startNanos, long millis, String result, Throwable error) {
    }

    @Test
    void callsAtOneHundredPerSecondThroughAnOwnerCrashShouldEndInTimeAndNeverRunTwice(TestBroker broker) throws Exception {
        try (ClusterFixture cluster = new ClusterFixture(broker, c -> c.withCallTimeout(CALL_TIMEOUT))) {
            List<AmqpGlobalRegistry> nodes = cluster.start("a", "b", "c");
            AmqpGlobalRegistry a = nodes.get(0);
            AmqpGlobalRegistry b = nodes.get(1);
            AmqpGlobalRegistry c = nodes.get(2);
            await().atMost(Duration.ofSeconds(5)).until(() -> nodes.stream().allMatch(n -> n.members().size() == 3));
            Map<Long, AtomicInteger> runs = new ConcurrentHashMap<>();
            assertThat(a.register("account", new AccountTarget("a", runs)).registered()).isTrue();
            AtomicLong takenOverAt = new AtomicLong();
            standby(c, new AccountTarget("c", runs), takenOverAt);
            await().atMost(Duration.ofSeconds(3)).until(() -> b.whereis("account").isPresent());

            Account account = b.proxy("account", Account.class);
            ExecutorService callers = Executors.newFixedThreadPool(64);
            List<Future<Outcome>> calls = new ArrayList<>();
            long begin = System.nanoTime();
            long crashAt = begin + TimeUnit.MILLISECONDS.toNanos(1000);
            long endAt = begin + TimeUnit.MILLISECONDS.toNanos(4000);
            boolean crashed = false;
            long crashNanos = 0;
            for (long id = 0; System.nanoTime() < endAt; id++) {
                long next = begin + id * 10_000_000L; // 100 calls a second
                while (System.nanoTime() < next) {
                    Thread.onSpinWait();
                }
                if (!crashed && System.nanoTime() >= crashAt) {
                    crashNanos = System.nanoTime();
                    a.crash();
                    crashed = true;
                }
                long callId = id;
                calls.add(callers.submit(() -> {
                    long start = System.nanoTime();
                    try {
                        String result = account.apply(callId);
                        return new Outcome(callId, start, (System.nanoTime() - start) / 1_000_000, result, null);
                    } catch (RuntimeException e) {
                        return new Outcome(callId, start, (System.nanoTime() - start) / 1_000_000, null, e);
                    }
                }));
            }
            List<Outcome> outcomes = new ArrayList<>();
            for (Future<Outcome> call : calls) {
                outcomes.add(call.get(CALL_TIMEOUT.toMillis() + 2000, TimeUnit.MILLISECONDS));
            }
            callers.shutdown();

            long slowest = outcomes.stream().mapToLong(Outcome::millis).max().orElse(0);
            long failed = outcomes.stream().filter(o -> o.error() != null).count();
            long onA = outcomes.stream().filter(o -> "a".equals(o.result())).count();
            long onC = outcomes.stream().filter(o -> "c".equals(o.result())).count();
            long ownerInPlace = takenOverAt.get();
            System.out.printf("[call-failover] %d calls at 100/s, owner cut after 1 s: %d answered by a, %d by c, %d failed"
                            + " (%s); new owner in place %d ms after the cut; slowest call %d ms%n",
                    outcomes.size(), onA, onC, failed, errorKinds(outcomes), (ownerInPlace - crashNanos) / 1_000_000, slowest);

            assertThat(outcomes).hasSizeGreaterThan(350);
            assertThat(slowest).as("no call lasts past call-timeout").isLessThanOrEqualTo(CALL_TIMEOUT.toMillis() + MARGIN_MILLIS);
            for (Outcome outcome : outcomes) {
                if (outcome.error() != null) {
                    assertThat(outcome.error()).as("call %d", outcome.id())
                            .isInstanceOfAny(CallTimeoutException.class, NoSuchNameException.class);
                }
            }
            assertThat(runs.values()).as("no call ran twice").allMatch(count -> count.get() == 1);
            assertThat(ownerInPlace).as("c took the name over").isPositive();
            await().atMost(Duration.ofSeconds(2)).until(() -> b.whereis("account").map(Registration::owner)
                    .filter(c.nodeId()::equals).isPresent());
            List<Outcome> afterTakeOver = outcomes.stream()
                    .filter(o -> o.startNanos() > ownerInPlace + TimeUnit.MILLISECONDS.toNanos(200)).toList();
            assertThat(afterTakeOver).as("calls after the new owner is in place").hasSizeGreaterThan(100)
                    .allSatisfy(o -> assertThat(o.result()).as("call %d: %s", o.id(), o.error()).isEqualTo("c"));
            assertThat(onA + onC + failed).isEqualTo(outcomes.size());
            assertThat(runs.size()).as("every answered call ran exactly once").isGreaterThanOrEqualTo((int) (onA + onC));
        }
    }

    @Test
    void aCallInFlightWhenTheOwnerDiesShouldTimeOutUnlessIdempotentThenRunOnTheNextOwner(TestBroker broker) throws Exception {
        // the standby's claim may wait a claim-timeout (1 s) for the dead node when the third node has not seen the
        // death yet: allow for suspicion + claim-timeout + the broker check
        Duration timeout = Duration.ofMillis(2500);
        try (ClusterFixture cluster = new ClusterFixture(broker, c -> c.withCallTimeout(timeout))) {
            List<AmqpGlobalRegistry> nodes = cluster.start("a", "b", "c");
            AmqpGlobalRegistry a = nodes.get(0);
            AmqpGlobalRegistry b = nodes.get(1);
            AmqpGlobalRegistry c = nodes.get(2);
            await().atMost(Duration.ofSeconds(5)).until(() -> nodes.stream().allMatch(n -> n.members().size() == 3));
            Map<Long, AtomicInteger> runs = new ConcurrentHashMap<>();
            AccountTarget onA = new AccountTarget("a", runs);
            AccountTarget onC = new AccountTarget("c", runs);
            assertThat(a.register("account", onA).registered()).isTrue();
            standby(c, onC, new AtomicLong());
            await().atMost(Duration.ofSeconds(3)).until(() -> b.whereis("account").isPresent());
            Account account = b.proxy("account", Account.class);
            ExecutorService callers = Executors.newFixedThreadPool(2);
            Future<Long> plain = callers.submit(() -> account.hold(timeout.toMillis() + 500));
            Future<Long> idempotent = callers.submit(() -> account.holdIdempotent(300));
            await().atMost(Duration.ofSeconds(1)).until(() -> onA.holds.get() == 2);

            long start = System.nanoTime();
            a.crash();
            assertThat(idempotent.get(5, TimeUnit.SECONDS)).as("sent again to c").isEqualTo(300);
            long idempotentMillis = (System.nanoTime() - start) / 1_000_000;
            Throwable plainError = null;
            try {
                plain.get(5, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                plainError = e.getCause();
            }
            callers.shutdown();
            System.out.printf("[call-failover] idempotent call answered by the next owner %d ms after the crash%n",
                    idempotentMillis);

            assertThat(onC.holds.get()).as("only the idempotent call ran again").isEqualTo(1);
            assertThat(plainError).isInstanceOfSatisfying(CallTimeoutException.class, e -> {
                assertThat(e.mayHaveRun()).isTrue();
                assertThat(e.owner()).isEqualTo(a.nodeId());
                assertThat(e.method()).isEqualTo("Account.hold");
            });
            assertThat(account.hold(1)).isEqualTo(1);
        }
    }

    /**
     * Makes {@code node} take "account" over once its owner is down or left, trying again while it loses to
     * a claim by a node that does not know yet that the owner is dead.
     */
    private static void standby(AmqpGlobalRegistry node, Account target, AtomicLong takenOverAt) {
        node.addListener(change -> {
            if (change.reason() != OwnerChange.Reason.REGISTERED && change.newOwner() == null
                    && change.name().key().equals("\"account\"")) {
                Thread taker = new Thread(() -> {
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                    while (System.nanoTime() < deadline && !node.engine().isClosed()) {
                        try {
                            if (node.register("account", target).registered()) {
                                takenOverAt.set(System.nanoTime());
                                return;
                            }
                        } catch (RuntimeException e) {
                            // not decided in time: try again
                        }
                        if (node.whereis("account").filter(r -> node.members().contains(r.owner())).isPresent()) {
                            return; // somebody alive took it
                        }
                        try {
                            Thread.sleep(50);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }, "standby-" + node.nodeId().name());
                taker.setDaemon(true);
                taker.start();
            }
        });
    }

    @Test
    void anOwnerLeavingGracefullyWhileCalledShouldHandEveryCallToTheNextOwner(TestBroker broker) throws Exception {
        try (ClusterFixture cluster = new ClusterFixture(broker, c -> c.withCallTimeout(CALL_TIMEOUT))) {
            List<AmqpGlobalRegistry> nodes = cluster.start("a", "b", "c");
            AmqpGlobalRegistry a = nodes.get(0);
            AmqpGlobalRegistry b = nodes.get(1);
            AmqpGlobalRegistry c = nodes.get(2);
            await().atMost(Duration.ofSeconds(5)).until(() -> nodes.stream().allMatch(n -> n.members().size() == 3));
            Map<Long, AtomicInteger> runs = new ConcurrentHashMap<>();
            assertThat(a.register("account", new AccountTarget("a", runs)).registered()).isTrue();
            standby(c, new AccountTarget("c", runs), new AtomicLong());
            await().atMost(Duration.ofSeconds(3)).until(() -> b.whereis("account").isPresent());

            Account account = b.proxy("account", Account.class);
            ExecutorService callers = Executors.newFixedThreadPool(32);
            List<Future<Outcome>> calls = new ArrayList<>();
            long begin = System.nanoTime();
            Thread closer = new Thread(() -> {
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    return;
                }
                a.close();
            });
            closer.start();
            for (long id = 0; id < 200; id++) {
                long next = begin + id * 10_000_000L;
                while (System.nanoTime() < next) {
                    Thread.onSpinWait();
                }
                long callId = id;
                calls.add(callers.submit(() -> {
                    long start = System.nanoTime();
                    try {
                        return new Outcome(callId, start, (System.nanoTime() - start) / 1_000_000, account.apply(callId), null);
                    } catch (RuntimeException e) {
                        return new Outcome(callId, start, (System.nanoTime() - start) / 1_000_000, null, e);
                    }
                }));
            }
            List<Outcome> outcomes = new ArrayList<>();
            for (Future<Outcome> call : calls) {
                outcomes.add(call.get(CALL_TIMEOUT.toMillis() + 2000, TimeUnit.MILLISECONDS));
            }
            closer.join();
            callers.shutdown();
            long slowest = outcomes.stream().mapToLong(Outcome::millis).max().orElse(0);
            System.out.printf("[call-failover] graceful leave under 100 calls/s: %d by a, %d by c, %d failed; slowest %d ms%n",
                    outcomes.stream().filter(o -> "a".equals(o.result())).count(),
                    outcomes.stream().filter(o -> "c".equals(o.result())).count(),
                    outcomes.stream().filter(o -> o.error() != null).count(), slowest);
            assertThat(outcomes).allSatisfy(o -> assertThat(o.error()).as("call %d, %d ms after the start", o.id(),
                    (o.startNanos() - begin) / 1_000_000).isNull());
            assertThat(runs.values()).allMatch(count -> count.get() == 1);
            assertThat(runs).hasSize(200);
            assertThat(slowest).isLessThanOrEqualTo(CALL_TIMEOUT.toMillis());
        }
    }

    private static Map<String, Long> errorKinds(List<Outcome> outcomes) {
        Map<String, Long> kinds = new ConcurrentHashMap<>();
        for (Outcome o : outcomes) {
            if (o.error() != null) {
                String kind = o.error().getClass().getSimpleName();
                if (o.error() instanceof CallTimeoutException) {
                    kind += ((CallTimeoutException) o.error()).mayHaveRun() ? "(delivered)" : "(never delivered)";
                }
                kinds.merge(kind, 1L, Long::sum);
            }
        }
        return kinds;
    }
}
