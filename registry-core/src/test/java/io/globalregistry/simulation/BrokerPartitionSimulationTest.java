package io.globalregistry.simulation;

import static org.assertj.core.api.Assertions.assertThat;

import io.globalregistry.protocol.RegistryConfig;
import io.globalregistry.protocol.RegistryConfig.Liveness;
import io.globalregistry.protocol.RegistryConfig.Strategy;
import io.globalregistry.simulation.SimulatedNetwork.PartitionHandling;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Both strategies over a 3-node broker cluster (docs/PROTOCOL.md, "Liveness"): besides the chaos of
 * {@link RegistrySimulation} (loss, duplication, delay, skew, crashes, leaves, cut-offs), broker nodes
 * are partitioned away and healed, killed, and node processes paused; each seed runs under one of
 * RabbitMQ's partition handlings (seed mod 3: ignore, pause_minority, autoheal). Invariants I1-I6 and
 * L1-L3 hold under {@link Liveness#LEASE}; the old rule ({@link Liveness#BROKER}: a broker node's 404 is
 * a death certificate, hearing oneself through one's own broker node is being alive) is caught making
 * two owners. Replay: {@code mvn -pl registry-core test -Dtest=BrokerPartitionSimulationTest#replay
 * -Dsim.seed=N [-Dsim.strategy=LEADER]}.
 */
class BrokerPartitionSimulationTest {

    /** Seeds per strategy per CI run; override with -Dsim.partitionSeeds=N. */
    private static final int SEEDS = Integer.getInteger("sim.partitionSeeds", 2_000);

    /**
     * Seeds that once failed. 459: a node whose claim had conceded its vote answered NONE to a later claim,
     * and both won once the claim it conceded to went away (ClaimStrategy, step 3).
     */
    private static final List<Long> CLAIM_REGRESSIONS = List.of(459L);

    /**
     * 1281: under ignore, a node holding the leader queue in its side's records stepped down for a newer
     * epoch from the other side's holder and kept the queue, so nobody led after the merge (it resigns now).
     * 2462: a leader awaited the sync of a node only named in another's sync, which the lease logs could never
     * certify dead (it becomes a member now). 3889: a late heartbeat of a leader since dead left a member with a
     * newer epoch than the live leader's, following nobody (it tells that leader, which leads on under a newer one).
     */
    private static final List<Long> LEADER_REGRESSIONS = List.of(1281L, 2462L, 3889L);

    private static RegistrySimulation lease(long seed, Strategy strategy, boolean trace) {
        RegistryConfig config = RegistryConfig.defaults("sim").withStrategy(strategy).withLiveness(Liveness.LEASE);
        return RegistrySimulation.overBrokerCluster(seed, config, handling(seed), trace);
    }

    static PartitionHandling handling(long seed) {
        return PartitionHandling.values()[(int) Math.floorMod(seed, 3L)];
    }

    @Test
    void claimStrategyUnderLeaseHoldsEveryInvariantWhenBrokerNodesPartition() {
        SeedRuns.runAndCheck("claim over a partitioned broker cluster (lease)", CLAIM_REGRESSIONS, SEEDS,
                seed -> lease(seed, Strategy.CLAIM, false), "BrokerPartitionSimulationTest#replay");
    }

    @Test
    void leaderStrategyUnderLeaseHoldsEveryInvariantWhenBrokerNodesPartition() {
        SeedRuns.runAndCheck("leader over a partitioned broker cluster (lease)", LEADER_REGRESSIONS, SEEDS,
                seed -> lease(seed, Strategy.LEADER, false), "BrokerPartitionSimulationTest#replay -Dsim.strategy=LEADER");
    }

    /**
     * A node that does not read the lease logs holds its lease by the broker's confirms (rule 7), which a stream
     * sends once a majority of its replicas stores the heartbeat. Confirmed as soon as one broker node took it, a
     * node cut off with a minority keeps acting while the majority certifies it dead: caught making two owners.
     */
    @Test
    void leasesOnConfirmsThatDoNotWaitForAMajorityAreCaughtMakingTwoOwners() {
        SeedRuns.assertSomeSeedMakesTwoOwners("leases on uncommitted confirms",
                seed -> lease(seed, Strategy.CLAIM, false).uncommittedConfirms());
    }

    /**
     * Crash detection's rule has two halves: the others wait the grace after the broker reported an owner's
     * connection closed, and the owner acts only within the crash lease of a ping answered over that
     * connection. With pings that prove nothing (answered whether or not the connection is open), an owner
     * whose connection only the broker saw close acts on past the grace: caught making two owners.
     */
    @Test
    void crashDetectionWithPingsThatDoNotProveTheConnectionIsCaughtMakingTwoOwners() {
        SeedRuns.assertSomeSeedMakesTwoOwners("crash detection with unproven pings",
                seed -> lease(seed, Strategy.CLAIM, false).unprovenPings());
    }

    /**
     * Rule 7: an idle node heartbeats seconds apart and announces the longer lease that keeps its incarnation; readers
     * certify it by what it announced. Read as if every heartbeat announced the busy lease, a live idle node is
     * certified dead while its lease holds: caught breaking I7 (which two owners would follow from, were it to act on).
     */
    @Test
    void idleHeartbeatsReadAsAnnouncingTheBusyLeaseAreCaughtCertifyingALiveNode() {
        SeedRuns.assertSomeSeedViolates("I7", "idle heartbeats read as announcing the busy lease",
                seed -> lease(seed, Strategy.CLAIM, false).unannouncedIdleLeases());
    }

    @Test
    void brokerRuleOnABrokerClusterIsCaughtMakingTwoOwners() {
        RegistryConfig old = RegistryConfig.defaults("sim").withLiveness(Liveness.BROKER);
        SeedRuns.assertSomeSeedMakesTwoOwners("the broker rule (404 = dead) on a partitioned broker cluster",
                seed -> RegistrySimulation.overBrokerCluster(seed, old, handling(seed), false));
    }

    @Test
    void brokerRuleForTheLeaderStrategyOnABrokerClusterIsCaughtMakingTwoOwners() {
        RegistryConfig old = RegistryConfig.defaults("sim").withStrategy(Strategy.LEADER).withLiveness(Liveness.BROKER);
        SeedRuns.assertSomeSeedMakesTwoOwners("the leader strategy under the broker rule on a partitioned broker cluster",
                seed -> RegistrySimulation.overBrokerCluster(seed, old, handling(seed), false));
    }

    @Test
    void replay() {
        Long seed = Long.getLong("sim.seed");
        if (seed == null) {
            return;
        }
        Strategy strategy = Strategy.valueOf(System.getProperty("sim.strategy", "CLAIM"));
        Liveness liveness = Liveness.valueOf(System.getProperty("sim.liveness", "LEASE"));
        RegistryConfig config = RegistryConfig.defaults("sim").withStrategy(strategy).withLiveness(liveness);
        RegistrySimulation sim = RegistrySimulation.overBrokerCluster(seed, config, handling(seed), true);
        String violation = sim.run();
        System.out.println(sim.trace());
        assertThat(violation).as("seed " + seed + " (" + handling(seed) + ")").isNull();
    }
}
