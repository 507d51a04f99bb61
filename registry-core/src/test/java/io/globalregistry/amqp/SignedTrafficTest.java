package io.globalregistry.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import io.globalregistry.Registration;
import io.globalregistry.amqp.CallModel.Ledger;
import io.globalregistry.amqp.CallModel.LedgerTarget;
import io.globalregistry.test.TestBroker;
import io.globalregistry.test.WithBroker;
import io.globalregistry.wire.EncodedMessage;
import io.globalregistry.wire.Envelope;
import io.globalregistry.wire.Message;
import io.globalregistry.wire.MessageSigner;
import io.globalregistry.wire.RejectReason;
import io.globalregistry.wire.SecurityConfig;
import io.globalregistry.wire.WireCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/**
 * With a secret set, an outsider on a plain amqp-client connection of its own publishes forged
 * {@code advertise}, {@code unregister}, {@code claim-reply} and {@code call} messages (no
 * signature, a wrong one) and replays captured genuine ones (at once and after the replay window):
 * no table changes, no method runs, and each message is counted as rejected by its reason.
 */
@WithBroker
class SignedTrafficTest {

    private static final String SECRET = "correct horse battery staple";
    private static final String V1 = "application/vnd.global-registry.v1+json";
    private static final Duration REPLAY_WINDOW = Duration.ofMillis(1500);

    private ClusterFixture cluster;
    private List<AmqpGlobalRegistry> nodes;
    private AmqpGlobalRegistry a;
    private AmqpGlobalRegistry b;
    private LedgerTarget target;
    private Connection outsider;
    private Channel channel;

    @BeforeEach
    void start(TestBroker broker) throws Exception {
        cluster = new ClusterFixture(broker, c -> c.withSecurity(SecurityConfig.secret(SECRET).withReplayWindow(REPLAY_WINDOW)));
        nodes = cluster.start("a", "b", "c");
        a = nodes.get(0);
        b = nodes.get(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> nodes.stream().allMatch(n -> n.members().size() == 3));
        target = new LedgerTarget("a");
        assertThat(a.register("ledger", target).registered()).isTrue();
        await().atMost(Duration.ofSeconds(3)).until(() -> nodes.stream().allMatch(n -> n.whereis("ledger").isPresent()));
        outsider = broker.newConnectionFactory().newConnection("signed-traffic-test");
        channel = outsider.createChannel();
    }

    @AfterEach
    void stop() throws Exception {
        if (outsider != null) {
            outsider.close();
        }
        cluster.close();
    }

    @Test
    void forgedMessagesWithoutOrWithAWrongSignatureShouldChangeNothingAndBeCounted() throws Exception {
        long token = a.whereis("ledger").orElseThrow().fencingToken();
        String aId = a.nodeId().toString();
        MessageSigner wrong = new MessageSigner(SecurityConfig.secret("not the secret"));
        int runsBefore = target.runs.get();
        String callBody = "{\"name\":\"\\\"ledger\\\"\",\"id\":1,\"method\":\"increment\",\"params\":[],\"args\":[],\"oneWay\":false}";
        List<Forgery> forgeries = List.of(
                new Forgery("all", "advertise", "intruder@000000000001", "{\"name\":\"\\\"forged\\\"\",\"token\":99}"),
                new Forgery("all", "advertise", aId, "{\"name\":\"\\\"forged\\\"\",\"token\":99}"),
                new Forgery("all", "unregister", aId, "{\"name\":\"\\\"ledger\\\"\",\"token\":" + token + "}"),
                new Forgery(AmqpNames.directKey(b.nodeId()), "claim-reply", aId,
                        "{\"name\":\"\\\"x\\\"\",\"claim\":[1,\"" + b.nodeId() + "\"],\"answer\":\"NONE\",\"owner\":null,"
                                + "\"token\":0,\"blocker\":null,\"members\":[]}"),
                new Forgery(AmqpNames.directKey(a.nodeId()), "call", b.nodeId().toString(), callBody));

        for (Forgery forgery : forgeries) {
            publish(forgery, null);                                            // no signature
            publish(forgery, wrong.signBase64(forgery.type(), V1, forgery.sender(), cluster.cluster, hlc(), forgery.body()));
            publish(forgery, "not base64 at all!");                            // garbage signature
        }

        await().atMost(Duration.ofSeconds(3)).untilAsserted(() -> {
            for (AmqpGlobalRegistry node : nodes) {
                long broadcasts = 3;
                long direct = node == a || node == b ? 1 : 0;
                assertThat(node.rejected().count(RejectReason.UNSIGNED)).as("unsigned on %s", node.nodeId())
                        .isEqualTo(broadcasts + direct);
                assertThat(node.rejected().count(RejectReason.BAD_SIGNATURE)).as("bad signature on %s", node.nodeId())
                        .isEqualTo(2 * (broadcasts + direct));
            }
        });
        System.out.printf("[signed-traffic] rejected on a: %s%n", a.rejected().counts());
        Thread.sleep(200);
        for (AmqpGlobalRegistry node : nodes) {
            assertThat(node.whereis("forged")).as("no forged advertisement on %s", node.nodeId()).isEmpty();
            assertThat(node.whereis("ledger").map(Registration::owner)).as("no forged unregister on %s", node.nodeId())
                    .contains(a.nodeId());
        }
        assertThat(target.runs.get()).as("no forged call ran").isEqualTo(runsBefore);
        assertThat(b.register("after-forgeries", "t").registered()).isTrue();
        assertThat(nodes.get(2).proxy("ledger", Ledger.class).increment()).isEqualTo(1);
    }

