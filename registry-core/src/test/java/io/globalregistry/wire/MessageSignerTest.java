package io.globalregistry.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.globalregistry.membership.NodeId;
import io.globalregistry.wire.Message.Advertise;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** HMAC-SHA256 signatures, the codec's checks with a secret, and the replay guard. */
class MessageSignerTest {

    private static final NodeId A = new NodeId("alpha", "0123456789ab");
    private static final byte[] BODY = "{\"name\":\"\\\"x\\\"\",\"token\":1}".getBytes(StandardCharsets.UTF_8);
    private static final String V1 = WireCodec.contentType(1);

    private final AtomicLong now = new AtomicLong(1_700_000_000_000L);

    @Test
    void aSignatureShouldVerifyWithTheSameSecretOnlyAndCoverEveryField() {
        MessageSigner signer = new MessageSigner(SecurityConfig.secret("s1"));
        byte[] signature = signer.sign("advertise", V1, "a@1", "c1", 42, BODY);

        assertThat(signature).hasSize(32);
        assertThat(signer.verify(signature, "advertise", V1, "a@1", "c1", 42, BODY)).isTrue();
        assertThat(new MessageSigner(SecurityConfig.secret("s2")).verify(signature, "advertise", V1, "a@1", "c1", 42, BODY))
                .isFalse();
        assertThat(signer.verify(signature, "unregister", V1, "a@1", "c1", 42, BODY)).as("type").isFalse();
        assertThat(signer.verify(signature, "advertise", WireCodec.contentType(2), "a@1", "c1", 42, BODY)).as("version").isFalse();
        assertThat(signer.verify(signature, "advertise", V1, "b@1", "c1", 42, BODY)).as("sender").isFalse();
        assertThat(signer.verify(signature, "advertise", V1, "a@1", "c2", 42, BODY)).as("cluster").isFalse();
        assertThat(signer.verify(signature, "advertise", V1, "a@1", "c1", 43, BODY)).as("clock").isFalse();
        byte[] tampered = BODY.clone();
        tampered[tampered.length - 2] = '2';
        assertThat(signer.verify(signature, "advertise", V1, "a@1", "c1", 42, tampered)).as("body").isFalse();
        // fields are length-prefixed: moving a character from one field to the next changes the signature
        assertThat(signer.verify(signer.sign("advertis", "e" + V1, "a@1", "c1", 42, BODY), "advertise", V1, "a@1", "c1", 42,
                BODY)).isFalse();
    }

    @Test
    void aPreviousSecretShouldStillVerifyButNeverSign() {
        MessageSigner old = new MessageSigner(SecurityConfig.secret("old"));
        MessageSigner rotated = new MessageSigner(SecurityConfig.secret("new", "old"));
        byte[] byOld = old.sign("heartbeat", V1, "a@1", "c1", 1, BODY);
        byte[] byRotated = rotated.sign("heartbeat", V1, "a@1", "c1", 1, BODY);

        assertThat(rotated.verify(byOld, "heartbeat", V1, "a@1", "c1", 1, BODY)).isTrue();
        assertThat(old.verify(byRotated, "heartbeat", V1, "a@1", "c1", 1, BODY)).isFalse();
        assertThat(new MessageSigner(SecurityConfig.secret("new")).verify(byRotated, "heartbeat", V1, "a@1", "c1", 1, BODY))
                .isTrue();
    }

