package io.globalregistry.wire;

import io.globalregistry.InvalidNameException;
import io.globalregistry.membership.NodeId;
import io.globalregistry.name.NameCodec;
import io.globalregistry.wire.Message.OwnedName;
import java.util.Base64;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.ObjectReader;
import tools.jackson.databind.ObjectWriter;
import tools.jackson.databind.json.JsonMapper;

/**
 * Turns an {@link Envelope} into an {@link EncodedMessage} and back, for one cluster.
 *
 * <p>Layout: the AMQP {@code type} property holds {@link MessageType#wireName()}; the content type
 * {@code application/vnd.global-registry.v1+json} holds the protocol version; the headers
 * {@value #SENDER}, {@value #CLUSTER} and {@value #HLC} hold the sender, cluster and clock; the
 * body is the JSON of the {@link Message} record (see {@link WireJson}).
 *
 * <p>{@link #decode} trusts nothing: it checks, in this order, the size (before parsing), the
 * version, the type, the headers, the cluster, the signature and its freshness (when a secret is
 * configured, see {@link SecurityConfig}) and the body, and throws {@link RejectedMessageException}
 * with the first failing {@link RejectReason}. A signed message carries the header {@value #SIGNATURE}:
 * the base64 HMAC-SHA256 of its type, content type, sender, cluster, clock and body
 * ({@link MessageSigner}). Thread-safe.
 */
public final class WireCodec {

    /** Header: the sender's node id, {@code name@incarnation}. */
    public static final String SENDER = "gr-sender";
    /** Header: the cluster name. */
    public static final String CLUSTER = "gr-cluster";
    /** Header: the sender's hybrid-logical-clock value (a long). */
    public static final String HLC = "gr-hlc";
    /** Header: the base64 HMAC-SHA256 signature, when a secret is configured. */
    public static final String SIGNATURE = "gr-sig";
    /** How many signatures a node remembers to refuse copies (see {@link ReplayGuard}). */
    public static final int REPLAY_MEMORY = 65_536;

    private static final String CONTENT_TYPE_PREFIX = "application/vnd.global-registry.v";
    private static final String CONTENT_TYPE_SUFFIX = "+json";
    private static final Pattern CONTENT_TYPE =
            Pattern.compile("application/vnd\\.global-registry\\.v(\\d{1,9})\\+json(\\s*;.*)?");
    private static final int MAX_DETAIL = 200;
    private static final String CURRENT_CONTENT_TYPE = contentType(Envelope.PROTOCOL_VERSION);

    private final String cluster;
    private final int maxMessageSize;
    private final JsonMapper mapper;
    private final NameCodec names;
    private final MessageSigner signer;
    private final ReplayGuard replays;
    private final Map<MessageType, ObjectReader> readers = new EnumMap<>(MessageType.class);
    private final Map<MessageType, ObjectWriter> writers = new EnumMap<>(MessageType.class);

    /**
     * @param cluster the cluster whose messages are accepted
     * @param maxMessageSize the largest body accepted, in bytes
     */
    public WireCodec(String cluster, int maxMessageSize) {
        this(cluster, maxMessageSize, SecurityConfig.NONE, System::currentTimeMillis);
    }

    /**
     * @param cluster the cluster whose messages are accepted
     * @param maxMessageSize the largest body accepted, in bytes
     * @param security whether messages are signed and checked
     * @param wallClock this node's wall clock (ms since the epoch), for the replay window
     */
    public WireCodec(String cluster, int maxMessageSize, SecurityConfig security, LongSupplier wallClock) {
        this.cluster = Objects.requireNonNull(cluster, "cluster");
        this.maxMessageSize = maxMessageSize;
        this.signer = security.enabled() ? new MessageSigner(security) : null;
        this.replays = security.enabled()
                ? new ReplayGuard(security.replayWindow().toMillis(), REPLAY_MEMORY, wallClock) : null;
        this.mapper = WireJson.newMapper();
        this.names = new NameCodec();
        for (MessageType type : MessageType.values()) {
            readers.put(type, mapper.readerFor(type.bodyType()));
            writers.put(type, mapper.writerFor(type.bodyType()));
        }
    }

    /** The content type of protocol version {@code version}. */
    public static String contentType(int version) {
        return CONTENT_TYPE_PREFIX + version + CONTENT_TYPE_SUFFIX;
    }

    /** The largest body accepted, in bytes. */
    public int maxMessageSize() {
        return maxMessageSize;
    }

