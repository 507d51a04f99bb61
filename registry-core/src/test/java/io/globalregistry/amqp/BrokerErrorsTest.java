package io.globalregistry.amqp;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.ChannelContinuationTimeoutException;
import com.rabbitmq.client.ShutdownSignalException;
import com.rabbitmq.client.impl.AMQImpl;
import java.io.IOException;
import java.net.SocketException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.AmqpIOException;

/**
 * Which answers to a passive declare certify that a queue is gone: only the clean "no queue" 404.
 * The exceptions are built as amqp-client builds them: a {@link ShutdownSignalException} with the
 * broker's channel.close (or connection.close) as its reason, wrapped in an {@link IOException}.
 */
class BrokerErrorsTest {

    private static final String QUEUE = "global-registry.c.node.a@1";

    /** What {@code channel.queueDeclarePassive} throws when the broker closes the channel. */
    private static IOException channelClosed(int code, String text) {
        ShutdownSignalException signal = new ShutdownSignalException(false, false,
                new AMQImpl.Channel.Close(code, text, 50, 10), "channel");
        IOException wrapped = new IOException();
        wrapped.initCause(signal);
        return wrapped;
    }

    private static IOException connectionClosed(int code, String text) {
        ShutdownSignalException signal = new ShutdownSignalException(true, false,
                new AMQImpl.Connection.Close(code, text, 50, 10), "connection");
        IOException wrapped = new IOException();
        wrapped.initCause(signal);
        return wrapped;
    }

    @Test
    void passiveDeclareWhenRabbitSaysNoQueueShouldBeGone() {
        assertThat(BrokerErrors.isQueueGone(channelClosed(404, "NOT_FOUND - no queue '" + QUEUE + "' in vhost '/'"),
                QUEUE)).isTrue();
        assertThat(BrokerErrors.isQueueGone(channelClosed(404, "NOT_FOUND - no queue '" + QUEUE + "' in vhost 'shop'"),
                QUEUE)).isTrue();
        assertThat(BrokerErrors.isQueueGone(new AmqpIOException(
                channelClosed(404, "NOT_FOUND - no queue '" + QUEUE + "' in vhost '/'")), QUEUE)).isTrue(); // Spring-wrapped
    }

    /** As RabbitMQ sends a reply text longer than a short string: its first 252 bytes and "...". */
    private static String cut(String text) {
        return text.length() > 255 ? text.substring(0, 252) + "..." : text;
    }

    @Test
    void passiveDeclareWhenRabbitCutsNoQueueForALongNameShouldBeGone() {
        String longQueue = "global-registry.test-1.node." + "x".repeat(100) + "@" + "y".repeat(100);
        for (String queue : new String[] {longQueue, longQueue.substring(0, 225), longQueue.substring(0, 222)}) {
            String text = cut("NOT_FOUND - no queue '" + queue + "' in vhost '/'");
            assertThat(text).hasSize(255).endsWith("...");
            assertThat(BrokerErrors.isQueueGone(channelClosed(404, text), queue)).as(queue).isTrue();
            assertThat(BrokerErrors.isQueueGone(channelClosed(404, text), queue.replace('x', 'z'))).isFalse();
        }
        String homeNode = cut("NOT_FOUND - home node 'rabbit@node2' of durable queue '" + longQueue
                + "' in vhost '/' is down or inaccessible");
        assertThat(BrokerErrors.isQueueGone(channelClosed(404, homeNode), longQueue)).isFalse();
    }

    @Test
    void passiveDeclareWhenQpidSaysNotFoundShouldBeGone() {
        assertThat(BrokerErrors.isQueueGone(channelClosed(404, "Queue: '" + QUEUE + "' not found on VirtualHost 'default'."),
                QUEUE)).isTrue();
    }

    @Test
    void passiveDeclareWhenNoQueueNamesAnotherQueueShouldBeUnknown() {
        assertThat(BrokerErrors.isQueueGone(channelClosed(404, "NOT_FOUND - no queue 'other' in vhost '/'"), QUEUE))
                .isFalse();
    }

