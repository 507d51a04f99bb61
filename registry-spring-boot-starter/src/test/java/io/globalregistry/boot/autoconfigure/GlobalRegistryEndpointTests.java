package io.globalregistry.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.boot.endpoint.GlobalRegistryEndpoint;
import io.globalregistry.boot.endpoint.GlobalRegistryEndpoint.RegistrationDescriptor;
import io.globalregistry.boot.endpoint.GlobalRegistryEndpoint.RegistryDescriptor;
import io.globalregistry.test.WithBroker;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.autoconfigure.endpoint.jackson.JacksonEndpointAutoConfiguration;
import org.springframework.boot.actuate.endpoint.jackson.EndpointJsonMapper;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import tools.jackson.databind.JsonNode;

/** The {@code globalregistry} endpoint: when it exists, and the shape of what it returns. */
@WithBroker
class GlobalRegistryEndpointTests {

    private static final String EXPOSED = "management.endpoints.web.exposure.include=globalregistry";

    private final TestCluster cluster = new TestCluster();

    @AfterEach
    void deleteExchange() throws Exception {
        cluster.close();
    }

    @Test
    void endpointWhenNotExposedShouldNotBeCreated() {
        cluster.node("hidden").run(context -> {
            assertThat(context).hasSingleBean(GlobalNameRegistry.class);
            assertThat(context).doesNotHaveBean(GlobalRegistryEndpoint.class);
        });
    }

    @Test
    void endpointWhenExposedButAccessIsNoneShouldNotBeCreated() {
        cluster.node("no-access").withPropertyValues(EXPOSED, "management.endpoint.globalregistry.access=NONE")
                .run(context -> assertThat(context).doesNotHaveBean(GlobalRegistryEndpoint.class));
    }

    @Test
    void endpointWhenExposedShouldDescribeNodeMembersAndRegistrations() {
        cluster.node("described").withPropertyValues(EXPOSED)
                .withConfiguration(AutoConfigurations.of(JacksonEndpointAutoConfiguration.class))
                .run(context -> {
                    GlobalNameRegistry registry = context.getBean(GlobalNameRegistry.class);
                    registry.register(List.of("room", 42), "room 42");
                    registry.register("billing", "billing");
                    long before = System.currentTimeMillis();

                    RegistryDescriptor descriptor = context.getBean(GlobalRegistryEndpoint.class).registry();

                    assertThat(descriptor.node()).isEqualTo(registry.nodeId().toString());
                    assertThat(descriptor.strategy()).isEqualTo("claim");
                    assertThat(descriptor.leader()).isNull();
                    assertThat(descriptor.members()).containsExactly(registry.nodeId().toString());
                    assertThat(descriptor.registrations()).extracting(RegistrationDescriptor::name)
                            .containsExactly("\"billing\"", "[\"room\",42]");
                    RegistrationDescriptor room = descriptor.registrations().get(1);
                    assertThat(room.state()).isEqualTo("local");
                    assertThat(room.owner()).isEqualTo(registry.nodeId().toString());
                    assertThat(room.fencingToken()).isPositive();
                    assertThat(Instant.parse(room.since())).isBefore(Instant.ofEpochMilli(before + 1));

                    JsonNode json = context.getBean(EndpointJsonMapper.class).get().valueToTree(descriptor);
                    assertThat(json.propertyNames()).containsExactlyInAnyOrder("node", "strategy", "leader", "members",
                            "lastHeartbeats", "registrations");
                    assertThat(json.get("leader").isNull()).isTrue();
                    JsonNode first = json.get("registrations").get(0);
                    assertThat(first.propertyNames()).containsExactlyInAnyOrder("name", "state", "owner", "since",
                            "fencingToken");
                    assertThat(first.get("fencingToken").isIntegralNumber()).as("a number, not a string").isTrue();
                    assertThat(first.get("since").isString()).isTrue();
                });
    }

    @Test
    void registrationWhenSelectedByJsonOrPlainNameShouldBeFound() {
        cluster.node("selected").withPropertyValues(EXPOSED).run(context -> {
            GlobalNameRegistry registry = context.getBean(GlobalNameRegistry.class);
            registry.register(List.of("room", 42), "room 42");
            registry.register("billing", "billing");
            registry.register(Map.of("b", 2, "a", 1), "a map");
            GlobalRegistryEndpoint endpoint = context.getBean(GlobalRegistryEndpoint.class);

            assertThat(endpoint.registration("[\"room\", 42]").name()).isEqualTo("[\"room\",42]");
            assertThat(endpoint.registration("billing").name()).isEqualTo("\"billing\"");
            assertThat(endpoint.registration("\"billing\"").name()).isEqualTo("\"billing\"");
            assertThat(endpoint.registration("{\"b\":2,\"a\":1}").name()).isEqualTo("{\"a\":1,\"b\":2}");
            assertThat(endpoint.registration("billing").state()).isEqualTo("local");
        });
    }

    @Test
    void registrationWhenUnknownShouldBeNull() {
        cluster.node("unknown").withPropertyValues(EXPOSED).run(context -> {
            GlobalRegistryEndpoint endpoint = context.getBean(GlobalRegistryEndpoint.class);
            assertThat(endpoint.registration("nobody")).isNull();
            assertThat(endpoint.registration("[\"room\",43]")).isNull();
        });
    }
}
