package io.globalregistry.boot.metrics;

import io.globalregistry.RegistryObserver;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The {@link RegistryObserver} that feeds Micrometer timers, every one registered up front (so each
 * exists, at zero, before the first registration or call):
 *
 * <ul>
 * <li>{@code global.registry.registrations} (timer, tag {@code outcome}: won, lost, failed)</li>
 * <li>{@code global.registry.calls} (timer, tags {@code outcome}: ok, error, busy, timeout, no_owner,
 * too_large, failed; and {@code location}: local when the owner was this node, else remote)</li>
 * </ul>
 *
 * No tag carries a name or a node.
 */
public class MicrometerRegistryObserver implements RegistryObserver {

    private static final String PREFIX = "global.registry.";

    private final Map<RegistrationOutcome, Timer> registrations = new EnumMap<>(RegistrationOutcome.class);
    private final Map<CallOutcome, Timer> localCalls = new EnumMap<>(CallOutcome.class);
    private final Map<CallOutcome, Timer> remoteCalls = new EnumMap<>(CallOutcome.class);

    public MicrometerRegistryObserver(MeterRegistry meters) {
        Objects.requireNonNull(meters, "meters");
        for (RegistrationOutcome outcome : RegistrationOutcome.values()) {
            registrations.put(outcome, Timer.builder(PREFIX + "registrations")
                    .tag("outcome", tagValue(outcome))
                    .description("Registrations of this node, from the call until decided, by outcome: this node "
                            + "owns the name (won), another does (lost), or nothing was decided (failed)")
                    .register(meters));
        }
        for (CallOutcome outcome : CallOutcome.values()) {
            localCalls.put(outcome, callTimer(meters, outcome, "local"));
            remoteCalls.put(outcome, callTimer(meters, outcome, "remote"));
        }
    }

    private static Timer callTimer(MeterRegistry meters, CallOutcome outcome, String location) {
        return Timer.builder(PREFIX + "calls")
                .tag("outcome", tagValue(outcome))
                .tag("location", location)
                .description("Calls through proxies made on this node, as the caller saw them, by outcome and by "
                        + "where the owner was (local: the target ran on the caller's thread)")
                .register(meters);
    }

    @Override
    public void registrationFinished(Duration took, RegistrationOutcome outcome) {
        registrations.get(outcome).record(took);
    }

    @Override
    public void callFinished(Duration took, CallOutcome outcome, boolean local) {
        (local ? localCalls : remoteCalls).get(outcome).record(took);
    }

    private static String tagValue(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }
}
