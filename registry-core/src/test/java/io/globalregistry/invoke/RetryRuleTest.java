package io.globalregistry.invoke;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.globalregistry.CallTimeoutException;
import io.globalregistry.Idempotent;
import io.globalregistry.NoSuchNameException;
import io.globalregistry.OwnerBusyException;
import io.globalregistry.OwnerChange;
import io.globalregistry.OwnerChange.Reason;
import io.globalregistry.Registration;
import io.globalregistry.Registration.State;
import io.globalregistry.RegistryObserver;
import io.globalregistry.membership.NodeId;
import io.globalregistry.name.GlobalName;
import io.globalregistry.protocol.RegistryConfig;
import io.globalregistry.wire.Message.Call;
import io.globalregistry.wire.Message.Outcome;
import io.globalregistry.wire.Message.Reply;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.IntNode;

/**
 * The retry rule over a fake network, no broker: returned or refused calls (never delivered) wait
 * for the next owner and go again; a delivered call is never sent twice unless idempotent and its
 * owner died; every call ends by its deadline.
 */
class RetryRuleTest {

    private static final String KEY = "\"svc\"";
    private static final NodeId SELF = new NodeId("self", "000000000000");
    private static final NodeId B = new NodeId("b", "00000000000b");
    private static final NodeId C = new NodeId("c", "00000000000c");

    interface Service {
        int work(int x);

        @Idempotent
        int read(int x);
    }

    /** The node as calls see it: a table we set, and every message sent. */
    static final class FakeNetwork implements CallNetwork {
        final Map<String, Registration> table = new ConcurrentHashMap<>();
        final List<Sent> sent = new CopyOnWriteArrayList<>();
        final List<Reply> replies = new CopyOnWriteArrayList<>();
        final Set<NodeId> suspected = ConcurrentHashMap.newKeySet();

        record Sent(NodeId to, Call call, Runnable onReturned) {
        }

        @Override
        public Registration lookup(String key) {
            return table.get(key);
        }

        @Override
        public void send(NodeId owner, Call call, Runnable onReturned) {
            sent.add(new Sent(owner, call, onReturned));
        }

        @Override
        public void reply(NodeId caller, Reply reply) {
            replies.add(reply);
        }

        @Override
        public void suspect(NodeId node) {
            suspected.add(node);
        }

        void own(NodeId owner) {
            table.put(KEY, new Registration(new GlobalName(KEY), owner, State.REMOTE, 1, 0, null));
        }
    }

    private final FakeNetwork network = new FakeNetwork();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final ExecutorService results = Executors.newSingleThreadExecutor();
    private final ExecutorService callers = Executors.newCachedThreadPool();
    private final Invocations invocations = new Invocations(SELF,
            RegistryConfig.defaults("c").withCallTimeout(Duration.ofMillis(600)), network, JsonMapper.builder().build(),
            task -> {
                throw new RejectedExecutionException("full");
            }, timer, results, RegistryObserver.NO_OP);
    private final Service service = invocations.proxy(KEY, Service.class);

    @AfterEach
    void stop() {
        timer.shutdownNow();
        results.shutdownNow();
        callers.shutdownNow();
    }

    private CompletableFuture<Integer> call(boolean idempotent) {
        return CompletableFuture.supplyAsync(() -> idempotent ? service.read(1) : service.work(1), callers);
    }

    private FakeNetwork.Sent awaitSent(int count) {
        await().atMost(Duration.ofSeconds(1)).until(() -> network.sent.size() >= count);
        assertThat(network.sent).hasSize(count);
        return network.sent.get(count - 1);
    }

    private void changed(NodeId previous, NodeId now, Reason reason) {
        if (now == null) {
            network.table.remove(KEY);
        } else {
            network.own(now);
        }
        invocations.onOwnerChange(new OwnerChange(new GlobalName(KEY), previous, now, 2, reason));
    }

    private void reply(NodeId from, FakeNetwork.Sent to, Outcome outcome) {
        invocations.onMessage(from, new Reply(to.call().id(), outcome, outcome == Outcome.OK ? IntNode.valueOf(42) : null,
                null, null));
    }

    @Test
    void aReturnedCallShouldWaitForTheNextOwnerThenGoAgain() throws Exception {
        network.own(B);
        CompletableFuture<Integer> result = call(false);
        FakeNetwork.Sent first = awaitSent(1);
        assertThat(first.to()).isEqualTo(B);

        first.onReturned().run();
        Thread.sleep(100);
        assertThat(network.sent).as("B is still in the table but its inbox is gone: wait").hasSize(1);
        assertThat(network.suspected).containsExactly(B);
        assertThat(invocations.callsWaitingForOwner()).isEqualTo(1);

        changed(B, null, Reason.OWNER_DOWN);
        changed(null, C, Reason.REGISTERED);
        FakeNetwork.Sent second = awaitSent(2);
        assertThat(second.to()).isEqualTo(C);
        assertThat(second.call().id()).as("a fresh correlation id").isNotEqualTo(first.call().id());
        reply(B, first, Outcome.OK); // a stray reply to the first attempt changes nothing
        assertThat(result).isNotDone();
        reply(C, second, Outcome.OK);
        assertThat(result.get(1, TimeUnit.SECONDS)).isEqualTo(42);
    }

