package io.globalregistry.simulation;

import static org.assertj.core.api.Assertions.assertThat;

import io.globalregistry.protocol.RegistryConfig;
import io.globalregistry.protocol.RegistryConfig.ClaimOrdering;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.LongStream;
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
        long base = Long.getLong("sim.base", 0);
        long started = System.nanoTime();
        AtomicReference<String> failure = new AtomicReference<>();
        AtomicLong events = new AtomicLong();
        AtomicInteger registered = new AtomicInteger();
        AtomicInteger lost = new AtomicInteger();
        AtomicInteger timedOut = new AtomicInteger();
        AtomicInteger crashes = new AtomicInteger();
        AtomicInteger cutOffs = new AtomicInteger();
        LongStream.concat(REGRESSIONS.stream().mapToLong(Long::longValue), LongStream.range(base, base + SEEDS))
                .parallel().forEach(seed -> {
                    if (failure.get() != null) {
                        return;
                    }
                    RegistrySimulation sim = new RegistrySimulation(seed, ClaimOrdering.HLC, false);
                    String violation = sim.run();
                    if (violation != null) {
                        failure.compareAndSet(null, describe(seed, violation));
                    }
                    events.addAndGet(sim.stats().events);
                    registered.addAndGet(sim.stats().registered);
                    lost.addAndGet(sim.stats().lost);
                    timedOut.addAndGet(sim.stats().timedOut);
                    crashes.addAndGet(sim.stats().crashes);
                    cutOffs.addAndGet(sim.stats().cutOffs);
                });
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf("simulation: %d seeds, %d events in %.1f s; registrations won %d, lost %d, timed out %d;"
                        + " crashes %d, cut-offs %d%n", SEEDS, events.get(), seconds, registered.get(), lost.get(),
                timedOut.get(), crashes.get(), cutOffs.get());
        assertThat(failure.get()).as("first failing seed").isNull();
        assertThat(registered.get()).as("registrations that succeeded (the protocol is not vacuously safe)")
                .isGreaterThan(SEEDS);
        assertThat(crashes.get()).as("crashes injected").isGreaterThan(SEEDS / 10);
        assertThat(cutOffs.get()).as("cut-offs injected").isGreaterThan(SEEDS / 10);
    }

    @Test
    void withoutSelfFencingBeforeTheBrokerNoticesACutOffNodeTwoOwnersAreCaught() {
        RegistryConfig lateFence = RegistryConfig.defaults("sim").withFenceAfter(Duration.ofSeconds(30));
        long found = -1;
        String violation = null;
        for (long seed = 0; seed < 5_000 && found < 0; seed++) {
            violation = new RegistrySimulation(seed, lateFence, false).run();
            if (violation != null && violation.startsWith("I1")) {
                found = seed;
            }
        }
        System.out.println("fence-after beyond the broker's timeout: first I1 violation at seed " + found + ": " + violation);
        assertThat(found).as("a seed where a cut-off node that does not fence in time makes two owners").isNotNegative();
    }

    @Test
    void wallClockOrderingIsCaughtMakingTwoOwners() {
        long found = -1;
        String violation = null;
        for (long seed = 0; seed < 5_000 && found < 0; seed++) {
            violation = new RegistrySimulation(seed, ClaimOrdering.WALL_CLOCK, false).run();
            if (violation != null && violation.startsWith("I1")) {
                found = seed;
            }
        }
        System.out.println("wall-clock ordering: first I1 violation at seed " + found + ": " + violation);
        assertThat(found).as("a seed where ordering claims by wall clock makes two owners").isNotNegative();
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

    private static String describe(long seed, String violation) {
        return "seed " + seed + ": " + violation + "\n  replay with a trace: mvn -pl registry-core test"
                + " -Dtest=ClaimSimulationTest#replay -Dsim.seed=" + seed;
    }
}
