package io.globalregistry.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.globalregistry.CallTimeoutException;
import io.globalregistry.MessageTooLargeException;
import io.globalregistry.NoSuchNameException;
import io.globalregistry.OneWay;
import io.globalregistry.OwnerBusyException;
import io.globalregistry.Registration;
import io.globalregistry.RemoteInvocationException;
import io.globalregistry.amqp.CallModel.Chat;
import io.globalregistry.amqp.CallModel.Greeter;
import io.globalregistry.amqp.CallModel.InsufficientFundsException;
import io.globalregistry.amqp.CallModel.Ledger;
import io.globalregistry.amqp.CallModel.LedgerTarget;
import io.globalregistry.amqp.CallModel.Point;
import io.globalregistry.amqp.CallModel.Unknown;
import io.globalregistry.test.TestBroker;
import io.globalregistry.test.WithBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Proxies on a 3-node cluster on the broker: the name is registered on {@code a}; every kind of
 * call is made from {@code a} (the owner: direct invocation) and from {@code b} and {@code c}
 * (a {@code call} to a's inbox).
 */
@WithBroker
class ProxyCallsTest {

    private static final String NAME = "ledger";

    private ClusterFixture cluster;
    private List<AmqpGlobalRegistry> nodes;
    private LedgerTarget target;

    private void start(TestBroker broker, java.util.function.UnaryOperator<io.globalregistry.protocol.RegistryConfig> settings) {
        cluster = new ClusterFixture(broker, settings);
        nodes = cluster.start("a", "b", "c");
        await().atMost(Duration.ofSeconds(5)).until(() -> nodes.stream().allMatch(n -> n.members().size() == 3));
        target = new LedgerTarget("a");
        assertThat(nodes.get(0).register(NAME, target).registered()).isTrue();
        await().atMost(Duration.ofSeconds(3)).until(() -> nodes.stream().allMatch(n -> n.whereis(NAME).isPresent()));
    }

    private void start(TestBroker broker) {
        start(broker, c -> c.withCallTimeout(Duration.ofSeconds(2)));
    }

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void callsFromOwnerAndNonOwnersShouldCarryEveryKindOfValue(TestBroker broker) {
        start(broker);
        for (AmqpGlobalRegistry caller : nodes) {
            Ledger ledger = caller.proxy(NAME, Ledger.class);
            String who = caller.nodeId().name();

            assertThat(ledger.add(2, 3)).as(who).isEqualTo(5);
            assertThat(ledger.addLongs(Long.MAX_VALUE - 1, 1)).as(who).isEqualTo(Long.MAX_VALUE);
            assertThat(ledger.half(5)).as(who).isEqualTo(2.5);
            assertThat(ledger.not(false)).as(who).isTrue();
            assertThat(ledger.greet("Zoë ✓")).as(who).isEqualTo("hello Zoë ✓ from a");
            assertThat(ledger.move(new Point(1, 2), 10)).as(who).isEqualTo(new Point(11, 2));
            List<Point> line = ledger.line(3);
            assertThat(line).as(who).containsExactly(new Point(0, 0), new Point(1, 1), new Point(2, 4));
            assertThat(line.get(0)).as(who + ": elements read as the declared type").isInstanceOf(Point.class);
            Map<String, List<Integer>> index = ledger.index(Map.of("x", 2, "y", 0));
            assertThat(index).as(who).containsExactlyInAnyOrderEntriesOf(Map.of("x", List.of(0, 1), "y", List.of()));
            assertThat(ledger.orNull(null)).as(who).isNull();
            assertThat(ledger.orNull("v")).as(who).isEqualTo("v!");
            assertThat(ledger.nothing()).as(who).isNull();
            assertThat(ledger.move(null == null ? new Point(0, 0) : null, 0)).as(who).isEqualTo(new Point(0, 0));
        }
        assertThat(target.runs.get()).isEqualTo(3 * 12);
    }

    @Test
    void aCallOnTheOwnerShouldRunDirectlyOnTheCallingThread(TestBroker broker) {
        start(broker);
        Ledger local = nodes.get(0).proxy(NAME, Ledger.class);
        List<Point> line = local.line(2);
        assertThat(target.threads.get("line")).isSameAs(Thread.currentThread());
        assertThat(line).containsExactly(new Point(0, 0), new Point(1, 1));

        Ledger remote = nodes.get(1).proxy(NAME, Ledger.class);
        remote.line(2);
        assertThat(target.threads.get("line").getName()).contains("a-calls");
    }

    @Test
    void exceptionsShouldComeBackAsTheDeclaredTypeOrAsRemoteInvocationException(TestBroker broker) throws Exception {
        start(broker);
        for (AmqpGlobalRegistry caller : nodes) {
            Ledger ledger = caller.proxy(NAME, Ledger.class);
            boolean local = caller == nodes.get(0);
            String who = caller.nodeId().name();

            assertThat(ledger.withdraw(30)).isEqualTo(70);
            assertThatThrownBy(() -> ledger.withdraw(500)).as(who)
                    .isExactlyInstanceOf(InsufficientFundsException.class).hasMessage("only 100 left, asked 500");
            // a subclass the caller's method does not declare is rebuilt as the declared type it extends
            assertThatThrownBy(() -> ledger.withdraw(5000)).as(who)
                    .isInstanceOf(InsufficientFundsException.class).hasMessage("overdraft of 5000");
            if (local) {
                assertThatThrownBy(() -> ledger.boom("bang")).isExactlyInstanceOf(IllegalStateException.class)
                        .hasMessage("bang");
            } else {
                assertThatThrownBy(() -> ledger.boom("bang")).as(who).isInstanceOfSatisfying(RemoteInvocationException.class, e -> {
                    assertThat(e.remoteClass()).isEqualTo("java.lang.IllegalStateException");
                    assertThat(e.remoteMessage()).isEqualTo("bang");
                    assertThat(e.name()).isEqualTo("\"ledger\"");
                    assertThat(e.method()).isEqualTo("Ledger.boom");
                    assertThat(e.owner()).isEqualTo(nodes.get(0).nodeId());
                });
                assertThatThrownBy(() -> caller.proxy(NAME, Unknown.class).missing("x")).as(who)
                        .isInstanceOfSatisfying(RemoteInvocationException.class,
                                e -> assertThat(e.remoteClass()).isEqualTo("java.lang.NoSuchMethodException"));
            }
            // the target does not implement Greeter, but has its method
            assertThat(caller.proxy(NAME, Greeter.class).greet("duck")).as(who).isEqualTo("hello duck from a");
            assertThatThrownBy(() -> ledger.laterFailing("not now").get(2, TimeUnit.SECONDS)).as(who)
                    .isInstanceOf(ExecutionException.class)
                    .cause().satisfiesAnyOf(
                            e -> assertThat(e).isInstanceOf(UnsupportedOperationException.class),
                            e -> assertThat(e).isInstanceOfSatisfying(RemoteInvocationException.class,
                                    r -> assertThat(r.remoteClass()).isEqualTo("java.lang.UnsupportedOperationException")));
        }
    }

    @Test
    void completableFutureResultsShouldBeAsynchronousEndToEnd(TestBroker broker) throws Exception {
        start(broker);
        assertThat(nodes.get(1).proxy(NAME, Ledger.class).later(4).get(2, TimeUnit.SECONDS)).isEqualTo(new Point(4, -4));

        target.completeLaterAtOnce = false;
        List<CompletableFuture<Point>> futures = new ArrayList<>();
        List<Thread> completedOn = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (AmqpGlobalRegistry node : nodes) {
            CompletableFuture<Point> future = node.proxy(NAME, Ledger.class).later(100);
            if (node != nodes.get(0)) { // on the owner it is the target's own future, completed by whoever completes it
                future.thenRun(() -> completedOn.add(Thread.currentThread()));
            }
            futures.add(future);
        }
        await().atMost(Duration.ofSeconds(2)).until(() -> target.runs.get() == 4);
        Thread.sleep(100);
        assertThat(futures).as("nothing completes before the target's future").noneMatch(CompletableFuture::isDone);

        target.pending.complete(new Point(1, 7));
        for (CompletableFuture<Point> future : futures) {
            assertThat(future.get(2, TimeUnit.SECONDS)).isEqualTo(new Point(101, 7));
        }
        await().atMost(Duration.ofSeconds(1)).until(() -> completedOn.size() == 2);
        // the registry completes them on its call-results thread (a thread blocked in get() may also run them, as
        // CompletableFuture does): never on the event loop or an inbox consumer thread
        assertThat(completedOn).as("never the event loop or the inbox consumer").noneMatch(t -> t.getName().matches(
                "global-registry-[abc]") || t.getName().startsWith("pool-") || t.getName().startsWith("AMQP"));
    }

    @Test
    void oneWayMethodsAndSendShouldReachTheOwnerFromEveryNode(TestBroker broker) {
        start(broker);
        for (AmqpGlobalRegistry caller : nodes) {
            caller.proxy(NAME, Ledger.class).record("from " + caller.nodeId().name());
            caller.send(NAME, new Chat(caller.nodeId().name(), "hi"));
        }
        await().atMost(Duration.ofSeconds(3)).untilAsserted(() -> {
            assertThat(target.events).containsExactlyInAnyOrder("from a", "from b", "from c");
            assertThat(target.chats).containsExactlyInAnyOrder(new Chat("a", "hi"), new Chat("b", "hi"), new Chat("c", "hi"));
        });
        assertThatThrownBy(() -> nodes.get(1).proxy("nobody-owns-this", Ledger.class).record("x"))
                .isInstanceOf(NoSuchNameException.class).hasMessageContaining("nobody-owns-this");
        assertThatThrownBy(() -> nodes.get(1).send("nobody-owns-this", new Chat("b", "x")))
                .isInstanceOf(NoSuchNameException.class);
    }

    @Test
    void defaultAndObjectMethodsShouldRunOnTheProxy(TestBroker broker) {
        start(broker);
        Ledger ledger = nodes.get(1).proxy(NAME, Ledger.class);
        Ledger other = nodes.get(1).proxy(NAME, Ledger.class);
        int before = target.runs.get();

        assertThat(ledger.toString()).contains("Ledger").contains("ledger");
        assertThat(ledger).isEqualTo(ledger).isNotEqualTo(other);
        assertThat(ledger.hashCode()).isEqualTo(System.identityHashCode(ledger));
        assertThat(target.runs.get()).isEqualTo(before);

        assertThat(ledger.describe()).isEqualTo("ledger hello default from a");
        assertThat(target.runs.get()).as("only greet ran remotely").isEqualTo(before + 1);
    }

    /** Misuses of one-way. */
    interface BadOneWay {
        @OneWay
        int answer();
    }

    /** Not an interface. */
    static class NotAnInterface {
    }

    @Test
    void aProxyOfANonInterfaceOrABadOneWayShouldBeRefusedAtCreation(TestBroker broker) {
        start(broker);
        AmqpGlobalRegistry b = nodes.get(1);
        assertThatThrownBy(() -> b.proxy(NAME, NotAnInterface.class)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("NotAnInterface").hasMessageContaining("not an interface");
        assertThatThrownBy(() -> b.proxy(NAME, String.class)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.proxy(NAME, BadOneWay.class)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("@OneWay needs a void method");
        assertThatThrownBy(() -> b.proxy(null, Ledger.class)).isInstanceOf(io.globalregistry.InvalidNameException.class);
    }

    @Test
    void aCallToANameNobodyOwnsShouldWaitForTheNextOwnerUpToTheTimeout(TestBroker broker) throws Exception {
        start(broker);
        AmqpGlobalRegistry b = nodes.get(1);
        AmqpGlobalRegistry c = nodes.get(2);
        Ledger later = b.proxy("comes-later", Ledger.class);
        CompletableFuture<Integer> call = CompletableFuture.supplyAsync(() -> later.add(20, 22));
        Thread.sleep(300);
        assertThat(call).isNotDone();
        LedgerTarget onC = new LedgerTarget("c");
        assertThat(c.register("comes-later", onC).registered()).isTrue();
        assertThat(call.get(3, TimeUnit.SECONDS)).isEqualTo(42);
        assertThat(onC.runs.get()).isEqualTo(1);

        long start = System.nanoTime();
        assertThatThrownBy(() -> b.proxy("never", Ledger.class).add(1, 1)).isInstanceOf(NoSuchNameException.class)
                .hasMessageContaining("never").hasMessageContaining("2000 ms");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(1900), Duration.ofMillis(2500));
    }

    @Test
    void aDeliveredCallWithoutReplyShouldTimeOutNamingNameMethodAndOwner(TestBroker broker) throws Exception {
        start(broker, c -> c.withCallTimeout(Duration.ofMillis(500)));
        Ledger ledger = nodes.get(1).proxy(NAME, Ledger.class);
        long start = System.nanoTime();
        assertThatThrownBy(() -> ledger.slow(1500)).isInstanceOfSatisfying(CallTimeoutException.class, e -> {
            assertThat(e.name()).isEqualTo("\"ledger\"");
            assertThat(e.method()).isEqualTo("Ledger.slow");
            assertThat(e.owner()).isEqualTo(nodes.get(0).nodeId());
            assertThat(e.mayHaveRun()).isTrue();
            assertThat(e.getMessage()).contains("\"ledger\"").contains("Ledger.slow").contains(nodes.get(0).nodeId().toString());
        });
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(450), Duration.ofMillis(800));
        CompletableFuture<Point> async = nodes.get(2).proxy(NAME, Ledger.class).later(1);
        assertThat(async.get(1, TimeUnit.SECONDS)).isEqualTo(new Point(1, -1));
        assertThat(target.runs.get()).isEqualTo(2);
    }

    @Test
    void aSaturatedOwnerShouldAnswerBusyInsteadOfQueueingWithoutBound(TestBroker broker) throws Exception {
        cluster = new ClusterFixture(broker, c -> c.withCallTimeout(Duration.ofSeconds(3)));
        AmqpGlobalRegistry a = cluster.start("a", cluster.config.withCallExecutor(1, 1));
        AmqpGlobalRegistry b = cluster.start("b");
        await().atMost(Duration.ofSeconds(5)).until(() -> a.members().size() == 2 && b.members().size() == 2);
        target = new LedgerTarget("a");
        assertThat(a.register(NAME, target).registered()).isTrue();
        await().atMost(Duration.ofSeconds(3)).until(() -> b.whereis(NAME).isPresent());

        Ledger ledger = b.proxy(NAME, Ledger.class);
        List<CompletableFuture<Long>> calls = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            calls.add(CompletableFuture.supplyAsync(() -> ledger.slow(400)));
            Thread.sleep(50);
        }
        int busy = 0;
        int done = 0;
        for (CompletableFuture<Long> call : calls) {
            try {
                assertThat(call.get(3, TimeUnit.SECONDS)).isEqualTo(400);
                done++;
            } catch (ExecutionException e) {
                assertThat(e.getCause()).isInstanceOf(OwnerBusyException.class)
                        .hasMessageContaining("busy").hasMessageContaining(a.nodeId().toString());
                busy++;
            }
        }
        assertThat(done).as("one running, one queued").isEqualTo(2);
        assertThat(busy).isEqualTo(2);
        assertThat(target.runs.get()).isEqualTo(2);
        assertThat(a.engine().invocations().busyRefusals()).isEqualTo(2);
    }

    @Test
    void oversizeArgumentsShouldBeRefusedOnTheCallerAndOversizeResultsReported(TestBroker broker) {
        start(broker, c -> c.withMaxMessageSize(16 * 1024));
        Ledger ledger = nodes.get(1).proxy(NAME, Ledger.class);
        assertThatThrownBy(() -> ledger.greet("x".repeat(20_000))).isInstanceOfSatisfying(MessageTooLargeException.class, e -> {
            assertThat(e.getMessage()).contains("Ledger.greet").contains("max-message-size");
            assertThat(e.bytes()).isGreaterThan(e.limit());
        });
        assertThat(target.runs.get()).isZero();
        assertThatThrownBy(() -> ledger.big(20_000)).isInstanceOfSatisfying(RemoteInvocationException.class,
                e -> assertThat(e.remoteMessage()).contains("max-message-size"));
        assertThat(ledger.big(1000)).hasSize(1000);
        assertThat(nodes.get(0).whereis(NAME).map(Registration::isLocal)).contains(true);
    }
}
