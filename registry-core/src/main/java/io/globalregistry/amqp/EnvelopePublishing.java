package io.globalregistry.amqp;

import com.rabbitmq.client.AMQP;
import io.globalregistry.support.RateLimitedLog;
import io.globalregistry.wire.EncodedMessage;
import io.globalregistry.wire.Envelope;
import io.globalregistry.wire.MessageType;
import io.globalregistry.wire.WireCodec;
import java.io.IOException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * The outgoing half of {@link AmqpTransport}: encodes an {@link Envelope} with the cluster's codec
 * into AMQP properties (type, content type, transient delivery, the codec's headers) and a body,
 * hands them to one of the transport's channels, and counts what the channel took. Nothing is sent
 * once the transport stopped, nor a message over {@code max-message-size}; a failure is logged (at
 * most every 10 s), never thrown, as the caller is the node's loop.
 */
final class EnvelopePublishing {

    private static final Logger LOG = LoggerFactory.getLogger(AmqpTransport.class);

    /** Publishes an encoded message on one of the channels. */
    @FunctionalInterface
    interface Publish {
        void to(AMQP.BasicProperties.Builder properties, byte[] body) throws IOException;
    }

    private final WireCodec codec;
    private final BooleanSupplier stopped;
    private final PublishCounts published = new PublishCounts();
    private final RateLimitedLog errorLog = new RateLimitedLog(LOG, Level.ERROR);

    /** @param stopped whether the transport is closed or crashed: then nothing is sent */
    EnvelopePublishing(WireCodec codec, BooleanSupplier stopped) {
        this.codec = codec;
        this.stopped = stopped;
    }

    /**
     * Encodes and publishes with {@code publish}, unless stopped or too large; a failure is logged,
     * a success counted. {@code target} names the queue or routing key for the logs;
     * {@code broadcast}: it goes to every member's inbox.
     */
    void publish(Envelope envelope, String target, boolean broadcast, Publish publish) {
        if (stopped.getAsBoolean()) {
            return;
        }
        EncodedMessage encoded = codec.encode(envelope);
        if (encoded.body().length > codec.maxMessageSize()) {
            errorLog.log("Not sending a {} of {} bytes to {}: over max-message-size {}", encoded.type(),
                    encoded.body().length, target, codec.maxMessageSize());
            return;
        }
        AMQP.BasicProperties.Builder properties = new AMQP.BasicProperties.Builder()
                .type(encoded.type())
                .contentType(encoded.contentType())
                .deliveryMode(1)
                .headers(encoded.headers());
        try {
            publish.to(properties, encoded.body());
            published.count(envelope.type(), broadcast);
        } catch (IOException | RuntimeException e) {
            errorLog.log("Could not publish a {} to {}: {}", encoded.type(), target, BrokerErrors.describe(e));
        }
    }

    /** Every message published, of every type. */
    long total() {
        return published.total();
    }

    /** The messages of {@code type} published. */
    long of(MessageType type) {
        return published.of(type);
    }

    /** The broadcasts of {@code type} published. */
    long broadcasts(MessageType type) {
        return published.broadcasts(type);
    }
}
