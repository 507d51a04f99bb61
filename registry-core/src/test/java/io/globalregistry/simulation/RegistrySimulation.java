package io.globalregistry.simulation;

import io.globalregistry.OwnerChange;
import io.globalregistry.Registration;
import io.globalregistry.RegistrationResult;
import io.globalregistry.claim.ClaimStrategy;
import io.globalregistry.leader.LeaderStrategy;
import io.globalregistry.protocol.NodeContext;
import io.globalregistry.protocol.RegistrationStrategy;
import io.globalregistry.membership.NodeId;
import io.globalregistry.name.GlobalName;
import io.globalregistry.protocol.RegistryConfig;
import io.globalregistry.protocol.RegistryNode;
import io.globalregistry.simulation.SimulatedNetwork.Faults;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * One seeded run of a registration strategy ({@code claim} or {@code leader}) over the {@link SimulatedNetwork}: a chaos phase with
 * random registrations (often several nodes racing for one name), unregistrations, crashes,
 * restarts, graceful leaves and cut-offs (a running node loses the broker, which notices only
 * seconds later) over a network that delays, reorders, loses and duplicates
 * messages, with wall clocks skewed up to ±10 s; then a quiet phase; then a liveness probe.
 *
 * <p>Invariants of docs/PROTOCOL.md checked:
 * <ul>
 *   <li>I1 after every event: no name is LOCAL on two running nodes, cut-off ones included;</li>
 *   <li>I3 after every event: a node that won a name keeps it until it unregisters, leaves or crashes;</li>
 *   <li>I2 after the quiet phase: all running nodes agree on every owner, and the owner holds it LOCAL;</li>
 *   <li>I4 after the quiet phase: no running node lists a dead node as an owner;</li>
 *   <li>I5 after the quiet phase: a name nobody owns can be registered.</li>
 * </ul>
 * Under the leader strategy, nodes hold only a cache, so I2 and I4 read differently, and it has
 * invariants of its own:
 * <ul>
 *   <li>L1 after every event: at most one node connected to the broker takes itself for the leader;</li>
 *   <li>L2 after every event: no cache lists an owner whose death its node has certified;</li>
 *   <li>L3 after the quiet phase: one leader, known to every running node, and its table is exactly
 *       the names the running nodes own (so after a leader change every owned name is known to the new leader);</li>
 *   <li>I4 after the quiet phase: no cache lists an owner that is not running.</li>
 * </ul>
 */
final class RegistrySimulation {

    static final List<String> NAMES = List.of("\"a\"", "\"b\"", "[\"room\",42]");

    /**
     * The soonest the broker notices a cut-off node's connection is dead and deletes its inbox: its
     * connection heartbeat timeout, which fence-after must stay below (DESIGN 6b).
     */
    static final long BROKER_NOTICES_MIN_MICROS = 2_000_000;

    private final long seed;
    private final Function<NodeContext, RegistrationStrategy> strategy;
    private final RegistryConfig config;
    private final SimulatedNetwork network;
    private final Random random;
    private final Map<NodeId, RegistryNode> nodes = new LinkedHashMap<>();
    private final Map<String, NodeId> won = new HashMap<>();
    private final Deque<String> trace;
    private final Stats stats = new Stats();
    private int incarnations;
    private String violation;
    private final int brokers;
    private final SimulatedNetwork.PartitionHandling handling;
    private int cutBroker = -1;

    /** Counts of one run, for the report. */
    static final class Stats {
        int registered;
        int lost;
        int timedOut;
        int crashes;
        int restarts;
        int leaves;
        int cutOffs;
        int partitions;
        int pauses;
        long events;
    }

    RegistrySimulation(long seed, RegistryConfig.ClaimOrdering ordering, boolean trace) {
        this(seed, RegistryConfig.defaults("sim").withClaimOrdering(ordering), trace);
    }

