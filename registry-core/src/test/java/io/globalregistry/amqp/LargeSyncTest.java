package io.globalregistry.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.globalregistry.Registration;
import io.globalregistry.protocol.RegistryConfig;
import io.globalregistry.test.TestBroker;
import io.globalregistry.test.WithBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A sync larger than max-message-size must be split by size: the transport refuses to send an
 * oversized message, so a sync split by name count alone never reaches a late joiner.
 */
@WithBroker
class LargeSyncTest {

    @Test
    void aLateJoinerLearnsEveryNameEvenWhenOneSyncWouldExceedMaxMessageSize(TestBroker broker) throws Exception {
        try (ClusterFixture cluster = new ClusterFixture(broker)) {
            RegistryConfig small = cluster.config.withMaxMessageSize(4096);
            AmqpGlobalRegistry a = AmqpGlobalRegistry.builder().rabbitConnectionFactory(broker.newConnectionFactory())
                    .config(small).nodeName("a").start();
            try {
                List<CompletableFuture<?>> registered = new ArrayList<>();
                for (int i = 0; i < 200; i++) {
                    registered.add(a.registerAsync("a-rather-long-name-to-fill-the-sync-" + i, "t"));
                }
                CompletableFuture.allOf(registered.toArray(new CompletableFuture[0])).get(20, TimeUnit.SECONDS);
                AmqpGlobalRegistry late = AmqpGlobalRegistry.builder()
                        .rabbitConnectionFactory(broker.newConnectionFactory()).config(small).nodeName("late").start();
                try {
                    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(
                            late.whereis("a-rather-long-name-to-fill-the-sync-0").map(Registration::owner))
                            .contains(a.nodeId()));
                } finally {
                    late.close();
                }
            } finally {
                a.close();
            }
        }
    }
}