    @Test
    void aNotOwnerAnswerShouldWaitForTheTableToMoveOn() throws Exception {
        network.own(B);
        CompletableFuture<Integer> result = call(false);
        reply(B, awaitSent(1), Outcome.NOT_OWNER);
        Thread.sleep(100);
        assertThat(network.sent).as("not to B again while the table still says B").hasSize(1);
        changed(B, C, Reason.REGISTERED);
        reply(C, awaitSent(2), Outcome.OK);
        assertThat(result.get(1, TimeUnit.SECONDS)).isEqualTo(42);
    }

    @Test
    void aDeliveredCallWithoutReplyShouldTimeOutAndNeverGoAgain() throws Exception {
        network.own(B);
        long start = System.nanoTime();
        CompletableFuture<Integer> result = call(false);
        awaitSent(1);
        changed(B, null, Reason.OWNER_DOWN);
        changed(null, C, Reason.REGISTERED);
        assertThatThrownBy(() -> result.get(2, TimeUnit.SECONDS)).cause()
                .isInstanceOfSatisfying(CallTimeoutException.class, e -> {
                    assertThat(e.mayHaveRun()).isTrue();
                    assertThat(e.owner()).isEqualTo(B);
                    assertThat(e.method()).isEqualTo("Service.work");
                    assertThat(e.name()).isEqualTo(KEY);
                });
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(550), Duration.ofMillis(900));
        assertThat(network.sent).as("never sent twice").hasSize(1);
        assertThat(invocations.pendingCalls()).isZero();
    }

    @Test
    void anIdempotentCallShouldGoToTheNextOwnerWhenItsOwnerDiesBeforeReplying() throws Exception {
        network.own(B);
        CompletableFuture<Integer> result = call(true);
        awaitSent(1);
        changed(B, null, Reason.OWNER_DOWN);
        Thread.sleep(50);
        assertThat(network.sent).hasSize(1);
        changed(null, C, Reason.REGISTERED);
        FakeNetwork.Sent again = awaitSent(2);
        assertThat(again.to()).isEqualTo(C);
        reply(C, again, Outcome.OK);
        assertThat(result.get(1, TimeUnit.SECONDS)).isEqualTo(42);
    }

    @Test
    void aCallWithNoOwnerShouldWaitForOneAndElseFailByTheDeadline() throws Exception {
        CompletableFuture<Integer> waits = call(false);
        Thread.sleep(100);
        assertThat(network.sent).isEmpty();
        changed(null, B, Reason.REGISTERED);
        reply(B, awaitSent(1), Outcome.OK);
        assertThat(waits.get(1, TimeUnit.SECONDS)).isEqualTo(42);

        network.table.clear();
        long start = System.nanoTime();
        assertThatThrownBy(() -> service.work(2)).isInstanceOf(NoSuchNameException.class).hasMessageContaining("600 ms");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(550), Duration.ofMillis(900));
        assertThat(invocations.callsWaitingForOwner()).isZero();
    }

    @Test
    void repliesShouldBeTakenOnlyFromTheNodeTheCallWentTo() throws Exception {
        network.own(B);
        CompletableFuture<Integer> result = call(false);
        FakeNetwork.Sent sent = awaitSent(1);
        reply(C, sent, Outcome.OK);
        Thread.sleep(50);
        assertThat(result).isNotDone();
        reply(B, sent, Outcome.BUSY);
        assertThatThrownBy(() -> result.get(1, TimeUnit.SECONDS)).cause().isInstanceOf(OwnerBusyException.class);
    }

    @Test
    void aCallForANameNotOwnedHereShouldBeAnsweredNotOwnerAndOneFindingTheExecutorFullBusy() {
        invocations.onMessage(B, new Call(KEY, 7, "work", List.of("int"), JsonMapper.builder().build().readTree("[1]"), false));
        assertThat(network.replies).singleElement().satisfies(r -> {
            assertThat(r.id()).isEqualTo(7);
            assertThat(r.outcome()).isEqualTo(Outcome.NOT_OWNER);
        });
        network.table.put(KEY, new Registration(new GlobalName(KEY), SELF, State.LOCAL, 1, 0, new Object()));
        invocations.onMessage(B, new Call(KEY, 8, "work", List.of("int"), JsonMapper.builder().build().readTree("[1]"), false));
        assertThat(network.replies).hasSize(2).last().satisfies(r -> assertThat(r.outcome()).isEqualTo(Outcome.BUSY));
        assertThat(invocations.busyRefusals()).isEqualTo(1);
    }
}