    RegistrySimulation(long seed, RegistryConfig config, boolean trace) {
        this(seed, config, trace, config.strategy() == RegistryConfig.Strategy.LEADER ? LeaderStrategy::new
                : ClaimStrategy::new);
    }

    /** With a strategy of the test's choosing (e.g. an unsafe variant the invariants must catch). */
    RegistrySimulation(long seed, RegistryConfig config, boolean trace,
                       Function<NodeContext, RegistrationStrategy> strategy) {
        this(seed, config, trace, strategy, 1, SimulatedNetwork.PartitionHandling.PAUSE_MINORITY);
    }

    /**
     * Over a broker cluster of {@code brokers} nodes with {@code handling}: the schedule also partitions
     * broker nodes (and heals them; under IGNORE the operator then restarts the cut-off broker node, as
     * RabbitMQ's documentation says to), kills one, and pauses node processes.
     */
    RegistrySimulation(long seed, RegistryConfig config, boolean trace,
                       Function<NodeContext, RegistrationStrategy> strategy, int brokers,
                       SimulatedNetwork.PartitionHandling handling) {
        this.strategy = strategy;
        this.seed = seed;
        this.network = new SimulatedNetwork(seed);
        this.random = network.random();
        this.config = config.liveness() == RegistryConfig.Liveness.AUTO
                ? config.withLiveness(RegistryConfig.Liveness.BROKER) : config;
        this.trace = trace ? new ArrayDeque<>() : null;
        this.brokers = brokers;
        this.handling = handling;
        if (brokers > 1) {
            network.brokers(brokers, handling);
        }
        network.onConnectionClosed(id -> {
            RegistryNode node = nodes.get(id);
            if (node != null) {
                log(id + " is told its connection closed");
                forget(id);
                node.connectionLost();
            }
        });
    }

    /** Same with the strategy of the config. */
    static RegistrySimulation overBrokerCluster(long seed, RegistryConfig config, SimulatedNetwork.PartitionHandling handling,
                                                boolean trace) {
        return new RegistrySimulation(seed, config, trace, config.strategy() == RegistryConfig.Strategy.LEADER
                ? LeaderStrategy::new : ClaimStrategy::new, 3, handling);
    }

    /** The unsafe variant of confirmed leases: confirms that do not wait for a majority of a log's replicas. */
    RegistrySimulation uncommittedConfirms() {
        network.uncommittedConfirms(true);
        return this;
    }

    /** The unsafe variant of crash detection: pings answered whether or not the connection is open. */
    RegistrySimulation unannouncedIdleLeases() {
        network.unannouncedIdleLeases(config.leaseMillis());
        return this;
    }

    RegistrySimulation unprovenPings() {
        network.unprovenPings(true);
        return this;
    }

    private boolean leaseRule() {
        return config.liveness() == RegistryConfig.Liveness.LEASE;
    }

    /** Runs the whole schedule; returns null when every invariant held, else the first violation. */
    String run() {
        int initial = 5 + random.nextInt(2);
        for (int i = 0; i < initial; i++) {
            startNode();
        }
        network.faults(new Faults(random.nextDouble() * 0.05, random.nextDouble() * 0.05, 100,
                1_000 + random.nextInt(20_000), random.nextDouble() * 0.02, 1_500_000));
        // operations begin 900 ms before the first nodes have joined (at 600 ms with the defaults), so some wait for
        // the join; a late fence-after makes the join longer (RegistryConfig.joinMillis) and the schedule starts later
        long t = Math.max(0, config.joinMillis() * 1000 - 900_000);
        long chaosEnd = t + 5_400_000;
        while (t < chaosEnd) {
            long at = t;
            network.at(at, null, this::randomOperation);
            t += 30_000 + random.nextInt(300_000);
        }
        if (!runUntil(chaosEnd)) {
            return violation;
        }
        network.faults(Faults.NONE);
        if (brokers > 1) {
            healAll();
        }
        // under LEASE a silent idle member is certified only after the idle takeover (rule 7), and a reader that starts
        // reading counts a member it never read as idle: the quiet phase leaves room for both
        long quiet = 9_000_000 + (leaseRule() ? 2_000 * (config.idleTakeoverMillis() - config.takeoverMillis()) : 0);
        if (!runUntil(chaosEnd + quiet)) {
            return violation;
        }
        checkAgreement();
        if (violation == null) {
            probeLiveness(chaosEnd + quiet);
        }
        return violation;
    }

