package io.globalregistry.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.globalregistry.RegistryObserver;
import io.globalregistry.RegistryObserver.CallOutcome;
import io.globalregistry.RegistryObserver.RegistrationOutcome;
import io.globalregistry.test.TestBroker;
import io.globalregistry.test.WithBroker;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * A node's {@link RegistryObserver}, set on the builder, on the real broker: registrations and calls by outcome,
 * remote calls timed, local ones counted.
 */
@WithBroker
class RegistryObserverTest {

    public interface Adder {
        int add(int a, int b);
    }

    /** Records everything it is told. */
    static final class Recording implements RegistryObserver {
        final List<RegistrationOutcome> registrations = new CopyOnWriteArrayList<>();
        final List<String> calls = new CopyOnWriteArrayList<>();

        @Override
        public void registrationFinished(Duration took, RegistrationOutcome outcome) {
            assertThat(took).isPositive();
            registrations.add(outcome);
        }

        @Override
        public void callFinished(Duration took, CallOutcome outcome) {
            assertThat(took).isPositive();
            calls.add(outcome + " remote");
        }

        @Override
        public void localCallFinished(CallOutcome outcome) {
            calls.add(outcome + " local");
        }
    }

    @Test
    void registrationsWhenDecidedOrFailedShouldBeToldWithTheirOutcome(TestBroker broker) throws Exception {
        Recording seenByA = new Recording();
        Recording seenByB = new Recording();
        try (ClusterFixture cluster = new ClusterFixture(broker)) {
            AmqpGlobalRegistry a = cluster.start("a", builder -> builder.observer(seenByA));
            AmqpGlobalRegistry b = cluster.start("b", builder -> builder.observer(seenByB));
            await().atMost(Duration.ofSeconds(5)).until(() -> a.members().size() == 2 && b.members().size() == 2);

            assertThat(a.register("observed", "a's").registered()).isTrue();
            await().atMost(Duration.ofSeconds(1)).until(() -> seenByA.registrations.size() == 1); // told just after
            await().atMost(Duration.ofSeconds(3)).until(() -> b.whereis("observed").isPresent());
            assertThat(b.register("observed", "b's").registered()).isFalse();
            await().atMost(Duration.ofSeconds(1)).until(() -> seenByB.registrations.size() == 1);

            Recording seenByC = new Recording();
            AmqpGlobalRegistry c = cluster.start("c", builder -> builder.observer(seenByC));
            CompletableFuture<?> cut = c.registerAsync("never decided", "c's"); // waits for the join window
            c.close();
            assertThat(cut).failsWithin(Duration.ofSeconds(5));

            assertThat(seenByA.registrations).containsExactly(RegistrationOutcome.WON);
            assertThat(seenByB.registrations).containsExactly(RegistrationOutcome.LOST);
            await().atMost(Duration.ofSeconds(1)).until(() -> seenByC.registrations.size() == 1);
            assertThat(seenByC.registrations).containsExactly(RegistrationOutcome.FAILED);
        }
    }

    @Test
    void proxiedCallsShouldBeToldAsLocalOrRemoteByOutcome(TestBroker broker) throws Exception {
        Recording seenByA = new Recording();
        Recording seenByB = new Recording();
        try (ClusterFixture cluster = new ClusterFixture(broker)) {
            AmqpGlobalRegistry a = cluster.start("a", builder -> builder.observer(seenByA));
            AmqpGlobalRegistry b = cluster.start("b", builder -> builder.observer(seenByB));
            assertThat(a.register("adder", (Adder) (x, y) -> {
                if (x < 0) {
                    throw new IllegalArgumentException("negative");
                }
                return x + y;
            }).registered()).isTrue();
            await().atMost(Duration.ofSeconds(3)).until(() -> b.whereis("adder").isPresent());

            assertThat(a.proxy("adder", Adder.class).add(1, 2)).isEqualTo(3);
            assertThat(b.proxy("adder", Adder.class).add(2, 2)).isEqualTo(4);
            assertThatThrownBy(() -> b.proxy("adder", Adder.class).add(-1, 2)).hasMessageContaining("negative");

            assertThat(seenByA.calls).containsExactly("OK local");
            assertThat(seenByB.calls).containsExactly("OK remote", "ERROR remote");
        }
    }
}
