package io.globalregistry.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.Registration;
import io.globalregistry.RegistrationResult;
import io.globalregistry.test.WithBroker;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two applications, each with the starter and its own context, form one cluster: the cluster name
 * comes from their common {@code spring.application.name}, and each sees the other's registration.
 */
@WithBroker
class TwoNodesThroughTheStarterTests {

    private final TestCluster cluster = new TestCluster();

    @AfterEach
    void deleteExchange() throws Exception {
        cluster.close();
    }

    @Test
    void registrationWhenMadeInOneApplicationShouldBeSeenByTheOther() {
        cluster.brokerOnly().withPropertyValues("spring.application.name=" + cluster.name,
                "global-registry.node-name=orders-1").run(first -> {
            cluster.brokerOnly().withPropertyValues("spring.application.name=" + cluster.name,
                    "global-registry.node-name=orders-2").run(second -> {
                GlobalNameRegistry one = first.getBean(GlobalNameRegistry.class);
                GlobalNameRegistry two = second.getBean(GlobalNameRegistry.class);
                await().atMost(Duration.ofSeconds(5)).until(() -> one.members().size() == 2
                        && two.members().size() == 2);

                assertThat(one.register("billing", "billing on orders-1").registered()).isTrue();
                await().atMost(Duration.ofSeconds(5)).until(() -> two.whereis("billing").isPresent());
                Registration seen = two.whereis("billing").orElseThrow();
                assertThat(seen.state()).isEqualTo(Registration.State.REMOTE);
                assertThat(seen.owner()).isEqualTo(one.nodeId());

                RegistrationResult lost = two.register("billing", "billing on orders-2");
                assertThat(lost.registered()).isFalse();
                assertThat(lost.owner()).isEqualTo(one.nodeId());
            });
        });
    }
}
