package io.globalregistry.leader;

import io.globalregistry.OwnerChange.Reason;
import io.globalregistry.Registration;
import io.globalregistry.RegistrationResult;
import io.globalregistry.membership.NodeId;
import io.globalregistry.name.GlobalName;
import io.globalregistry.protocol.NameTable;
import io.globalregistry.protocol.NodeContext;
import io.globalregistry.protocol.NodeRuntime.Cancellable;
import io.globalregistry.protocol.RegistrationStrategy;
import io.globalregistry.protocol.RegistryConfig.Liveness;
import io.globalregistry.wire.Envelope;
import io.globalregistry.wire.Message;
import io.globalregistry.wire.Message.Heartbeat;
import io.globalregistry.wire.Message.Hello;
import io.globalregistry.wire.Message.Leader;
import io.globalregistry.wire.Message.Resolve;
import io.globalregistry.wire.Message.Resolved;
import io.globalregistry.wire.Message.Revoke;
import io.globalregistry.wire.Message.Sync;
import io.globalregistry.wire.Message.Unregister;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code leader} strategy (Couchbase's leader_registry over the broker), DESIGN section 6 and
 * PROTOCOL.md "Leader": the node holding the cluster's leader queue (the broker arbitrates) decides
 * every registration alone, in one round trip; the others keep a read-through cache of owners.
 *
 * <p>Safety (invariant I1) rests on three rules: only the leader decides, and a new leader answers
 * nothing until it has every live member's names (a duplicate it finds is resolved, the loser told);
 * a node accepts a decision only from the newest leader it knows, and learns a new leader before it
 * sends that leader its names, so no decision of an older leader can arrive unseen by the newer one;
 * a leader whose connection is gone has lost the queue, so requests go to one leader at a time.
 *
 * <p>This class's job is which node leads: the election (the broker's leader queue, or under
 * {@code LEASE} the lease logs), the leader this node follows and whose decisions it takes, and
 * handing each message and event of the strategy to the side it concerns: {@link LeaderRole} (this
 * node as the leader: rebuild, answers, grants, watchers) or {@link LeaderRequests} (this node's own
 * requests to the leader, and the cache they fill). All three run on the node's event loop.
 */
public final class LeaderStrategy implements RegistrationStrategy {

    private static final Logger LOG = LoggerFactory.getLogger(LeaderStrategy.class);

    private final NodeContext node;

    // ---- this node as the leader
    private final LeaderRole role;

    // ---- the leader as this node knows it (read by another thread through leader(): volatile)
    private volatile NodeId leader;
    private long knownEpoch;
    private long toldOfNewerEpoch = Long.MIN_VALUE / 2;

    // ---- this node's own requests
    private final LeaderRequests requests;

    // ---- the election
    /** Liveness LEASE: leadership follows the lease logs (see {@link #electionCheck}), not the leader queue. */
    private final boolean leaseElection;
    private Cancellable electionTimer;
    private boolean halted;

    public LeaderStrategy(NodeContext node) {
        this(node, true);
    }

    private LeaderStrategy(NodeContext node, boolean rebuild) {
        this.node = node;
        this.leaseElection = node.config().liveness() == Liveness.LEASE;
        this.role = new LeaderRole(node, rebuild, newEpoch -> knownEpoch = newEpoch, this::rebuilt);
        this.requests = new LeaderRequests(node, role, leaseElection, this::leader);
    }

    /**
     * An unsafe variant whose new leader answers at once, before it has every member's names: kept
     * only to show that the simulation catches what the rebuild prevents (two owners of a name).
     */
    public static LeaderStrategy withoutRebuild(NodeContext node) {
        return new LeaderStrategy(node, false);
    }

    private NameTable table() {
        return node.table();
    }

    // ---- life cycle ------------------------------------------------------------------------------

    @Override
    public void start() {
        if (leaseElection) {
            electionCheck();
        } else {
            node.contendForLeadership(this::elected, this::deposed);
        }
    }