    Stats stats() {
        return stats;
    }

    String trace() {
        return trace == null ? "(run with trace on to see the events)" : String.join("\n", trace);
    }

    private boolean runUntil(long micros) {
        stats.events += network.runUntil(micros, this::checkEveryStep);
        return violation == null;
    }

    private void log(String line) {
        if (trace != null) {
            trace.addLast(String.format("%9.3f ms  %s", network.nowMicros() / 1000.0, line));
            if (trace.size() > Integer.getInteger("sim.traceLines", 400)) {
                trace.removeFirst();
            }
        }
    }

    private NodeId startNode() {
        NodeId id = new NodeId("n" + (nodes.size() % 9), "i" + incarnations++);
        long skew = (long) ((random.nextDouble() * 2 - 1) * 10_000);
        RegistryNode node = new RegistryNode(id, config, network.runtime(id, skew), network.transport(id),
                change -> {
                    log(id + " sees " + change);
                    if (change.reason() == OwnerChange.Reason.FENCED) {
                        won.remove(change.name().key(), id); // it gave the name up: I3 no longer applies
                    }
                }, strategy);
        nodes.put(id, node);
        int broker = network.randomConnectableBroker();
        network.attach(id, envelope -> {
            log(id + " <- " + envelope.sender() + " " + envelope.body());
            node.onMessage(envelope);
        }, leaseRule() ? (log, envelope) -> {
            log(id + " <- log " + log + ": " + envelope.sender() + " " + envelope.body());
            node.onLeaseHeartbeat(log, envelope);
        } : null, broker);
        network.at(network.nowMicros(), id, node::start);
        log("start " + id + " on broker " + broker + " skew " + skew + " ms");
        return id;
    }

    /** The nodes whose process runs and that have not stopped (left, or fenced themselves); cut-off ones included. */
    private List<NodeId> running() {
        List<NodeId> up = new ArrayList<>();
        for (NodeId id : network.runningNodes()) {
            if (!nodes.get(id).isStopped()) {
                up.add(id);
            }
        }
        return up;
    }