    @Test
    void replayedGenuineMessagesShouldBeRefusedAtOnceAndAfterTheReplayWindow() throws Exception {
        String capture = channel.queueDeclare().getQueue();
        channel.queueBind(capture, cluster.exchange(), AmqpNames.BROADCAST_KEY);

        Ledger ledger = b.proxy("ledger", Ledger.class);
        assertThat(ledger.increment()).isEqualTo(1);
        assertThat(a.unregister("ledger")).isTrue();
        GetResponse unregister = captured(capture, "unregister");
        assertThat(a.register("ledger", target).registered()).isTrue();
        await().atMost(Duration.ofSeconds(3)).until(() -> nodes.stream().allMatch(n -> n.whereis("ledger").isPresent()));
        // calls travel straight to the inbox queue, out of an outsider's sight: this one is signed exactly as b signs
        EncodedMessage call = new WireCodec(cluster.cluster, 1 << 20, cluster.config.security(), System::currentTimeMillis)
                .encode(new Envelope(Envelope.PROTOCOL_VERSION, b.nodeId(), cluster.cluster, System.currentTimeMillis() << 16,
                        new Message.Call("\"ledger\"", 999_999, "increment", List.of(), JsonMapper.builder().build().readTree("[]"),
                                false)));
        String inboxOfA = AmqpNames.inbox(cluster.cluster, a.nodeId());
        publish(call, inboxOfA);
        await().atMost(Duration.ofSeconds(3)).until(() -> target.increments.get() == 2);

        publish(call, inboxOfA);
        replay(unregister, AmqpNames.BROADCAST_KEY);
        await().atMost(Duration.ofSeconds(3)).untilAsserted(() -> {
            assertThat(a.rejected().count(RejectReason.REPLAYED)).isEqualTo(2);
            assertThat(b.rejected().count(RejectReason.REPLAYED)).isEqualTo(1);
        });

        Thread.sleep(REPLAY_WINDOW.toMillis() + 200);
        publish(call, inboxOfA);
        replay(unregister, AmqpNames.BROADCAST_KEY);
        await().atMost(Duration.ofSeconds(3)).untilAsserted(() -> {
            assertThat(a.rejected().count(RejectReason.REPLAYED)).isEqualTo(4);
            assertThat(b.rejected().count(RejectReason.REPLAYED)).isEqualTo(2);
        });
        Thread.sleep(200);
        System.out.printf("[signed-traffic] after replays, rejected on a: %s%n", a.rejected().counts());
        assertThat(target.increments.get()).as("the replayed call never ran again").isEqualTo(2);
        for (AmqpGlobalRegistry node : nodes) {
            assertThat(node.whereis("ledger").map(Registration::owner)).contains(a.nodeId());
        }
        assertThat(ledger.increment()).isEqualTo(3);
        for (AmqpGlobalRegistry node : nodes) {
            assertThat(node.rejected().count(RejectReason.UNSIGNED) + node.rejected().count(RejectReason.BAD_SIGNATURE))
                    .as("genuine traffic is never refused").isZero();
        }
    }

    private void publish(EncodedMessage message, String queue) throws Exception {
        AMQP.BasicProperties properties = new AMQP.BasicProperties.Builder()
                .type(message.type()).contentType(message.contentType()).headers(message.headers()).build();
        channel.basicPublish("", queue, properties, message.body());
    }

    @Test
    void duringARotationNodesSigningWithEitherSecretShouldHearEachOther(TestBroker broker) throws Exception {
        // step 1 everywhere: sign with the current secret, also accept the next; step 2 on one node: the reverse
        try (ClusterFixture rotating = new ClusterFixture(broker, c -> c.withSecurity(SecurityConfig.secret(SECRET, "next secret")))) {
            AmqpGlobalRegistry old = rotating.start("old");
            AmqpGlobalRegistry next = rotating.start("next", rotating.config.withSecurity(SecurityConfig.secret("next secret", SECRET)));
            await().atMost(Duration.ofSeconds(5)).until(() -> old.members().size() == 2 && next.members().size() == 2);
            LedgerTarget onOld = new LedgerTarget("old");
            assertThat(old.register("ledger", onOld).registered()).isTrue();
            assertThat(next.register("other", "t").registered()).isTrue();
            await().atMost(Duration.ofSeconds(3)).until(() -> next.whereis("ledger").isPresent() && old.whereis("other").isPresent());
            assertThat(next.proxy("ledger", Ledger.class).increment()).isEqualTo(1);
            assertThat(old.rejected().total() + next.rejected().total()).isZero();
        }
    }

    private record Forgery(String routingKey, String type, String sender, String json) {
        byte[] body() {
            return json.getBytes(StandardCharsets.UTF_8);
        }
    }

    private long hlc() {
        return System.currentTimeMillis() << 16;
    }

    private void publish(Forgery forgery, String signature) throws Exception {
        Map<String, Object> headers = new HashMap<>();
        headers.put("gr-sender", forgery.sender());
        headers.put("gr-cluster", cluster.cluster);
        headers.put("gr-hlc", hlc());
        if (signature != null) {
            headers.put("gr-sig", signature);
        }
        AMQP.BasicProperties properties = new AMQP.BasicProperties.Builder()
                .type(forgery.type()).contentType(V1).headers(headers).build();
        channel.basicPublish(cluster.exchange(), forgery.routingKey(), properties, forgery.body());
    }

    private GetResponse captured(String queue, String type) throws Exception {
        long deadline = System.nanoTime() + 3_000_000_000L;
        while (System.nanoTime() < deadline) {
            GetResponse response = channel.basicGet(queue, true);
            if (response == null) {
                Thread.sleep(10);
            } else if (type.equals(response.getProps().getType())) {
                return response;
            }
        }
        throw new AssertionError("no " + type + " captured");
    }

    private void replay(GetResponse message, String routingKey) throws Exception {
        channel.basicPublish(cluster.exchange(), routingKey, message.getProps(), message.getBody());
    }
}
