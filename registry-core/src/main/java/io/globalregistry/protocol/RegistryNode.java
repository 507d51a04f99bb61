package io.globalregistry.protocol;

import io.globalregistry.OwnerChange;
import io.globalregistry.OwnerChange.Reason;
import io.globalregistry.Registration;
import io.globalregistry.RegistrationResult;
import io.globalregistry.RegistryException;
import io.globalregistry.clock.HybridLogicalClock;
import io.globalregistry.membership.Membership;
import io.globalregistry.membership.NodeId;
import io.globalregistry.name.GlobalName;
import io.globalregistry.support.RateLimitedLog;
import io.globalregistry.wire.Envelope;
import io.globalregistry.wire.Message;
import io.globalregistry.wire.Message.Advertise;
import io.globalregistry.wire.Message.Bye;
import io.globalregistry.wire.Message.Deliver;
import io.globalregistry.wire.Message.Heartbeat;
import io.globalregistry.wire.Message.Hello;
import io.globalregistry.wire.Message.OwnedName;
import io.globalregistry.wire.Message.Sync;
import io.globalregistry.wire.Message.SyncRequest;
import io.globalregistry.wire.Message.Unregister;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * One node of the registry as a state machine: membership, the name table and a registration
 * strategy, driven by messages, timers and API calls that all run on one event loop (so it needs
 * no locks and the simulation can replay it exactly). Only {@link #lookup} is safe from other threads.
 *
 * <p>Steps and invariants are in {@code docs/PROTOCOL.md}.
 */
public final class RegistryNode implements NodeContext {

    /** A node fenced for this many fence-after periods stops hearing itself for good: it gives up (see {@link #giveUp}). */
    static final int GIVE_UP_AFTER_FENCES = 5;

    private static final Logger LOG = LoggerFactory.getLogger(RegistryNode.class);

    private final NodeId self;
    private final RegistryConfig config;
    private final NodeRuntime runtime;
    private final Transport transport;
    private final HybridLogicalClock clock;
    private final Membership membership;
    private final NameTable table;
    private final RegistrationStrategy strategy;
    private final AntiEntropy syncs;
    /** Under LEASE: the clock value of each member's newest heartbeat handled (each comes once per lease log). */
    private final Map<NodeId, Long> newestHeartbeat = new HashMap<>();
    private final List<Runnable> waitingForJoin = new ArrayList<>();
    private final String strategyName;
    private final RateLimitedLog mismatchLog = new RateLimitedLog(LOG, Level.ERROR);
    private String stopReason;
    private final Set<NodeId> refused = new HashSet<>();
    private final Set<NodeId> joinedAfterUs = new HashSet<>();
    private BiConsumer<Registration, Deliver> deliveries = (r, d) -> { };
    private Consumer<NodeId> leaderChanges = leader -> { };
    private Consumer<String> gaveUp = why -> { };
    private volatile boolean joined;
    private volatile boolean stopped;
    private volatile boolean fenced;
    private long startedAt;
    private final boolean leaseRule;
    private final Leases leases;
    /** Crash detection (docs/PROTOCOL.md, "Liveness", rule 6). */
    private final CrashDetector crashes;
    /** Under LEASE with confirmed heartbeats: whether this node reads the lease logs, and what readers tell (rule 7). */
    private final LeaseReaders readers;
    /** What and when this node heartbeats (rules 1 and 8). */
    private final OwnHeartbeats heartbeats;

    public RegistryNode(NodeId self, RegistryConfig config, NodeRuntime runtime, Transport transport,
                        Consumer<OwnerChange> events, Function<NodeContext, RegistrationStrategy> strategy) {
        this.self = self;
        this.config = config;
        this.runtime = runtime;
        this.transport = transport;
        this.clock = new HybridLogicalClock(runtime::wallClockMillis);
        this.membership = new Membership(self);
        this.table = new NameTable(self, change -> {
            if (self.equals(change.newOwner())) {
                gainedName();
            }
            events.accept(change);
        });
        this.strategy = strategy.apply(this);
        this.syncs = new AntiEntropy(this, this.strategy, this::advertised);
        this.strategyName = config.strategy().name().toLowerCase(Locale.ROOT);
        if (config.liveness() == RegistryConfig.Liveness.AUTO) {
            throw new IllegalArgumentException("liveness AUTO must be resolved (to BROKER or LEASE) before a node starts");
        }
        this.leaseRule = config.liveness() == RegistryConfig.Liveness.LEASE;
        this.leases = leaseRule
                ? new Leases(config.leaseMillis(), config.idleLeaseMillis(), config::takeoverMillis, RegistryConfig.LEASE_LOGS)
                : new Leases(config.fenceAfter().toMillis(), config.fenceAfter().toMillis(), lease -> lease, 1);
        this.readers = new LeaseReaders(self, membership, config.suspectAfter().toMillis());
        this.heartbeats = new OwnHeartbeats(config, runtime, transport, leases, this::envelope, this::heartbeat,
                this::giveUp, () -> stopped);
        this.crashes = new CrashDetector(self, config, runtime, transport, membership, () -> stopped,
                () -> table.count(self), this::memberGone);
    }

    private void gainedName() {
        heartbeats.wake();
        crashes.gained();
    }

    /** Who is told of leader changes (strategy leader), on the loop. */
    public void onLeaderChange(Consumer<NodeId> handler) {
        this.leaderChanges = handler;
    }

    @Override
    public void leaderChanged(NodeId leader) {
        leaderChanges.accept(leader);
    }

    /** Where one-way messages for names owned here go. */
    public void onDeliver(BiConsumer<Registration, Deliver> handler) {
        this.deliveries = handler;
    }

    /** Told, on the loop and with why, when this node has given its incarnation up (see {@link #giveUp}). */
    public void onGiveUp(Consumer<String> handler) {
        this.gaveUp = handler;
    }

    // ---- life cycle ------------------------------------------------------------------------

    /**
     * Join: say hello, collect the others' names for the join window, then allow claims; not before
     * a member cut off from the broker, which this node cannot hear, has fenced ({@link RegistryConfig#joinMillis()}).
     */
    public void start() {
        startedAt = runtime.monotonicMillis();
        heartbeats.start(startedAt, leaseRule && transport.confirmsHeartbeats());
        readers.started(startedAt);
        if (leaseRule) {
            crashes.start();
        }
        broadcast(new Hello(strategyName));
        runtime.schedule(config.joinMillis(), this::joined);
        tick();
    }

    private void joined() {
        if (stopped) {
            return;
        }
        if (leaseRule && !leases.readBackSentAfter(startedAt)) {
            // Join, step 3 under LEASE: a member that acts now has a heartbeat in the log before ours
            runtime.schedule(config.heartbeatInterval().toMillis(), this::joined);
            return;
        }
        joined = true;
        strategy.start();
        List<Runnable> waiting = List.copyOf(waitingForJoin);
        waitingForJoin.clear();
        waiting.forEach(Runnable::run);
    }

    /** Graceful stop: unregister every owned name, then say goodbye. */
    public void leave() {
        if (stopped) {
            return;
        }
        for (Registration r : table.ownedBy(self)) {
            unregister(r.name());
        }
        broadcast(new Bye());
        stop("this node left the cluster");
    }

    /** Stop without a word (the simulation's crash; the AMQP transport's connection is gone). */
    public void halt() {
        stop("this node was halted");
    }

    private void stop(String why) {
        if (!stopped) {
            stopped = true;
            stopReason = why;
            strategy.halt(why);
            waitingForJoin.clear();
        }
    }

    /**
     * Self-fencing (DESIGN 6b): this node has not heard its own heartbeat come back through the
     * broker for fence-after, so the broker may be about to delete its inbox and the others to take
     * its names. It gives them up first (listeners are told, reason FENCED) and refuses
     * registrations until it hears itself again; then it is an ordinary member without names.
     */
    private void suspend(long silentMillis) {
        fenced = true;
        table.removeOwner(self, Reason.FENCED);
        strategy.halt("this node fenced itself: it heard none of its own heartbeats for " + silentMillis + " ms");
    }

    /** The transport lost the broker connection: the inbox is gone for good, so fence and stop. */
    public void connectionLost() {
        giveUp("its connection to the broker was lost");
    }

    /**
     * This incarnation is over: fence, stop and drop the connection, so the others certify it dead
     * instead of waiting for a member that will never answer. Whoever runs the node may start a new
     * incarnation (it is told through {@link #onGiveUp}).
     */
    private void giveUp(String why) {
        if (!stopped) {
            fenced = true;
            table.removeOwner(self, Reason.FENCED);
            stop("this node fenced itself and stopped: " + why);
            transport.disconnect();
            gaveUp.accept(why);
        }
    }

    /** Whether this node is fenced: it does not hear itself through the broker, or lost its connection. */
    public boolean isFenced() {
        return fenced || (leaseRule && !leases.memberAt(runtime.monotonicMillis()));
    }

    /**
     * Whether this node may act as an owner now: it runs and its lease is valid on the monotonic clock
     * (under LEASE, a heartbeat of its own sent less than the lease ago was read back from the lease
     * log; under BROKER, one sent less than fence-after ago was heard back and it is not fenced).
     * Checked where an owner acts: an incoming call, a delivery, a {@code @GlobalSingleton}'s task. Any thread.
     */
    public boolean leaseValid() {
        long now = runtime.monotonicMillis();
        return !stopped && !fenced && leases.validAt(now) && crashes.pingFresh(now);
    }

    /** Whether this node holds its lease now, whether or not the broker answered a ping lately. Any thread. */
    public boolean leaseHeld() {
        return !stopped && !fenced && leases.validAt(runtime.monotonicMillis());
    }

    /**
     * {@link #leaseValid()}, but while the incarnation holds and only a ping answer, or a busy heartbeat after an idle
     * spell (rule 8), is missing (a slow broker, a pause, a name just gained), it waits for one, up to a lease, rather
     * than refuse: a stale ping delays an act, only a lapsed lease (or a stop) refuses it. For threads about to act
     * (never the loop).
     */
    public boolean leaseValidWaiting() {
        if (leaseValid()) {
            return true;
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.leaseMillis());
        while (!stopped && !fenced && leases.memberAt(runtime.monotonicMillis()) && System.nanoTime() < deadline
                && (crashes.grace() > 0 || !leases.validAt(runtime.monotonicMillis()))) {
            LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(500));
            if (leaseValid()) {
                return true;
            }
        }
        return false;
    }

    /** Crash detection: the grace this node announces (0: off, e.g. the broker reports no closed connections). */
    public long crashGraceMillis() {
        return crashes.grace();
    }

    /** When this node's lease runs out (monotonic ms; {@link Long#MIN_VALUE} before the first). */
    public long leaseValidUntil() {
        return leases.validUntil();
    }

    public boolean isJoined() {
        return joined;
    }

    public boolean isStopped() {
        return stopped;
    }

    /** When this node last heard its own heartbeat come back through the broker (monotonic ms). */
    public long lastOwnHeartbeat() {
        return heartbeats.lastHeard();
    }

    // ---- API, on the event loop -------------------------------------------------------------

    public void register(GlobalName name, Object target, CompletableFuture<RegistrationResult> result) {
        if (stopped) {
            result.completeExceptionally(new IllegalStateException("The registry node " + self + " is stopped: "
                    + stopReason));
        } else if (fenced || (joined && leaseRule && !leases.memberAt(runtime.monotonicMillis()))) {
            result.completeExceptionally(new RegistryException("The registry node " + self + " is fenced: it has not "
                    + "heard itself through the broker for " + config.fenceAfter().toMillis() + " ms; try again later"));
        } else if (!joined) {
            waitingForJoin.add(() -> {
                heartbeats.wake();
                strategy.register(name, target, result);
            });
        } else {
            heartbeats.wake();
            strategy.register(name, target, result);
        }
    }

    /** Releases a name this node owns; false if it does not own it. */
    public boolean unregister(GlobalName name) {
        Registration current = table.lookup(name.key());
        if (current == null || !current.isLocal()) {
            return false;
        }
        table.remove(name.key(), self, current.fencingToken(), Reason.UNREGISTERED);
        strategy.released(name.key());
        broadcast(new Unregister(name.key(), current.fencingToken()));
        return true;
    }

    /**
     * Looks {@code name} up: from the table, and under a strategy whose nodes do not hold every name
     * ({@code leader}), from the leader when the table has none. Completes {@code result} with null
     * when nobody owns it.
     */
    public void resolve(GlobalName name, boolean watch, CompletableFuture<Registration> result) {
        Registration known = table.lookup(name.key());
        if (known != null || strategy.replicated() || stopped) {
            result.complete(known);
        } else {
            strategy.resolve(name, watch, result);
        }
    }

    /** The registration strategy (for the simulation's checks). */
    public RegistrationStrategy strategy() {
        return strategy;
    }

    /**
     * {@code owner} said it does not own {@code key}: under a strategy whose table is a cache
     * ({@code leader}) the cached entry goes. Under {@code claim} the table follows the owners' own
     * messages, so it is left alone.
     */
    public void forgetCached(String key, NodeId owner) {
        Registration cached = table.lookup(key);
        if (!strategy.replicated() && cached != null && !cached.isLocal() && cached.owner().equals(owner)) {
            table.remove(key, owner, cached.fencingToken(), Reason.UNREGISTERED);
        }
    }

    /** The leader as this node knows it; null under the claim strategy. */
    public NodeId leader() {
        return strategy.leader();
    }

    /** Why this node stopped, or null while it runs. */
    public String stopReason() {
        return stopReason;
    }

    /** Every registration this node knows, pending claims included. */
    public List<Registration> registrations() {
        List<Registration> all = new ArrayList<>(table.all());
        all.addAll(strategy.pending());
        return all;
    }

    /** The registration of a canonical key; safe from any thread. */
    public Registration lookup(String key) {
        return table.lookup(key);
    }

    // ---- NodeContext -------------------------------------------------------------------------

    @Override
    public NodeId self() {
        return self;
    }

    @Override
    public RegistryConfig config() {
        return config;
    }

    @Override
    public NodeRuntime runtime() {
        return runtime;
    }

    @Override
    public HybridLogicalClock clock() {
        return clock;
    }

    @Override
    public Membership membership() {
        return membership;
    }

    @Override
    public NameTable table() {
        return table;
    }

    @Override
    public void broadcast(Message message) {
        transport.broadcast(envelope(message));
    }

    @Override
    public void send(NodeId to, Message message, Runnable onReturned) {
        transport.send(to, envelope(message), onReturned);
    }

    @Override
    public void checkAlive(NodeId member, Consumer<Boolean> alive) {
        if (leaseRule) {
            // LEASE: no broker node's answer certifies a death; the lease logs do, as soon as they can (ownHeartbeat).
            // A node only heard of (e.g. named in another's sync) becomes a member, so they can certify it too.
            if (!member.equals(self) && !membership.isDead(member) && !membership.isMember(member)) {
                membership.heard(member, runtime.monotonicMillis());
            }
            boolean isAlive = !membership.isDead(member);
            runtime.execute(() -> alive.accept(isAlive));
            return;
        }
        transport.checkAlive(member, isAlive -> {
            if (isAlive) {
                membership.checkedAlive(member, runtime.monotonicMillis());
            } else {
                memberGone(member);
            }
            alive.accept(isAlive);
        });
    }

    @Override
    public void sendToLeader(Message message, Runnable onReturned) {
        transport.sendToLeader(envelope(message), onReturned);
    }

    @Override
    public void contendForLeadership(Runnable elected, Runnable deposed) {
        transport.contendForLeadership(config.leaderRetry().toMillis(), () -> {
            if (!stopped) {
                elected.run();
            }
        }, () -> {
            if (!stopped) {
                deposed.run();
            }
        });
    }

    @Override
    public void resignLeadership() {
        if (!stopped) {
            transport.resignLeadership();
        }
    }

    private Envelope envelope(Message message) {
        return new Envelope(Envelope.PROTOCOL_VERSION, self, config.cluster(), clock.tick(), message);
    }

    // ---- timers ------------------------------------------------------------------------------

    private void tick() {
        if (stopped) {
            return;
        }
        long now = runtime.monotonicMillis();
        long silent = now - heartbeats.lastHeard();
        if (leaseRule) {
            if (leases.lapsed(now)) {
                giveUp("its lease lapsed " + (now - leases.memberUntil()) + " ms ago: no heartbeat of its own sent in the"
                        + " last " + leases.leaseMillis() + " ms (" + config.idleLeaseMillis() + " ms idle) came back"
                        + " through the lease log");
                return;
            }
            if (silent > GIVE_UP_AFTER_FENCES * config.fenceAfter().toMillis() + config.idleHeartbeatInterval().toMillis()) {
                giveUp("it read none of its own heartbeats back from the lease log for " + silent + " ms");
                return;
            }
        } else {
            if (joined && !fenced && silent > config.fenceAfter().toMillis()) {
                suspend(silent);
            }
            if (fenced && silent > GIVE_UP_AFTER_FENCES * config.fenceAfter().toMillis()) {
                giveUp("it heard none of its own heartbeats for " + silent + " ms: its inbox is gone");
                return;
            }
        }
        boolean busy = !joined || table.count(self) > 0 || strategy.leaderEpoch() > 0 || heartbeats.registering(now);
        heartbeats.tick(now, busy ? OwnHeartbeats.Duty.BUSY
                : readers.reading() ? OwnHeartbeats.Duty.READING : OwnHeartbeats.Duty.IDLE);
        if (heartbeats.confirmed()) {
            updateReaders(now, heartbeat(config.leaseMillis()));
        }
        if (!leaseRule) {
            for (NodeId suspect : membership.takeSuspects(now, config.suspectAfter().toMillis())) {
                checkAlive(suspect, alive -> { });
            }
        }
        runtime.schedule(config.heartbeatInterval().toMillis(), this::tick);
    }

    private Heartbeat heartbeat(long lease) {
        return new Heartbeat(table.count(self), table.digest(self), strategyName, strategy.leaderEpoch(),
                crashes.grace(), lease);
    }

    /**
     * Rule 7: reads the lease logs only while this node joins, is among the first readers in line, or hears no
     * reader; a reader in line broadcasts its summary every suspect-after.
     */
    private void updateReaders(long now, Heartbeat own) {
        boolean read = readers.shouldRead(joined, now);
        if (read != readers.reading()) {
            readers.reading(read);
            if (read) {
                leases.restartReading();
                transport.readLeaseLogs(true, leases::restartReading); // again once attached: nothing before was read
            } else {
                transport.readLeaseLogs(false, () -> { });
            }
        }
        Message.Summary summary = readers.summaryDue(joined, now, own);
        if (summary != null) {
            broadcast(summary);
        }
    }

    // ---- messages ----------------------------------------------------------------------------

    /** Handles one message from the transport (under LEASE, heartbeats come through {@link #onLeaseHeartbeat} only). */
    public void onMessage(Envelope envelope) {
        if (stopped || !config.cluster().equals(envelope.cluster())) {
            return;
        }
        if (envelope.body() instanceof Heartbeat && leaseRule) {
            return; // not from a lease log: proves nothing
        }
        if (envelope.sender().equals(self)) {
            if (envelope.body() instanceof Heartbeat) {
                ownHeartbeat(0, envelope.hlc());
            }
            return;
        }
        handle(envelope);
    }

    /**
     * Under LEASE: a heartbeat read from lease log {@code log} (each heartbeat comes once from each log).
     * Ours extends our lease in that log; a member's marks when we last read it there, and the first copy
     * is handled like any heartbeat (membership, digest).
     */
    public void onLeaseHeartbeat(int log, Envelope envelope) {
        if (stopped || !leaseRule || !config.cluster().equals(envelope.cluster())
                || !(envelope.body() instanceof Heartbeat) || log < 0 || log >= leases.logs()) {
            return;
        }
        NodeId sender = envelope.sender();
        if (sender.equals(self)) {
            ownHeartbeat(log, envelope.hlc());
            return;
        }
        if (membership.isDead(sender)) {
            return;
        }
        leases.read(sender, log, runtime.monotonicMillis(), ((Heartbeat) envelope.body()).lease());
        Long newest = newestHeartbeat.get(sender);
        if (newest != null && newest >= envelope.hlc()) {
            return; // a copy from another log
        }
        newestHeartbeat.put(sender, envelope.hlc());
        readers.read(sender, (Heartbeat) envelope.body());
        handle(envelope);
    }

    private void handle(Envelope envelope) {
        NodeId sender = envelope.sender();
        if (membership.isDead(sender) || otherStrategy(envelope)) {
            return;
        }
        clock.receive(envelope.hlc());
        boolean isNew = membership.heard(sender, runtime.monotonicMillis());
        if (envelope.body() instanceof Heartbeat heartbeat) {
            crashes.announced(sender, heartbeat.crashGrace());
        }
        if (isNew && !(envelope.body() instanceof Hello)) {
            if (strategy.replicated()) {
                sendSync(sender);
            } else {
                strategy.newMember(sender);
            }
        }
        if (strategy.onMessage(envelope)) {
            return;
        }
        Message body = envelope.body();
        if (body instanceof Heartbeat heartbeat) {
            if (strategy.authoritative()) {
                syncs.checkDigest(sender, heartbeat);
            }
        } else if (body instanceof Hello || body instanceof SyncRequest) {
            sendSync(sender);
        } else if (body instanceof Sync sync) {
            syncs.applySync(sender, sync);
        } else if (body instanceof Advertise advertise) {
            advertised(sender, advertise.name(), advertise.token(), envelope.hlc());
        } else if (body instanceof Unregister unregister) {
            if (table.remove(unregister.name(), sender, unregister.token(), Reason.UNREGISTERED)) {
                strategy.released(unregister.name());
            }
        } else if (body instanceof Bye) {
            memberGone(sender);
        } else if (body instanceof Message.Down down) {
            downReported(sender, down.node());
        } else if (body instanceof Message.Summary summary) {
            readers.summaryHeard(sender, summary, runtime.monotonicMillis());
            for (NodeId dead : summary.dead()) {
                downReported(sender, dead);
            }
            for (Message.Summary.Entry entry : summary.members()) {
                // a reader takes its own reads, save for members it has not heard of yet (an idle member's heartbeats
                // are seconds apart; a joiner may read none while it joins)
                if (!readers.reading() || !membership.isMember(entry.node())) {
                    if (!entry.node().equals(self)) { // as if its heartbeat came: membership, digest, epoch, grace
                        handle(new Envelope(envelope.version(), entry.node(), envelope.cluster(), envelope.hlc(),
                                entry.heartbeat()));
                    }
                }
            }
        } else if (body instanceof Deliver deliver) {
            Registration target = table.lookup(deliver.name());
            if (target != null && target.isLocal() && leaseValid()) {
                deliveries.accept(target, deliver);
            }
        }
    }

    /**
     * A heartbeat of this node's own came back through the broker (under LEASE: from the lease log,
     * so a majority of broker nodes stores it). Its send time extends the lease; under LEASE a lease
     * that lapsed before ends the incarnation, and every member none of whose heartbeats came before
     * it for the takeover time is certified dead (docs/PROTOCOL.md, "Liveness").
     */
    private void ownHeartbeat(int log, long hlc) {
        long now = runtime.monotonicMillis();
        Leases.Sent sent = leases.sendTimeOf(hlc);
        if (sent == null) {
            return; // not one this incarnation sent (or long forgotten): proves nothing
        }
        if (leaseRule && leases.lapsed(now)) {
            giveUp("its lease lapsed " + (now - leases.memberUntil()) + " ms before this heartbeat came back");
            return;
        }
        heartbeats.heard(now);
        leases.extend(log, sent);
        if (!leaseRule) {
            fenced = false; // heard through the broker again: its inbox exists, nobody took it for dead
            return;
        }
        for (NodeId expired : leases.expired(List.copyOf(membership.memberIds()), now)) {
            LOG.info("{} certifies {} dead: none of its heartbeats came through {} of the {} lease logs for the takeover"
                    + " of the lease it announced ({} ms, {} ms idle)", self, expired, RegistryConfig.LEASE_LOGS / 2 + 1,
                    RegistryConfig.LEASE_LOGS, config.takeoverMillis(), config.idleTakeoverMillis());
            memberGone(expired);
            if (heartbeats.confirmed()) {
                readers.certified(expired, now);
                broadcast(new Message.Down(expired)); // those that do not read the logs take a reader's word
            }
        }
    }

    /**
     * A node of another strategy is refused (every node of a cluster must use the same): all its
     * messages are dropped, so it never becomes a member, with an error on this side. A node that,
     * before it has joined, hears the heartbeat of a node of another strategy that was there before
     * it (no hello of it was heard) stops, with an error on the joiner's side.
     */
    private boolean otherStrategy(Envelope envelope) {
        NodeId sender = envelope.sender();
        String theirs;
        if (envelope.body() instanceof Heartbeat heartbeat) {
            theirs = heartbeat.strategy();
        } else if (envelope.body() instanceof Hello hello) {
            theirs = hello.strategy();
        } else {
            return refused.contains(sender);
        }
        if (theirs.equals(strategyName)) {
            refused.remove(sender);
            return false;
        }
        if (refused.add(sender) && membership.isMember(sender)) {
            memberGone(sender);
        }
        if (envelope.body() instanceof Hello) {
            joinedAfterUs.add(sender); // it joins now: it is the one refused, this node stays
        }
        if (!joined && !joinedAfterUs.contains(sender)) {
            String why = "node " + sender + " of cluster " + config.cluster() + " uses the '" + theirs
                    + "' strategy and this node '" + strategyName + "': every node of a cluster must use the same"
                    + " global-registry.strategy";
            LOG.error("Node {} refuses to join: {}", self, why);
            stop(why);
            transport.disconnect();
        } else {
            mismatchLog.log("Node {} refuses node {}: it uses the '{}' strategy, this cluster '{}' (every node of a "
                    + "cluster must use the same global-registry.strategy)", self, sender, theirs, strategyName);
        }
        return true;
    }

    private void advertised(NodeId owner, String key, long token, long hlc) {
        GlobalName name = new GlobalName(key);
        Registration before = table.lookup(key);
        table.applyRemote(name, owner, token, hlc, runtime.wallClockMillis());
        Registration now = table.lookup(key);
        if (now != null && now.owner().equals(owner)) {
            strategy.ownerKnown(name, owner);
            if (before != null && !before.owner().equals(owner)) {
                strategy.duplicate(name, before.owner(), before.fencingToken());
            }
        } else if (now != null) {
            strategy.duplicate(name, owner, token);
        }
    }

    /** Sends {@code to} the complete list of names this node owns, in parts ({@link AntiEntropy#sendSync}). */
    @Override
    public void sendSync(NodeId to) {
        syncs.sendSync(to);
    }

    /**
     * Rule 7: {@code reader} certified {@code node} dead by the lease logs. A node told it is dead itself lost
     * its lease by then (rule 3), so its incarnation ends.
     */
    private void downReported(NodeId reader, NodeId node) {
        if (node.equals(self)) {
            giveUp(reader + " certified it dead by the lease logs");
        } else if (!membership.isDead(node)) {
            LOG.info("{} takes {} dead: {} certified it by the lease logs", self, node, reader);
            memberGone(node);
        }
    }

    private void memberGone(NodeId member) {
        membership.remove(member);
        leases.forget(member);
        crashes.forget(member);
        readers.forget(member);
        newestHeartbeat.remove(member);
        table.removeOwner(member);
        strategy.memberGone(member);
        syncs.forget(member);
    }
}
