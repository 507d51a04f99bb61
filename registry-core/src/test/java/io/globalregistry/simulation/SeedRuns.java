package io.globalregistry.simulation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongFunction;
import java.util.stream.LongStream;

/** Runs many seeds of a {@link RegistrySimulation}, in parallel, for the simulation tests. */
final class SeedRuns {

    private SeedRuns() {
    }

    /**
     * Runs {@code regressions} and the seeds {@code [sim.base, sim.base + seeds)}, prints one summary line, and
     * asserts that no seed violated an invariant and that the runs did something (registrations won, crashes and
     * cut-offs injected). A failing seed is reported with the command that replays it with a trace.
     *
     * @param label the summary line's first words
     * @param replayTest the test class and method that replay one seed, e.g. {@code ClaimSimulationTest#replay}
     */
    static void runAndCheck(String label, List<Long> regressions, int seeds, LongFunction<RegistrySimulation> simulation,
                            String replayTest) {
        long base = Long.getLong("sim.base", 0);
        long started = System.nanoTime();
        AtomicReference<String> failure = new AtomicReference<>();
        AtomicLong events = new AtomicLong();
        AtomicInteger registered = new AtomicInteger();
        AtomicInteger lost = new AtomicInteger();
        AtomicInteger timedOut = new AtomicInteger();
        AtomicInteger crashes = new AtomicInteger();
        AtomicInteger cutOffs = new AtomicInteger();
        AtomicInteger brokerFaults = new AtomicInteger();
        AtomicInteger pauses = new AtomicInteger();
        LongStream.concat(regressions.stream().mapToLong(Long::longValue), LongStream.range(base, base + seeds))
                .parallel().forEach(seed -> {
                    if (failure.get() != null) {
                        return;
                    }
                    RegistrySimulation sim = simulation.apply(seed);
                    String violation = sim.run();
                    if (violation != null) {
                        failure.compareAndSet(null, "seed " + seed + ": " + violation + "\n  replay with a trace: mvn"
                                + " -pl registry-core test -Dtest=" + replayTest + " -Dsim.seed=" + seed);
                    }
                    events.addAndGet(sim.stats().events);
                    registered.addAndGet(sim.stats().registered);
                    lost.addAndGet(sim.stats().lost);
                    timedOut.addAndGet(sim.stats().timedOut);
                    crashes.addAndGet(sim.stats().crashes);
                    cutOffs.addAndGet(sim.stats().cutOffs);
                    brokerFaults.addAndGet(sim.stats().partitions);
                    pauses.addAndGet(sim.stats().pauses);
                });
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf("%s: %d seeds, %d events in %.1f s; registrations won %d, lost %d, timed out %d;"
                        + " crashes %d, cut-offs %d, broker partitions and kills %d, pauses %d%n", label, seeds, events.get(),
                seconds, registered.get(), lost.get(), timedOut.get(), crashes.get(), cutOffs.get(), brokerFaults.get(),
                pauses.get());
        assertThat(failure.get()).as("first failing seed").isNull();
        assertThat(registered.get()).as("registrations that succeeded (the protocol is not vacuously safe)")
                .isGreaterThan(seeds);
        assertThat(crashes.get()).as("crashes injected").isGreaterThan(seeds / 10);
        assertThat(cutOffs.get()).as("cut-offs injected").isGreaterThan(seeds / 10);
    }

    /**
     * Asserts that some seed below 5,000 makes two owners (I1) with an unsafe variant, and prints the first.
     *
     * @param label what the variant is, for the printed line
     */
    static void assertSomeSeedMakesTwoOwners(String label, LongFunction<RegistrySimulation> unsafe) {
        assertSomeSeedViolates("I1", label, unsafe);
    }

    /** Asserts that some seed below 5,000 violates {@code invariant} (e.g. "I7") with an unsafe variant, and prints the first. */
    static void assertSomeSeedViolates(String invariant, String label, LongFunction<RegistrySimulation> unsafe) {
        long found = -1;
        String violation = null;
        for (long seed = 0; seed < 5_000 && found < 0; seed++) {
            violation = unsafe.apply(seed).run();
            if (violation != null && violation.startsWith(invariant + " ")) {
                found = seed;
            }
        }
        System.out.println(label + ": first " + invariant + " violation at seed " + found + ": " + violation);
        assertThat(found).as("a seed where " + label + " violates " + invariant).isNotNegative();
    }
}
