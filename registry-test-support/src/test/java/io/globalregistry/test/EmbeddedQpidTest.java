package io.globalregistry.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.Return;
import com.rabbitmq.client.ShutdownSignalException;

/**
 * Forces the embedded fallback and checks that an amqp-client sees the AMQP 0-9-1 behaviour the
 * registry relies on, whatever broker is installed on this machine.
 */
class EmbeddedQpidTest {

    private static EmbeddedQpid qpid;

    private Connection connection;
    private Channel channel;
    private final BlockingQueue<Return> returns = new LinkedBlockingQueue<>();

    @BeforeAll
    static void startQpid() {
        long started = System.nanoTime();
        qpid = EmbeddedQpid.start();
        System.err.printf("[test-broker] embedded Qpid started in %d ms%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    }

    @AfterAll
    static void stopQpid() {
        qpid.close();
    }

    @BeforeEach
    void connect() throws Exception {
        connection = qpid.broker().newConnectionFactory().newConnection("embedded-qpid-test");
        channel = connection.createChannel();
        channel.addReturnListener(returns::add);
    }

    @AfterEach
    void disconnect() throws Exception {
        connection.close();
    }

    @Test
    void describesItselfAsEmbeddedQpidOnVirtualHostSlash() {
        TestBroker broker = qpid.broker();
        assertThat(broker.kind()).isEqualTo(TestBroker.Kind.EMBEDDED_QPID);
        assertThat(broker.virtualHost()).isEqualTo("/");
        assertThat(broker.newConnectionFactory().getVirtualHost()).isEqualTo("/");
        assertThat(connection.isOpen()).isTrue();
        assertThat(connection.getServerProperties().get("product").toString()).contains("Qpid");
    }

    @Test
    void routesMandatoryPublishToTheBoundQueueAndReturnsTheUnroutableOne() throws Exception {
        String exchange = topicExchange();
        String queue = channel.queueDeclare("", false, true, true, null).getQueue();
        channel.queueBind(queue, exchange, "names.*");

        channel.basicPublish(exchange, "names.claimed", true, null, bytes("routed"));
        channel.basicPublish(exchange, "nobody.listens", true, null, bytes("unroutable"));

        Return returned = returns.poll(5, TimeUnit.SECONDS);
        assertThat(returned).isNotNull();
        assertThat(returned.getReplyCode()).isEqualTo(AMQP.NO_ROUTE);
        assertThat(returned.getRoutingKey()).isEqualTo("nobody.listens");
        assertThat(new String(returned.getBody(), StandardCharsets.UTF_8)).isEqualTo("unroutable");
        assertThat(body(channel.basicGet(queue, true))).isEqualTo("routed");
        assertThat(returns).isEmpty();
    }

    /**
     * Qpid differs from RabbitMQ here: under publisher confirms an unroutable mandatory message is
     * returned AND nacked (RabbitMQ returns it and then acks it), so waitForConfirms is false.
     */
    @Test
    void underPublisherConfirmsReturnsAndNacksTheUnroutableMandatoryMessage() throws Exception {
        String exchange = topicExchange();
        channel.confirmSelect();

        channel.basicPublish(exchange, "nobody.listens", true, null, bytes("unroutable"));

        assertThat(channel.waitForConfirms(5_000)).isFalse();
        assertThat(returns.poll(5, TimeUnit.SECONDS)).isNotNull();
    }

    @Test
    void passiveDeclareOfAMissingQueueClosesTheChannelWith404() {
        assertThatThrownBy(() -> channel.queueDeclarePassive("missing-" + UUID.randomUUID()))
                .isInstanceOf(IOException.class)
                .cause()
                .isInstanceOfSatisfying(ShutdownSignalException.class, signal -> {
                    assertThat(signal.isHardError()).isFalse();
                    assertThat(((AMQP.Channel.Close) signal.getReason()).getReplyCode()).isEqualTo(AMQP.NOT_FOUND);
                });
        assertThat(channel.isOpen()).isFalse();
        assertThat(connection.isOpen()).isTrue();
    }

    @Test
    void closeStopsTheBrokerAndFreesItsPort() throws Exception {
        EmbeddedQpid other = EmbeddedQpid.start();
        try (Connection ignored = other.broker().newConnectionFactory().newConnection()) {
            assertThat(other.broker().port()).isNotEqualTo(qpid.broker().port());
        }
        other.close();
        other.close();

        assertThatThrownBy(() -> other.broker().newConnectionFactory().newConnection())
                .isInstanceOf(IOException.class);
    }

    private String topicExchange() throws IOException {
        String exchange = "test.topic." + UUID.randomUUID();
        channel.exchangeDeclare(exchange, BuiltinExchangeType.TOPIC, false, true, null);
        return exchange;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static String body(GetResponse response) {
        assertThat(response).as("a message in the queue").isNotNull();
        return new String(response.getBody(), StandardCharsets.UTF_8);
    }
}
