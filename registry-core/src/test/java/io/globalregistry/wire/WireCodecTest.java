package io.globalregistry.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.globalregistry.membership.NodeId;
import io.globalregistry.wire.Message.Advertise;
import io.globalregistry.wire.Message.Answer;
import io.globalregistry.wire.Message.Bye;
import io.globalregistry.wire.Message.Claim;
import io.globalregistry.wire.Message.ClaimReply;
import io.globalregistry.wire.Message.Deliver;
import io.globalregistry.wire.Message.Heartbeat;
import io.globalregistry.wire.Message.Hello;
import io.globalregistry.wire.Message.OwnedName;
import io.globalregistry.wire.Message.Release;
import io.globalregistry.wire.Message.Sync;
import io.globalregistry.wire.Message.SyncRequest;
import io.globalregistry.wire.Message.Unregister;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.json.JsonMapper;

class WireCodecTest {

    private static final NodeId A = new NodeId("alpha", "0123456789ab");
    private static final NodeId B = new NodeId("beta.node-2_x", "ffffffffffff");
    private static final ClaimId CLAIM = new ClaimId(1_700_000_000_000L << 16 | 7, A);
    private static final ClaimId LATER = new ClaimId(1_700_000_000_001L << 16, B);

    private static final String HELLO = "{\"strategy\":\"claim\"}";

    private final WireCodec codec = new WireCodec("c1", 64 * 1024);

    static Stream<Message> everyType() {
        JsonMapper json = JsonMapper.builder().build();
        List<Message> all = List.of(
                new Heartbeat(3, -8_123_456_789_012L),
                new Hello(),
                new SyncRequest(),
                new Sync(42L << 16, 1, 3, List.of(new OwnedName("\"billing\"", 9), new OwnedName("[\"room\",42]", 10))),
                new Sync(1, 0, 1, List.of()),
                new Sync(7, 0, 1, List.of(new OwnedName("\"billing\"", 9)), List.of("\"pending\""), List.of(A, B), 99),
                new Heartbeat(0, 0, "leader", 12345),
                new Hello("leader"),
                new Message.Leader(1_700_000_000_000L << 16),
                new Message.Resolve("[\"room\",42]", 3, true, false),
                new Message.Resolve("\"billing\"", 4, false, true),
                new Message.Resolved("\"billing\"", 4, B, 77, 99),
                new Message.Resolved("\"billing\"", 0, null, 0, 99),
                new Message.Revoke("\"billing\"", 77),
                new Claim("\"billing\"", CLAIM),
                new ClaimReply("\"billing\"", CLAIM, Answer.NONE, null, 0, null, List.of(A, B)),
                new ClaimReply("\"billing\"", CLAIM, Answer.LOCAL, B, 77, null, List.of(A)),
                new ClaimReply("\"billing\"", CLAIM, Answer.REMOTE, B, 78, null, List.of()),
                new ClaimReply("\"billing\"", CLAIM, Answer.PENDING, null, 0, LATER, List.of(B)),
                new Advertise("{\"a\":1,\"b\":[true,null]}", 123),
                new Release("\"billing\"", CLAIM),
                new Unregister("42", 5),
                new Bye(),
                new Message.Down(B),
                new Message.Summary(List.of(new Message.Summary.Entry(A, 2, -7, "claim", 0, 150, 5250),
                        new Message.Summary.Entry(B, 0, 0, "leader", 99, 0, 1500)), List.of(A, B), List.of(B)),
                new Heartbeat(1, 2, "claim", 0, 150),
                new Heartbeat(0, 0, "claim", 0, 150, 5250),
                new Deliver("\"worker\"", json.readTree("{\"x\":1,\"list\":[1,2.5,\"s\"],\"nested\":{\"k\":null}}")),
                new Deliver("\"worker\"", json.readTree("\"just a string\"")),
                new Message.Call("[\"room\",42]", 7, "move", List.of("io.x.Point", "int"),
                        json.readTree("[{\"x\":1,\"y\":2},3]"), false),
                new Message.Call("\"worker\"", 0, "record", List.of(), json.readTree("[]"), true),
                new Message.Reply(7, Message.Outcome.OK, json.readTree("{\"x\":4,\"y\":2}"), List.of(), null),
                new Message.Reply(8, Message.Outcome.FAILED, null, List.of("java.lang.IllegalStateException",
                        "java.lang.RuntimeException"), "bang"),
                new Message.Reply(9, Message.Outcome.BUSY, null, List.of(), null));
        Set<MessageType> covered = all.stream().map(Message::type).collect(Collectors.toSet());
        assertThat(covered).containsExactlyInAnyOrderElementsOf(EnumSet.allOf(MessageType.class));
        return all.stream();
    }

