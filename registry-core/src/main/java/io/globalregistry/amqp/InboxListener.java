package io.globalregistry.amqp;

import io.globalregistry.protocol.NodeRuntime;
import io.globalregistry.wire.EncodedMessage;
import io.globalregistry.wire.Envelope;
import io.globalregistry.wire.RejectReason;
import io.globalregistry.wire.RejectedMessageException;
import io.globalregistry.wire.RejectedMessages;
import io.globalregistry.wire.WireCodec;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.MessageListener;
import org.springframework.amqp.core.MessageProperties;

/**
 * Consumes a node's inbox on the listener thread: checks the size, decodes and validates, then
 * hands the envelope to the node on its event loop. A bad message is counted and dropped; this
 * listener never throws, so it never stops its container. The leader queue's listener
 * ({@link #queued}) does the same but queues every envelope on the loop. An {@code admit} filter
 * drops valid envelopes that must not come this way (liveness {@code lease}: heartbeats, which come
 * from the lease stream only). {@link #read} is the same checks alone, for the lease stream.
 */
final class InboxListener implements MessageListener {

    private static final Logger LOG = LoggerFactory.getLogger(InboxListener.class);

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
        Envelope envelope = read(message);
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
            if (body.length > codec.maxMessageSize()) {
                rejected.record(RejectReason.TOO_LARGE, "body of " + body.length + " bytes, limit " + codec.maxMessageSize());
                return null;
            }
            MessageProperties properties = message.getMessageProperties();
            return codec.decode(new EncodedMessage(properties.getType(), properties.getContentType(),
                    properties.getHeaders(), body));
        } catch (RejectedMessageException e) {
            rejected.record(e);
        } catch (RuntimeException e) {
            LOG.error("Unexpected failure reading an incoming message; dropped", e);
            rejected.record(RejectReason.MALFORMED_ENVELOPE, "unexpected " + e);
        }
        return null;
    }
}
