package io.globalregistry.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.globalregistry.DeliveryStats.Outcome;
import io.globalregistry.MessageHandler;
import io.globalregistry.OwnerChange;
import io.globalregistry.OwnerChange.Reason;
import io.globalregistry.Registration;
import io.globalregistry.RegistrationResult;
import io.globalregistry.membership.NodeId;
import io.globalregistry.protocol.RegistryConfig.Liveness;
import io.globalregistry.protocol.RegistryConfig.Strategy;
import io.globalregistry.test.TestBroker;
import io.globalregistry.test.WithBroker;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import java.util.Arrays;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;

/**
 * The registry's contract, the same for both strategies: register, whereis, unregister, send and
 * listeners across three nodes on one broker. Under {@code claim} every node holds every name; under
 * {@code leader} the leader decides and the others look up and cache, and the results are the same.
 */
@WithBroker
@ParameterizedClass(name = "strategy {0}, liveness {1}")
@MethodSource("strategiesAndLiveness")
class RegistryContractTest {

    @Parameter(0)
    Strategy strategy;

    @Parameter(1)
    Liveness liveness;

    /**
     * Both strategies under both rules; {@code -Dcontract.liveness=LEASE} (or {@code BROKER}) runs one rule only, as
     * {@code scripts/rabbitmq4.sh test} does on RabbitMQ 4.0.5 with transient non-exclusive queues denied (the inbox
     * under {@code broker} is one, so a node cannot start there, as docs/OPERATIONS.md says).
     */
    static Stream<Arguments> strategiesAndLiveness() {
        List<Liveness> rules = Arrays.stream(System.getProperty("contract.liveness", "BROKER,LEASE").split(","))
                .map(String::trim).map(Liveness::valueOf).toList();
        return Arrays.stream(Strategy.values()).flatMap(s -> rules.stream().map(l -> Arguments.of(s, l)));
    }

    private ClusterFixture cluster;
    private AmqpGlobalRegistry a;
    private AmqpGlobalRegistry b;
    private AmqpGlobalRegistry c;

    record Greeting(String text, int count) {
    }

    /** Collects what it receives, and on which thread. */
    static final class GreetingInbox implements MessageHandler<Greeting> {
        final BlockingQueue<Greeting> received = new LinkedBlockingQueue<>();
        final List<String> threads = new CopyOnWriteArrayList<>();

        @Override
        public void onMessage(Greeting message) {
            threads.add(Thread.currentThread().getName());
            received.add(message);
        }
    }

    @BeforeEach
    void startCluster(TestBroker broker) {
        Assumptions.assumeTrue(liveness != Liveness.LEASE || broker.kind() == TestBroker.Kind.RABBITMQ,
                "liveness lease needs RabbitMQ's streams; the embedded Qpid broker has none");
        cluster = new ClusterFixture(broker, config -> config.withStrategy(strategy).withLiveness(liveness));
        a = cluster.start("a");
        b = cluster.start("b");
        c = cluster.start("c");
        await().atMost(Duration.ofSeconds(5)).until(() -> List.of(a, b, c).stream().allMatch(n -> n.members().size() == 3));
        if (strategy == Strategy.LEADER) {
            await().atMost(Duration.ofSeconds(5)).until(() -> List.of(a, b, c).stream()
                    .map(n -> n.leader().orElse(null)).distinct().filter(Objects::nonNull).count() == 1
                    && List.of(a, b, c).stream().allMatch(n -> n.leader().isPresent()));
        }
    }

    @AfterEach
    void closeCluster() throws Exception {
        cluster.close();
    }

    @Test
    void membersIncludeEveryNodeAndSelf() {
        assertThat(a.members()).containsExactlyInAnyOrder(a.nodeId(), b.nodeId(), c.nodeId());
        assertThat(c.members()).isEqualTo(a.members());
    }

    @Test
    void registerWhereisUnregisterAcrossNodes() {
        Object billing = new Object();
        RegistrationResult won = a.register("billing", billing);

        assertThat(won).isEqualTo(new RegistrationResult(true, a.nodeId()));
        Registration local = a.whereis("billing").orElseThrow();
        assertThat(local.isLocal()).isTrue();
        assertThat(local.target()).isSameAs(billing);
        assertThat(local.fencingToken()).isPositive();
        awaitOwner("billing", a.nodeId());
        assertThat(b.whereis("billing").orElseThrow().state()).isEqualTo(Registration.State.REMOTE);
        assertThat(b.whereis("billing").orElseThrow().target()).isNull();

        assertThat(b.register("billing", new Object())).isEqualTo(new RegistrationResult(false, a.nodeId()));
        assertThat(a.register("billing", new Object())).isEqualTo(new RegistrationResult(false, a.nodeId()));

        assertThat(b.unregister("billing")).isFalse();
        assertThat(a.unregister("billing")).isTrue();
        assertThat(a.unregister("billing")).isFalse();
        awaitOwner("billing", null);

        assertThat(c.register("billing", "c's target").registered()).isTrue();
        awaitOwner("billing", c.nodeId());
        assertThat(b.registrations()).extracting(Registration::name).extracting(Object::toString)
                .contains("\"billing\"");
    }

