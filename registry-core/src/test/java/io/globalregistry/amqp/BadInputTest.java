package io.globalregistry.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.globalregistry.Registration;
import io.globalregistry.test.TestBroker;
import io.globalregistry.test.WithBroker;
import io.globalregistry.wire.RejectReason;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Garbage published by an outsider, on its own plain amqp-client connection, to the cluster's
 * exchange and to one node's inbox: each message is dropped and counted by its reason, the
 * listeners keep working and the registry is unchanged.
 */
@WithBroker
class BadInputTest {

    private static final String INTRUDER = "intruder@000000000001";
    private static final String V1 = "application/vnd.global-registry.v1+json";
    /** Reasons that need a secret configured: {@code SignedTrafficTest} covers them. */
    private static final EnumSet<RejectReason> UNSIGNED_REASONS =
            EnumSet.complementOf(EnumSet.of(RejectReason.UNSIGNED, RejectReason.BAD_SIGNATURE, RejectReason.REPLAYED));

    private ClusterFixture cluster;
    private List<AmqpGlobalRegistry> nodes;
    private Connection outsider;
    private Channel channel;

    @BeforeEach
    void start(TestBroker broker) throws Exception {
        cluster = new ClusterFixture(broker);
        nodes = cluster.start("a", "b", "c");
        await().atMost(Duration.ofSeconds(5)).until(() -> nodes.stream().allMatch(n -> n.members().size() == 3));
        outsider = broker.newConnectionFactory().newConnection("bad-input-test");
        channel = outsider.createChannel();
    }

    @AfterEach
    void stop() throws Exception {
        outsider.close();
        cluster.close();
    }

    @Test
    void garbageIsDroppedCountedByReasonAndChangesNothing() throws Exception {
        AmqpGlobalRegistry a = nodes.get(0);
        Map<RejectReason, Long> perCopy = publishEveryKindOfGarbage("all");
        String inboxOfA = AmqpNames.directKey(a.nodeId());
        publishEveryKindOfGarbage(inboxOfA);

        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            for (AmqpGlobalRegistry node : nodes) {
                long copies = node == a ? 2 : 1;
                for (RejectReason reason : RejectReason.values()) {
                    assertThat(node.rejected().count(reason)).as("%s on %s", reason, node.nodeId())
                            .isEqualTo(copies * perCopy.getOrDefault(reason, 0L));
                }
            }
        });
        for (RejectReason reason : UNSIGNED_REASONS) {
            assertThat(perCopy).as("every reason is exercised").containsKey(reason);
        }
        System.out.printf("[bad-input] counted on a: %s%n", a.rejected().counts());

        AmqpGlobalRegistry b = nodes.get(1);
        assertThat(b.register("after-bad-input", "t").registered()).isTrue();
        await().atMost(Duration.ofSeconds(3)).untilAsserted(() -> {
            for (AmqpGlobalRegistry node : nodes) {
                assertThat(node.whereis("after-bad-input").map(Registration::owner)).contains(b.nodeId());
                assertThat(node.members()).hasSize(3);
                assertThat(node.whereis("x")).isEmpty();
            }
        });
    }

    /** Publishes one message of every kind to {@code routingKey}; returns how many of each reason one copy makes. */
    private Map<RejectReason, Long> publishEveryKindOfGarbage(String routingKey) throws Exception {
        Map<RejectReason, Long> expected = new EnumMap<>(RejectReason.class);
        byte[] random = new byte[512];
        new Random(7).nextBytes(random);
        random[0] = 'x';

        publish(routingKey, "heartbeat", V1, headers(), random);
        expected.merge(RejectReason.MALFORMED_BODY, 1L, Long::sum);
        publish(routingKey, "claim", V1, headers(), json("{\"name\":\"\\\"x\\\"\"}"));                        // missing field
        expected.merge(RejectReason.MALFORMED_BODY, 1L, Long::sum);
        publish(routingKey, "advertise", V1, headers(), json("{\"name\":\"\\\"x\\\"\",\"token\":\"abc\"}"));  // wrong type
        expected.merge(RejectReason.MALFORMED_BODY, 1L, Long::sum);
        publish(routingKey, "advertise", V1, headers(), json("{\"name\":\"\\\"x\\\"\",\"token\":1,\"owner\":\"me\"}")); // unknown field
        expected.merge(RejectReason.MALFORMED_BODY, 1L, Long::sum);
        publish(routingKey, "advertise", V1, headers(), json("{\"name\":null,\"token\":1}"));                 // null field
        expected.merge(RejectReason.MALFORMED_BODY, 1L, Long::sum);
        publish(routingKey, "takeover", V1, headers(), json("{}"));
        expected.merge(RejectReason.UNKNOWN_TYPE, 1L, Long::sum);
        publish(routingKey, null, V1, headers(), json("{}"));
        expected.merge(RejectReason.UNKNOWN_TYPE, 1L, Long::sum);
        publish(routingKey, "heartbeat", "application/vnd.global-registry.v2+json", headers(), json("{\"owned\":0,\"digest\":0}"));
        expected.merge(RejectReason.UNSUPPORTED_VERSION, 1L, Long::sum);
        publish(routingKey, "heartbeat", null, headers(), json("{\"owned\":0,\"digest\":0}"));
        expected.merge(RejectReason.UNSUPPORTED_VERSION, 1L, Long::sum);
        publish(routingKey, "heartbeat", V1, headers(), new byte[1024 * 1024 + 1]);
        expected.merge(RejectReason.TOO_LARGE, 1L, Long::sum);
        Map<String, Object> otherCluster = headers();
        otherCluster.put("gr-cluster", "someone-else");
        publish(routingKey, "advertise", V1, otherCluster, json("{\"name\":\"\\\"x\\\"\",\"token\":1}"));
        expected.merge(RejectReason.WRONG_CLUSTER, 1L, Long::sum);
        publish(routingKey, "advertise", V1, null, json("{\"name\":\"\\\"x\\\"\",\"token\":1}"));
        expected.merge(RejectReason.MALFORMED_ENVELOPE, 1L, Long::sum);
        Map<String, Object> badClock = headers();
        badClock.put("gr-hlc", "yesterday");
        publish(routingKey, "advertise", V1, badClock, json("{\"name\":\"\\\"x\\\"\",\"token\":1}"));
        expected.merge(RejectReason.MALFORMED_ENVELOPE, 1L, Long::sum);
        return expected;
    }

    private void publish(String routingKey, String type, String contentType, Map<String, Object> headers, byte[] body)
            throws Exception {
        AMQP.BasicProperties properties = new AMQP.BasicProperties.Builder()
                .type(type).contentType(contentType).headers(headers).build();
        channel.basicPublish(cluster.exchange(), routingKey, properties, body);
    }

    private Map<String, Object> headers() {
        Map<String, Object> headers = new HashMap<>();
        headers.put("gr-sender", INTRUDER);
        headers.put("gr-cluster", cluster.cluster);
        headers.put("gr-hlc", 1L);
        return headers;
    }

    private static byte[] json(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