    private void randomOperation() {
        List<NodeId> up = running();
        int dice = random.nextInt(100);
        if (dice < 55 && !up.isEmpty()) {
            String key = NAMES.get(random.nextInt(NAMES.size()));
            int racers = 1 + random.nextInt(Math.min(3, up.size()));
            for (int i = 0; i < racers; i++) {
                NodeId racer = up.get(random.nextInt(up.size()));
                network.at(network.nowMicros() + random.nextInt(30_000), racer, () -> register(racer, key));
            }
        } else if (dice < 70) {
            for (NodeId id : up) {
                for (String key : NAMES) {
                    Registration r = nodes.get(id).lookup(key);
                    if (r != null && r.isLocal() && random.nextBoolean()) {
                        log(id + " unregisters " + key);
                        nodes.get(id).unregister(new GlobalName(key));
                        won.remove(key, id);
                        return;
                    }
                }
            }
        } else if (dice < 80 && up.size() > 3) {
            NodeId victim = up.get(random.nextInt(up.size()));
            log("CRASH " + victim);
            stats.crashes++;
            forget(victim);
            network.crash(victim);
        } else if (dice < 90 && up.size() < 7) {
            stats.restarts++;
            startNode();
        } else if (dice < 95 && up.size() > 3) {
            NodeId leaver = up.get(random.nextInt(up.size()));
            log("LEAVE " + leaver);
            stats.leaves++;
            forget(leaver);
            nodes.get(leaver).leave();
            network.at(network.nowMicros() + 1_000, null, () -> network.crash(leaver));
        } else if (dice < 98 && up.size() > 3 && leaseRule() && random.nextInt(3) == 0) {
            NodeId cutOff = up.get(random.nextInt(up.size()));
            long clientNotices = random.nextInt(3_000_000);
            log("ONE-SIDED CLOSE of " + cutOff + " (the broker closes its connection; it notices in "
                    + clientNotices / 1000 + " ms)");
            stats.cutOffs++;
            forget(cutOff);
            network.closeOneSided(cutOff, clientNotices);
        } else if (dice < 98 && up.size() > 3) {
            NodeId cutOff = up.get(random.nextInt(up.size()));
            long brokerNotices = BROKER_NOTICES_MIN_MICROS + random.nextInt(2_000_000);
            log("CUT OFF " + cutOff + " (its inbox goes in " + brokerNotices / 1000 + " ms)");
            stats.cutOffs++;
            forget(cutOff);
            network.isolate(cutOff, brokerNotices);
            // the node's client notices the dead connection too, up to 3 s after the broker
            long clientNotices = brokerNotices + random.nextInt(3_000_000);
            network.at(network.nowMicros() + clientNotices, null, () -> nodes.get(cutOff).connectionLost());
        } else if (brokers > 1 && dice < 99) {
            brokerFault();
        } else if (brokers > 1 && !up.isEmpty()) {
            NodeId paused = up.get(random.nextInt(up.size()));
            long micros = 200_000 + random.nextInt(4_000_000);
            log("PAUSE " + paused + " for " + micros / 1000 + " ms");
            stats.pauses++;
            network.pause(paused, micros);
        }
    }

    /** Partitions a broker node away (healed later), or heals, or kills one (its clients lose their connections). */
    private void brokerFault() {
        if (cutBroker < 0 && random.nextInt(4) > 0) {
            cutBroker = random.nextInt(brokers);
            long notice = 2_000_000 + random.nextInt(2_500_000); // net_ticktime, scaled down (yet above the lease: rule 6)
            log("PARTITION broker " + cutBroker + " (" + handling + ", noticed in " + notice / 1000 + " ms)");
            stats.partitions++;
            network.partition(cutBroker, notice);
            long heal = notice + random.nextInt(4_000_000);
            int cut = cutBroker;
            network.at(network.nowMicros() + heal, null, () -> heal(cut));
        } else if (cutBroker < 0) {
            int killed = random.nextInt(brokers);
            log("KILL broker " + killed);
            stats.partitions++;
            network.killBroker(killed);
        }
    }

    private void heal(int cut) {
        if (cutBroker != cut) {
            return;
        }
        log("HEAL broker " + cut);
        network.heal();
        if (handling == SimulatedNetwork.PartitionHandling.IGNORE) {
            // RabbitMQ never merges under ignore: the operator restarts the cut-off broker node
            long restart = 200_000 + random.nextInt(1_500_000);
            network.at(network.nowMicros() + restart, null, () -> {
                log("OPERATOR restarts broker " + cut);
                network.restartBroker(cut);
                cutBroker = -1;
            });
        } else {
            cutBroker = -1;
        }
    }

    private void healAll() {
        if (cutBroker >= 0) {
            int cut = cutBroker;
            log("HEAL broker " + cut + " (end of chaos)");
            network.heal();
            if (handling == SimulatedNetwork.PartitionHandling.IGNORE) {
                network.restartBroker(cut);
            }
            cutBroker = -1;
        }
    }

    private void forget(NodeId node) {
        won.values().removeIf(node::equals);
    }

    private void register(NodeId id, String key) {
        RegistryNode node = nodes.get(id);
        if (node.isStopped()) {
            return;
        }
        log(id + " registers " + key);
        CompletableFuture<RegistrationResult> result = new CompletableFuture<>();
        result.whenComplete((r, error) -> {
            if (error != null) {
                stats.timedOut++;
                log(id + " register " + key + " failed: " + error.getMessage());
            } else if (r.registered()) {
                stats.registered++;
                log(id + " WON " + key);
                won.put(key, id);
            } else {
                stats.lost++;
                log(id + " lost " + key + " to " + r.owner());
            }
        });
        node.register(new GlobalName(key), "target-of-" + id, result);
    }

