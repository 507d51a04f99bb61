package io.globalregistry.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.globalregistry.RegistrationResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class ClaimWindowTest {

    private final List<CompletableFuture<RegistrationResult>> started = new ArrayList<>();
    private final List<Integer> order = new ArrayList<>();

    private ClaimWindow.Entry entry(int id) {
        return new ClaimWindow.Entry(new CompletableFuture<>(), decided -> {
            order.add(id);
            started.add(decided);
        }, new CompletableFuture<>());
    }

    @Test
    void startsAtMostTheLimitAndTheRestInOrderAsRoomFreesUp() {
        ClaimWindow window = new ClaimWindow(2);
        for (int i = 0; i < 5; i++) {
            window.submit(entry(i));
        }
        assertThat(order).containsExactly(0, 1);
        assertThat(window.waiting()).isEqualTo(3);

        started.get(1).complete(new RegistrationResult(true, null));
        assertThat(order).containsExactly(0, 1, 2);
        started.get(0).completeExceptionally(new RuntimeException("lost"));
        started.get(2).complete(new RegistrationResult(false, null));
        assertThat(order).containsExactly(0, 1, 2, 3, 4);
        assertThat(window.inFlight()).isEqualTo(2);
    }

    @Test
    void neverStartsARegistrationWhoseCallerGaveUp() {
        ClaimWindow window = new ClaimWindow(1);
        window.submit(entry(0));
        ClaimWindow.Entry abandoned = entry(1);
        window.submit(abandoned);
        window.submit(entry(2));
        abandoned.caller().completeExceptionally(new RuntimeException("timed out"));

        started.get(0).complete(new RegistrationResult(true, null));

        assertThat(order).containsExactly(0, 2);
    }

    @Test
    void registrationsDecidedAtOnceDoNotRecurse() {
        ClaimWindow window = new ClaimWindow(1);
        List<Integer> ran = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            int id = i;
            window.submit(new ClaimWindow.Entry(new CompletableFuture<>(), decided -> {
                ran.add(id);
                decided.complete(new RegistrationResult(false, null));
            }, new CompletableFuture<>()));
        }
        assertThat(ran).hasSize(100_000);
        assertThat(window.inFlight()).isZero();
        assertThatThrownBy(() -> new ClaimWindow(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