    @ParameterizedTest
    @MethodSource("everyType")
    void roundTripsEveryMessageType(Message body) {
        Envelope sent = new Envelope(Envelope.PROTOCOL_VERSION, A, "c1", 1_700_000_000_000L << 16 | 3, body);

        EncodedMessage encoded = codec.encode(sent);
        Envelope received = codec.decode(encoded);

        assertThat(encoded.type()).isEqualTo(body.type().wireName());
        assertThat(encoded.contentType()).isEqualTo("application/vnd.global-registry.v1+json");
        assertThat(encoded.headers()).containsEntry("gr-sender", "alpha@0123456789ab")
                .containsEntry("gr-cluster", "c1").containsEntry("gr-hlc", sent.hlc());
        assertThat(received).isEqualTo(sent);
    }

    @Test
    void writesIdsCompactly() {
        Envelope sent = new Envelope(1, A, "c1", 1, new ClaimReply("\"n\"", CLAIM, Answer.LOCAL, B, 1, null, List.of(A)));
        String json = new String(codec.encode(sent).body(), StandardCharsets.UTF_8);
        assertThat(json).contains("\"claim\":[" + CLAIM.hlc() + ",\"alpha@0123456789ab\"]")
                .contains("\"owner\":\"beta.node-2_x@ffffffffffff\"")
                .contains("\"members\":[\"alpha@0123456789ab\"]")
                .doesNotContain("class").doesNotContain("@type");
    }

    // ---- rejections ------------------------------------------------------------------------

    @Test
    void rejectsTooLargeBeforeParsing() {
        byte[] garbage = new byte[64 * 1024 + 1];
        assertRejected(message("heartbeat", garbage), RejectReason.TOO_LARGE);
    }

