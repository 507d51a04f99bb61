package io.globalregistry.leader;

import io.globalregistry.Registration;
import io.globalregistry.membership.NodeId;
import io.globalregistry.name.GlobalName;
import io.globalregistry.protocol.NameTable;
import io.globalregistry.protocol.NodeContext;
import io.globalregistry.protocol.NodeRuntime.Cancellable;
import io.globalregistry.wire.Message.Leader;
import io.globalregistry.wire.Message.Resolve;
import io.globalregistry.wire.Message.Resolved;
import io.globalregistry.wire.Message.Revoke;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node as the leader, for {@link LeaderStrategy}: it rebuilds its table from every live member's
 * names under a new epoch, answers nothing until then, and then decides every registration alone
 * (grants, duplicates revoked, watchers told of a new owner). Which node leads, and when this one
 * starts or stops, is {@link LeaderStrategy}'s to say; it runs on the node's event loop, like the
 * strategy.
 */
final class LeaderRole {

    /** The strategy's logger: the log lines are the strategy's, whichever class writes them. */
    private static final Logger LOG = LoggerFactory.getLogger(LeaderStrategy.class);
    private static final Runnable NOTHING = () -> { };
    /** Beyond this many watched names the leader sweeps out expired watchers. */
    private static final int WATCHERS_SWEEP = 10_000;

    private final NodeContext node;
    private final boolean rebuild;
    /** Told the epoch this node leads under from now on: the newest leader epoch it knows. */
    private final LongConsumer epochKnown;
    /** Run once rebuilt, after the deferred answers: this node's own open requests are asked again (of itself). */
    private final Runnable onReady;

    private boolean leading;
    private boolean ready;
    private long epoch;
    private final Set<NodeId> awaiting = new LinkedHashSet<>();
    private final Set<NodeId> syncedThisEpoch = new java.util.HashSet<>();
    private final Map<String, Long> grantedBy = new HashMap<>();
    private final List<Runnable> deferred = new ArrayList<>();
    private final Map<String, Map<NodeId, Long>> watchers = new HashMap<>();
    private Cancellable rebuildTimer;

    LeaderRole(NodeContext node, boolean rebuild, LongConsumer epochKnown, Runnable onReady) {
        this.node = node;
        this.rebuild = rebuild;
        this.epochKnown = epochKnown;
        this.onReady = onReady;
    }

    private NameTable table() {
        return node.table();
    }

    /** Whether this node leads (rebuilt or not). */
    boolean leading() {
        return leading;
    }

    /** Whether this node, leading, has rebuilt its table and answers. */
    boolean ready() {
        return ready;
    }

    /** The epoch this node leads, or last led, under. */
    long epoch() {
        return epoch;
    }

    // ---- life cycle ------------------------------------------------------------------------------

    /** This node leads from now on, not yet rebuilt: {@link LeaderStrategy} has it {@link #announce} an epoch next. */
    void lead() {
        leading = true;
    }

    /** A new leadership: no grant of an earlier one is taken for a duplicate request. */
    void forgetGrants() {
        grantedBy.clear();
    }

    /** Leads under {@code newEpoch}: asks every member for its names and answers nothing until all did. */
    void announce(long newEpoch) {
        epoch = newEpoch;
        epochKnown.accept(newEpoch);
        ready = false;
        if (rebuildTimer != null) {
            rebuildTimer.cancel();
        }
        awaiting.clear();
        syncedThisEpoch.clear();
        if (rebuild) {
            awaiting.addAll(node.membership().memberIds());
            awaiting.remove(node.self());
        }
        node.broadcast(new Leader(epoch));
        if (awaiting.isEmpty()) {
            becomeReady();
        } else {
            // the old leader is most likely among them, and dead: have the broker say so now rather than
            // after a heartbeat interval (a live member's sync usually comes first anyway)
            for (NodeId member : List.copyOf(awaiting)) {
                node.checkAlive(member, alive -> { });
            }
            scheduleRebuildCheck();
        }
    }

    private void scheduleRebuildCheck() {
        rebuildTimer = node.runtime().schedule(node.config().heartbeatInterval().toMillis(), this::rebuildCheck);
    }

    /** Still rebuilding: ask the members not heard from again, and the broker whether they are alive. */
    private void rebuildCheck() {
        if (!leading || ready) {
            return;
        }
        for (NodeId member : List.copyOf(awaiting)) {
            node.send(member, new Leader(epoch), NOTHING);
            node.checkAlive(member, alive -> { });
        }
        scheduleRebuildCheck();
    }

    private void checkReady() {
        if (leading && !ready && awaiting.isEmpty()) {
            becomeReady();
        }
    }

    private void becomeReady() {
        ready = true;
        if (rebuildTimer != null) {
            rebuildTimer.cancel();
        }
        LOG.info("{} answers as the leader of cluster {} (epoch {}): {} name(s) known", node.self(),
                node.config().cluster(), epoch, table().all().size());
        List<Runnable> waiting = List.copyOf(deferred);
        deferred.clear();
        waiting.forEach(Runnable::run);
        onReady.run();
    }

    /** This node leads no more: it stops rebuilding, and drops the answers it deferred and its watchers. */
    void stepDown() {
        leading = false;
        ready = false;
        if (rebuildTimer != null) {
            rebuildTimer.cancel();
        }
        awaiting.clear();
        deferred.clear();
        watchers.clear();
    }

