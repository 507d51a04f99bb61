package io.globalregistry.wire;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HMAC-SHA256 over what identifies a message: its type, content type, sender, cluster, clock and
 * body, each length-prefixed so no two different messages sign the same bytes. Signs with the
 * current secret; verifies against it and every previous one, in constant time. Thread-safe (one
 * {@link Mac} per thread and key).
 */
public final class MessageSigner {

    /** The algorithm, as the JDK names it. */
    public static final String ALGORITHM = "HmacSHA256";

    private final List<ThreadLocal<Mac>> keys = new ArrayList<>();

    /** Keys from {@code config}: its secret first, then the previous ones. */
    public MessageSigner(SecurityConfig config) {
        if (!config.enabled()) {
            throw new IllegalArgumentException("No secret configured");
        }
        keys.add(mac(config.secret()));
        for (String previous : config.previousSecrets()) {
            keys.add(mac(previous));
        }
    }

    private static ThreadLocal<Mac> mac(String secret) {
        SecretKeySpec key = new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), ALGORITHM);
        try {
            Mac.getInstance(ALGORITHM).init(key); // fail now, not on the first message
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 is not available: " + e, e);
        }
        return ThreadLocal.withInitial(() -> {
            try {
                Mac mac = Mac.getInstance(ALGORITHM);
                mac.init(key);
                return mac;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("HMAC-SHA256 is not available: " + e, e);
            }
        });
    }

    /** The signature (32 bytes) of a message with the current secret. */
    public byte[] sign(String type, String contentType, String sender, String cluster, long hlc, byte[] body) {
        return compute(keys.get(0).get(), type, contentType, sender, cluster, hlc, body);
    }

    /** The signature as it travels: base64. */
    public String signBase64(String type, String contentType, String sender, String cluster, long hlc, byte[] body) {
        return Base64.getEncoder().encodeToString(sign(type, contentType, sender, cluster, hlc, body));
    }

    /** Whether {@code signature} is the signature of this message with the current or a previous secret. */
    public boolean verify(byte[] signature, String type, String contentType, String sender, String cluster, long hlc,
                          byte[] body) {
        for (ThreadLocal<Mac> key : keys) {
            if (MessageDigest.isEqual(signature, compute(key.get(), type, contentType, sender, cluster, hlc, body))) {
                return true;
            }
        }
        return false;
    }

    private static byte[] compute(Mac mac, String type, String contentType, String sender, String cluster, long hlc,
                                  byte[] body) {
        update(mac, type);
        update(mac, contentType);
        update(mac, sender);
        update(mac, cluster);
        mac.update(ByteBuffer.allocate(Long.BYTES).putLong(hlc).array());
        mac.update(ByteBuffer.allocate(Integer.BYTES).putInt(body.length).array());
        mac.update(body);
        return mac.doFinal();
    }

    private static void update(Mac mac, String field) {
        if (field == null) {
            mac.update(ByteBuffer.allocate(Integer.BYTES).putInt(-1).array());
            return;
        }
        byte[] bytes = field.getBytes(StandardCharsets.UTF_8);
        mac.update(ByteBuffer.allocate(Integer.BYTES).putInt(bytes.length).array());
        mac.update(bytes);
    }
}