    @Test
    void structuredNamesAreComparedByValue() {
        assertThat(a.register(List.of("room", 42), "room 42").registered()).isTrue();
        assertThat(a.register(Map.of("z", 1, "a", List.of(true, "x")), "map").registered()).isTrue();

        await().atMost(Duration.ofSeconds(3)).untilAsserted(() -> {
            assertThat(b.whereis(List.of("room", 42L)).map(Registration::owner)).contains(a.nodeId());
            assertThat(c.whereis(List.of("room", 42.0)).map(Registration::owner)).contains(a.nodeId());
            assertThat(c.whereis(new java.util.TreeMap<>(Map.of("a", List.of(true, "x"), "z", 1))).map(Registration::owner))
                    .contains(a.nodeId());
        });
        assertThat(b.register(List.of("room", 42), "other").registered()).isFalse();
    }

    @Test
    void sendReachesTheOwnersHandlerFromOwnerAndNonOwners() throws Exception {
        GreetingInbox inbox = new GreetingInbox();
        assertThat(a.register("greeter", inbox).registered()).isTrue();
        awaitOwner("greeter", a.nodeId());

        a.send("greeter", new Greeting("local", 1));
        b.send("greeter", new Greeting("from b", 2));
        c.send("greeter", Map.of("text", "from c as a map", "count", 3));

        List<Greeting> got = List.of(take(inbox.received), take(inbox.received), take(inbox.received));
        assertThat(got).containsExactlyInAnyOrder(new Greeting("local", 1), new Greeting("from b", 2),
                new Greeting("from c as a map", 3));
        assertThat(inbox.threads).allSatisfy(t -> assertThat(t).startsWith("global-registry-a-handlers"));
        await().atMost(Duration.ofSeconds(2)).until(() -> a.deliveries().count(Outcome.DELIVERED) == 3);
    }

    @Test
    void lambdaHandlersReceiveJson() throws Exception {
        BlockingQueue<Object> received = new LinkedBlockingQueue<>();
        MessageHandler<Object> handler = received::add;
        assertThat(b.register("json-sink", handler).registered()).isTrue();
        awaitOwner("json-sink", b.nodeId());

        c.send("json-sink", new Greeting("hi", 7));

        Object message = received.poll(5, TimeUnit.SECONDS);
        assertThat(message).isInstanceOf(JsonNode.class);
        assertThat(((JsonNode) message).get("text").asString()).isEqualTo("hi");
        assertThat(((JsonNode) message).get("count").asInt()).isEqualTo(7);
    }

    @Test
    void unconvertibleDeliveriesAreDroppedAndCounted() throws Exception {
        GreetingInbox inbox = new GreetingInbox();
        assertThat(a.register("strict", inbox).registered()).isTrue();
        assertThat(a.register("not-a-handler", "just a string").registered()).isTrue();
        awaitOwner("strict", a.nodeId());
        awaitOwner("not-a-handler", a.nodeId());

        b.send("strict", List.of("not", "a", "greeting"));
        b.send("not-a-handler", new Greeting("lost", 0));
        await().atMost(Duration.ofSeconds(3)).until(() -> a.deliveries().count(Outcome.UNCONVERTIBLE) == 1
                && a.deliveries().count(Outcome.NOT_A_HANDLER) == 1);

        b.send("strict", new Greeting("still works", 1));
        assertThat(take(inbox.received)).isEqualTo(new Greeting("still works", 1));
    }

    @Test
    void listenersSeeEveryOwnerChangeInOrder() {
        List<OwnerChange> seen = new CopyOnWriteArrayList<>();
        List<String> threads = new CopyOnWriteArrayList<>();
        c.addListener(change -> {
            threads.add(Thread.currentThread().getName());
            seen.add(change);
        });

        a.register("watched", "t");
        awaitOwner("watched", a.nodeId());
        a.unregister("watched");
        awaitOwner("watched", null);
        b.register("watched", "t");
        awaitOwner("watched", b.nodeId());

        await().atMost(Duration.ofSeconds(3)).until(() -> seen.size() == 3);
        assertThat(seen).extracting(OwnerChange::reason)
                .containsExactly(Reason.REGISTERED, Reason.UNREGISTERED, Reason.REGISTERED);
        assertThat(seen).extracting(OwnerChange::newOwner).containsExactly(a.nodeId(), null, b.nodeId());
        assertThat(threads).allSatisfy(t -> assertThat(t).isEqualTo("global-registry-c-listeners"));
    }

    private void awaitOwner(Object name, NodeId owner) {
        await().atMost(Duration.ofSeconds(3)).untilAsserted(() -> {
            for (AmqpGlobalRegistry node : List.of(a, b, c)) {
                Optional<NodeId> seen = node.whereis(name).map(Registration::owner);
                assertThat(seen).as("owner of %s on %s", name, node.nodeId()).isEqualTo(Optional.ofNullable(owner));
            }
        });
    }

    private static <T> T take(BlockingQueue<T> queue) throws InterruptedException {
        T next = queue.poll(5, TimeUnit.SECONDS);
        assertThat(next).as("a message within 5 s").isNotNull();
        return next;
    }

    @SuppressWarnings("unused")
    private static String owners(List<AmqpGlobalRegistry> nodes, Object name) {
        return nodes.stream().map(n -> n.nodeId() + "=" + n.whereis(name).map(Registration::owner))
                .collect(Collectors.joining(", "));
    }
}
