package io.globalregistry.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.globalregistry.RegistryException;
import io.globalregistry.membership.NodeId;
import io.globalregistry.protocol.RegistryConfig;
import io.globalregistry.protocol.RegistryConfig.Liveness;
import io.globalregistry.test.TestBroker;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Liveness on a broker without streams: an embedded Qpid Broker-J of its own (whatever broker the
 * other tests share), started through registry-test-support's package-private {@code EmbeddedQpid}
 * by reflection. AUTO resolves to BROKER there, an explicit LEASE is refused, and Qpid's answer for
 * a missing inbox still certifies a death.
 */
class QpidLivenessTest {

    private static AutoCloseable qpid;
    private static TestBroker broker;

    private final String cluster = "test-" + UUID.randomUUID().toString().substring(0, 8);

    @BeforeAll
    static void startQpid() throws Exception {
        Class<?> embedded = Class.forName("io.globalregistry.test.EmbeddedQpid");
        Method start = embedded.getDeclaredMethod("start");
        start.setAccessible(true);
        qpid = (AutoCloseable) start.invoke(null);
        Method brokerOf = embedded.getDeclaredMethod("broker");
        brokerOf.setAccessible(true);
        broker = (TestBroker) brokerOf.invoke(qpid);
    }

    @AfterAll
    static void stopQpid() throws Exception {
        if (qpid != null) {
            qpid.close();
        }
    }

    private AmqpGlobalRegistry start(String nodeName, Liveness liveness) {
        return AmqpGlobalRegistry.builder()
                .rabbitConnectionFactory(broker.newConnectionFactory())
                .config(RegistryConfig.defaults(cluster)
                        .withHeartbeat(Duration.ofMillis(100), Duration.ofMillis(400))
                        .withJoinWindow(Duration.ofMillis(300))
                        .withLiveness(liveness))
                .nodeName(nodeName)
                .start();
    }

    @Test
    void autoWhenQpidShouldResolveToBrokerAndCertifyAMissingInboxDead() throws Exception {
        AmqpGlobalRegistry a = start("a", Liveness.AUTO);
        AmqpGlobalRegistry b = start("b", Liveness.AUTO);
        try {
            assertThat(a.transport().liveness()).isEqualTo(Liveness.BROKER);
            assertThat(alive(a.transport(), b.nodeId())).isTrue();
            assertThat(alive(a.transport(), NodeId.fresh("ghost"))).isFalse(); // Qpid's "not found" text
            assertThat(a.register("x", "target").registered()).isTrue();
        } finally {
            b.close();
            a.close();
        }
    }

    @Test
    void leaseWhenQpidShouldFailAtStartNamingTheProperty() {
        assertThatThrownBy(() -> start("lease", Liveness.LEASE))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("global-registry.liveness")
                .hasMessageContaining("streams");
    }

    private static boolean alive(AmqpTransport from, NodeId node) throws Exception {
        CompletableFuture<Boolean> answer = new CompletableFuture<>();
        from.checkAlive(node, answer::complete);
        return answer.get(5, TimeUnit.SECONDS);
    }
}
