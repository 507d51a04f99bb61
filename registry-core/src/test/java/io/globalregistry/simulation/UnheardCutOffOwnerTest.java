package io.globalregistry.simulation;

import static org.assertj.core.api.Assertions.assertThat;

import io.globalregistry.Registration;
import io.globalregistry.RegistrationResult;
import io.globalregistry.claim.ClaimStrategy;
import io.globalregistry.membership.NodeId;
import io.globalregistry.name.GlobalName;
import io.globalregistry.protocol.RegistryConfig;
import io.globalregistry.protocol.RegistryNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * I1 and I6 of docs/PROTOCOL.md for a member the joiner cannot hear: a node cut off from the broker
 * still holds its names until it fences, but its inbox exists, so it never hears a joiner's hello
 * and nothing it says reaches the joiner. The joiner's view cannot name it, so the joiner must not
 * claim before such a member has fenced (the schedule of simulation seed 14321, without the chaos).
 */
class UnheardCutOffOwnerTest {

    private static final GlobalName NAME = new GlobalName("\"b\"");

    private final SimulatedNetwork network = new SimulatedNetwork(1);
    private final RegistryConfig config = RegistryConfig.defaults("sim").withLiveness(RegistryConfig.Liveness.BROKER);
    private final List<RegistryNode> nodes = new ArrayList<>();
    private final List<String> twoOwners = new ArrayList<>();

    @Test
    void joinerShouldNotWinANameWhileACutOffOwnerItCannotHearStillHoldsIt() {
        RegistryNode owner = start("owner");
        network.runUntil(1_000_000, this::checkOneOwner);
        CompletableFuture<RegistrationResult> first = register(owner);
        network.runUntil(1_600_000, this::checkOneOwner);
        assertThat(first).isCompletedWithValueMatching(RegistrationResult::registered);

        network.isolate(owner.self(), RegistrySimulation.BROKER_NOTICES_MIN_MICROS);
        network.runUntil(1_800_000, this::checkOneOwner);
        RegistryNode joiner = start("joiner");
        CompletableFuture<RegistrationResult> second = register(joiner);
        network.runUntil(6_000_000, this::checkOneOwner);

        assertThat(twoOwners).as("first instant with two owners").isEmpty();
        assertThat(owner.isFenced()).isTrue();
        assertThat(second).as("the joiner registers once the cut-off owner has fenced")
                .isCompletedWithValueMatching(RegistrationResult::registered);
    }

    private RegistryNode start(String name) {
        NodeId id = new NodeId(name, "i" + nodes.size());
        RegistryNode node = new RegistryNode(id, config, network.runtime(id, 0), network.transport(id), change -> { },
                ClaimStrategy::new);
        nodes.add(node);
        network.attach(id, node::onMessage);
        network.at(network.nowMicros(), id, node::start);
        return node;
    }

    private CompletableFuture<RegistrationResult> register(RegistryNode node) {
        CompletableFuture<RegistrationResult> result = new CompletableFuture<>();
        network.at(network.nowMicros(), node.self(), () -> node.register(NAME, "target", result));
        return result;
    }

    private void checkOneOwner() {
        long owners = nodes.stream().filter(n -> !n.isStopped()).map(n -> n.lookup(NAME.key()))
                .filter(r -> r != null && r.isLocal()).count();
        if (owners > 1 && twoOwners.isEmpty()) {
            twoOwners.add(network.nowMicros() / 1000 + " ms: " + nodes.stream().map(n -> n.self() + "="
                    + describe(n.lookup(NAME.key()))).toList());
        }
    }

    private static String describe(Registration r) {
        return r == null ? "-" : r.state() + "@" + r.owner();
    }
}
