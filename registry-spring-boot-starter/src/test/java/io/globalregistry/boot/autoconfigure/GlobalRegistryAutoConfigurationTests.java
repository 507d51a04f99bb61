package io.globalregistry.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.boot.endpoint.GlobalRegistryEndpoint;
import io.globalregistry.boot.health.GlobalRegistryHealthIndicator;
import io.globalregistry.boot.metrics.GlobalRegistryMetrics;
import io.globalregistry.test.WithBroker;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.context.annotation.ImportCandidates;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;

/** Wiring of {@link GlobalRegistryAutoConfiguration}, against the real broker. */
@WithBroker
class GlobalRegistryAutoConfigurationTests {

    private final TestCluster cluster = new TestCluster();

    @AfterEach
    void deleteExchange() throws Exception {
        cluster.close();
    }

    @Test
    void registryWhenDefaultsShouldStartAgainstTheBrokerWithItsBeans() {
        cluster.node("defaults").run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).hasSingleBean(GlobalNameRegistry.class);
            assertThat(context).hasSingleBean(GlobalRegistryProperties.class);
            assertThat(context).hasSingleBean(GlobalRegistryHealthIndicator.class);
            assertThat(context).hasSingleBean(GlobalRegistryMetrics.class);
            assertThat(context).doesNotHaveBean(GlobalRegistryEndpoint.class); // not exposed by default
            GlobalNameRegistry registry = context.getBean(GlobalNameRegistry.class);
            assertThat(registry.nodeId().name()).isEqualTo("defaults");
            assertThat(registry.toString()).contains(cluster.name);
            assertThat(registry.register("billing", "the billing service").registered()).isTrue();
            assertThat(registry.whereis("billing")).hasValueSatisfying(r -> assertThat(r.isLocal()).isTrue());
        });
    }

    @Test
    void autoConfigurationWhenListedInTheImportsFileShouldBeFoundBySpringBoot() {
        assertThat(ImportCandidates.load(AutoConfiguration.class, getClass().getClassLoader()))
                .contains(GlobalRegistryAutoConfiguration.class.getName());
    }

    @Test
    void registryWhenClosedShouldLeaveTheApplicationConnectionFactoryOpen() {
        cluster.node("own-connection").run(context -> {
            ConnectionFactory applicationFactory = context.getBean(ConnectionFactory.class);
            com.rabbitmq.client.ConnectionFactory clientFactory =
                    ((CachingConnectionFactory) applicationFactory).getRabbitConnectionFactory();
            boolean recoveryBefore = clientFactory.isAutomaticRecoveryEnabled();
            context.getBean(GlobalNameRegistry.class).close();
            assertThat(applicationFactory.createConnection().isOpen()).isTrue();
            Boolean channelOpen = context.getBean(RabbitTemplate.class).execute(channel -> channel.isOpen());
            assertThat(channelOpen).isTrue();
            assertThat(clientFactory.isAutomaticRecoveryEnabled()).isEqualTo(recoveryBefore);
        });
    }

    @Test
    void registryWhenUserDefinesOneShouldBackOff() {
        cluster.node("ignored").withUserConfiguration(UserRegistryConfiguration.class).run(context -> {
            assertThat(context).hasSingleBean(GlobalNameRegistry.class);
            assertThat(context.getBean(GlobalNameRegistry.class)).isSameAs(UserRegistryConfiguration.REGISTRY);
        });
    }

    @Test
    void registryWhenDisabledShouldNotBeCreated() {
        cluster.node("disabled").withPropertyValues("global-registry.enabled=false").run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean(GlobalNameRegistry.class);
            assertThat(context).doesNotHaveBean(GlobalRegistryProperties.class);
        });
    }

    @Test
    void registryWhenSpringAmqpIsMissingShouldNotBeCreated() {
        cluster.node("no-amqp").withClassLoader(new FilteredClassLoader("org.springframework.amqp.rabbit"))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context).doesNotHaveBean(GlobalNameRegistry.class);
                });
    }

    @Test
    void customizersWhenPresentShouldBeAppliedInOrderAfterTheProperties() {
        cluster.node("from-properties").withUserConfiguration(CustomizerConfiguration.class).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(CustomizerConfiguration.CALLS).containsExactly("first", "second");
            assertThat(context.getBean(GlobalNameRegistry.class).nodeId().name()).isEqualTo("customized");
        });
    }

    @Test
    void securityWhenSecretIsSetShouldStillStart() {
        cluster.node("with-secret")
                .withPropertyValues("global-registry.security.secret=s3cr3t-s3cr3t",
                        "global-registry.security.previous-secrets=old-1,old-2")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    GlobalRegistryProperties properties = context.getBean(GlobalRegistryProperties.class);
                    assertThat(properties.getSecurity().getPreviousSecrets()).containsExactly("old-1", "old-2");
                });
    }

    @Configuration(proxyBeanMethods = false)
    static class UserRegistryConfiguration {

        static final GlobalNameRegistry REGISTRY = (GlobalNameRegistry) Proxy.newProxyInstance(
                GlobalNameRegistry.class.getClassLoader(), new Class<?>[] {GlobalNameRegistry.class},
                (proxy, method, args) -> method.getName().equals("toString") ? "user registry" : null);

        @Bean
        GlobalNameRegistry userRegistry() {
            return REGISTRY;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class CustomizerConfiguration {

        static final List<String> CALLS = new CopyOnWriteArrayList<>();

        @Bean
        @Order(2)
        GlobalRegistryCustomizer second() {
            return builder -> {
                CALLS.add("second");
                builder.nodeName("customized");
            };
        }

        @Bean
        @Order(1)
        GlobalRegistryCustomizer first() {
            return builder -> {
                CALLS.add("first");
                builder.nodeName("overridden-by-second");
            };
        }
    }
}
