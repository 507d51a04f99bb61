package io.globalregistry.boot.autoconfigure;

import com.rabbitmq.client.Address;
import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.RegistryObserver;
import io.globalregistry.amqp.AmqpGlobalRegistry;
import io.globalregistry.boot.endpoint.GlobalRegistryEndpoint;
import io.globalregistry.boot.health.GlobalRegistryHealthIndicator;
import io.globalregistry.boot.metrics.GlobalRegistryMetrics;
import io.globalregistry.boot.metrics.MicrometerRegistryObserver;
import io.globalregistry.boot.singleton.GlobalSingletonBeanFactoryPostProcessor;
import io.globalregistry.boot.singleton.GlobalSingletonManager;
import io.globalregistry.boot.singleton.GlobalSingletons;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.amqp.rabbit.connection.AbstractConnectionFactory;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * Auto-configuration of the global registry: one {@link GlobalNameRegistry} node per application,
 * joined to the cluster named by {@code global-registry.cluster} over the broker of Spring Boot's
 * RabbitMQ {@link ConnectionFactory}, on a connection of its own. With the actuator, the
 * {@code globalregistry} endpoint and the {@code globalRegistry} health contributor; with Micrometer,
 * the {@code global.registry.*} meters (the timers only when there is a {@link MeterRegistry} bean).
 *
 * <p>Ordered after Spring Boot's RabbitMQ auto-configuration by name, so it loads whichever is present:
 * {@code org.springframework.boot.amqp.autoconfigure} (module {@code spring-boot-amqp}, Boot 4.0 and 4.1)
 * or {@code org.springframework.boot.rabbitmq.autoconfigure} (module {@code spring-boot-rabbitmq}, Boot's
 * main branch, for 4.2); and after Boot's meter registries, so the timers see whether one exists.
 */
@AutoConfiguration(afterName = {
        "org.springframework.boot.amqp.autoconfigure.RabbitAutoConfiguration",
        "org.springframework.boot.rabbitmq.autoconfigure.RabbitAutoConfiguration",
        "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration"})
