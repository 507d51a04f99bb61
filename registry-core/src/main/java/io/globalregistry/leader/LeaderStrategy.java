package io.globalregistry.leader;

import io.globalregistry.OwnerChange.Reason;
import io.globalregistry.Registration;
import io.globalregistry.Registration.State;
import io.globalregistry.RegistrationResult;
import io.globalregistry.RegistrationTimeoutException;
import io.globalregistry.RegistryException;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
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
 */
public final class LeaderStrategy implements RegistrationStrategy {

    private static final Logger LOG = LoggerFactory.getLogger(LeaderStrategy.class);
    private static final Runnable NOTHING = () -> { };
    /** Beyond this many watched names the leader sweeps out expired watchers. */
    private static final int WATCHERS_SWEEP = 10_000;

    private final NodeContext node;

    // ---- this node as the leader
    private boolean leading;
    private boolean ready;
    private long epoch;
    private final Set<NodeId> awaiting = new LinkedHashSet<>();
    private final Set<NodeId> syncedThisEpoch = new java.util.HashSet<>();
    private final Map<String, Long> grantedBy = new HashMap<>();
    private final List<Runnable> deferred = new ArrayList<>();
    private final Map<String, Map<NodeId, Long>> watchers = new HashMap<>();
    private Cancellable rebuildTimer;

    // ---- the leader as this node knows it
    private volatile NodeId leader;
    private long knownEpoch;

    // ---- this node's own requests
    private long toldOfNewerEpoch = Long.MIN_VALUE / 2;
    private long nextId = 1;
    private final Map<Long, Request> requests = new LinkedHashMap<>();
    private final Map<String, Request> registering = new HashMap<>();
    private final Map<String, Request> lookingUp = new HashMap<>();
    private final Map<String, Long> wanted = new HashMap<>();

    private final boolean rebuild;
    /** Liveness LEASE: leadership follows the lease logs (see {@link #electionCheck}), not the leader queue. */
    private final boolean leaseElection;
    private Cancellable electionTimer;
    private boolean halted;

    public LeaderStrategy(NodeContext node) {
        this(node, true);
    }

    private LeaderStrategy(NodeContext node, boolean rebuild) {
        this.node = node;
        this.rebuild = rebuild;
        this.leaseElection = node.config().liveness() == Liveness.LEASE;
    }

    /**
     * An unsafe variant whose new leader answers at once, before it has every member's names: kept
     * only to show that the simulation catches what the rebuild prevents (two owners of a name).
     */
    public static LeaderStrategy withoutRebuild(NodeContext node) {
        return new LeaderStrategy(node, false);
    }

    /** One question of this node to the leader: register a name, or who owns it. */
    private final class Request {
        final long id;
        final GlobalName name;
        final boolean register;
        final boolean watch;
        final Object target;
        final long startedWall;
        final List<CompletableFuture<RegistrationResult>> registrations = new ArrayList<>(1);
        final List<CompletableFuture<Registration>> lookups = new ArrayList<>(1);
        Cancellable timeout;
        boolean retrying;

