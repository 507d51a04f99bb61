package io.globalregistry.test;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;

/**
 * Checks the shared broker and its JUnit wiring: whatever {@link TestBroker#get()} resolves to
 * on this machine (RabbitMQ if one answers) accepts connections, and {@link WithBroker} injects it.
 */
@WithBroker
class TestBrokerTest {

    private final TestBroker injected;

    TestBrokerTest(TestBroker injected) {
        this.injected = injected;
    }

    @Test
    void isOneStartedBrokerPerJvm(TestBroker parameter) {
        assertThat(TestBroker.get()).isSameAs(injected).isSameAs(parameter);
    }

    @Test
    void acceptsConnectionsFromItsConnectionFactory() throws Exception {
        TestBroker broker = TestBroker.get();
        System.err.println("[test-broker] resolved " + broker);
        try (Connection connection = broker.newConnectionFactory().newConnection("test-broker-test")) {
            Channel channel = connection.createChannel();
            String queue = channel.queueDeclare("", false, true, true, null).getQueue();
            assertThat(channel.queueDeclarePassive(queue).getQueue()).isEqualTo(queue);
        }
    }
}
