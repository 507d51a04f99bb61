package io.globalregistry.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.globalregistry.OwnerChange;
import io.globalregistry.OwnerChange.Reason;
import io.globalregistry.Registration;
import io.globalregistry.test.TestBroker;
import io.globalregistry.test.WithBroker;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Self-fencing on the real broker (PROTOCOL.md "Self-fencing", invariant I6): a node whose inbox
 * disappears while its process runs stops hearing its own heartbeats, gives up its names and
 * stops, before any other node can take them.
 */
@WithBroker
class SelfFencingTest {

    @Test
    void ownerWhenItsInboxIsDeletedShouldFenceBeforeAnotherNodeTakesItsName(TestBroker broker) throws Exception {
        try (ClusterFixture cluster = new ClusterFixture(broker)) {
            List<AmqpGlobalRegistry> nodes = cluster.start("a", "b");
            AmqpGlobalRegistry a = nodes.get(0);
            AmqpGlobalRegistry b = nodes.get(1);
            assertThat(a.register("fenced-name", "target").registered()).isTrue();
            await().atMost(Duration.ofSeconds(3)).until(() -> b.whereis("fenced-name").isPresent());

            List<OwnerChange> fenced = new CopyOnWriteArrayList<>();
            AtomicLong fencedAt = new AtomicLong();
            a.addListener(change -> {
                if (change.reason() == Reason.FENCED) {
                    fencedAt.compareAndSet(0, System.nanoTime());
                    fenced.add(change);
                }
            });
            AtomicLong takenAt = new AtomicLong();
            b.addListener(change -> {
                if (change.reason() == Reason.OWNER_DOWN) {
                    new Thread(() -> {
                        if (b.register("fenced-name", "standby").registered()) {
                            takenAt.set(System.nanoTime());
                        }
                    }).start();
                }
            });

            long cut = System.nanoTime();
            try (Connection connection = broker.newConnectionFactory().newConnection("test-cut");
                 Channel channel = connection.createChannel()) {
                channel.queueDelete(a.transport().inbox()); // a's process runs on, but hears nothing any more
            }

            await().atMost(Duration.ofSeconds(10)).until(() -> takenAt.get() != 0);
            assertThat(fenced).extracting(change -> change.name().key()).containsExactly("\"fenced-name\"");
            assertThat(a.whereis("fenced-name").map(Registration::isLocal)).isNotEqualTo(java.util.Optional.of(true));
            assertThat(fencedAt.get()).as("a fenced itself before b took the name").isLessThan(takenAt.get());
            System.out.printf("[self-fencing] inbox deleted; a fenced after %d ms, b owned the name after %d ms%n",
                    (fencedAt.get() - cut) / 1_000_000, (takenAt.get() - cut) / 1_000_000);
        }
    }

    @Test
    void ownerWhenItsConnectionDropsShouldFenceAtOnce(TestBroker broker) throws Exception {
        try (ClusterFixture cluster = new ClusterFixture(broker)) {
            AmqpGlobalRegistry a = cluster.start("a", builder -> builder.rejoin(false)); // stays fenced (see RejoinTest)
            AmqpGlobalRegistry b = cluster.start("b");
            assertThat(a.register("dropped-name", "target").registered()).isTrue();
            await().atMost(Duration.ofSeconds(3)).until(() -> b.whereis("dropped-name").isPresent());
            AtomicLong fencedAt = new AtomicLong();
            a.addListener(change -> {
                if (change.reason() == Reason.FENCED) {
                    fencedAt.compareAndSet(0, System.nanoTime());
                }
            });

            long cut = System.nanoTime();
            a.transport().dropConnection(); // a network failure: the process runs on, the broker drops the inbox

            await().atMost(Duration.ofSeconds(3)).until(() -> fencedAt.get() != 0);
            assertThat(a.whereis("dropped-name")).isEmpty();
            assertThat(a.isFenced()).isTrue();
            assertThat(b.isFenced()).isFalse();
            await().atMost(Duration.ofSeconds(3)).until(() -> b.whereis("dropped-name").isEmpty());
            assertThat(b.register("dropped-name", "standby").registered()).isTrue();
            System.out.printf("[self-fencing] connection dropped; a fenced after %d ms%n",
                    (fencedAt.get() - cut) / 1_000_000);
        }
    }
}