    private boolean leader() {
        return config.strategy() == RegistryConfig.Strategy.LEADER;
    }

    private void checkEveryStep() {
        if (violation != null) {
            return;
        }
        List<NodeId> up = running();
        if (leader()) {
            checkLeaderStep(up);
            if (violation != null) {
                return;
            }
        }
        for (String key : NAMES) {
            NodeId owner = null;
            for (NodeId id : up) {
                Registration r = nodes.get(id).lookup(key);
                if (r != null && r.isLocal() && (!leaseRule() || nodes.get(id).leaseValid())) {
                    if (owner != null) {
                        violation = "I1 violated: " + key + " is owned by both " + owner + " and " + id;
                        return;
                    }
                    owner = id;
                }
            }
        }
        if (leaseRule()) {
            checkNoLiveLeaseCertified(up);
            if (violation != null) {
                return;
            }
        }
        for (Map.Entry<String, NodeId> entry : won.entrySet()) {
            NodeId owner = entry.getValue();
            if (up.contains(owner)) {
                Registration r = nodes.get(owner).lookup(entry.getKey());
                if (r == null || !r.isLocal()) {
                    violation = "I3 violated: " + owner + " won " + entry.getKey() + " and is up, but lost it (now "
                            + r + ")";
                    return;
                }
            }
        }
    }

    /**
     * I7's second half: a node that holds its (membership) lease is never certified dead by the lease logs. A node
     * the broker reported closed may be certified by crash detection while its lease runs (rule 6): not checked.
     */
    private void checkNoLiveLeaseCertified(List<NodeId> up) {
        for (NodeId id : up) {
            RegistryNode node = nodes.get(id);
            if (node.isStopped() || node.isFenced() || network.wasReportedClosed(id)) {
                continue;
            }
            for (NodeId other : up) {
                if (!other.equals(id) && nodes.get(other).membership().isDead(id)) {
                    violation = "I7 violated: " + other + " certified " + id + " dead while its lease held (at "
                            + network.nowMicros() / 1000 + " ms)";
                    return;
                }
            }
        }
    }

    /** L1 and L2. */
    private void checkLeaderStep(List<NodeId> up) {
        NodeId leading = null;
        for (NodeId id : up) {
            RegistryNode node = nodes.get(id);
            boolean leads = leaseRule()
                    ? node.leaseValid() && ((LeaderStrategy) node.strategy()).isReadyLeader()
                    : network.isUp(id) && id.equals(node.leader());
            if (leads) {
                if (leading != null) {
                    violation = "L1 violated: " + leading + " and " + id + " both take themselves for the leader";
                    return;
                }
                leading = id;
            }
            for (Registration r : node.registrations()) {
                if (r.state() == Registration.State.REMOTE && node.membership().isDead(r.owner())) {
                    violation = "L2 violated: " + id + " caches " + r.owner() + " as the owner of " + r.name().key()
                            + " though it certified its death";
                    return;
                }
            }
        }
    }

    /** The node among {@code up} that holds {@code key} LOCAL (the last one, should there be two), or null. */
    private NodeId localOwner(String key, List<NodeId> up) {
        NodeId owner = null;
        for (NodeId id : up) {
            Registration r = nodes.get(id).lookup(key);
            if (r != null && r.isLocal()) {
                owner = id;
            }
        }
        return owner;
    }

