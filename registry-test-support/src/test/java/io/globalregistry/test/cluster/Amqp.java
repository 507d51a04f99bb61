package io.globalregistry.test.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.MessageProperties;
import com.rabbitmq.client.ShutdownSignalException;

/** Small AMQP 0-9-1 probes for the cluster tests; every outcome is a printable sentence. */
final class Amqp {

    private Amqp() {
    }

    /** Connection closures seen by {@link #connect}, as "name: reason at t" lines (t from {@link #epoch}). */
    static final List<String> CLOSURES = new CopyOnWriteArrayList<>();
    static volatile long epoch = System.nanoTime();
    static volatile String epochName = "start";

    /** Sets the moment later times are printed against, e.g. "cut". */
    static void mark(String name) {
        epoch = System.nanoTime();
        epochName = name;
    }

    static String at(long nanos) {
        return String.format("%s%+.1f s", epochName, (nanos - epoch) / 1e9);
    }

    static Connection connect(RabbitCluster cluster, int node, String name) throws IOException, TimeoutException {
        Connection connection = factory(cluster, node).newConnection(name);
        connection.addShutdownListener(cause -> {
            if (!cause.isInitiatedByApplication()) {
                CLOSURES.add(name + " (node " + node + "): " + describe(cause) + " at " + at(System.nanoTime()));
            }
        });
        return connection;
    }

    private static ConnectionFactory factory(RabbitCluster cluster, int node) {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setHost(cluster.host(node));
        factory.setPort(RabbitCluster.AMQP_PORT);
        factory.setUsername("guest");
        factory.setPassword("guest");
        factory.setAutomaticRecoveryEnabled(false);
        factory.setConnectionTimeout(5_000);
        factory.setHandshakeTimeout(5_000);
        factory.setChannelRpcTimeout(5_000);
        return factory;
    }

    static Map<String, Object> quorum() {
        return Map.of("x-queue-type", "quorum");
    }

    static Map<String, Object> stream() {
        return Map.of("x-queue-type", "stream");
    }

    /** The reply of a channel or connection close, e.g. {@code 404 NOT_FOUND - no queue ...}. */
    static String describe(Throwable e) {
        Throwable t = e;
        while (t != null) {
            if (t instanceof ShutdownSignalException sse) {
                Object reason = sse.getReason();
                if (reason instanceof AMQP.Channel.Close close) {
                    return "channel closed " + close.getReplyCode() + " " + close.getReplyText();
                }
                if (reason instanceof AMQP.Connection.Close close) {
                    return "connection closed " + close.getReplyCode() + " " + close.getReplyText();
                }
                return "shutdown: " + sse.getMessage();
            }
            if (t instanceof TimeoutException) {
                return "no answer within the 5 s channel RPC timeout";
            }
            t = t.getCause();
        }
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    /**
     * Publishes one persistent message with publisher confirms on a fresh channel and waits up to
     * {@code millis} for the answer: "confirmed", "nacked", "no answer within ...", or the
     * channel/connection close. The channel stays open (for late confirms) and is returned in
     * {@code keep} when not null.
     */
    static String publishConfirmed(Connection connection, String queue, String body, long millis, List<Late> keep) {
        Late late = new Late(queue, body);
        try {
            Channel channel = connection.createChannel();
            channel.confirmSelect();
            channel.addConfirmListener((tag, multiple) -> late.answer("ack"), (tag, multiple) -> late.answer("nack"));
            channel.basicPublish("", queue, MessageProperties.PERSISTENT_BASIC, body.getBytes(StandardCharsets.UTF_8));
            late.channel = channel;
            if (keep != null) {
                keep.add(late);
            }
            boolean acked = channel.waitForConfirms(millis);
            return acked ? "confirmed" : "nacked";
        } catch (TimeoutException e) {
            return "no answer within " + millis + " ms";
        } catch (Exception e) {
            return describe(e);
        }
    }

    /** A publish whose confirm may arrive late. */
    static final class Late {
        final String queue;
        final String body;
        final long sentNanos = System.nanoTime();
        volatile Channel channel;
        volatile String answer;
        volatile long answerNanos;

        Late(String queue, String body) {
            this.queue = queue;
            this.body = body;
        }

        void answer(String what) {
            if (answer == null) {
                answerNanos = System.nanoTime();
                answer = what;
            }
        }

        String outcome() {
            if (answer != null) {
                return answer + " " + (answerNanos - sentNanos) / 1_000_000 + " ms after sending (at " + at(answerNanos) + ")";
            }
            Channel c = channel;
            if (c != null && !c.isOpen()) {
                return "never answered; channel closed: " + describe(c.getCloseReason());
            }
            return "still no answer";
        }
    }

    /** A manual-ack stream consumer with prefetch 100 that records the bodies it receives. */
    static final class StreamConsumer {
        final List<String> bodies = new CopyOnWriteArrayList<>();
        final List<Long> arrivals = new CopyOnWriteArrayList<>();
        final Channel channel;
        volatile String cancelled;

        StreamConsumer(Connection connection, String stream, Object offset) throws IOException {
            channel = connection.createChannel();
            channel.basicQos(100);
            channel.basicConsume(stream, false, Map.of("x-stream-offset", offset), new DefaultConsumer(channel) {
                @Override
                public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties properties, byte[] body)
                        throws IOException {
                    arrivals.add(System.nanoTime());
                    bodies.add(new String(body, StandardCharsets.UTF_8));
                    getChannel().basicAck(envelope.getDeliveryTag(), false);
                }

                @Override
                public void handleCancel(String consumerTag) {
                    cancelled = "cancelled by the broker (basic.cancel)";
                }

                @Override
                public void handleShutdownSignal(String consumerTag, ShutdownSignalException sig) {
                    if (cancelled == null) {
                        cancelled = describe(sig);
                    }
                }
            });
        }

        long count(String prefix) {
            return bodies.stream().filter(b -> b.startsWith(prefix)).count();
        }

        /** When the first message with {@code prefix} arrived, or "never". */
        String firstArrival(String prefix) {
            for (int i = 0; i < bodies.size(); i++) {
                if (bodies.get(i).startsWith(prefix)) {
                    return at(arrivals.get(i));
                }
            }
            return "never";
        }

        String state() {
            return cancelled == null ? (channel.isOpen() ? "consumer active" : "channel closed") : cancelled;
        }
    }
}
