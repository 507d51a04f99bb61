package io.globalregistry.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.boot.health.GlobalRegistryHealthIndicator;
import io.globalregistry.test.WithBroker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.autoconfigure.registry.HealthContributorRegistryAutoConfiguration;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.health.registry.HealthContributorRegistry;

/** The {@code globalRegistry} health contributor. */
@WithBroker
class GlobalRegistryHealthIndicatorTests {

    private final TestCluster cluster = new TestCluster();

    @AfterEach
    void deleteExchange() throws Exception {
        cluster.close();
    }

    @Test
    void healthWhenRegistryIsOpenShouldBeUpThenDownAfterClose() {
        cluster.node("healthy")
                .withConfiguration(AutoConfigurations.of(HealthContributorRegistryAutoConfiguration.class))
                .run(context -> {
                    GlobalNameRegistry registry = context.getBean(GlobalNameRegistry.class);
                    registry.register("billing", "billing");
                    HealthIndicator indicator = (HealthIndicator) context.getBean(HealthContributorRegistry.class)
                            .getContributor("globalRegistry");
                    assertThat(indicator).isSameAs(context.getBean(GlobalRegistryHealthIndicator.class));

                    Health up = indicator.health();
                    assertThat(up.getStatus()).isEqualTo(Status.UP);
                    assertThat(up.getDetails()).containsEntry("node", registry.nodeId().toString())
                            .containsEntry("members", 1).containsEntry("ownedNames", 1L).containsEntry("rejoins", 0L);

                    registry.close();
                    Health down = indicator.health();
                    assertThat(down.getStatus()).isEqualTo(Status.DOWN);
                    assertThat(down.getDetails()).containsEntry("node", registry.nodeId().toString())
                            .containsKey("error");
                });
    }

    @Test
    void healthWhenIndicatorIsDisabledShouldNotBeCreated() {
        cluster.node("unchecked").withPropertyValues("management.health.globalregistry.enabled=false")
                .run(context -> {
                    assertThat(context).hasSingleBean(GlobalNameRegistry.class);
                    assertThat(context).doesNotHaveBean(GlobalRegistryHealthIndicator.class);
                });
    }

    @Test
    void healthWhenNodeIsFencedShouldBeDown() {
        io.globalregistry.membership.NodeId node = io.globalregistry.membership.NodeId.fresh("fenced");
        GlobalNameRegistry fenced = (GlobalNameRegistry) java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {GlobalNameRegistry.class}, (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "isFenced":
                            return true;
                        case "nodeId":
                            return node;
                        default:
                            throw new UnsupportedOperationException(method.getName());
                    }
                });
        Health health = new GlobalRegistryHealthIndicator(fenced).health();
        assertThat(health.getStatus()).isEqualTo(Status.DOWN);
        assertThat(health.getDetails()).containsEntry("node", node.toString())
                .hasEntrySatisfying("error", error -> assertThat(error.toString()).contains("fenced"));
    }
}
