package io.globalregistry.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.ShutdownSignalException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one place broker exceptions are translated: finds the AMQP reply code behind any exception
 * (amqp-client or Spring AMQP wrapped), so callers ask "was it 404 NOT_FOUND?" and nothing else.
 */
final class BrokerErrors {

    static final int NOT_FOUND = 404;
    static final int RESOURCE_LOCKED = 405;
    static final int PRECONDITION_FAILED = 406;
    static final int NOT_ALLOWED = 530;

    /** The longest reply text (a short string); RabbitMQ cuts longer ones, ending them with {@link #TRUNCATION}. */
    private static final int MAX_REPLY_TEXT_BYTES = 255;
    private static final String TRUNCATION = "...";

    /** RabbitMQ's answer to a passive declare of a queue that does not exist, and to nothing else. */
    private static final Pattern RABBIT_NO_QUEUE = Pattern.compile("NOT_FOUND - no queue '(.*)' in vhost '[^']*'");
    /** Qpid Broker-J's answer to a passive declare of a queue that does not exist. */
    private static final Pattern QPID_NO_QUEUE = Pattern.compile("Queue: '(.*)' not found on VirtualHost '[^']*'\\.?");

    private BrokerErrors() {
    }

    /**
     * Whether {@code failure} is the broker's answer that {@code queue} does not exist, and nothing
     * else: a channel closed with 404 NOT_FOUND and the text RabbitMQ sends for exactly that case,
     * {@code NOT_FOUND - no queue '<queue>' in vhost '<vhost>'} (Qpid Broker-J:
     * {@code Queue: '<queue>' not found on VirtualHost '<vhost>'.}). RabbitMQ answers 404 for other
     * reasons too, where the queue may well exist: on a cluster, {@code home node '...' of durable
     * queue ... is down or inaccessible}, {@code ... process is stopped by supervisor},
     * {@code failed to perform operation on queue ... due to timeout}; and during a partition each
     * side deletes the other side's transient queue records, so even the clean answer is no death
     * certificate there (which is why liveness {@code lease} does not ask). Every such answer, like
     * a 541, a connection error or a timeout, is "unknown" and must be taken as "alive".
     */
    static boolean isQueueGone(Throwable failure, String queue) {
        AMQP.Channel.Close close = channelClose(failure);
        if (close == null || close.getReplyCode() != NOT_FOUND || close.getReplyText() == null) {
            return false;
        }
        String text = close.getReplyText();
        Matcher rabbit = RABBIT_NO_QUEUE.matcher(text);
        if (rabbit.matches()) {
            return rabbit.group(1).equals(queue);
        }
        if (isTruncatedNoQueue(text, queue)) {
            return true;
        }
        Matcher qpid = QPID_NO_QUEUE.matcher(text);
        return qpid.matches() && qpid.group(1).equals(queue);
    }

    /**
     * RabbitMQ cuts a reply text longer than a short string (255 bytes) to its first 252 bytes and
     * {@code "..."}: for a long queue name the clean answer then loses its end. It is still the clean
     * answer if what is left is the start of {@code NOT_FOUND - no queue '<queue>' in vhost '...'}.
     */
    private static boolean isTruncatedNoQueue(String text, String queue) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (bytes.length != MAX_REPLY_TEXT_BYTES || !text.endsWith(TRUNCATION)) {
            return false;
        }
        String kept = new String(bytes, 0, bytes.length - TRUNCATION.length(), StandardCharsets.UTF_8);
        String clean = "NOT_FOUND - no queue '" + queue + "' in vhost '";
        if (kept.length() < "NOT_FOUND - no queue '".length() + 1) {
            return false;
        }
        return clean.startsWith(kept) || (kept.startsWith(clean) && kept.indexOf('\'', clean.length()) < 0);
    }

    /** Whether {@code failure} is a channel closed by the broker with 406 PRECONDITION_FAILED (e.g. inequivalent arguments). */
    static boolean isPreconditionFailed(Throwable failure) {
        return channelCloseCode(failure) == PRECONDITION_FAILED;
    }

    /**
     * Whether {@code failure} is RabbitMQ refusing to consume a stream from a broker node whose replica of it
     * is not running (yet): 406 {@code ... does not have a replica on the local node}. An AMQP 0.9.1 consumer
     * reads a stream from its own broker node's replica, which starts a moment after another node created the
     * stream, and again after the broker node restarted.
     */
    static boolean isNoLocalReplica(Throwable failure) {
        AMQP.Channel.Close close = channelClose(failure);
        return close != null && close.getReplyCode() == PRECONDITION_FAILED && close.getReplyText() != null
                && close.getReplyText().contains("does not have a replica on the local node");
    }

    /**
     * Whether {@code failure} is the broker refusing an exclusive queue another connection holds:
     * RabbitMQ closes the channel with 405 RESOURCE_LOCKED, Qpid Broker-J the connection with
     * 530 NOT_ALLOWED ("exclusive, but not created on this Connection").
     */
    static boolean isExclusiveElsewhere(Throwable failure) {
        int depth = 0;
        for (Throwable t = failure; t != null && depth < 16; t = t.getCause(), depth++) {
            if (t instanceof ShutdownSignalException) {
                Object reason = ((ShutdownSignalException) t).getReason();
                if (reason instanceof AMQP.Channel.Close) {
                    return ((AMQP.Channel.Close) reason).getReplyCode() == RESOURCE_LOCKED;
                }
                if (reason instanceof AMQP.Connection.Close) {
                    int code = ((AMQP.Connection.Close) reason).getReplyCode();
                    return code == RESOURCE_LOCKED || code == NOT_ALLOWED;
                }
                return false;
            }
        }
        return false;
    }

    /** The reply code of the broker's channel close behind {@code failure}, or -1 if there is none. */
    static int channelCloseCode(Throwable failure) {
        AMQP.Channel.Close close = channelClose(failure);
        return close == null ? -1 : close.getReplyCode();
    }

    /** The broker's channel close behind {@code failure}, or {@code null} if there is none (a connection close included). */
    static AMQP.Channel.Close channelClose(Throwable failure) {
        int depth = 0;
        for (Throwable t = failure; t != null && depth < 16; t = t.getCause(), depth++) {
            if (t instanceof ShutdownSignalException) {
                Object reason = ((ShutdownSignalException) t).getReason();
                return reason instanceof AMQP.Channel.Close ? (AMQP.Channel.Close) reason : null;
            }
        }
        return null;
    }

    /** A short description for logs: the innermost message. */
    static String describe(Throwable failure) {
        Throwable t = failure;
        int depth = 0;
        while (t.getCause() != null && t.getCause() != t && depth++ < 16) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }
}
