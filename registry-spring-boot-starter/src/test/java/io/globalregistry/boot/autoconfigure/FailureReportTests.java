package io.globalregistry.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatException;

import io.globalregistry.boot.GlobalSingleton;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.amqp.autoconfigure.RabbitAutoConfiguration;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** A bad property value or @GlobalSingleton in a real application: Spring Boot prints the analysis, not a stack trace. */
@ExtendWith(OutputCaptureExtension.class)
class FailureReportTests {

    @Test
    void applicationWhenPropertyIsBadShouldPrintPropertyValueOriginAndFix(CapturedOutput output) {
        SpringApplication application = new SpringApplication(Application.class);
        application.setWebApplicationType(WebApplicationType.NONE);
        assertThatException().isThrownBy(() -> application.run("--global-registry.heartbeat-interval=0"));
        assertThat(output).contains("APPLICATION FAILED TO START")
                .contains("Invalid value '0' for configuration property 'global-registry.heartbeat-interval' "
                        + "(originating from '\"global-registry.heartbeat-interval\" from property source "
                        + "\"commandLineArgs\"'): must be a positive duration.")
                .contains("Action:")
                .contains("Set global-registry.heartbeat-interval to a positive duration such as 250ms (the default)");
    }

    @Test
    void applicationWhenGlobalSingletonHasNoInterfaceShouldPrintTheBeanAndTheFix(CapturedOutput output) {
        SpringApplication application = new SpringApplication(Application.class, BadSingleton.class);
        application.setWebApplicationType(WebApplicationType.NONE);
        assertThatException().isThrownBy(() -> application.run());
        assertThat(output).contains("APPLICATION FAILED TO START")
                .contains("The @GlobalSingleton bean 'lonely' cannot work: its class "
                        + GlobalSingletonTests.Lonely.class.getName() + " implements no interface")
                .contains("Action:")
                .contains("Fix: extract an interface with the methods callers use, implement it, and inject that.");
    }

    @Configuration(proxyBeanMethods = false)
    @ImportAutoConfiguration({RabbitAutoConfiguration.class, GlobalRegistryAutoConfiguration.class})
    static class Application {
    }

    @Configuration(proxyBeanMethods = false)
    static class BadSingleton {
        @Bean
        @GlobalSingleton
        GlobalSingletonTests.Lonely lonely() {
            return new GlobalSingletonTests.Lonely();
        }
    }
}
