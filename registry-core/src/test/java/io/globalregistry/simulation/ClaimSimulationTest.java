package io.globalregistry.simulation;

import static org.assertj.core.api.Assertions.assertThat;

import io.globalregistry.protocol.RegistryConfig;
import io.globalregistry.protocol.RegistryConfig.ClaimOrdering;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The claim strategy under thousands of seeded schedules (see {@link RegistrySimulation} for the
 * schedule and the invariants I1-I5 of docs/PROTOCOL.md it checks). A failing seed prints itself
 * and the command that replays it with a trace:
 * {@code mvn -pl registry-core test -Dtest=ClaimSimulationTest#replay -Dsim.seed=N}.
 */
class ClaimSimulationTest {

    /** Seeds per CI run; override with -Dsim.seeds=N. */
    private static final int SEEDS = Integer.getInteger("sim.seeds", 10_000);

    /** Seeds that once failed, kept as regressions. */
    private static final List<Long> REGRESSIONS = List.of(14321L);

    @Test
    void claimStrategyHoldsEveryInvariantUnderRandomSchedules() {
        SeedRuns.runAndCheck("simulation", REGRESSIONS, SEEDS,
                seed -> new RegistrySimulation(seed, ClaimOrdering.HLC, false), "ClaimSimulationTest#replay");
    }

    @Test
    void withoutSelfFencingBeforeTheBrokerNoticesACutOffNodeTwoOwnersAreCaught() {
        RegistryConfig lateFence = RegistryConfig.defaults("sim").withFenceAfter(Duration.ofSeconds(30));
        SeedRuns.assertSomeSeedMakesTwoOwners("fence-after beyond the broker's timeout",
                seed -> new RegistrySimulation(seed, lateFence, false));
    }

    @Test
    void wallClockOrderingIsCaughtMakingTwoOwners() {
        SeedRuns.assertSomeSeedMakesTwoOwners("wall-clock ordering",
                seed -> new RegistrySimulation(seed, ClaimOrdering.WALL_CLOCK, false));
    }

    @Test
    void replay() {
        Long seed = Long.getLong("sim.seed");
        if (seed == null) {
            return;
        }
        ClaimOrdering ordering = ClaimOrdering.valueOf(System.getProperty("sim.ordering", "HLC"));
        RegistrySimulation sim = new RegistrySimulation(seed, ordering, true);
        String violation = sim.run();
        System.out.println(sim.trace());
        assertThat(violation).as("seed " + seed).isNull();
    }
}