    /**
     * Liveness LEASE (PROTOCOL.md "Leader", step 1): on a broker cluster an exclusive queue is no lease (each
     * side of a partition may grant it, and a hung holder keeps it until the broker drops its connection), so
     * here the leader is chosen from what the lease logs say. Every heartbeat interval a node that does not
     * lead, knows no leader alive (none followed, or the one it followed certified dead by the logs), and is
     * first in line (no member it has not seen certified dead has a smaller node id) leads. A live leader is
     * never displaced by a member earlier in line that joins later; two nodes that lead at once (their views
     * differed) settle by epoch: the older one follows the newer and, following a live leader, does not
     * contend again. Safety does not rest on this choice: a leader answers only once rebuilt and while its
     * lease runs.
     */
    private void electionCheck() {
        if (halted) {
            return;
        }
        leadIfFirstInLine();
        electionTimer = node.runtime().schedule(node.config().heartbeatInterval().toMillis(), this::electionCheck);
    }

    private void leadIfFirstInLine() {
        if (!halted && !role.leading() && (leader == null || node.membership().isDead(leader)) && firstInLine()) {
            elected();
        }
    }

    /** Whether no member that is not certified dead has a node id before this node's. */
    private boolean firstInLine() {
        for (NodeId member : node.membership().memberIds()) {
            if (member.compareTo(node.self()) < 0 && !node.membership().isDead(member)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean replicated() {
        return false;
    }

    @Override
    public boolean authoritative() {
        return role.leading() && role.ready();
    }

    @Override
    public NodeId leader() {
        return leader;
    }

    @Override
    public long leaderEpoch() {
        return role.leading() ? role.epoch() : 0;
    }

    /** Whether this node leads (holds the leader queue, or under lease was elected from the lease logs) and has rebuilt its table. */
    public boolean isReadyLeader() {
        return role.leading() && role.ready();
    }

    /**
     * This node holds the leader queue now. It forgets its cache, asks every member for its names,
     * and answers nothing until every live member answered (a silent one is checked with the broker).
     */
    private void elected() {
        role.lead();
        leader = node.self();
        node.leaderChanged(leader);
        table().evictRemote();
        role.forgetGrants();
        long newEpoch = Math.max(node.clock().tick(), knownEpoch + 1);
        LOG.info("{} leads cluster {} (epoch {}); rebuilding its table from {} member(s)", node.self(),
                node.config().cluster(), newEpoch, node.membership().memberIds().size() - 1);
        role.announce(newEpoch);
    }

    /** This node, leading, has rebuilt its table: its own open requests are asked again, of itself. */
    private void rebuilt() {
        requests.sendAll();
    }

    @Override
    public long knownLeaderEpoch() {
        return knownEpoch;
    }

    /** The broker says this node lost the leader queue (its election connection is gone). */
    private void deposed() {
        if (!role.leading()) {
            return;
        }
        LOG.warn("{} no longer leads cluster {} (epoch {}): it lost the leader queue", node.self(),
                node.config().cluster(), role.epoch());
        role.stepDown();
        if (node.self().equals(leader)) {
            leader = null;
            node.leaderChanged(null);
        }
        requests.resendAll();
    }

    @Override
    public void halt(String why) {
        halted = true;
        if (electionTimer != null) {
            electionTimer.cancel();
        }
        role.stepDown();
        requests.abandonAll(why);
    }

    // ---- API ---------------------------------------------------------------------------------

    @Override
    public void register(GlobalName name, Object target, CompletableFuture<RegistrationResult> result) {
        requests.register(name, target, result);
    }

    @Override
    public void resolve(GlobalName name, boolean watch, CompletableFuture<Registration> result) {
        requests.resolve(name, watch, result);
    }

    @Override
    public List<Registration> pending() {
        return requests.pending();
    }

    // ---- messages ------------------------------------------------------------------------------

    @Override
    public boolean onMessage(Envelope envelope) {
        Message body = envelope.body();
        NodeId sender = envelope.sender();
        if (body instanceof Resolve resolve) {
            role.answer(sender, resolve);
        } else if (body instanceof Resolved resolved) {
            resolved(sender, resolved);
        } else if (body instanceof Leader announced) {
            announced(sender, announced.epoch());
        } else if (body instanceof Revoke revoke) {
            revoked(sender, revoke);
        } else if (body instanceof Hello) {
            role.hello(sender);
        } else if (body instanceof Sync) {
            return !role.leading(); // only the leader collects names; a cache learns owners when it asks
        } else if (body instanceof Heartbeat heartbeat) {
            if (heartbeat.leaderEpoch() > 0) {
                if (heartbeat.leaderEpoch() < knownEpoch && !sender.equals(leader) && leader == null) {
                    // it leads under an older epoch than one this node knew (a leader since dead, whose late heartbeat
                    // came after it was heard): tell it, so it leads on under a newer one and everyone follows again
                    // (BrokerPartitionSimulationTest seed 3889)
                    tellOfNewerEpoch(sender);
                }
                adopt(sender, heartbeat.leaderEpoch());
            }
            return false;
        } else {
            return false;
        }
        return true;
    }

    /** A leader's answer to one of this node's requests (id 0: an owner appeared for a name it watches). */
    private void resolved(NodeId from, Resolved answer) {
        if (!acceptFrom(from, answer.epoch())) {
            return;
        }
        requests.resolved(answer);
    }

    /**
     * Decisions are taken only from the leader this node follows, under the epoch it follows: a late
     * answer of an older leader, which a newer one may not know of, is dropped.
     */
    private boolean acceptFrom(NodeId from, long fromEpoch) {
        return from.equals(leader) && fromEpoch == knownEpoch;
    }

    /**
     * A leader asks for this node's names: it follows the leader if its epoch is newer than any it
     * knows, and answers with a sync in any case, which carries the newest epoch it knows (so a new
     * leader whose epoch is older takes a newer one and asks again).
     */
    private void announced(NodeId from, long fromEpoch) {
        adopt(from, fromEpoch);
        node.sendSync(from);
    }

    /**
     * {@code from} leads with {@code fromEpoch}, newer than any leader known here: the cache goes
     * (it may hold what the old leader knew and the new one does not), and every open request and
     * watched name is asked again of the new leader.
     */
    private void adopt(NodeId from, long fromEpoch) {
        if (fromEpoch <= knownEpoch) {
            return;
        }
        NodeId previous = leader;
        leader = from;
        knownEpoch = fromEpoch;
        if (role.leading()) {
            LOG.warn("{} stops leading cluster {}: {} leads with a newer epoch", node.self(), node.config().cluster(), from);
            role.stepDown();
            if (!leaseElection) {
                node.resignLeadership(); // two holders of the leader queue: split queue records on a broker cluster
            }
        }
        LOG.debug("{} follows leader {} (epoch {}), previously {}", node.self(), from, fromEpoch, previous);
        node.leaderChanged(from);
        table().evictRemote();
        requests.resendAll();
    }

    /** The leader found this node's registration of a name to be a duplicate, and it lost. */
    private void revoked(NodeId from, Revoke revoke) {
        if (!from.equals(leader)) {
            return;
        }
        Registration mine = table().lookup(revoke.name());
        if (mine != null && mine.isLocal() && mine.fencingToken() == revoke.token()) {
            LOG.warn("{} gives up {}: the leader found another owner of it", node.self(), revoke.name());
            table().remove(revoke.name(), node.self(), revoke.token(), Reason.FENCED);
            node.broadcast(new Unregister(revoke.name(), revoke.token()));
        }
    }

    // ---- membership ------------------------------------------------------------------------------

    @Override
    public void newMember(NodeId member) {
        role.newMember(member);
    }

    @Override
    public void synced(NodeId member, Set<NodeId> theirMembers, long theirLeaderEpoch) {
        role.synced(member, theirMembers, theirLeaderEpoch);
    }

    @Override
    public void duplicate(GlobalName name, NodeId loser, long token) {
        role.duplicate(name, loser, token);
    }

    @Override
    public void ownerKnown(GlobalName name, NodeId owner) {
    }

    @Override
    public void released(String key) {
    }

    /** Sends {@code olderLeader} this node's sync, which carries the newer epoch it knows; at most once per suspect-after. */
    private void tellOfNewerEpoch(NodeId olderLeader) {
        long now = node.runtime().monotonicMillis();
        if (now - toldOfNewerEpoch >= node.config().suspectAfter().toMillis()) {
            toldOfNewerEpoch = now;
            node.sendSync(olderLeader);
        }
    }

    @Override
    public void memberGone(NodeId member) {
        if (member.equals(leader) && !role.leading()) {
            leader = null;
            node.leaderChanged(null);
        }
        role.memberGone(member);
        if (electionTimer != null) {
            leadIfFirstInLine(); // the leader, or a member earlier in line, is gone: no need to wait for the timer
        }
    }
}
