package io.globalregistry.boot.health;

import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.Registration;
import java.util.List;
import java.util.Objects;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * The health of this registry node: UP with the node id, the number of members it sees, the
 * number of names it owns and how many times it rejoined the cluster as a new incarnation; DOWN
 * once the node is closed, when its event loop does not answer, or while it is fenced (it does not
 * hear itself through the broker, or lost its connection, so it gave its names up, and is rejoining).
 */
public class GlobalRegistryHealthIndicator extends AbstractHealthIndicator {

    private final GlobalNameRegistry registry;

    public GlobalRegistryHealthIndicator(GlobalNameRegistry registry) {
        super("Global registry health check failed");
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        builder.withDetail("node", registry.nodeId().toString());
        int members;
        List<Registration> registrations;
        try {
            if (registry.isFenced()) {
                builder.down().withDetail("error", "fenced: this node does not hear itself through the broker "
                        + "(or lost its connection) and gave its names up");
                return;
            }
            members = registry.members().size();
            registrations = registry.registrations();
        } catch (IllegalStateException closed) {
            builder.down().withDetail("error", closed.getMessage());
            return;
        }
        long owned = registrations.stream().filter(Registration::isLocal).count();
        builder.up().withDetail("members", members).withDetail("ownedNames", owned)
                .withDetail("rejoins", registry.rejoins());
    }
}
