package io.globalregistry.boot.endpoint;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.InvalidNameException;
import io.globalregistry.Registration;
import io.globalregistry.membership.NodeId;
import io.globalregistry.name.GlobalName;
import io.globalregistry.name.NameCodec;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.springframework.boot.actuate.endpoint.OperationResponseBody;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;

/**
 * The {@code globalregistry} actuator endpoint: this node, the strategy, the leader, the members and
 * every registration this node knows. {@code /actuator/globalregistry/{name}} shows one registration;
 * {@code name} is the name's JSON ({@code ["room",42]}, {@code "billing"}) or, when it is not JSON, a
 * plain string name ({@code billing}). A string that reads as JSON ({@code 42}, {@code true}) must be
 * quoted to be taken as a string.
 */
@Endpoint(id = "globalregistry")
public class GlobalRegistryEndpoint {

    private final GlobalNameRegistry registry;
    private final String strategy;
    private final NameCodec names = new NameCodec();

    /**
     * @param registry the node to describe
     * @param strategy the strategy's name as configured, e.g. {@code claim}
     */
    public GlobalRegistryEndpoint(GlobalNameRegistry registry, String strategy) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.strategy = Objects.requireNonNull(strategy, "strategy");
    }

    /** The whole registry as this node sees it. */
    @ReadOperation
    public RegistryDescriptor registry() {
        List<String> members = registry.members().stream().map(NodeId::toString).toList();
        List<RegistrationDescriptor> registrations = registry.registrations().stream()
                .sorted(Comparator.comparing((Registration r) -> r.name().key()))
                .map(GlobalRegistryEndpoint::describe)
                .toList();
        Map<String, String> lastHeartbeats = new TreeMap<>();
        registry.lastHeartbeats().forEach((member, heard) -> lastHeartbeats.put(member.toString(), heard.toString()));
        return new RegistryDescriptor(registry.nodeId().toString(), strategy,
                registry.leader().map(NodeId::toString).orElse(null), members, lastHeartbeats,
                registrations);
    }

    /** One registration, or {@code null} (404) when this node knows nothing of {@code name}. */
    @ReadOperation
    public RegistrationDescriptor registration(@Selector String name) {
        GlobalName key = key(name);
        for (Registration registration : registry.registrations()) {
            if (registration.name().equals(key)) {
                return describe(registration);
            }
        }
        return null;
    }

    private GlobalName key(String selector) {
        try {
            return names.fromJson(selector);
        } catch (InvalidNameException notJson) {
            return names.encode(selector);
        }
    }

    private static RegistrationDescriptor describe(Registration registration) {
        return new RegistrationDescriptor(registration.name().key(),
                registration.state().name().toLowerCase(Locale.ROOT), registration.owner().toString(),
                Instant.ofEpochMilli(registration.sinceMillis()).toString(), registration.fencingToken());
    }

    /**
     * The registry as one node sees it.
     *
     * @param node this node's id ({@code name@incarnation})
     * @param strategy how ownership is decided: {@code claim} or {@code leader}
     * @param leader the leader node's id as this node knows it; null for the claim strategy, which has none,
     *               and while no leader is known (written as null, not left out)
     * @param members the ids of the members, this node included
     * @param lastHeartbeats when this node last heard each other member (ISO-8601 instant)
     * @param registrations every registration this node knows, by name
     */
    public record RegistryDescriptor(String node, String strategy,
                                     @JsonInclude(JsonInclude.Include.ALWAYS) String leader, List<String> members,
                                     Map<String, String> lastHeartbeats, List<RegistrationDescriptor> registrations) implements OperationResponseBody {
    }

    /**
     * One registration as one node sees it.
     *
     * @param name the name's canonical JSON, e.g. {@code ["room",42]}
     * @param state {@code local} (owned here), {@code remote} (owned by another node) or {@code pending}
     *              (being claimed here)
     * @param owner the owner's node id; for {@code pending}, this node
     * @param since when this node learnt of the current owner (ISO-8601 instant)
     * @param fencingToken a number that grows with every change of owner (0 while pending)
     */
    public record RegistrationDescriptor(String name, String state, String owner, String since, long fencingToken)
            implements OperationResponseBody {
    }
}
