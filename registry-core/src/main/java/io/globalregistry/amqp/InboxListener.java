package io.globalregistry.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.LongString;
import io.globalregistry.protocol.NodeRuntime;
import io.globalregistry.wire.EncodedMessage;
import io.globalregistry.wire.Envelope;
import io.globalregistry.wire.RejectReason;
import io.globalregistry.wire.RejectedMessageException;
import io.globalregistry.wire.RejectedMessages;
import io.globalregistry.wire.WireCodec;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.MessageListener;
import org.springframework.amqp.core.MessageProperties;

/**
 * Consumes a node's inbox on the consumer's thread ({@link #onDelivery}, from {@link InboxConsumer}):
 * checks the size, decodes and validates, then hands the envelope to the node on its event loop. A bad message is counted and dropped; this
 * listener never throws, so it never stops its container. The leader queue's listener
 * ({@link #queued}) does the same but queues every envelope on the loop. An {@code admit} filter
 * drops valid envelopes that must not come this way (liveness {@code lease}: heartbeats, which come
 * from the lease stream only). {@link #read} is the same checks alone, for the lease stream.
 */
final class InboxListener implements MessageListener {

    private static final Logger LOG = LoggerFactory.getLogger(InboxListener.class);
    /** Header strings up to this many bytes are read as strings, as Spring AMQP's converter does; longer ones are not. */
    private static final int LONG_STRING_LIMIT = 1024;

    private final WireCodec codec;
    private final RejectedMessages rejected;
    private final NodeRuntime runtime;
    private final Consumer<Envelope> inbound;
    private final boolean queued;
    private final Predicate<Envelope> admit;

    /** Runs {@code inbound} on the listener thread under the loop's lock ({@link NodeRuntime#runNow}), saving a thread hop. */
    InboxListener(WireCodec codec, RejectedMessages rejected, NodeRuntime runtime, Consumer<Envelope> inbound) {
        this(codec, rejected, runtime, inbound, false, envelope -> true);
    }

    /** The same, handing on only the envelopes {@code admit} accepts (it logs what it refuses). */
    InboxListener(WireCodec codec, RejectedMessages rejected, NodeRuntime runtime, Consumer<Envelope> inbound,
                  Predicate<Envelope> admit) {
        this(codec, rejected, runtime, inbound, false, admit);
    }

    private InboxListener(WireCodec codec, RejectedMessages rejected, NodeRuntime runtime, Consumer<Envelope> inbound,
                          boolean queued, Predicate<Envelope> admit) {
        this.codec = codec;
        this.rejected = rejected;
        this.runtime = runtime;
        this.inbound = inbound;
        this.queued = queued;
        this.admit = admit;
    }

    /**
     * The same checks, but {@code inbound} is queued on the loop ({@link NodeRuntime#execute}) behind
     * the tasks queued before the message came: the leader queue's messages must follow the
     * {@code elected} callback queued before it is consumed (see {@link LeaderElection}).
     */
    static InboxListener queued(WireCodec codec, RejectedMessages rejected, NodeRuntime runtime,
                                Consumer<Envelope> inbound) {
        return queued(codec, rejected, runtime, inbound, envelope -> true);
    }

    /** {@link #queued}, handing on only the envelopes {@code admit} accepts. */
    static InboxListener queued(WireCodec codec, RejectedMessages rejected, NodeRuntime runtime,
                                Consumer<Envelope> inbound, Predicate<Envelope> admit) {
        return new InboxListener(codec, rejected, runtime, inbound, true, admit);
    }

    @Override
    public void onMessage(Message message) {
        handOn(read(message));
    }

    /** A delivery straight from amqp-client (the inbox): the same as {@link #onMessage}. Never throws. */
    void onDelivery(AMQP.BasicProperties properties, byte[] body) {
        handOn(read(properties, body));
    }

    private void handOn(Envelope envelope) {
        if (envelope == null || !admit.test(envelope)) {
            return;
        }
        if (queued) {
            runtime.execute(() -> inbound.accept(envelope));
        } else {
            runtime.runNow(() -> inbound.accept(envelope));
        }
    }

    /**
     * Checks the size, decodes and validates (signature and replay included): the envelope, or
     * {@code null} if it was dropped (and counted). Never throws.
     */
    Envelope read(Message message) {
        try {
            byte[] body = message.getBody();
            if (tooLarge(body)) {
                return null;
            }
            MessageProperties properties = message.getMessageProperties();
            return decode(new EncodedMessage(properties.getType(), properties.getContentType(),
                    properties.getHeaders(), body));
        } catch (RuntimeException e) {
            return unexpected(e);
        }
    }

    /**
     * {@link #read(Message)} of a delivery straight from amqp-client: its header strings (AMQP long
     * strings) read as UTF-8, as Spring AMQP's converter would. Never throws.
     */
    Envelope read(AMQP.BasicProperties properties, byte[] body) {
        try {
            if (tooLarge(body)) {
                return null;
            }
            return decode(new EncodedMessage(properties.getType(), properties.getContentType(),
                    headers(properties.getHeaders()), body));
        } catch (RuntimeException e) {
            return unexpected(e);
        }
    }

    private static Map<String, Object> headers(Map<String, Object> raw) {
        if (raw == null || raw.isEmpty()) {
            return Map.of();
        }
        Map<String, Object> headers = new HashMap<>(raw.size() * 2);
        for (Map.Entry<String, Object> header : raw.entrySet()) {
            Object value = header.getValue();
            if (value instanceof LongString text && text.length() <= LONG_STRING_LIMIT) {
                value = new String(text.getBytes(), StandardCharsets.UTF_8);
            }
            headers.put(header.getKey(), value);
        }
        return headers;
    }

    private boolean tooLarge(byte[] body) {
        if (body.length > codec.maxMessageSize()) {
            rejected.record(RejectReason.TOO_LARGE, "body of " + body.length + " bytes, limit " + codec.maxMessageSize());
            return true;
        }
        return false;
    }

    private Envelope decode(EncodedMessage message) {
        try {
            return codec.decode(message);
        } catch (RejectedMessageException e) {
            rejected.record(e);
        } catch (RuntimeException e) {
            return unexpected(e);
        }
        return null;
    }

    private Envelope unexpected(RuntimeException e) {
        LOG.error("Unexpected failure reading an incoming message; dropped", e);
        rejected.record(RejectReason.MALFORMED_ENVELOPE, "unexpected " + e);
        return null;
    }
}
