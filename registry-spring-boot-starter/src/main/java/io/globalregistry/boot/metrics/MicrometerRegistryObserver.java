package io.globalregistry.boot.metrics;

import io.globalregistry.RegistryObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The {@link RegistryObserver} that feeds Micrometer, every meter registered up front (so each exists,
 * at zero, before the first registration or call):
 *
 * <ul>
 * <li>{@code global.registry.registrations} (timer, tag {@code outcome}: won, lost, failed)</li>
 * <li>{@code global.registry.calls} (timer, tag {@code outcome}: ok, error, busy, timeout, no_owner, too_large,
 * failed): calls through this node's proxies that went to another node, or found no owner</li>
 * <li>{@code global.registry.calls.local} (counter, tag {@code outcome}: ok, error): calls through this node's
 * proxies that ran the target here, directly; counted, not timed (a clock read costs more than such a call)</li>
 * </ul>
 *
 * No tag carries a name or a node.
 */
public class MicrometerRegistryObserver implements RegistryObserver {

    private static final String PREFIX = "global.registry.";

    private final Map<RegistrationOutcome, Timer> registrations = new EnumMap<>(RegistrationOutcome.class);
    private final Map<CallOutcome, Timer> calls = new EnumMap<>(CallOutcome.class);
    private final Map<CallOutcome, Counter> localCalls = new EnumMap<>(CallOutcome.class);

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
            calls.put(outcome, Timer.builder(PREFIX + "calls")
                    .tag("outcome", tagValue(outcome))
                    .description("Calls through proxies made on this node that went to another node (or found no "
                            + "owner), as the caller saw them, by outcome")
                    .register(meters));
        }
        for (CallOutcome outcome : new CallOutcome[] {CallOutcome.OK, CallOutcome.ERROR}) {
            localCalls.put(outcome, Counter.builder(PREFIX + "calls.local")
                    .tag("outcome", tagValue(outcome))
                    .description("Calls through proxies made on this node whose target ran here, directly on the "
                            + "caller's thread, by outcome (not timed)")
                    .register(meters));
        }
    }

    @Override
    public void registrationFinished(Duration took, RegistrationOutcome outcome) {
        registrations.get(outcome).record(took);
    }

    @Override
    public void callFinished(Duration took, CallOutcome outcome) {
        calls.get(outcome).record(took);
    }

    @Override
    public void localCallFinished(CallOutcome outcome) {
        Counter counter = localCalls.get(outcome);
        if (counter != null) {
            counter.increment();
        }
    }

    private static String tagValue(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }
}
