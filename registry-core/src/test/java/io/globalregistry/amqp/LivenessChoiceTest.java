package io.globalregistry.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.impl.LongStringHelper;
import io.globalregistry.RegistryException;
import io.globalregistry.protocol.RegistryConfig.Liveness;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** AUTO resolves from the broker's product and version; an explicit rule is checked against them. */
class LivenessChoiceTest {

    private static Map<String, Object> server(String product, String version) {
        return Map.of("product", LongStringHelper.asLongString(product), "version", LongStringHelper.asLongString(version));
    }

    @Test
    void autoWhenRabbit39OrLaterShouldBeLease() {
        for (String version : new String[] {"3.9.0", "3.10.8", "3.13.7", "4.0.5", "4.3.0-beta.1", "10.0.0"}) {
            LivenessChoice choice = LivenessChoice.resolve(Liveness.AUTO, server("RabbitMQ", version), "shop");
            assertThat(choice.liveness()).as(version).isEqualTo(Liveness.LEASE);
            assertThat(choice.logLine()).isEqualTo("liveness=lease: RabbitMQ " + version
                    + " has streams; heartbeats go to streams global-registry.shop.lease.{0..2}");
        }
    }

    @Test
    void autoWhenOlderRabbitOrQpidOrUnknownShouldBeBroker() {
        assertThat(LivenessChoice.resolve(Liveness.AUTO, server("RabbitMQ", "3.8.35"), "c").liveness())
                .isEqualTo(Liveness.BROKER);
        assertThat(LivenessChoice.resolve(Liveness.AUTO, server("RabbitMQ", "2.8.7"), "c").liveness())
                .isEqualTo(Liveness.BROKER);
        LivenessChoice qpid = LivenessChoice.resolve(Liveness.AUTO, server("Apache Qpid Broker-J", "10.1.0"), "c");
        assertThat(qpid.liveness()).isEqualTo(Liveness.BROKER);
        assertThat(qpid.logLine()).startsWith("liveness=broker: Apache Qpid Broker-J 10.1.0 has no streams");
        assertThat(LivenessChoice.resolve(Liveness.AUTO, Map.of(), "c").liveness()).isEqualTo(Liveness.BROKER);
        assertThat(LivenessChoice.resolve(Liveness.AUTO, server("RabbitMQ", "garbage"), "c").liveness())
                .isEqualTo(Liveness.BROKER);
    }

    @Test
    void leaseWhenBrokerHasNoStreamsShouldFailNamingTheProperty() {
        assertThatThrownBy(() -> LivenessChoice.resolve(Liveness.LEASE, server("Apache Qpid Broker-J", "10.1.0"), "c"))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("global-registry.liveness=lease")
                .hasMessageContaining("Apache Qpid Broker-J 10.1.0");
        assertThatThrownBy(() -> LivenessChoice.resolve(Liveness.LEASE, server("RabbitMQ", "3.8.9"), "c"))
                .isInstanceOf(RegistryException.class).hasMessageContaining("global-registry.liveness");
    }

    @Test
    void explicitRuleWhenBrokerAllowsItShouldBeKept() {
        assertThat(LivenessChoice.resolve(Liveness.LEASE, server("RabbitMQ", "3.10.8"), "c").liveness())
                .isEqualTo(Liveness.LEASE);
        assertThat(LivenessChoice.resolve(Liveness.BROKER, server("RabbitMQ", "3.10.8"), "c").liveness())
                .isEqualTo(Liveness.BROKER);
        assertThat(LivenessChoice.resolve(Liveness.BROKER, server("Apache Qpid Broker-J", "10.1.0"), "c").liveness())
                .isEqualTo(Liveness.BROKER);
    }
}