    @Test
    void securitySettingsShouldRefuseBlankSecretsAndNeverPrintThem() {
        assertThatThrownBy(() -> SecurityConfig.secret(" ")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SecurityConfig(null, List.of("x"), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SecurityConfig.secret("s").withReplayWindow(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(SecurityConfig.secret("hunter2", "swordfish").toString()).doesNotContain("hunter2").doesNotContain("swordfish");
        assertThat(SecurityConfig.NONE.enabled()).isFalse();
    }

    @Test
    void aCodecWithASecretShouldSignAndAcceptItsOwnMessagesOnce() {
        WireCodec codec = codec("s");
        EncodedMessage encoded = codec.encode(envelope(now.get()));

        assertThat(encoded.headers()).containsKey(WireCodec.SIGNATURE);
        assertThat(codec.decode(encoded).body()).isEqualTo(new Advertise("\"x\"", 1));
        assertRejected(codec, encoded, RejectReason.REPLAYED);
    }

    @Test
    void aCodecWithASecretShouldRejectUnsignedForgedAndOldMessages() {
        WireCodec codec = codec("s");
        EncodedMessage unsigned = new WireCodec("c1", 64 * 1024).encode(envelope(now.get()));
        EncodedMessage forged = codec("wrong").encode(envelope(now.get()));
        EncodedMessage old = codec.encode(envelope(now.get() - 31_000));
        EncodedMessage garbage = withHeader(codec.encode(envelope(now.get())), WireCodec.SIGNATURE, "%%%");
        EncodedMessage truncated = withHeader(codec.encode(envelope(now.get())), WireCodec.SIGNATURE, "AAAA");
        EncodedMessage good = codec.encode(envelope(now.get()));
        EncodedMessage otherBody = new EncodedMessage(good.type(), good.contentType(), good.headers(),
                "{\"name\":\"\\\"y\\\"\",\"token\":1}".getBytes(StandardCharsets.UTF_8));

        assertRejected(codec, unsigned, RejectReason.UNSIGNED);
        assertRejected(codec, forged, RejectReason.BAD_SIGNATURE);
        assertRejected(codec, garbage, RejectReason.BAD_SIGNATURE);
        assertRejected(codec, truncated, RejectReason.BAD_SIGNATURE);
        assertRejected(codec, otherBody, RejectReason.BAD_SIGNATURE);
        assertRejected(codec, old, RejectReason.REPLAYED);
        assertThat(codec.decode(good)).isNotNull();
    }

    @Test
    void aCodecWithoutASecretShouldNeitherSignNorCheck() {
        WireCodec plain = new WireCodec("c1", 64 * 1024);
        EncodedMessage encoded = plain.encode(envelope(1));
        assertThat(encoded.headers()).doesNotContainKey(WireCodec.SIGNATURE);
        assertThat(plain.decode(encoded)).isEqualTo(plain.decode(encoded));
        assertThat(plain.signs()).isFalse();
    }

    @Test
    void theReplayGuardShouldForgetOnlyBehindAFloorWhenFull() {
        ReplayGuard guard = new ReplayGuard(30_000, 3, now::get);
        long t = now.get();
        assertThat(guard.check(hlc(t), sig(1))).isNull();
        assertThat(guard.check(hlc(t + 1), sig(2))).isNull();
        assertThat(guard.check(hlc(t + 2), sig(3))).isNull();
        assertThat(guard.check(hlc(t + 1), sig(2))).contains("copy");
        assertThat(guard.check(hlc(t + 3), sig(4))).as("forgets sig 1, floor = t").isNull();
        assertThat(guard.check(hlc(t), sig(1))).as("forgotten but behind the floor").isNotNull();
        assertThat(guard.check(hlc(t + 5), sig(5))).isNull();
        assertThat(guard.size()).isEqualTo(3);

        now.addAndGet(40_000);
        assertThat(guard.check(hlc(t + 5), sig(6))).contains("replay window");
        assertThat(guard.check(hlc(now.get()), sig(7))).isNull();
        assertThat(guard.size()).as("old entries forgotten").isEqualTo(1);
    }

    private static long hlc(long millis) {
        return millis << 16;
    }

    private static byte[] sig(int n) {
        byte[] bytes = new byte[32];
        bytes[7] = (byte) n;
        return bytes;
    }

    private WireCodec codec(String secret) {
        return new WireCodec("c1", 64 * 1024, SecurityConfig.secret(secret), now::get);
    }

    private static Envelope envelope(long millis) {
        return new Envelope(Envelope.PROTOCOL_VERSION, A, "c1", millis << 16, new Advertise("\"x\"", 1));
    }

    private static EncodedMessage withHeader(EncodedMessage message, String name, Object value) {
        Map<String, Object> headers = new HashMap<>(message.headers());
        headers.put(name, value);
        return new EncodedMessage(message.type(), message.contentType(), headers, message.body());
    }

    private static void assertRejected(WireCodec codec, EncodedMessage message, RejectReason reason) {
        assertThatThrownBy(() -> codec.decode(message)).isInstanceOfSatisfying(RejectedMessageException.class,
                e -> assertThat(e.reason()).as(e.getMessage()).isEqualTo(reason));
    }
}
