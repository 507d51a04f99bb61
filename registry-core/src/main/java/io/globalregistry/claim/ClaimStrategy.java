package io.globalregistry.claim;

import io.globalregistry.Registration;
import io.globalregistry.Registration.State;
import io.globalregistry.RegistrationResult;
import io.globalregistry.RegistryException;
import io.globalregistry.RegistrationTimeoutException;
import io.globalregistry.membership.NodeId;
import io.globalregistry.name.GlobalName;
import io.globalregistry.protocol.NodeContext;
import io.globalregistry.protocol.NodeRuntime.Cancellable;
import io.globalregistry.protocol.RegistrationStrategy;
import io.globalregistry.protocol.RegistryConfig.ClaimOrdering;
import io.globalregistry.wire.ClaimId;
import io.globalregistry.wire.Envelope;
import io.globalregistry.wire.Message.Answer;
import io.globalregistry.wire.Message.Claim;
import io.globalregistry.wire.Message.ClaimReply;
import io.globalregistry.wire.Message.Advertise;
import io.globalregistry.wire.Message.Release;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The {@code claim} strategy (kz_globals hardened), DESIGN section 5 and PROTOCOL.md "Claim":
 * a claimant broadcasts a claim, every live member answers, and the claimant owns the name only
 * if every member of its view granted it or answered with a later claim.
 *
 * <p>Safety (invariant I1) rests on three rules: a grant binds the granting node until the claim
 * is advertised, released or expired; claims are totally ordered by {@code (hlc, node)}, and a
 * claim made after seeing another orders after it; a claimant never decides without an answer
 * from every member the broker does not certify dead.
 */
public final class ClaimStrategy implements RegistrationStrategy {

    private final NodeContext node;
    private final Map<String, Pending> pending = new LinkedHashMap<>();
    private final Map<String, Grant> grants = new HashMap<>();

    public ClaimStrategy(NodeContext node) {
        this.node = node;
    }

    /** This node's claim in progress. */
    private final class Pending {
        final GlobalName name;
        final ClaimId id;
        final Object target;
        final long startedAt;
        final long startedWall;
        final Set<NodeId> required;
        final Set<NodeId> answered = new LinkedHashSet<>();
        final List<CompletableFuture<RegistrationResult>> waiters = new ArrayList<>(1);
        boolean conceded;
        boolean checking;
        Cancellable timeout;

        Pending(GlobalName name, ClaimId id, Object target, Set<NodeId> required) {
            this.name = name;
            this.id = id;
            this.target = target;
            this.startedAt = node.runtime().monotonicMillis();
            this.startedWall = node.runtime().wallClockMillis();
            this.required = required;
        }
    }

    /** A vote this node gave another claim. */
    private record Grant(ClaimId claim, long expiresAt) {
    }

    @Override
    public void register(GlobalName name, Object target, CompletableFuture<RegistrationResult> result) {
        Registration existing = node.table().lookup(name.key());
        if (existing != null) {
            result.complete(new RegistrationResult(false, existing.owner()));
            return;
        }
        Pending inProgress = pending.get(name.key());
        if (inProgress != null) {
            inProgress.waiters.add(result);
            return;
        }
        Pending claim = new Pending(name, newClaimId(), target, new LinkedHashSet<>(node.membership().memberIds()));
        claim.waiters.add(result);
        pending.put(name.key(), claim);
        claim.timeout = node.runtime().schedule(node.config().claimTimeout().toMillis(), () -> timedOut(claim));
        node.broadcast(new Claim(name.key(), claim.id));
        decideIfComplete(claim);
    }

    private ClaimId newClaimId() {
        long stamp = node.clock().tick();
        if (node.config().claimOrdering() == ClaimOrdering.WALL_CLOCK) {
            stamp = node.runtime().wallClockMillis() << 16;
        }
        return new ClaimId(stamp, node.self());
    }

    @Override
    public boolean onMessage(Envelope envelope) {
        Object body = envelope.body();
        if (body instanceof Claim claim) {
            answer(envelope.sender(), claim);
        } else if (body instanceof ClaimReply reply) {
            received(envelope.sender(), reply);
        } else if (body instanceof Release release) {
            Grant grant = grants.get(release.name());
            if (grant != null && grant.claim().equals(release.claim())) {
                grants.remove(release.name());
            }
        } else {
            return false;
        }
        return true;
    }

    /** Step 3: answer another node's claim. */
    private void answer(NodeId claimant, Claim claim) {
        if (claimant.equals(node.self())) {
            return;
        }
        String key = claim.name();
        ClaimReply reply;
        Registration owner = node.table().lookup(key);
        Pending own = pending.get(key);
        Grant grant = liveGrant(key);
        if (owner != null) {
            Answer answer = owner.isLocal() ? Answer.LOCAL : Answer.REMOTE;
            reply = reply(claim, answer, owner.owner(), owner.fencingToken(), null);
            if (owner.isLocal()) {
                node.broadcast(new Advertise(key, owner.fencingToken()));
            }
        } else if (grant != null && !grant.claim().equals(claim.claim())) {
            reply = reply(claim, Answer.PENDING, null, 0, grant.claim());
        } else if (own != null && !claim.claim().before(own.id)) {
            // our own claim orders first and may still win, conceded or not (a claim we conceded to may
            // go away, e.g. its node leaves): a later one must not pass here (simulation seed 459 of
            // BrokerPartitionSimulationTest)
            reply = reply(claim, Answer.PENDING, null, 0, own.id);
        } else {
            if (own != null && !own.conceded) {
                own.conceded = true; // an earlier claim: give it our vote; our own claim goes on, the answers decide it
            }
            grants.put(key, new Grant(claim.claim(), node.runtime().monotonicMillis() + node.config().grantTtlMillis()));
            reply = reply(claim, Answer.NONE, null, 0, null);
        }
        node.send(claimant, reply, () -> { });
    }

