package io.globalregistry.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.boot.env.OriginTrackedMapPropertySource;
import org.springframework.boot.origin.Origin;
import org.springframework.boot.origin.OriginTrackedValue;
import org.springframework.boot.origin.TextResourceOrigin;
import org.springframework.boot.origin.TextResourceOrigin.Location;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.env.Environment;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.io.ClassPathResource;
import org.springframework.core.io.support.SpringFactoriesLoader;
import org.springframework.core.io.support.SpringFactoriesLoader.ArgumentResolver;
import org.springframework.core.io.support.SpringFactoriesLoader.FailureHandler;
import org.springframework.mock.env.MockEnvironment;

/**
 * Bad {@code global-registry.*} values fail the startup naming the property, the value and the fix.
 * They fail before the registry connects.
 */
class GlobalRegistryPropertiesValidationTests {

    private final TestCluster cluster = new TestCluster();

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "global-registry.heartbeat-interval | 0ms | global-registry.heartbeat-interval | must be a positive duration |",
        "global-registry.heartbeat-interval | -1s | global-registry.heartbeat-interval | must be a positive duration |",
        "global-registry.suspect-after | 100ms | global-registry.suspect-after | longer than global-registry.heartbeat |",
        "global-registry.fence-after | 50ms | global-registry.fence-after | longer than global-registry.heartbeat |",
        "global-registry.idle-heartbeat-interval | 1ms | global-registry.idle-heartbeat-interval | not be shorter than global-registry.heartbeat |",
        "global-registry.claim-timeout | 0s | global-registry.claim-timeout | must be a positive duration |",
        "global-registry.join-window | 0 | global-registry.join-window | must be a positive duration |",
        "global-registry.call-timeout | -5s | global-registry.call-timeout | must be a positive duration |",
        "global-registry.max-message-size | 1KB | global-registry.max-message-size | must be at least 4KB |",
        "global-registry.cluster | my shop | global-registry.cluster | may hold only letters |",
        "global-registry.cluster | \" \" | global-registry.cluster | must not be blank |",
        "global-registry.node-name | node@1 | global-registry.node-name | may hold only letters |",
        "global-registry.leader-retry | 0ms | global-registry.leader-retry | must be a positive duration |",
        "global-registry.security.secret | \" \" | global-registry.security.secret | must not be blank |",
        "spring.rabbitmq.requested-heartbeat | 1s | global-registry.fence-after | broker connection's heartbeat"
                + " | global-registry.fence-after=1s",
    })
    void startupWhenValueIsBadShouldFailNamingPropertyValueAndFix(String property, String value, String named,
            String problem, String otherProperty) {
        ApplicationContextRunner runner = cluster.node("validated").withPropertyValues(property + "=" + value);
        if (otherProperty != null) {
            runner = runner.withPropertyValues(otherProperty);
        }
        runner.run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).rootCause()
                    .isInstanceOf(InvalidGlobalRegistryPropertyException.class)
                    .hasMessageStartingWith("Property " + named + " with value '")
                    .hasMessageContaining(problem);
            InvalidGlobalRegistryPropertyException invalid =
                    (InvalidGlobalRegistryPropertyException) rootCause(context.getStartupFailure());
            assertThat(invalid.getName()).isEqualTo(named);
            assertThat(invalid.getAction()).as("the fix names the property").contains(named);
        });
    }

    @Test
    void failureAnalyzerWhenPropertyIsBadShouldReportValueOriginAndFix() {
        cluster.node("analyzed").withPropertyValues("global-registry.suspect-after=100ms").run(context -> {
            assertThat(context).hasFailed();
            StandardEnvironment environment = new StandardEnvironment();
            Origin origin = new TextResourceOrigin(new ClassPathResource("application.yml"), new Location(4, 2));
            environment.getPropertySources().addFirst(new OriginTrackedMapPropertySource("application.yml",
                    Map.of("global-registry.suspect-after", OriginTrackedValue.of("100ms", origin))));
            FailureAnalysis analysis = new InvalidGlobalRegistryPropertyFailureAnalyzer(environment)
                    .analyze(context.getStartupFailure());
            assertThat(analysis).isNotNull();
            assertThat(analysis.getDescription()).isEqualTo("Invalid value '100ms' for configuration property "
                    + "'global-registry.suspect-after' (originating from 'class path resource [application.yml] "
                    + "- 5:3'): must be longer than global-registry.heartbeat-interval (100ms), or every member "
                    + "would be suspected between two heartbeats.");
            assertThat(analysis.getAction()).isEqualTo("Set global-registry.suspect-after to about 4 heartbeat "
                    + "intervals (400ms), or lower global-registry.heartbeat-interval");
        });
    }

    @Test
    void failureAnalyzerWhenRegisteredShouldComeBeforeSpringBootsGenericOne() {
        ArgumentResolver arguments = ArgumentResolver.of(Environment.class, new MockEnvironment())
                .and(BeanFactory.class, new DefaultListableBeanFactory());
        List<FailureAnalyzer> analyzers = SpringFactoriesLoader
                .forDefaultResourceLocation(getClass().getClassLoader())
                .load(FailureAnalyzer.class, arguments, FailureHandler.handleMessage((message, failure) -> { }));
        assertThat(analyzers).first().isInstanceOf(InvalidGlobalRegistryPropertyFailureAnalyzer.class);
    }

    private static Throwable rootCause(Throwable failure) {
        Throwable cause = failure;
        while (cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }
}