    /** L3 and the cache form of I4, after the quiet phase. */
    private void checkLeaderAgreement(List<NodeId> up) {
        NodeId holder = leaseRule() ? readyLeader(up) : network.leaderQueueHolder();
        if (holder == null || !up.contains(holder)) {
            violation = "L3 violated: after the quiet phase nobody running " + (leaseRule() ? "leads" : "holds the leader queue")
                    + " (" + holder + ")";
            return;
        }
        RegistryNode leader = nodes.get(holder);
        if (!((LeaderStrategy) leader.strategy()).isReadyLeader()) {
            violation = "L3 violated: leader " + holder + " has not rebuilt its table after the quiet phase";
            return;
        }
        for (NodeId id : up) {
            if (!holder.equals(nodes.get(id).leader())) {
                violation = "L3 violated: " + id + " takes " + nodes.get(id).leader() + " for the leader, not " + holder;
                return;
            }
            for (Registration r : nodes.get(id).registrations()) {
                if (r.state() == Registration.State.REMOTE && !up.contains(r.owner())) {
                    violation = "I4 violated: " + id + " caches " + r.owner() + ", not running, as the owner of "
                            + r.name().key();
                    return;
                }
            }
        }
        for (String key : NAMES) {
            NodeId owner = localOwner(key, up);
            Registration known = leader.lookup(key);
            NodeId listed = known == null ? null : known.owner();
            if (!Objects.equals(owner, listed)) {
                violation = "L3 violated: after the quiet phase leader " + holder + " lists " + listed + " as the owner of "
                        + key + ", but " + (owner == null ? "nobody" : owner) + " holds it";
                return;
            }
        }
    }

    /** Under LEASE the leader is not a queue's holder: the one running node that leads, rebuilt (null if none). */
    private NodeId readyLeader(List<NodeId> up) {
        for (NodeId id : up) {
            if (((LeaderStrategy) nodes.get(id).strategy()).isReadyLeader()) {
                return id;
            }
        }
        return null;
    }

    private void checkAgreement() {
        List<NodeId> up = running();
        if (up.isEmpty()) {
            return; // every node crashed, left or gave up: nothing to agree on
        }
        if (leader()) {
            checkLeaderAgreement(up);
            return;
        }
        for (String key : NAMES) {
            Map<NodeId, NodeId> seen = new LinkedHashMap<>();
            for (NodeId id : up) {
                Registration r = nodes.get(id).lookup(key);
                seen.put(id, r == null ? null : r.owner());
            }
            List<NodeId> owners = new ArrayList<>(seen.values());
            NodeId first = owners.get(0);
            if (owners.stream().anyMatch(o -> !Objects.equals(o, first))) {
                violation = "I2 violated: after the quiet phase the nodes disagree on " + key + ": " + seen;
                return;
            }
            if (first != null && !up.contains(first)) {
                violation = "I4 violated: every node still lists dead " + first + " as the owner of " + key;
                return;
            }
            if (first != null && !nodes.get(first).lookup(key).isLocal()) {
                violation = "I2 violated: all name " + first + " as owner of " + key + " but it does not hold it";
                return;
            }
        }
    }

    private void probeLiveness(long from) {
        List<NodeId> up = running();
        if (up.isEmpty()) {
            return;
        }
        NodeId prober = up.get(random.nextInt(up.size()));
        Map<String, CompletableFuture<RegistrationResult>> probes = new LinkedHashMap<>();
        for (String key : NAMES) {
            boolean free = leader() ? localOwner(key, up) == null : nodes.get(prober).lookup(key) == null;
            if (free) {
                CompletableFuture<RegistrationResult> result = new CompletableFuture<>();
                probes.put(key, result);
                nodes.get(prober).register(new GlobalName(key), "probe", result);
            }
        }
        if (!runUntil(from + 5_000_000)) {
            return;
        }
        probes.forEach((key, result) -> {
            if (violation == null && !(result.isDone() && !result.isCompletedExceptionally() && result.join().registered())) {
                violation = "I5 violated: after the quiet phase " + prober + " could not register free name " + key
                        + ": " + (result.isDone() ? result.handle((r, e) -> e != null ? e.toString() : r.toString()).join()
                        : "still pending");
            }
        });
    }

    long seed() {
        return seed;
    }
}
