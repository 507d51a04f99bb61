package io.globalregistry.bench;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DeliverCallback;
import io.globalregistry.test.TestBroker;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The floor: plain amqp-client request/reply between two connections on the same broker. The
 * server consumes its queue and publishes each reply to the client's reply queue (its name in
 * {@code reply-to}, no direct reply-to) with the request's correlation id; the client matches
 * replies to requests by that id. Bodies of about the size of a registry call.
 */
final class RawRequestReply implements AutoCloseable {

    private static final byte[] REQUEST = ("{\"name\":\"\\\"bench-service\\\"\",\"id\":1,\"method\":\"add\","
            + "\"params\":[\"long\",\"long\"],\"args\":[1,2],\"oneWay\":false}").getBytes(StandardCharsets.UTF_8);

    private final Connection serverConnection;
    private final Connection clientConnection;
    private final Channel clientChannel;
    private final String serverQueue;
    private final String replyQueue;
    private final Map<String, CompletableFuture<byte[]>> pending = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();

    RawRequestReply(TestBroker broker) throws Exception {
        serverConnection = broker.newConnectionFactory().newConnection("bench-raw-server");
        Channel serverChannel = serverConnection.createChannel();
        serverQueue = serverChannel.queueDeclare("", false, false, true, null).getQueue();
        DeliverCallback serve = (tag, delivery) -> {
            AMQP.BasicProperties request = delivery.getProperties();
            AMQP.BasicProperties reply = new AMQP.BasicProperties.Builder()
                    .correlationId(request.getCorrelationId()).type("reply").build();
            serverChannel.basicPublish("", request.getReplyTo(), reply, "{\"id\":1,\"outcome\":\"OK\",\"result\":3}"
                    .getBytes(StandardCharsets.UTF_8));
        };
        serverChannel.basicConsume(serverQueue, true, serve, tag -> { });

        clientConnection = broker.newConnectionFactory().newConnection("bench-raw-client");
        clientChannel = clientConnection.createChannel();
        replyQueue = clientChannel.queueDeclare("", false, false, true, null).getQueue();
        clientChannel.basicConsume(replyQueue, true, (tag, delivery) -> {
            CompletableFuture<byte[]> waiting = pending.remove(delivery.getProperties().getCorrelationId());
            if (waiting != null) {
                waiting.complete(delivery.getBody());
            }
        }, tag -> { });
    }

    /** Sends one request; the future completes with the reply. Publishes from the caller's thread. */
    CompletableFuture<byte[]> request() throws Exception {
        String id = Long.toString(ids.incrementAndGet());
        CompletableFuture<byte[]> reply = new CompletableFuture<>();
        pending.put(id, reply);
        AMQP.BasicProperties properties = new AMQP.BasicProperties.Builder()
                .correlationId(id).replyTo(replyQueue).type("call").build();
        synchronized (clientChannel) {
            clientChannel.basicPublish("", serverQueue, properties, REQUEST);
        }
        return reply;
    }

    /** Sequential round trips: nanoseconds each. */
    long[] sequential(int count) throws Exception {
        long[] samples = new long[count];
        for (int i = 0; i < count; i++) {
            long start = System.nanoTime();
            request().get(5, TimeUnit.SECONDS);
            samples[i] = System.nanoTime() - start;
        }
        return samples;
    }

    /** Round trips per second with {@code inFlight} outstanding, for {@code millis}. */
    double throughput(int inFlight, long millis) throws Exception {
        Semaphore window = new Semaphore(inFlight);
        AtomicLong done = new AtomicLong();
        long start = System.nanoTime();
        long end = start + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < end) {
            window.acquire();
            request().whenComplete((r, e) -> {
                done.incrementAndGet();
                window.release();
            });
        }
        window.acquire(inFlight);
        return done.get() / ((System.nanoTime() - start) / 1e9);
    }

    @Override
    public void close() throws Exception {
        clientConnection.close();
        serverConnection.close();
    }
}
