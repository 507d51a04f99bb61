package io.globalregistry.boot.metrics;

import io.globalregistry.DeliveryStats;
import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.OwnerChange;
import io.globalregistry.Registration;
import io.globalregistry.boot.singleton.GlobalSingletonManager;
import io.globalregistry.boot.singleton.GlobalSingletonManager.FailoverReason;
import io.globalregistry.wire.RejectReason;
import io.globalregistry.wire.RejectedMessages;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The meters of one registry node, under {@code global.registry.*}. Tags take a few fixed values
 * (state, reason, outcome); no tag ever carries a registered name.
 *
 * <ul>
 * <li>{@code global.registry.names} (gauge, tag {@code state}: local, remote, pending)</li>
 * <li>{@code global.registry.members} (gauge)</li>
 * <li>{@code global.registry.messages.rejected} (counter, tag {@code reason})</li>
 * <li>{@code global.registry.deliveries} (counter, tag {@code outcome})</li>
 * <li>{@code global.registry.owner.changes} (counter, tag {@code reason})</li>
 * <li>{@code global.registry.rejoins} (counter): times this node gave up its incarnation and rejoined as a new one</li>
 * <li>{@code global.registry.failovers} (counter, tag {@code reason}: owner_down, handed_over, fenced), with a
 * {@link GlobalSingletonManager}: {@code @GlobalSingleton}s this node took over</li>
 * <li>{@code global.registry.singleton.skipped} (counter, tag {@code reason}: no_lease), with a
 * {@link GlobalSingletonManager}: runs of {@code @GlobalSingleton}s' scheduled methods this node skipped, since it
 * could not act as their owner at that moment</li>
 * </ul>
 *
 * The timers of registrations and calls come from {@link MicrometerRegistryObserver}.
 */
public class GlobalRegistryMetrics implements MeterBinder {

    private static final String PREFIX = "global.registry.";

    private final GlobalNameRegistry registry;
    private final GlobalSingletonManager singletons;

    public GlobalRegistryMetrics(GlobalNameRegistry registry) {
        this(registry, null);
    }

    /** @param singletons whose failovers to count, or null */
    public GlobalRegistryMetrics(GlobalNameRegistry registry, GlobalSingletonManager singletons) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.singletons = singletons;
    }

    @Override
    public void bindTo(MeterRegistry meters) {
        for (Registration.State state : Registration.State.values()) {
            Gauge.builder(PREFIX + "names", registry, r -> registrations(r, state))
                    .tag("state", tagValue(state))
                    .description("Names this node knows, by state: owned here (local), owned by another node "
                            + "(remote), being claimed here (pending)")
                    .register(meters);
        }
        Gauge.builder(PREFIX + "members", registry, GlobalRegistryMetrics::members)
                .description("Members of the cluster as this node sees them, itself included")
                .register(meters);
        RejectedMessages rejected = registry.rejected();
        for (RejectReason reason : RejectReason.values()) {
            FunctionCounter.builder(PREFIX + "messages.rejected", rejected, r -> r.count(reason))
                    .tag("reason", tagValue(reason))
                    .description("Incoming registry messages dropped before they reached the protocol, by reason")
                    .register(meters);
        }
        DeliveryStats deliveries = registry.deliveries();
        for (DeliveryStats.Outcome outcome : DeliveryStats.Outcome.values()) {
            FunctionCounter.builder(PREFIX + "deliveries", deliveries, d -> d.count(outcome))
                    .tag("outcome", tagValue(outcome))
                    .description("Messages sent to names, by what became of them on this node")
                    .register(meters);
        }
        Map<OwnerChange.Reason, Counter> ownerChanges = new EnumMap<>(OwnerChange.Reason.class);
        for (OwnerChange.Reason reason : OwnerChange.Reason.values()) {
            ownerChanges.put(reason, Counter.builder(PREFIX + "owner.changes")
                    .tag("reason", tagValue(reason))
                    .description("Changes of owner of a name seen by this node, by reason")
                    .register(meters));
        }
        registry.addListener(change -> ownerChanges.get(change.reason()).increment());
        FunctionCounter.builder(PREFIX + "rejoins", registry, GlobalNameRegistry::rejoins)
                .description("Times this node gave up its incarnation (broker connection lost, or not hearing itself) "
                        + "and rejoined the cluster as a new one")
                .register(meters);
        if (singletons != null) {
            for (FailoverReason reason : FailoverReason.values()) {
                FunctionCounter.builder(PREFIX + "failovers", singletons, s -> s.failovers(reason))
                        .tag("reason", tagValue(reason))
                        .description("@GlobalSingletons this node took over after their previous owner lost them, "
                                + "by why: died (owner_down), released them (handed_over), or was this node, fenced")
                        .register(meters);
            }
            FunctionCounter.builder(PREFIX + "singleton.skipped", singletons, GlobalSingletonManager::skippedRuns)
                    .tag("reason", "no_lease")
                    .description("Runs of @GlobalSingletons' scheduled methods this node skipped: when they were due, "
                            + "it could not act as their owner (its lease was not valid, say after a pause, or it "
                            + "no longer held them)")
                    .register(meters);
        }
    }

    private static double registrations(GlobalNameRegistry registry, Registration.State state) {
        try {
            return registry.registrations().stream().filter(r -> r.state() == state).count();
        } catch (IllegalStateException closed) {
            return Double.NaN;
        }
    }

    private static double members(GlobalNameRegistry registry) {
        try {
            return registry.members().size();
        } catch (IllegalStateException closed) {
            return Double.NaN;
        }
    }

    private static String tagValue(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }
}