    @Test
    void acceptsBodyOfExactlyMaxSize() {
        String json = "{\"owned\":1,\"digest\":2,\"strategy\":\"claim\",\"leaderEpoch\":0,\"crashGrace\":0,\"lease\":0}";
        byte[] padded = Arrays.copyOf(json.getBytes(StandardCharsets.UTF_8), 64 * 1024);
        Arrays.fill(padded, json.length(), padded.length, (byte) ' ');
        assertThat(codec.decode(message("heartbeat", padded)).body()).isEqualTo(new Heartbeat(1, 2));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "Heartbeat", "HEARTBEAT", "io.globalregistry.wire.Message$Heartbeat", "takeover"})
    void rejectsUnknownTypes(String type) {
        assertRejected(message(type, "{\"owned\":1,\"digest\":2}"), RejectReason.UNKNOWN_TYPE);
    }

    @Test
    void rejectsMissingType() {
        assertRejected(new EncodedMessage(null, WireCodec.contentType(1), headers(), bytes("{}")), RejectReason.UNKNOWN_TYPE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"application/vnd.global-registry.v2+json", "application/vnd.global-registry.v0+json",
            "application/json", "application/octet-stream", "text/plain", "application/vnd.global-registry.v+json",
            "application/vnd.global-registry.v99999999999+json"})
    void rejectsOtherVersionsAndContentTypes(String contentType) {
        EncodedMessage m = new EncodedMessage("heartbeat", contentType, headers(), bytes("{\"owned\":1,\"digest\":2,\"strategy\":\"claim\",\"leaderEpoch\":0}"));
        assertRejected(m, RejectReason.UNSUPPORTED_VERSION);
    }

    @Test
    void versionIsCheckedBeforeType() {
        EncodedMessage m = new EncodedMessage("future-type", WireCodec.contentType(2), headers(), bytes("{}"));
        assertRejected(m, RejectReason.UNSUPPORTED_VERSION);
    }

    @Test
    void rejectsMissingContentType() {
        assertRejected(new EncodedMessage("hello", null, headers(), bytes("{}")), RejectReason.UNSUPPORTED_VERSION);
    }

    @Test
    void acceptsContentTypeParameters() {
        EncodedMessage m = new EncodedMessage("hello", WireCodec.contentType(1) + "; charset=utf-8", headers(), bytes(HELLO));
        assertThat(codec.decode(m).body()).isEqualTo(new Hello());
    }

    static Stream<Map<String, Object>> badHeaders() {
        return Stream.of(
                without("gr-sender"), without("gr-cluster"), without("gr-hlc"),
                with("gr-sender", "no-at-sign"), with("gr-sender", "a@b@"), with("gr-sender", "bad name@x"),
                with("gr-sender", 42L), with("gr-cluster", 7), with("gr-hlc", "123"), with("gr-hlc", 1.5d),
                with("gr-hlc", -1L), Map.of());
    }

    @ParameterizedTest
    @MethodSource("badHeaders")
    void rejectsMissingOrInvalidHeaders(Map<String, Object> headers) {
        assertRejected(new EncodedMessage("hello", WireCodec.contentType(1), headers, bytes("{}")),
                RejectReason.MALFORMED_ENVELOPE);
    }

    @Test
    void acceptsIntegerClock() {
        EncodedMessage m = new EncodedMessage("hello", WireCodec.contentType(1), with("gr-hlc", 5), bytes(HELLO));
        assertThat(codec.decode(m).hlc()).isEqualTo(5);
    }

    @Test
    void rejectsWrongCluster() {
        EncodedMessage m = new EncodedMessage("hello", WireCodec.contentType(1), with("gr-cluster", "c2"), bytes(HELLO));
        assertRejected(m, RejectReason.WRONG_CLUSTER);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "", "   ", "null", "[]", "\"text\"", "42", "{", "{\"owned\":1,\"digest\":2} trailing",
            "{\"owned\":1}",                                   // missing field
            "{\"owned\":1,\"digest\":2,\"extra\":3}",          // unknown field
            "{\"owned\":\"1\",\"digest\":2}",                  // string for int
            "{\"owned\":1.5,\"digest\":2}",                    // float for int
            "{\"owned\":null,\"digest\":2}",                   // null primitive
            "{\"owned\":1,\"owned\":1,\"digest\":2}",          // duplicate field
            "{\"owned\":99999999999,\"digest\":2}"})           // int overflow
    void rejectsMalformedHeartbeats(String json) {
        assertRejected(message("heartbeat", json), RejectReason.MALFORMED_BODY);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"name\":\"\\\"n\\\"\"}",                                                   // claim missing
            "{\"name\":null,\"claim\":[1,\"a@b\"]}",                                       // null name
            "{\"name\":\"\\\"n\\\"\",\"claim\":null}",                                     // null claim
            "{\"name\":\"\\\"n\\\"\",\"claim\":[1]}",                                      // short claim id
            "{\"name\":\"\\\"n\\\"\",\"claim\":[1,\"a@b\",3]}",                            // long claim id
            "{\"name\":\"\\\"n\\\"\",\"claim\":[\"1\",\"a@b\"]}",                          // hlc as string
            "{\"name\":\"\\\"n\\\"\",\"claim\":[1.5,\"a@b\"]}",                            // hlc as float
            "{\"name\":\"\\\"n\\\"\",\"claim\":[1,\"nobody\"]}",                           // bad node id
            "{\"name\":\"\\\"n\\\"\",\"claim\":{\"hlc\":1,\"node\":\"a@b\"}}",              // object claim id
            "{\"name\":\"not json\",\"claim\":[1,\"a@b\"]}",                               // name not JSON
            "{\"name\":\"{\\\"b\\\":1,\\\"a\\\":2}\",\"claim\":[1,\"a@b\"]}",               // name not canonical
            "{\"name\":\"42.0\",\"claim\":[1,\"a@b\"]}",                                   // number not canonical
            "{\"name\":\"null\",\"claim\":[1,\"a@b\"]}"})                                  // null name
    void rejectsMalformedClaims(String json) {
        assertRejected(message("claim", json), RejectReason.MALFORMED_BODY);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"name\":\"\\\"n\\\"\",\"claim\":[1,\"a@b\"],\"answer\":\"LOCAL\",\"owner\":null,\"token\":1,\"blocker\":null,\"members\":[]}",
            "{\"name\":\"\\\"n\\\"\",\"claim\":[1,\"a@b\"],\"answer\":\"PENDING\",\"owner\":null,\"token\":1,\"blocker\":null,\"members\":[]}",
            "{\"name\":\"\\\"n\\\"\",\"claim\":[1,\"a@b\"],\"answer\":\"MAYBE\",\"owner\":null,\"token\":1,\"blocker\":null,\"members\":[]}",
            "{\"name\":\"\\\"n\\\"\",\"claim\":[1,\"a@b\"],\"answer\":0,\"owner\":null,\"token\":1,\"blocker\":null,\"members\":[]}",
            "{\"name\":\"\\\"n\\\"\",\"claim\":[1,\"a@b\"],\"answer\":\"NONE\",\"owner\":null,\"token\":1,\"blocker\":null,\"members\":[null]}",
            "{\"name\":\"\\\"n\\\"\",\"claim\":[1,\"a@b\"],\"answer\":\"NONE\",\"owner\":null,\"token\":1,\"blocker\":null,\"members\":[\"x\"]}",
            "{\"name\":\"\\\"n\\\"\",\"claim\":[1,\"a@b\"],\"answer\":\"NONE\",\"owner\":null,\"token\":1,\"blocker\":null}"})
    void rejectsMalformedClaimReplies(String json) {
        assertRejected(message("claim-reply", json), RejectReason.MALFORMED_BODY);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"asOf\":1,\"part\":3,\"parts\":3,\"names\":[]}",
            "{\"asOf\":1,\"part\":0,\"parts\":0,\"names\":[]}",
            "{\"asOf\":1,\"part\":0,\"parts\":1,\"names\":null}",
            "{\"asOf\":1,\"part\":0,\"parts\":1,\"names\":[null]}",
            "{\"asOf\":1,\"part\":0,\"parts\":1,\"names\":[{\"name\":\"\\\"n\\\"\"}]}",
            "{\"asOf\":1,\"part\":0,\"parts\":1,\"names\":[{\"name\":null,\"token\":1}]}"})
    void rejectsMalformedSyncs(String json) {
        assertRejected(message("sync", json), RejectReason.MALFORMED_BODY);
    }

    @Test
    void rejectsOverlongNames() {
        String key = "\"" + "x".repeat(2000) + "\"";
        assertRejected(message("advertise", "{\"name\":\"" + key.replace("\"", "\\\"") + "\",\"token\":1}"),
                RejectReason.MALFORMED_BODY);
    }

    @Test
    void rejectsDeliverWithoutPayload() {
        assertRejected(message("deliver", "{\"name\":\"\\\"n\\\"\"}"), RejectReason.MALFORMED_BODY);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"name\":\"\\\"n\\\"\",\"id\":1,\"method\":\"m\",\"params\":[\"int\"],\"args\":[],\"oneWay\":false}",
            "{\"name\":\"\\\"n\\\"\",\"id\":1,\"method\":\"m\",\"params\":[],\"args\":{},\"oneWay\":false}",
            "{\"name\":\"\\\"n\\\"\",\"id\":1,\"method\":\"\",\"params\":[],\"args\":[],\"oneWay\":false}",
            "{\"name\":\"\\\"n\\\"\",\"id\":1,\"method\":\"m\",\"params\":[null],\"args\":[1],\"oneWay\":false}",
            "{\"name\":\"\\\"n\\\"\",\"id\":1,\"method\":\"m\",\"params\":[],\"args\":[]}"})
    void rejectsMalformedCalls(String json) {
        assertRejected(message("call", json), RejectReason.MALFORMED_BODY);
    }

    @Test
    void rejectsRepliesWithAnUnknownOutcome() {
        assertRejected(message("reply", "{\"id\":1,\"outcome\":\"MAYBE\",\"result\":null,\"errorTypes\":[],\"error\":null}"),
                RejectReason.MALFORMED_BODY);
    }

    @Test
    void rejectsRandomBytes() {
        Random random = new Random(42);
        for (int i = 0; i < 200; i++) {
            byte[] garbage = new byte[random.nextInt(300)];
            random.nextBytes(garbage);
            for (MessageType type : MessageType.values()) {
                if (garbage.length > 0 && (type == MessageType.HELLO || type == MessageType.BYE
                        || type == MessageType.SYNC_REQUEST)) {
                    garbage[0] = (byte) 0xff; // keep "{}" from ever happening by chance
                }
                assertRejected(message(type.wireName(), garbage), RejectReason.MALFORMED_BODY);
            }
        }
    }

    @Test
    void neverReadsClassNamesFromTheWire() {
        String json = "{\"name\":\"\\\"n\\\"\",\"payload\":{\"@class\":\"java.io.File\",\"path\":\"/etc\"}}";
        Envelope envelope = codec.decode(message("deliver", json));
        assertThat(((Deliver) envelope.body()).payload().get("@class").asString()).isEqualTo("java.io.File");
    }

    // ---- helpers -----------------------------------------------------------------------------

    private void assertRejected(EncodedMessage message, RejectReason reason) {
        assertThatThrownBy(() -> codec.decode(message))
                .isInstanceOfSatisfying(RejectedMessageException.class, e -> assertThat(e.reason()).as(e.getMessage())
                        .isEqualTo(reason));
    }

    private static EncodedMessage message(String type, String json) {
        return message(type, bytes(json));
    }

    private static EncodedMessage message(String type, byte[] body) {
        return new EncodedMessage(type, WireCodec.contentType(1), headers(), body);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static Map<String, Object> headers() {
        Map<String, Object> h = new HashMap<>();
        h.put("gr-sender", A.toString());
        h.put("gr-cluster", "c1");
        h.put("gr-hlc", 12345L);
        return h;
    }

    private static Map<String, Object> with(String key, Object value) {
        Map<String, Object> h = headers();
        h.put(key, value);
        return h;
    }

    private static Map<String, Object> without(String key) {
        Map<String, Object> h = headers();
        h.remove(key);
        return h;
    }
}