    /** Whether messages are signed and checked. */
    public boolean signs() {
        return signer != null;
    }

    /** Encodes {@code envelope}, signed when a secret is configured. The caller checks the body size against {@link #maxMessageSize()}. */
    public EncodedMessage encode(Envelope envelope) {
        byte[] body = writers.get(envelope.type()).writeValueAsBytes(envelope.body());
        Map<String, Object> headers = new HashMap<>(8);
        String sender = envelope.sender().toString();
        String type = envelope.type().wireName();
        String contentType = contentType(envelope.version());
        headers.put(SENDER, sender);
        headers.put(CLUSTER, envelope.cluster());
        headers.put(HLC, envelope.hlc());
        if (signer != null) {
            headers.put(SIGNATURE, signer.signBase64(type, contentType, sender, envelope.cluster(), envelope.hlc(), body));
        }
        return new EncodedMessage(type, contentType, headers, body);
    }

    /** Decodes and validates {@code message}; throws {@link RejectedMessageException} when it must be dropped. */
    public Envelope decode(EncodedMessage message) {
        if (message.body().length > maxMessageSize) {
            throw reject(RejectReason.TOO_LARGE, "body of " + message.body().length + " bytes, limit " + maxMessageSize);
        }
        int version = version(message.contentType());
        MessageType type = type(message.type());
        NodeId sender = sender(message.headers().get(SENDER));
        String messageCluster = stringHeader(CLUSTER, message.headers().get(CLUSTER));
        long hlc = hlc(message.headers().get(HLC));
        if (!cluster.equals(messageCluster)) {
            throw reject(RejectReason.WRONG_CLUSTER, "from cluster '" + clip(messageCluster) + "' (this is '" + cluster
                    + "'), sender " + sender);
        }
        if (signer != null) {
            checkSignature(message, (String) message.headers().get(SENDER), messageCluster, hlc);
        }
        Message body = body(type, message.body());
        return new Envelope(version, sender, messageCluster, hlc, body);
    }

    private void checkSignature(EncodedMessage message, String sender, String messageCluster, long hlc) {
        Object header = message.headers().get(SIGNATURE);
        if (header == null) {
            throw reject(RejectReason.UNSIGNED, message.type() + " from " + clip(sender));
        }
        byte[] signature;
        try {
            signature = Base64.getDecoder().decode(header.toString());
        } catch (IllegalArgumentException e) {
            throw reject(RejectReason.BAD_SIGNATURE, message.type() + " from " + clip(sender) + ": not base64");
        }
        if (signature.length < Long.BYTES || !signer.verify(signature, message.type(), message.contentType(), sender,
                messageCluster, hlc, message.body())) {
            throw reject(RejectReason.BAD_SIGNATURE, message.type() + " from " + clip(sender));
        }
        String replayed = replays.check(hlc, signature);
        if (replayed != null) {
            throw reject(RejectReason.REPLAYED, message.type() + " from " + clip(sender) + ": " + replayed);
        }
    }

    private static int version(String contentType) {
        if (CURRENT_CONTENT_TYPE.equals(contentType)) {
            return Envelope.PROTOCOL_VERSION;
        }
        if (contentType == null) {
            throw reject(RejectReason.UNSUPPORTED_VERSION, "no content type");
        }
        Matcher matcher = CONTENT_TYPE.matcher(contentType);
        if (!matcher.matches()) {
            throw reject(RejectReason.UNSUPPORTED_VERSION, "content type '" + clip(contentType) + "' is not "
                    + contentType(Envelope.PROTOCOL_VERSION));
        }
        int version = Integer.parseInt(matcher.group(1));
        if (version != Envelope.PROTOCOL_VERSION) {
            throw reject(RejectReason.UNSUPPORTED_VERSION, "protocol version " + version + ", this node speaks "
                    + Envelope.PROTOCOL_VERSION);
        }
        return version;
    }

    private static MessageType type(String wireName) {
        if (wireName == null) {
            throw reject(RejectReason.UNKNOWN_TYPE, "no type property");
        }
        Optional<MessageType> type = MessageType.fromWireName(wireName);
        if (type.isEmpty()) {
            throw reject(RejectReason.UNKNOWN_TYPE, "type '" + clip(wireName) + "'");
        }
        return type.get();
    }

