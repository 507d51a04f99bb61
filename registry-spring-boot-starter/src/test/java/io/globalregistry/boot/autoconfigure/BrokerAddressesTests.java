package io.globalregistry.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.test.WithBroker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The registry node uses every address of {@code spring.rabbitmq.addresses}, against the real broker. */
@WithBroker
@ExtendWith(OutputCaptureExtension.class)
class BrokerAddressesTests {

    private final TestCluster cluster = new TestCluster();

    @AfterEach
    void deleteExchange() throws Exception {
        cluster.close();
    }

    private String broker() {
        return cluster.broker.host() + ":" + cluster.broker.port();
    }

    @Test
    void registryWhenTheFirstAddressRefusesShouldStartThroughTheNextAndRegister(CapturedOutput output) {
        cluster.node("listed").withPropertyValues("spring.rabbitmq.addresses=127.0.0.1:1," + broker()).run(context -> {
            assertThat(context).hasNotFailed();
            GlobalNameRegistry registry = context.getBean(GlobalNameRegistry.class);
            assertThat(registry.register("billing", "the billing service").registered()).isTrue();
            assertThat(registry.whereis("billing")).hasValueSatisfying(r -> assertThat(r.isLocal()).isTrue());
        });
        assertThat(output).contains("broker addresses: 127.0.0.1:1, " + broker());
        assertThat(output).doesNotContain(cluster.broker.password() + "@");
    }

    @Test
    void registryWhenOnlyHostAndPortAreSetShouldUseThem(CapturedOutput output) {
        cluster.node("single").run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(GlobalNameRegistry.class).register("single", "x").registered()).isTrue();
        });
        assertThat(output).contains("broker addresses: " + broker());
    }

    @Test
    void registryWhenTheApplicationFactoryIsNotBootsShouldUseItsHostAndPortOnly(CapturedOutput output) {
        cluster.node("own-factory")
                .withPropertyValues("spring.rabbitmq.addresses=127.0.0.1:1,127.0.0.1:2")
                .withUserConfiguration(OwnFactoryConfiguration.class)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(GlobalNameRegistry.class).register("own", "x").registered()).isTrue();
                });
        assertThat(output).contains("was not made from its RabbitConnectionDetails")
                .contains("broker addresses: " + broker());
    }

    /** An application factory of its own, to the broker, while the properties name other addresses. */
    @Configuration(proxyBeanMethods = false)
    static class OwnFactoryConfiguration {

        @Bean
        ConnectionFactory connectionFactory() {
            var broker = io.globalregistry.test.TestBroker.get();
            return new CachingConnectionFactory(broker.newConnectionFactory());
        }
    }
}
