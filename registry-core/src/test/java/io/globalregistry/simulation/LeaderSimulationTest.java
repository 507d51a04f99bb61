package io.globalregistry.simulation;

import static org.assertj.core.api.Assertions.assertThat;

import io.globalregistry.leader.LeaderStrategy;
import io.globalregistry.protocol.RegistryConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The leader strategy under thousands of seeded schedules: the same chaos as the claim strategy's
 * (see {@link RegistrySimulation}), checking I1, I3, I5 and the leader invariants L1-L3 of
 * docs/PROTOCOL.md. A failing seed prints itself and the command that replays it with a trace:
 * {@code mvn -pl registry-core test -Dtest=LeaderSimulationTest#replay -Dsim.seed=N}.
 */
class LeaderSimulationTest {

    /** Seeds per CI run; override with -Dsim.leaderSeeds=N. */
    private static final int SEEDS = Integer.getInteger("sim.leaderSeeds", 5_000);

    /** Seeds that once failed, kept as regressions. */
    private static final List<Long> REGRESSIONS = List.of();

    static RegistryConfig config() {
        return RegistryConfig.defaults("sim").withStrategy(RegistryConfig.Strategy.LEADER);
    }

    @Test
    void leaderStrategyHoldsEveryInvariantUnderRandomSchedules() {
        SeedRuns.runAndCheck("leader simulation", REGRESSIONS, SEEDS,
                seed -> new RegistrySimulation(seed, config(), false), "LeaderSimulationTest#replay");
    }

    @Test
    void aLeaderThatAnswersBeforeItRebuiltIsCaughtMakingTwoOwners() {
        SeedRuns.assertSomeSeedMakesTwoOwners("leader without rebuild",
                seed -> new RegistrySimulation(seed, config(), false, LeaderStrategy::withoutRebuild));
    }

    @Test
    void replay() {
        Long seed = Long.getLong("sim.seed");
        if (seed == null) {
            return;
        }
        RegistrySimulation sim = new RegistrySimulation(seed, config(), true);
        String violation = sim.run();
        System.out.println(sim.trace());
        assertThat(violation).as("seed " + seed).isNull();
    }
}