@ConditionalOnClass({ConnectionFactory.class, RabbitTemplate.class})
@ConditionalOnProperty(prefix = "global-registry", name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(GlobalRegistryProperties.class)
public final class GlobalRegistryAutoConfiguration {

    private static final Log LOG = LogFactory.getLog(GlobalRegistryAutoConfiguration.class);

    /**
     * The registry node, started: it copies the broker settings (credentials, virtual host, TLS,
     * heartbeat) of the application's RabbitMQ connection factory and opens a connection of its own,
     * which it closes on {@code close()}; the application's factory is left as it was. It connects
     * to every address of Spring Boot's RabbitMQ connection details ({@code spring.rabbitmq.addresses})
     * in turn, each new incarnation starting one address further on (see
     * {@link AmqpGlobalRegistry.Builder#addresses(String)}); with host and port only, to those. A
     * {@link RegistryObserver} bean, if there is exactly one, is told of its registrations and calls.
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    GlobalNameRegistry globalNameRegistry(GlobalRegistryProperties properties, Environment environment,
                                          ObjectProvider<ConnectionFactory> connectionFactory,
                                          ObjectProvider<RegistryObserver> observer,
                                          ObjectProvider<GlobalRegistryCustomizer> customizers,
                                          ConfigurableListableBeanFactory beanFactory) {
        GlobalRegistrySettings settings = GlobalRegistrySettings.of(properties, environment);
        com.rabbitmq.client.ConnectionFactory brokerSettings = brokerSettings(connectionFactory.getIfUnique());
        settings.checkFenceAfterBelowBrokerHeartbeat(brokerSettings.getRequestedHeartbeat());
        AmqpGlobalRegistry.Builder builder = AmqpGlobalRegistry.builder()
                .rabbitConnectionFactory(brokerSettings)
                .config(settings.registryConfig())
                .nodeName(settings.nodeName());
        List<Address> addresses = ApplicationBrokerAddresses.of(beanFactory, beanClassLoader(beanFactory),
                brokerSettings);
        if (addresses.size() > 1) {
            builder.addresses(addresses);
        }
        observer.ifUnique(builder::observer);
        customizers.orderedStream().forEach(customizer -> customizer.customize(builder));
        AmqpGlobalRegistry registry = builder.start();
        LOG.info("Global registry node " + registry.nodeId() + " joined cluster '" + settings.cluster()
                + "'; broker addresses: " + ApplicationBrokerAddresses.describe(builder.brokerAddresses()));
        return registry;
    }

    private static ClassLoader beanClassLoader(ConfigurableListableBeanFactory beanFactory) {
        ClassLoader loader = beanFactory.getBeanClassLoader();
        return loader != null ? loader : GlobalRegistryAutoConfiguration.class.getClassLoader();
    }

    /** The client factory behind Spring's: the builder clones it, so the application's stays untouched. */
    private static com.rabbitmq.client.ConnectionFactory brokerSettings(ConnectionFactory connectionFactory) {
        if (connectionFactory instanceof AbstractConnectionFactory) {
            return ((AbstractConnectionFactory) connectionFactory).getRabbitConnectionFactory();
        }
        String found = connectionFactory == null ? "none, or several without a @Primary one"
                : "a " + connectionFactory.getClass().getName();
        throw new IllegalStateException("The global registry takes its broker settings from the application's "
                + "RabbitMQ ConnectionFactory, which must be one AbstractConnectionFactory (e.g. Spring Boot's "
                + "CachingConnectionFactory); found " + found + ". Fix: configure spring.rabbitmq.* and let Spring "
                + "Boot create it, mark one @Primary, define your own GlobalNameRegistry bean, or set "
                + "global-registry.enabled=false");
    }

    /** {@code @GlobalSingleton} beans: a proxy on every node, the real bean on the owner only. */
    @Configuration(proxyBeanMethods = false)
    static class GlobalSingletonConfiguration {

        @Bean
        static GlobalSingletonBeanFactoryPostProcessor globalSingletonBeanFactoryPostProcessor() {
            return new GlobalSingletonBeanFactoryPostProcessor();
        }

        @Bean
        @ConditionalOnMissingBean
        GlobalSingletonManager globalSingletonManager(GlobalNameRegistry registry,
                                                      ConfigurableListableBeanFactory beanFactory,
                                                      GlobalSingletons singletons, GlobalRegistryProperties properties) {
            Duration decisionTimeout = properties.getClaimTimeout().plus(properties.getJoinWindow())
                    .plus(properties.getCallTimeout());
            return new GlobalSingletonManager(registry, beanFactory, singletons, decisionTimeout,
                    properties.getStrategy() == GlobalRegistryProperties.Strategy.LEADER);
        }
    }

    /** The {@code globalregistry} endpoint, when the actuator is present and the endpoint available. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(Endpoint.class)
    static class EndpointConfiguration {

        @Bean
        @ConditionalOnMissingBean
        @ConditionalOnAvailableEndpoint
        GlobalRegistryEndpoint globalRegistryEndpoint(GlobalNameRegistry registry,
                                                      GlobalRegistryProperties properties) {
            return new GlobalRegistryEndpoint(registry, properties.getStrategy().name().toLowerCase(Locale.ROOT));
        }
    }

    /** The {@code globalRegistry} health contributor ({@code management.health.globalregistry.enabled}). */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(HealthIndicator.class)
    @ConditionalOnEnabledHealthIndicator("globalregistry")
    static class HealthConfiguration {

        @Bean
        @ConditionalOnMissingBean(name = {"globalRegistryHealthIndicator", "globalRegistryHealthContributor"})
        GlobalRegistryHealthIndicator globalRegistryHealthIndicator(GlobalNameRegistry registry) {
            return new GlobalRegistryHealthIndicator(registry);
        }
    }

    /** The {@code global.registry.*} meters, when Micrometer is present. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(MeterBinder.class)
    static class MetricsConfiguration {

        @Bean
        @ConditionalOnMissingBean
        GlobalRegistryMetrics globalRegistryMetrics(GlobalNameRegistry registry,
                                                    ObjectProvider<GlobalSingletonManager> singletons) {
            return new GlobalRegistryMetrics(registry, singletons.getIfUnique());
        }

        /** Registration and call timers; without a meter registry there is no observer, so local calls stay untimed. */
        @Bean
        @ConditionalOnMissingBean(RegistryObserver.class)
        @ConditionalOnBean(MeterRegistry.class)
        MicrometerRegistryObserver globalRegistryObserver(MeterRegistry meters) {
            return new MicrometerRegistryObserver(meters);
        }
    }
}