    @Test
    void passiveDeclareWhenOther404TextsShouldBeUnknown() {
        String[] unknown = {
            "NOT_FOUND - home node 'rabbit@node2' of durable queue '" + QUEUE + "' in vhost '/' is down or inaccessible",
            "NOT_FOUND - queue '" + QUEUE + "' in vhost '/' process is stopped by supervisor",
            "NOT_FOUND - failed to perform operation on queue '" + QUEUE + "' in vhost '/' due to timeout",
            "NOT_FOUND - no queue '" + QUEUE + "' in vhost '/' because the sky fell",
            "NOT_FOUND",
            "",
        };
        for (String text : unknown) {
            assertThat(BrokerErrors.isQueueGone(channelClosed(404, text), QUEUE)).as(text).isFalse();
        }
    }

    @Test
    void passiveDeclareWhenOtherCodesOrFailuresShouldBeUnknown() {
        assertThat(BrokerErrors.isQueueGone(channelClosed(405, "RESOURCE_LOCKED - cannot obtain exclusive access to"
                + " locked queue '" + QUEUE + "' in vhost '/'. It could be originally declared on another connection"
                + " or the exclusive property value does not match that of the original declaration."), QUEUE)).isFalse();
        assertThat(BrokerErrors.isQueueGone(channelClosed(541, "INTERNAL_ERROR"), QUEUE)).isFalse();
        assertThat(BrokerErrors.isQueueGone(connectionClosed(541, "INTERNAL_ERROR"), QUEUE)).isFalse();
        assertThat(BrokerErrors.isQueueGone(connectionClosed(404, "NOT_FOUND - no queue '" + QUEUE + "' in vhost '/'"),
                QUEUE)).isFalse(); // a connection close is never a queue's answer
        assertThat(BrokerErrors.isQueueGone(connectionClosed(320, "CONNECTION_FORCED - broker forced connection closure"
                + " with reason 'shutdown'"), QUEUE)).isFalse();
        assertThat(BrokerErrors.isQueueGone(new ChannelContinuationTimeoutException(new TimeoutException(), "channel", 1,
                new AMQImpl.Queue.Declare(0, QUEUE, true, false, false, false, false, null)), QUEUE)).isFalse();
        assertThat(BrokerErrors.isQueueGone(new SocketException("Connection reset"), QUEUE)).isFalse();
        assertThat(BrokerErrors.isQueueGone(new IllegalStateException("channel closed"), QUEUE)).isFalse();
    }

    @Test
    void declareWhenArgumentsDifferShouldBePreconditionFailed() {
        assertThat(BrokerErrors.isPreconditionFailed(channelClosed(406, "PRECONDITION_FAILED - inequivalent arg"
                + " 'x-max-age' for queue 'q' in vhost '/': received the value '2h' of type 'longstr' but current is"
                + " the value '1h' of type 'longstr'"))).isTrue();
        assertThat(BrokerErrors.isPreconditionFailed(channelClosed(404, "NOT_FOUND - no queue 'q' in vhost '/'")))
                .isFalse();
    }

    /** RabbitMQ 3.10.8's answer to a stream consume on a broker node whose replica has not started (seen in CI). */
    @Test
    void consumeWhenTheLocalReplicaIsNotRunningYetShouldBeNoLocalReplica() {
        assertThat(BrokerErrors.isNoLocalReplica(channelClosed(406, "PRECONDITION_FAILED - queue 'queue"
                + " 'global-registry.c.lease.2' in vhost '/'' does not have a replica on the local node"))).isTrue();
        assertThat(BrokerErrors.isNoLocalReplica(channelClosed(406, "PRECONDITION_FAILED - inequivalent arg"
                + " 'x-max-age' for queue 'q' in vhost '/'"))).isFalse();
        assertThat(BrokerErrors.isNoLocalReplica(channelClosed(404, "NOT_FOUND - no queue 'q' in vhost '/'"))).isFalse();
    }
}
