package io.globalregistry.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import io.globalregistry.protocol.RegistryConfig;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.mock.env.MockEnvironment;
import org.springframework.util.unit.DataSize;

/** Defaults and the mapping of the properties to the core's {@link RegistryConfig}. */
class GlobalRegistrySettingsTests {

    @Test
    void settingsWhenNothingIsSetShouldMatchTheCoreDefaults() {
        GlobalRegistrySettings settings = GlobalRegistrySettings.of(new GlobalRegistryProperties(),
                new MockEnvironment());
        assertThat(settings.cluster()).isEqualTo("default");
        assertThat(settings.registryConfig()).isEqualTo(RegistryConfig.defaults("default"));
        assertThat(settings.strategyName()).isEqualTo("claim");
        assertThat(settings.hasSecret()).isFalse();
    }

    @Test
    void clusterWhenApplicationNameIsSetShouldDefaultToItWithOtherCharactersReplaced() {
        MockEnvironment environment = new MockEnvironment().withProperty("spring.application.name", "My Shop/EU");
        assertThat(GlobalRegistrySettings.of(new GlobalRegistryProperties(), environment).cluster())
                .isEqualTo("My-Shop-EU");
    }

    @Test
    void nodeNameWhenNotSetShouldBeHostAndProcessId() {
        String nodeName = GlobalRegistrySettings.of(new GlobalRegistryProperties(), new MockEnvironment()).nodeName();
        assertThat(nodeName).matches("[A-Za-z0-9_.-]{1,100}")
                .endsWith("-" + ProcessHandle.current().pid());
    }

    @Test
    void settingsWhenPropertiesAreSetShouldMapEachToTheCoreConfig() {
        GlobalRegistryProperties properties = new GlobalRegistryProperties();
        properties.setCluster("shop");
        properties.setNodeName("orders-1");
        properties.setHeartbeatInterval(Duration.ofMillis(100));
        properties.setSuspectAfter(Duration.ofMillis(500));
        properties.setFenceAfter(Duration.ofMillis(300));
        properties.setClaimTimeout(Duration.ofSeconds(3));
        properties.setJoinWindow(Duration.ofMillis(700));
        properties.setMaxMessageSize(DataSize.ofKilobytes(64));
        properties.setCallTimeout(Duration.ofSeconds(7));
        properties.setIdleHeartbeatInterval(Duration.ofSeconds(2));
        properties.getSecurity().setSecret("s3cret");
        properties.getSecurity().setPreviousSecrets(java.util.List.of("old"));
        GlobalRegistrySettings settings = GlobalRegistrySettings.of(properties, new MockEnvironment()
                .withProperty("spring.application.name", "ignored"));
        assertThat(settings.cluster()).isEqualTo("shop");
        assertThat(settings.nodeName()).isEqualTo("orders-1");
        assertThat(settings.registryConfig()).isEqualTo(new RegistryConfig("shop", Duration.ofMillis(100),
                Duration.ofMillis(500), Duration.ofSeconds(3), Duration.ofMillis(700), 64 * 1024,
                RegistryConfig.ClaimOrdering.HLC)
                .withFenceAfter(Duration.ofMillis(300))
                .withCallTimeout(Duration.ofSeconds(7))
                .withSecurity(io.globalregistry.wire.SecurityConfig.secret("s3cret", "old"))
                .withIdleHeartbeatInterval(Duration.ofSeconds(2)));
    }

    @Test
    void fenceAfterWhenBrokerHeartbeatIsOffShouldNotBeLimited() {
        GlobalRegistrySettings settings = GlobalRegistrySettings.of(new GlobalRegistryProperties(),
                new MockEnvironment());
        settings.checkFenceAfterBelowBrokerHeartbeat(0);
        settings.checkFenceAfterBelowBrokerHeartbeat(2);
        assertThatExceptionOfType(InvalidGlobalRegistryPropertyException.class)
                .isThrownBy(() -> settings.checkFenceAfterBelowBrokerHeartbeat(1))
                .satisfies(e -> assertThat(e.getName()).isEqualTo("global-registry.fence-after"));
    }

    @Test
    void nameWhenLongerThanOneHundredCharactersShouldBeRejected() {
        GlobalRegistryProperties properties = new GlobalRegistryProperties();
        properties.setNodeName("n".repeat(101));
        assertThatExceptionOfType(InvalidGlobalRegistryPropertyException.class)
                .isThrownBy(() -> GlobalRegistrySettings.of(properties, new MockEnvironment()))
                .withMessageContaining("global-registry.node-name").withMessageContaining("101 characters");
    }

    @Test
    void durationWhenFormattedShouldReadLikeAPropertyValue() {
        assertThat(GlobalRegistrySettings.format(Duration.ofMillis(250))).isEqualTo("250ms");
        assertThat(GlobalRegistrySettings.format(Duration.ofSeconds(2))).isEqualTo("2s");
        assertThat(GlobalRegistrySettings.format(Duration.ofSeconds(-1))).isEqualTo("-1s");
    }
}