    // ---- answers ---------------------------------------------------------------------------------

    /** The leader answers a member's request (once rebuilt; until then it waits). */
    void answer(NodeId from, Resolve request) {
        if (!leading) {
            return; // deposed: the requester asks the next leader
        }
        if (!ready) {
            deferred.add(() -> answer(from, request));
            return;
        }
        if (node.membership().isDead(from)) {
            return;
        }
        GlobalName name = new GlobalName(request.name());
        Registration current = table().lookup(request.name());
        NodeId owner;
        long token;
        if (request.register() && (current == null || staleGrant(current, from, request.id()))) {
            owner = from;
            token = grant(name, from, null);
            grantedBy.put(request.name(), request.id());
        } else {
            owner = current == null ? null : current.owner();
            token = current == null ? 0 : current.fencingToken();
            if (current == null && request.watch()) {
                watch(request.name(), from);
            }
        }
        node.send(from, new Resolved(request.name(), request.id(), owner, token, epoch), NOTHING);
    }

    /**
     * Whether {@code from} asks again for a name this leader lists as its own, in another request
     * than the one granted: it does not hold it any more (it asks only for names it does not hold),
     * and its unregister is still on the way. A new grant, with a newer token, makes that late
     * unregister harmless; the same request again (a duplicate) gets the same answer.
     */
    private boolean staleGrant(Registration current, NodeId from, long requestId) {
        if (!current.owner().equals(from)) {
            return false;
        }
        Long granted = grantedBy.get(current.name().key());
        return granted == null || granted != requestId;
    }

    /** The leader records {@code owner} as the owner of the free {@code name}; returns the fencing token. */
    long grant(GlobalName name, NodeId owner, Object target) {
        long token = node.clock().tick();
        if (owner.equals(node.self())) {
            table().putLocal(name, token, token, node.runtime().wallClockMillis(), target);
        } else {
            table().applyRemote(name, owner, token, token, node.runtime().wallClockMillis());
        }
        Map<NodeId, Long> waiting = watchers.remove(name.key());
        if (waiting != null) {
            long now = node.runtime().monotonicMillis();
            waiting.forEach((member, until) -> {
                if (until >= now && !member.equals(owner)) {
                    node.send(member, new Resolved(name.key(), 0, owner, token, epoch), NOTHING);
                }
            });
        }
        return token;
    }

    private void watch(String key, NodeId member) {
        long now = node.runtime().monotonicMillis();
        if (watchers.size() > WATCHERS_SWEEP) {
            for (Iterator<Map<NodeId, Long>> it = watchers.values().iterator(); it.hasNext(); ) {
                Map<NodeId, Long> byMember = it.next();
                byMember.values().removeIf(until -> until < now);
                if (byMember.isEmpty()) {
                    it.remove();
                }
            }
        }
        watchers.computeIfAbsent(key, k -> new HashMap<>()).put(member, now + node.config().callTimeout().toMillis());
    }

    // ---- membership ------------------------------------------------------------------------------

    /** {@code sender} said hello (it joins). */
    void hello(NodeId sender) {
        if (leading) {
            node.send(sender, new Leader(epoch), NOTHING); // a joiner learns the leader at once
        }
    }

    void newMember(NodeId member) {
        if (leading) {
            if (!ready && rebuild) {
                awaiting.add(member);
            }
            node.send(member, new Leader(epoch), NOTHING);
        }
    }

    /**
     * While rebuilding, a member's view names members this node may not know (it joined lately, or
     * their messages were lost): it waits for those too, or for the broker to certify them dead.
     */
    void synced(NodeId member, Set<NodeId> theirMembers, long theirLeaderEpoch) {
        if (!leading) {
            return;
        }
        if (theirLeaderEpoch > epoch) {
            // a leader this node never heard of had a newer epoch (its clock ran behind that leader's):
            // lead under a newer one still, and ask everybody again, so no member follows an older leader
            LOG.info("{} leads cluster {} under epoch {}: {} knew epoch {}", node.self(), node.config().cluster(),
                    theirLeaderEpoch + 1, member, theirLeaderEpoch);
            announce(theirLeaderEpoch + 1);
            return;
        }
        syncedThisEpoch.add(member);
        if (!ready && rebuild) {
            for (NodeId other : theirMembers) {
                if (!other.equals(node.self()) && !syncedThisEpoch.contains(other)
                        && !node.membership().isDead(other) && awaiting.add(other)) {
                    node.send(other, new Leader(epoch), NOTHING);
                }
            }
        }
        if (awaiting.remove(member)) {
            checkReady();
        }
    }

    void duplicate(GlobalName name, NodeId loser, long token) {
        if (leading && !loser.equals(node.self())) {
            LOG.warn("Leader {} found two owners of {}; {} (token {}) gives it up", node.self(), name.key(), loser, token);
            node.send(loser, new Revoke(name.key(), token), NOTHING);
        }
    }

    /** {@code member} is gone: it watches nothing any more, and a rebuild no longer waits for it. */
    void memberGone(NodeId member) {
        for (Map<NodeId, Long> byMember : watchers.values()) {
            byMember.remove(member);
        }
        if (leading && awaiting.remove(member)) {
            checkReady();
        }
    }
}