        Request(GlobalName name, boolean register, boolean watch, Object target) {
            this.id = nextId++;
            this.name = name;
            this.register = register;
            this.watch = watch;
            this.target = target;
            this.startedWall = node.runtime().wallClockMillis();
        }
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
        if (!halted && !leading && (leader == null || node.membership().isDead(leader)) && firstInLine()) {
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

    /** To the leader: the leader queue, or under {@code LEASE} the inbox of the leader this node follows. */
    private void toLeader(Message message, Runnable onReturned) {
        if (!leaseElection) {
            node.sendToLeader(message, onReturned);
            return;
        }
        NodeId to = leader;
        if (to == null || to.equals(node.self())) {
            onReturned.run(); // nobody known leads (or this node just stepped down): asked again after leader-retry
        } else {
            node.send(to, message, onReturned);
        }
    }

    @Override
    public boolean replicated() {
        return false;
    }

    @Override
    public boolean authoritative() {
        return leading && ready;
    }

    @Override
    public NodeId leader() {
        return leader;
    }

    @Override
    public long leaderEpoch() {
        return leading ? epoch : 0;
    }

    /** Whether this node holds the leader queue and has rebuilt its table. */
    public boolean isReadyLeader() {
        return leading && ready;
    }

    /**
     * This node holds the leader queue now. It forgets its cache, asks every member for its names,
     * and answers nothing until every live member answered (a silent one is checked with the broker).
     */
    private void elected() {
        leading = true;
        leader = node.self();
        node.leaderChanged(leader);
        table().evictRemote();
        grantedBy.clear();
        long newEpoch = Math.max(node.clock().tick(), knownEpoch + 1);
        LOG.info("{} leads cluster {} (epoch {}); rebuilding its table from {} member(s)", node.self(),
                node.config().cluster(), newEpoch, node.membership().memberIds().size() - 1);
        announce(newEpoch);
    }

    /** Leads under {@code newEpoch}: asks every member for its names and answers nothing until all did. */
    private void announce(long newEpoch) {
        epoch = newEpoch;
        knownEpoch = newEpoch;
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

    @Override
    public long knownLeaderEpoch() {
        return knownEpoch;
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
        for (Request request : List.copyOf(requests.values())) {
            send(request);
        }
    }

    /** The broker says this node lost the leader queue (its election connection is gone). */
    private void deposed() {
        if (!leading) {
            return;
        }
        LOG.warn("{} no longer leads cluster {} (epoch {}): it lost the leader queue", node.self(),
                node.config().cluster(), epoch);
        stepDown();
        if (node.self().equals(leader)) {
            leader = null;
            node.leaderChanged(null);
        }
        resendAll();
    }

    private void stepDown() {
        leading = false;
        ready = false;
        if (rebuildTimer != null) {
            rebuildTimer.cancel();
        }
        awaiting.clear();
        deferred.clear();
        watchers.clear();
    }

    @Override
    public void halt(String why) {
        halted = true;
        if (electionTimer != null) {
            electionTimer.cancel();
        }
        stepDown();
        for (Request request : List.copyOf(requests.values())) {
            forget(request);
            RegistryException error = new RegistryException("Registration of " + request.name.key()
                    + " abandoned: " + why);
            request.registrations.forEach(r -> r.completeExceptionally(error));
            request.lookups.forEach(r -> r.complete(null));
        }
        wanted.clear();
    }

    // ---- API ---------------------------------------------------------------------------------

    @Override
    public void register(GlobalName name, Object target, CompletableFuture<RegistrationResult> result) {
        Registration existing = table().lookup(name.key());
        if (existing != null && existing.isLocal()) {
            result.complete(new RegistrationResult(false, existing.owner()));
            return;
        } // a cached owner may be stale: only the leader decides
        Request request = registering.get(name.key());
        if (request != null) {
            request.registrations.add(result);
            return;
        }
        request = new Request(name, true, false, target);
        request.registrations.add(result);
        registering.put(name.key(), request);
        start(request);
    }

    @Override
    public void resolve(GlobalName name, boolean watch, CompletableFuture<Registration> result) {
        if (watch) {
            wanted.put(name.key(), node.runtime().monotonicMillis() + node.config().callTimeout().toMillis());
        }
        if (leading && ready) {
            result.complete(table().lookup(name.key()));
            return;
        }
        Request request = lookingUp.get(name.key());
        if (request != null) {
            request.lookups.add(result);
            return;
        }
        request = new Request(name, false, watch, null);
        request.lookups.add(result);
        lookingUp.put(name.key(), request);
        start(request);
    }

    private void start(Request request) {
        requests.put(request.id, request);
        request.timeout = node.runtime().schedule(node.config().claimTimeout().toMillis(), () -> expire(request));
        send(request);
    }

    /** To the leader: this node itself when it leads (once rebuilt), else the leader queue. */
    private void send(Request request) {
        if (requests.get(request.id) != request) {
            return;
        }
        if (leading) {
            if (ready) {
                decideOwn(request);
            } // else becomeReady sends it
            return;
        }
        toLeader(new Resolve(request.name.key(), request.id, request.register, request.watch),
                () -> returned(request));
    }

    /** Nobody holds the leader queue: try again after leader-retry, until the request expires. */
    private void returned(Request request) {
        if (requests.get(request.id) != request || request.retrying) {
            return;
        }
        request.retrying = true;
        node.runtime().schedule(node.config().leaderRetry().toMillis(), () -> {
            request.retrying = false;
            send(request);
        });
    }

    private void expire(Request request) {
        if (requests.get(request.id) != request) {
            return;
        }
        forget(request);
        String detail = "no leader decided within " + node.config().claimTimeout().toMillis() + " ms"
                + (leader == null ? " (no leader known)" : " (leader " + leader + ")");
        request.registrations.forEach(r -> r.completeExceptionally(
                new RegistrationTimeoutException(request.name.key(), detail)));
        request.lookups.forEach(r -> r.complete(null));
    }

    private void forget(Request request) {
        requests.remove(request.id);
        registering.remove(request.name.key(), request);
        lookingUp.remove(request.name.key(), request);
        if (request.timeout != null) {
            request.timeout.cancel();
        }
    }

    /** This node leads: it answers its own request from its table. */
    private void decideOwn(Request request) {
        Registration current = table().lookup(request.name.key());
        if (request.register && current == null) {
            long token = grant(request.name, node.self(), request.target);
            finish(request, node.self(), token);
        } else {
            finish(request, current == null ? null : current.owner(), current == null ? 0 : current.fencingToken());
        }
    }

    /** The leader's decision for {@code request}: {@code owner} (null: nobody) owns the name with {@code token}. */
    private void finish(Request request, NodeId owner, long token) {
        forget(request);
        String key = request.name.key();
        if (request.register) {
            RegistrationResult result;
            if (node.self().equals(owner)) {
                Registration mine = table().lookup(key);
                if (mine == null || !mine.isLocal()) {
                    if (mine != null) { // a stale cache entry: the leader knows better
                        table().remove(key, mine.owner(), Long.MAX_VALUE, Reason.UNREGISTERED);
                    }
                    table().putLocal(request.name, token, token, node.runtime().wallClockMillis(), request.target);
                }
                result = new RegistrationResult(true, node.self());
            } else {
                cache(request.name, owner, token);
                result = new RegistrationResult(false, owner);
            }
            request.registrations.forEach(r -> r.complete(result));
        } else {
            cache(request.name, owner, token);
            Registration found = owner == null ? null : table().lookup(key);
            request.lookups.forEach(r -> r.complete(found));
        }
    }

    /** Caches {@code owner} of {@code name}, unless nobody owns it, it is this node, or its death is certified here. */
    private void cache(GlobalName name, NodeId owner, long token) {
        if (owner == null || owner.equals(node.self()) || node.membership().isDead(owner)) {
            return;
        }
        // a member from now on, if it was not: should it die silently, it is suspected and its entry goes
        node.membership().heard(owner, node.runtime().monotonicMillis());
        table().applyRemote(name, owner, token, node.clock().tick(), node.runtime().wallClockMillis());
        wanted.remove(name.key());
    }

    @Override
    public List<Registration> pending() {
        List<Registration> out = new ArrayList<>();
        for (Request request : registering.values()) {
            out.add(new Registration(request.name, node.self(), State.PENDING, 0, request.startedWall, null));
        }
        return out;
    }

    // ---- messages ------------------------------------------------------------------------------

    @Override
    public boolean onMessage(Envelope envelope) {
        Message body = envelope.body();
        NodeId sender = envelope.sender();
        if (body instanceof Resolve resolve) {
            answer(sender, resolve);
        } else if (body instanceof Resolved resolved) {
            resolved(sender, resolved);
        } else if (body instanceof Leader announced) {
            announced(sender, announced.epoch());
        } else if (body instanceof Revoke revoke) {
            revoked(sender, revoke);
        } else if (body instanceof Hello) {
            if (leading) {
                node.send(sender, new Leader(epoch), NOTHING); // a joiner learns the leader at once
            }
        } else if (body instanceof Sync) {
            return !leading; // only the leader collects names; a cache learns owners when it asks
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

    /** The leader answers a member's request (once rebuilt; until then it waits). */
    private void answer(NodeId from, Resolve request) {
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
    private long grant(GlobalName name, NodeId owner, Object target) {
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

    /** A leader's answer to one of this node's requests (id 0: an owner appeared for a name it watches). */
    private void resolved(NodeId from, Resolved answer) {
        if (!acceptFrom(from, answer.epoch())) {
            return;
        }
        if (answer.id() == 0) {
            cache(new GlobalName(answer.name()), answer.owner(), answer.token());
            return;
        }
        Request request = requests.get(answer.id());
        if (request != null && request.name.key().equals(answer.name())) {
            finish(request, answer.owner(), answer.token());
        }
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
        if (leading) {
            LOG.warn("{} stops leading cluster {}: {} leads with a newer epoch", node.self(), node.config().cluster(), from);
            stepDown();
            if (!leaseElection) {
                node.resignLeadership(); // two holders of the leader queue: split queue records on a broker cluster
            }
        }
        LOG.debug("{} follows leader {} (epoch {}), previously {}", node.self(), from, fromEpoch, previous);
        node.leaderChanged(from);
        table().evictRemote();
        resendAll();
    }

    private void resendAll() {
        for (Request request : List.copyOf(requests.values())) {
            send(request);
        }
        long now = node.runtime().monotonicMillis();
        wanted.values().removeIf(until -> until < now);
        for (String key : wanted.keySet()) {
            if (table().lookup(key) == null && !lookingUp.containsKey(key)) {
                toLeader(new Resolve(key, 0, false, true), NOTHING);
            }
        }
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
    @Override
    public void synced(NodeId member, Set<NodeId> theirMembers, long theirLeaderEpoch) {
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

    @Override
    public void duplicate(GlobalName name, NodeId loser, long token) {
        if (leading && !loser.equals(node.self())) {
            LOG.warn("Leader {} found two owners of {}; {} (token {}) gives it up", node.self(), name.key(), loser, token);
            node.send(loser, new Revoke(name.key(), token), NOTHING);
        }
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
        if (member.equals(leader) && !leading) {
            leader = null;
            node.leaderChanged(null);
        }
        for (Map<NodeId, Long> byMember : watchers.values()) {
            byMember.remove(member);
        }
        if (leading && awaiting.remove(member)) {
            checkReady();
        }
        if (electionTimer != null) {
            leadIfFirstInLine(); // the leader, or a member earlier in line, is gone: no need to wait for the timer
        }
    }
}
