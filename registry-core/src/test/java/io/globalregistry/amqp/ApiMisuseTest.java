package io.globalregistry.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.globalregistry.InvalidNameException;
import io.globalregistry.NoSuchNameException;
import io.globalregistry.test.TestBroker;
import io.globalregistry.test.WithBroker;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Wrong use of the API fails at once with a clear exception, and leaves the node working. */
@WithBroker
class ApiMisuseTest {

    private ClusterFixture cluster;
    private AmqpGlobalRegistry a;
    private AmqpGlobalRegistry b;

    @BeforeEach
    void startCluster(TestBroker broker) {
        cluster = new ClusterFixture(broker);
        a = cluster.start("a");
        b = cluster.start("b");
    }

    @AfterEach
    void closeCluster() throws Exception {
        cluster.close();
    }

    @Test
    void nullNames() {
        assertThatThrownBy(() -> a.register(null, "t")).isInstanceOf(InvalidNameException.class)
                .hasMessage("A name must not be null");
        assertThatThrownBy(() -> a.registerAsync(null, "t")).isInstanceOf(InvalidNameException.class);
        assertThatThrownBy(() -> a.whereis(null)).isInstanceOf(InvalidNameException.class);
        assertThatThrownBy(() -> a.unregister(null)).isInstanceOf(InvalidNameException.class);
        assertThatThrownBy(() -> a.send(null, "m")).isInstanceOf(InvalidNameException.class);
    }

    @Test
    void namesWithoutJsonForm() {
        assertThatThrownBy(() -> a.register(new Object(), "t")).isInstanceOf(InvalidNameException.class)
                .hasMessageContaining("java.lang.Object").hasMessageContaining("no JSON form");
        Map<String, Object> selfReferencing = new HashMap<>();
        selfReferencing.put("me", selfReferencing);
        assertThatThrownBy(() -> a.register(selfReferencing, "t")).isInstanceOf(InvalidNameException.class)
                .hasMessageContaining("java.util.HashMap");
        assertThatThrownBy(() -> a.register(Double.NaN, "t")).isInstanceOf(InvalidNameException.class);
        assertThatThrownBy(() -> a.register("x".repeat(2000), "t")).isInstanceOf(InvalidNameException.class)
                .hasMessageContaining("at most 1024");
    }

    @Test
    void nullTargetsAndMessages() {
        assertThatThrownBy(() -> a.register("n", null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("The target registered under \"n\" must not be null");
        a.register("n", "t");
        assertThatThrownBy(() -> a.send("n", null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must not be null");
    }

    @Test
    void sendToAnUnownedName() {
        assertThatThrownBy(() -> a.send("nobody", "hello")).isInstanceOf(NoSuchNameException.class)
                .hasMessage("No node of the cluster owns the name \"nobody\"")
                .satisfies(e -> assertThat(((NoSuchNameException) e).name()).isEqualTo("\"nobody\""));
        assertThatThrownBy(() -> a.send(List.of("room", 1), "hello")).isInstanceOf(NoSuchNameException.class)
                .hasMessageContaining("[\"room\",1]");
    }

    @Test
    void messagesWithoutJsonFormOrTooLarge() {
        b.register("remote", (io.globalregistry.MessageHandler<Object>) m -> { });
        await().atMost(Duration.ofSeconds(3)).until(() -> a.whereis("remote").isPresent());
        assertThatThrownBy(() -> a.send("remote", new Object())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no JSON form");
        Map<String, Object> selfReferencing = new HashMap<>();
        selfReferencing.put("me", selfReferencing);
        assertThatThrownBy(() -> a.send("remote", selfReferencing)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no JSON form");
        assertThatThrownBy(() -> a.send("remote", "x".repeat(2 * 1024 * 1024)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("max-message-size");
    }

    @Test
    void closedNodesRefuseWork() {
        a.close();
        assertThatThrownBy(() -> a.register("late", "t")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        assertThatThrownBy(a::members).isInstanceOf(IllegalStateException.class);
        a.close(); // idempotent
        assertThat(b.register("after", "t").registered()).isTrue();
    }
}
