package io.globalregistry.invoke;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.globalregistry.CallTimeoutException;
import io.globalregistry.MessageTooLargeException;
import io.globalregistry.NoSuchNameException;
import io.globalregistry.OwnerBusyException;
import io.globalregistry.Registration;
import io.globalregistry.Registration.State;
import io.globalregistry.RegistryObserver;
import io.globalregistry.RegistryObserver.CallOutcome;
import io.globalregistry.RemoteInvocationException;
import io.globalregistry.membership.NodeId;
import io.globalregistry.name.GlobalName;
import io.globalregistry.protocol.RegistryConfig;
import io.globalregistry.wire.Message.Outcome;
import io.globalregistry.wire.Message.Reply;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.IntNode;

/** What a {@link RegistryObserver} is told of proxied calls, over a fake network (no broker). */
class CallObserverTest {

    private static final String KEY = "\"svc\"";
    private static final NodeId SELF = new NodeId("self", "000000000000");
    private static final NodeId B = new NodeId("b", "00000000000b");

    public interface Service {
        int work(int x);

        String echo(String text);

        CompletableFuture<Integer> workAsync(int x);
    }

    /** A local target. */
    public static final class Impl implements Service {
        @Override
        public int work(int x) {
            if (x < 0) {
                throw new IllegalArgumentException("negative");
            }
            return x + 1;
        }

        @Override
        public String echo(String text) {
            return text;
        }

        @Override
        public CompletableFuture<Integer> workAsync(int x) {
            return CompletableFuture.completedFuture(x + 1);
        }
    }

    /** A call as the observer heard of it; {@code took} is null for a local call (not timed). */
    record Seen(CallOutcome outcome, boolean local, Duration took) {
    }

    private final List<Seen> seen = new CopyOnWriteArrayList<>();
    private final RegistryObserver observer = new RegistryObserver() {
        @Override
        public void callFinished(Duration took, CallOutcome outcome) {
            seen.add(new Seen(outcome, false, took));
        }

        @Override
        public void localCallFinished(CallOutcome outcome) {
            seen.add(new Seen(outcome, true, null));
        }
    };
    private final RetryRuleTest.FakeNetwork network = new RetryRuleTest.FakeNetwork();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final ExecutorService results = Executors.newSingleThreadExecutor();
    private final ExecutorService callers = Executors.newCachedThreadPool();
    private final Invocations invocations = new Invocations(SELF,
            RegistryConfig.defaults("c").withCallTimeout(Duration.ofMillis(300)).withMaxMessageSize(4096), network,
            JsonMapper.builder().build(), Runnable::run, timer, results, observer);
    private final Service service = invocations.proxy(KEY, Service.class);

    @AfterEach
    void stop() {
        timer.shutdownNow();
        results.shutdownNow();
        callers.shutdownNow();
    }

    private void reply(Outcome outcome, List<String> errorTypes) {
        await().atMost(Duration.ofSeconds(1)).until(() -> !network.sent.isEmpty());
        RetryRuleTest.FakeNetwork.Sent sent = network.sent.get(network.sent.size() - 1);
        invocations.onMessage(B, new Reply(sent.call().id(), outcome, outcome == Outcome.OK ? IntNode.valueOf(42) : null,
                errorTypes, errorTypes == null ? null : "boom"));
    }

    @Test
    void callsToARemoteOwnerWhenTheyEndShouldBeToldWithTheirOutcome() throws Exception {
        network.own(B);
        CompletableFuture<Integer> ok = CompletableFuture.supplyAsync(() -> service.work(1), callers);
        reply(Outcome.OK, null);
        assertThat(ok.get()).isEqualTo(42);

        network.sent.clear();
        CompletableFuture<Integer> busy = CompletableFuture.supplyAsync(() -> service.work(1), callers);
        reply(Outcome.BUSY, null);
        assertThat(busy).failsWithin(Duration.ofSeconds(1)).withThrowableThat().havingCause()
                .isInstanceOf(OwnerBusyException.class);

        network.sent.clear();
        CompletableFuture<Integer> failed = CompletableFuture.supplyAsync(() -> service.work(1), callers);
        reply(Outcome.FAILED, List.of("java.lang.IllegalStateException"));
        assertThat(failed).failsWithin(Duration.ofSeconds(1)).withThrowableThat().havingCause()
                .isInstanceOf(RemoteInvocationException.class);

        network.sent.clear();
        assertThatThrownBy(() -> service.work(1)).isInstanceOf(CallTimeoutException.class); // delivered, never answered

        assertThat(seen).extracting(Seen::outcome)
                .containsExactly(CallOutcome.OK, CallOutcome.BUSY, CallOutcome.ERROR, CallOutcome.TIMEOUT);
        assertThat(seen).extracting(Seen::local).containsOnly(false);
        assertThat(seen.get(3).took()).isGreaterThanOrEqualTo(Duration.ofMillis(300));
    }

    @Test
    void anAsynchronousCallShouldBeToldWhenItsFutureCompletes() throws Exception {
        network.own(B);
        CompletableFuture<Integer> result = service.workAsync(1);
        assertThat(seen).isEmpty();
        reply(Outcome.OK, null);
        assertThat(result.get()).isEqualTo(42);
        await().atMost(Duration.ofSeconds(1)).until(() -> !seen.isEmpty());
        assertThat(seen).containsExactly(new Seen(CallOutcome.OK, false, seen.get(0).took()));
    }

    @Test
    void callsThatNeverReachAnOwnerShouldBeToldWhy() {
        assertThatThrownBy(() -> service.work(1)).isInstanceOf(NoSuchNameException.class); // nobody owns it
        network.own(B);
        assertThatThrownBy(() -> service.echo("x".repeat(5000))).isInstanceOf(MessageTooLargeException.class);
        invocations.close("closed for the test");
        assertThatThrownBy(() -> service.work(1)).hasMessageContaining("closed for the test");

        assertThat(seen).extracting(Seen::outcome)
                .containsExactly(CallOutcome.NO_OWNER, CallOutcome.TOO_LARGE, CallOutcome.FAILED);
        assertThat(network.sent).isEmpty();
    }

    @Test
    void callsToALocalOwnerShouldBeToldAsLocal() {
        network.table.put(KEY, new Registration(new GlobalName(KEY), SELF, State.LOCAL, 1, 0, new Impl()));
        assertThat(service.work(1)).isEqualTo(2);
        assertThatThrownBy(() -> service.work(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThat(service.toString()).contains(KEY); // not a call

        assertThat(seen).extracting(Seen::outcome).containsExactly(CallOutcome.OK, CallOutcome.ERROR);
        assertThat(seen).extracting(Seen::local).containsOnly(true);
        assertThat(network.sent).isEmpty();
    }

    @Test
    void aLocalOwnerWithoutAnObserverShouldStillBeCalled() {
        Invocations unobserved = new Invocations(SELF, RegistryConfig.defaults("c"), network, JsonMapper.builder().build(),
                Runnable::run, timer, results, RegistryObserver.NO_OP);
        network.table.put(KEY, new Registration(new GlobalName(KEY), SELF, State.LOCAL, 1, 0, new Impl()));
        Service proxy = unobserved.proxy(KEY, Service.class);
        assertThat(proxy.work(1)).isEqualTo(2);
        assertThatThrownBy(() -> proxy.work(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThat(seen).isEmpty();
    }
}