    private static NodeId sender(Object header) {
        String text = stringHeader(SENDER, header);
        try {
            return NodeId.parse(text);
        } catch (IllegalArgumentException e) {
            throw reject(RejectReason.MALFORMED_ENVELOPE, "header " + SENDER + ": " + clip(e.getMessage()));
        }
    }

    private static String stringHeader(String name, Object value) {
        if (value == null) {
            throw reject(RejectReason.MALFORMED_ENVELOPE, "no header " + name);
        }
        if (!(value instanceof String)) {
            throw reject(RejectReason.MALFORMED_ENVELOPE, "header " + name + " is a " + value.getClass().getSimpleName()
                    + ", not a string");
        }
        return (String) value;
    }

    private static long hlc(Object value) {
        if (value == null) {
            throw reject(RejectReason.MALFORMED_ENVELOPE, "no header " + HLC);
        }
        if (!(value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte)) {
            throw reject(RejectReason.MALFORMED_ENVELOPE, "header " + HLC + " is a " + value.getClass().getSimpleName()
                    + ", not an integer");
        }
        long hlc = ((Number) value).longValue();
        if (hlc < 0) {
            throw reject(RejectReason.MALFORMED_ENVELOPE, "header " + HLC + " is negative: " + hlc);
        }
        return hlc;
    }

    private Message body(MessageType type, byte[] body) {
        Message message;
        try {
            message = readers.get(type).readValue(body);
        } catch (JacksonException e) {
            throw reject(RejectReason.MALFORMED_BODY, type.wireName() + ": " + clip(e.getOriginalMessage()));
        } catch (RuntimeException e) {
            throw reject(RejectReason.MALFORMED_BODY, type.wireName() + ": " + clip(String.valueOf(e.getMessage())));
        }
        if (message == null) {
            throw reject(RejectReason.MALFORMED_BODY, type.wireName() + ": the body is JSON null");
        }
        checkNames(type, message);
        return message;
    }

    /** Every name must be in canonical form (as {@link NameCodec} makes it), so it is the key an API call would use. */
    private void checkNames(MessageType type, Message message) {
        if (message instanceof Message.Sync sync) {
            for (OwnedName owned : sync.names()) {
                checkName(type, owned.name());
            }
            for (String pending : sync.pending()) {
                checkName(type, pending);
            }
        } else if (message instanceof Message.Claim claim) {
            checkName(type, claim.name());
        } else if (message instanceof Message.ClaimReply reply) {
            checkName(type, reply.name());
        } else if (message instanceof Message.Advertise advertise) {
            checkName(type, advertise.name());
        } else if (message instanceof Message.Release release) {
            checkName(type, release.name());
        } else if (message instanceof Message.Unregister unregister) {
            checkName(type, unregister.name());
        } else if (message instanceof Message.Deliver deliver) {
            checkName(type, deliver.name());
        } else if (message instanceof Message.Resolve resolve) {
            checkName(type, resolve.name());
        } else if (message instanceof Message.Resolved resolved) {
            checkName(type, resolved.name());
        } else if (message instanceof Message.Revoke revoke) {
            checkName(type, revoke.name());
        } else if (message instanceof Message.Call call) {
            // only looked up in the table: a name not in canonical form is simply not found there (NOT_OWNER)
            checkLength(type, call.name());
        }
    }

    private static void checkLength(MessageType type, String key) {
        if (key.length() > NameCodec.MAX_KEY_LENGTH) {
            throw reject(RejectReason.MALFORMED_BODY, type.wireName() + ": a name of " + key.length()
                    + " characters, limit " + NameCodec.MAX_KEY_LENGTH);
        }
    }

    private void checkName(MessageType type, String key) {
        checkLength(type, key);
        String canonical;
        try {
            canonical = names.fromJson(key).key();
        } catch (InvalidNameException e) {
            throw reject(RejectReason.MALFORMED_BODY, type.wireName() + ": name " + clip(key) + " is not JSON");
        }
        if (!canonical.equals(key)) {
            throw reject(RejectReason.MALFORMED_BODY, type.wireName() + ": name " + clip(key)
                    + " is not in canonical form " + clip(canonical));
        }
    }

    private static RejectedMessageException reject(RejectReason reason, String detail) {
        return new RejectedMessageException(reason, detail);
    }

    private static String clip(String text) {
        if (text == null) {
            return "null";
        }
        return text.length() <= MAX_DETAIL ? text : text.substring(0, MAX_DETAIL) + "...";
    }
}
