package io.globalregistry.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.ShutdownSignalException;

/**
 * The one place broker exceptions are translated: finds the AMQP reply code behind any exception
 * (amqp-client or Spring AMQP wrapped), so callers ask "was it 404 NOT_FOUND?" and nothing else.
 */
final class BrokerErrors {

    static final int NOT_FOUND = 404;
    static final int RESOURCE_LOCKED = 405;
    static final int NOT_ALLOWED = 530;

    private BrokerErrors() {
    }

    /** Whether {@code failure} is a channel closed by the broker with 404 NOT_FOUND (e.g. a passive declare of a missing queue). */
    static boolean isNotFound(Throwable failure) {
        return channelCloseCode(failure) == NOT_FOUND;
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
        int depth = 0;
        for (Throwable t = failure; t != null && depth < 16; t = t.getCause(), depth++) {
            if (t instanceof ShutdownSignalException) {
                Object reason = ((ShutdownSignalException) t).getReason();
                if (reason instanceof AMQP.Channel.Close) {
                    return ((AMQP.Channel.Close) reason).getReplyCode();
                }
                return -1;
            }
        }
        return -1;
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
