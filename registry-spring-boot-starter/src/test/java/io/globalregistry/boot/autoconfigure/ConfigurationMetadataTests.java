package io.globalregistry.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The generated configuration metadata documents every {@code global-registry.*} property. */
class ConfigurationMetadataTests {

    @Test
    void metadataWhenGeneratedShouldDescribeEveryProperty() throws Exception {
        JsonNode metadata;
        try (InputStream in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
            assertThat(in).as("spring-configuration-metadata.json").isNotNull();
            metadata = JsonMapper.builder().build().readTree(in);
        }
        List<String> names = new ArrayList<>();
        for (JsonNode property : metadata.get("properties")) {
            String name = property.get("name").asString();
            if (name.startsWith("global-registry.")) {
                names.add(name);
                assertThat(property.path("description").asString()).as(name).isNotBlank();
            }
        }
        assertThat(names).containsExactlyInAnyOrder("global-registry.enabled", "global-registry.cluster",
                "global-registry.node-name", "global-registry.strategy", "global-registry.heartbeat-interval",
                "global-registry.suspect-after", "global-registry.fence-after", "global-registry.crash-grace", "global-registry.idle-heartbeat-interval", "global-registry.claim-timeout",
                "global-registry.join-window", "global-registry.call-timeout", "global-registry.max-message-size",
                "global-registry.leader-retry", "global-registry.liveness",
                "global-registry.security.secret", "global-registry.security.previous-secrets");
    }
}