    private ClaimReply reply(Claim claim, Answer answer, NodeId owner, long token, ClaimId blocker) {
        List<NodeId> members = new ArrayList<>(node.membership().memberIds());
        return new ClaimReply(claim.name(), claim.claim(), answer, owner, token, blocker, members);
    }

    private Grant liveGrant(String key) {
        Grant grant = grants.get(key);
        if (grant != null && grant.expiresAt() <= node.runtime().monotonicMillis()) {
            grants.remove(key);
            return null;
        }
        return grant;
    }

    /** Steps 4 and 5: count an answer to our claim. */
    private void received(NodeId responder, ClaimReply reply) {
        Pending claim = pending.get(reply.name());
        if (claim == null || !claim.id.equals(reply.claim())) {
            return;
        }
        for (NodeId member : reply.members()) {
            if (!member.equals(node.self()) && !node.membership().isDead(member)) {
                node.membership().heard(member, node.runtime().monotonicMillis());
                claim.required.add(member);
            }
        }
        switch (reply.answer()) {
            case LOCAL, REMOTE -> {
                if (reply.answer() == Answer.LOCAL) {
                    node.table().applyRemote(claim.name, responder, reply.token(), node.clock().peek(),
                            node.runtime().wallClockMillis());
                }
                lose(claim, reply.owner());
                return;
            }
            case PENDING -> {
                if (reply.blocker().before(claim.id)) {
                    lose(claim, null);
                    return;
                }
            }
            case NONE -> {
            }
        }
        claim.answered.add(responder);
        decideIfComplete(claim);
    }

    private void decideIfComplete(Pending claim) {
        if (!claim.answered.containsAll(claim.required)) {
            return;
        }
        long elapsed = node.runtime().monotonicMillis() - claim.startedAt;
        if (elapsed >= node.config().grantTtlMillis()) {
            fail(claim, "the answers came after the grants could have expired");
            return;
        }
        win(claim);
    }

    private void win(Pending claim) {
        finish(claim);
        long token = node.clock().tick();
        node.table().putLocal(claim.name, token, token, node.runtime().wallClockMillis(), claim.target);
        node.broadcast(new Advertise(claim.name.key(), token));
        NodeId self = node.self();
        for (int i = 0; i < claim.waiters.size(); i++) {
            claim.waiters.get(i).complete(new RegistrationResult(i == 0, self));
        }
    }

    private void lose(Pending claim, NodeId owner) {
        finish(claim);
        node.broadcast(new Release(claim.name.key(), claim.id));
        claim.waiters.forEach(w -> w.complete(new RegistrationResult(false, owner)));
    }

    private void fail(Pending claim, String why) {
        finish(claim);
        node.broadcast(new Release(claim.name.key(), claim.id));
        RegistrationTimeoutException error = new RegistrationTimeoutException(claim.name.key(), why);
        claim.waiters.forEach(w -> w.completeExceptionally(error));
    }

    private void finish(Pending claim) {
        pending.remove(claim.name.key());
        if (claim.timeout != null) {
            claim.timeout.cancel();
        }
    }

    /** Step 4: a member stayed silent; the claim goes on only if the broker certifies it dead. */
    private void timedOut(Pending claim) {
        if (pending.get(claim.name.key()) != claim || claim.checking) {
            return;
        }
        claim.checking = true;
        Set<NodeId> silent = new LinkedHashSet<>(claim.required);
        silent.removeAll(claim.answered);
        int[] outstanding = {silent.size()};
        boolean[] anyAlive = {false};
        List<NodeId> aliveOnes = new ArrayList<>();
        for (NodeId member : silent) {
            node.checkAlive(member, alive -> {
                if (alive) {
                    anyAlive[0] = true;
                    aliveOnes.add(member);
                }
                if (--outstanding[0] == 0 && pending.get(claim.name.key()) == claim) {
                    if (anyAlive[0]) {
                        fail(claim, "no answer from live member(s) " + aliveOnes + " within "
                                + node.config().claimTimeout().toMillis() + " ms");
                    } else {
                        decideIfComplete(claim);
                    }
                }
            });
        }
        if (silent.isEmpty()) {
            decideIfComplete(claim);
        }
    }

    @Override
    public void ownerKnown(GlobalName name, NodeId owner) {
        grants.remove(name.key());
        Pending claim = pending.get(name.key());
        if (claim != null && !owner.equals(node.self())) {
            lose(claim, owner);
        }
    }

    @Override
    public void released(String key) {
        grants.remove(key);
    }

    @Override
    public void memberGone(NodeId member) {
        grants.values().removeIf(g -> g.claim().node().equals(member));
        for (Pending claim : List.copyOf(pending.values())) {
            if (claim.required.remove(member)) {
                decideIfComplete(claim);
            }
        }
    }

    @Override
    public void halt(String why) {
        grants.clear();
        for (Pending claim : List.copyOf(pending.values())) {
            finish(claim);
            RegistryException error = new RegistryException("Registration of " + claim.name.key() + " abandoned: " + why);
            claim.waiters.forEach(w -> w.completeExceptionally(error));
        }
    }

    @Override
    public List<Registration> pending() {
        List<Registration> out = new ArrayList<>();
        for (Pending claim : pending.values()) {
            out.add(new Registration(claim.name, node.self(), State.PENDING, 0, claim.startedWall, null));
        }
        return out;
    }
}
