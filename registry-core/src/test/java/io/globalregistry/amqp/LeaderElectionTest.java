package io.globalregistry.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import io.globalregistry.membership.NodeId;
import io.globalregistry.test.TestBroker;
import io.globalregistry.test.WithBroker;
import io.globalregistry.wire.Envelope;
import io.globalregistry.wire.Message;
import io.globalregistry.wire.Message.Hello;
import io.globalregistry.wire.RejectedMessages;
import io.globalregistry.wire.WireCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;

/**
 * Broker-arbitrated leadership over real transports (DESIGN §6): one leader among contenders, a
 * new one when it crashes or leaves, and requests to the leader queue delivered to the leader or
 * returned when nobody leads.
 */
@WithBroker
class LeaderElectionTest {

    private static final long RETRY_MILLIS = 100;

    private final String cluster = "test-" + UUID.randomUUID().toString().substring(0, 8);
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final List<Endpoint> endpoints = new ArrayList<>();
    private TestBroker broker;

    /** One transport with its loop, what it received and its election callbacks. */
    private final class Endpoint {
        final NodeId id = NodeId.fresh("t");
        final EventLoopRuntime loop = new EventLoopRuntime(id.name());
        final RejectedMessages rejected = new RejectedMessages();
        final AmqpTransport transport;
        final BlockingQueue<Envelope> received = new LinkedBlockingQueue<>();
        final List<Boolean> ledWhenReceived = new CopyOnWriteArrayList<>();
        final AtomicInteger elected = new AtomicInteger();
        final AtomicInteger deposed = new AtomicInteger();
        final List<Boolean> callbacksInLoop = new CopyOnWriteArrayList<>();
        volatile boolean gone;

        Endpoint() {
            com.rabbitmq.client.ConnectionFactory rabbit = broker.newConnectionFactory();
            rabbit.setAutomaticRecoveryEnabled(false);
            transport = new AmqpTransport(new CachingConnectionFactory(rabbit), true, id, cluster,
                    new WireCodec(cluster, 1 << 20), rejected, loop);
            transport.start(envelope -> {
                ledWhenReceived.add(leads());
                received.add(envelope);
            });
            closeables.add(loop);
            closeables.add(transport);
            endpoints.add(this);
        }

        Endpoint contend() {
            transport.contendForLeadership(RETRY_MILLIS, () -> {
                callbacksInLoop.add(loop.inLoop());
                elected.incrementAndGet();
            }, () -> {
                callbacksInLoop.add(loop.inLoop());
                deposed.incrementAndGet();
            });
            return this;
        }

        /** Closes the transport (leaves); its callbacks no longer count. */
        void leave() {
            gone = true;
            transport.close();
        }

        /** Aborts the transport's connections (crashes); its callbacks no longer count. */
        void crash() {
            gone = true;
            transport.abortConnection();
        }

        /** Leads according to its callbacks. */
        boolean leads() {
            return elected.get() - deposed.get() == 1;
        }

        void sendToLeader(Message body, AtomicInteger returned) {
            loop.execute(() -> transport.sendToLeader(new Envelope(1, id, cluster, 1L << 20, body),
                    returned::incrementAndGet));
        }
    }

    @BeforeEach
    void broker(TestBroker testBroker) {
        this.broker = testBroker;
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        try (com.rabbitmq.client.Connection connection = broker.newConnectionFactory().newConnection();
             com.rabbitmq.client.Channel channel = connection.createChannel()) {
            channel.exchangeDelete(AmqpNames.exchange(cluster));
        }
    }

    @Test
    void threeContendersWhenTheyRetryShouldElectExactlyOneAndKeepIt() throws Exception {
        Endpoint a = new Endpoint().contend();
        Endpoint b = new Endpoint().contend();
        Endpoint c = new Endpoint().contend();

        await().atMost(Duration.ofSeconds(5)).until(() -> leaders() == 1);
        long samples = 0;
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(2); // some 20 retries of each refused contender
        while (System.nanoTime() < end) {
            assertThat(leaders()).as("elected minus deposed over all contenders").isEqualTo(1);
            assertThat(endpoints.stream().filter(e -> e.transport.isLeader()).count()).isEqualTo(1);
            samples++;
            Thread.sleep(10);
        }
        System.out.printf("[leader-election] one leader at each of %d samples over 2 s%n", samples);
        assertThat(a.elected.get() + b.elected.get() + c.elected.get()).isEqualTo(1);
        assertThat(a.deposed.get() + b.deposed.get() + c.deposed.get()).isZero();
        assertThat(leader().callbacksInLoop).containsExactly(true);
    }

    @Test
    void theLeaderWhenItCrashesShouldBeReplacedByAnotherContender() throws Exception {
        new Endpoint().contend();
        new Endpoint().contend();
        new Endpoint().contend();
        await().atMost(Duration.ofSeconds(5)).until(() -> leaders() == 1);
        Endpoint old = leader();

        long start = System.nanoTime();
        old.crash();
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5))
                .until(() -> leaders() == 1 && leader() != old);
        System.out.printf("[leader-election] leader re-elected in %d ms after a crash (retry every %d ms)%n",
                (System.nanoTime() - start) / 1_000_000, RETRY_MILLIS);

        assertThat(old.deposed).as("no callback after a crash").hasValue(0);
        Thread.sleep(3 * RETRY_MILLIS);
        assertThat(leaders()).isEqualTo(1);
    }

    @Test
    void aRequestToTheLeaderShouldReachItOrBeReturnedWhenNobodyLeads() throws Exception {
        Endpoint follower = new Endpoint();
        AtomicInteger returned = new AtomicInteger();

        follower.sendToLeader(new Hello(), returned);
        await().atMost(Duration.ofSeconds(2)).until(() -> returned.get() == 1);

        Endpoint leader = new Endpoint().contend();
        await().atMost(Duration.ofSeconds(5)).until(leader::leads);
        follower.sendToLeader(new Hello(), returned);
        Envelope request = leader.received.poll(5, TimeUnit.SECONDS);
        assertThat(request).isNotNull();
        assertThat(request.body()).isEqualTo(new Hello());
        assertThat(request.sender()).isEqualTo(follower.id);
        assertThat(leader.ledWhenReceived).containsExactly(true);
        assertThat(follower.received).isEmpty();

        publishRaw(leader.transport.leaderQueue(), "not an envelope");
        await().atMost(Duration.ofSeconds(2)).until(() -> leader.rejected.total() == 1);
        Thread.sleep(200); // a return would come within milliseconds
        assertThat(returned).hasValue(1);

        leader.leave();
        follower.sendToLeader(new Hello(), returned);
        await().atMost(Duration.ofSeconds(2)).until(() -> returned.get() == 2);
        assertThat(leader.deposed).as("no callback after close").hasValue(0);
    }

    @Test
    void closingTheLeaderShouldReleaseTheQueueForTheOthers() {
        new Endpoint().contend();
        new Endpoint().contend();
        await().atMost(Duration.ofSeconds(5)).until(() -> leaders() == 1);
        Endpoint old = leader();

        old.leave();
        await().atMost(Duration.ofSeconds(5)).until(() -> leaders() == 1 && leader() != old);

        assertThat(old.transport.isLeader()).isFalse();
        assertThat(old.deposed).hasValue(0);
    }

    @Test
    void aLeaderWhoseConnectionDropsShouldBeDeposedOnceAndContendAgain() {
        Endpoint only = new Endpoint().contend();
        await().atMost(Duration.ofSeconds(5)).until(only::leads);

        only.transport.dropConnection();
        await().atMost(Duration.ofSeconds(5)).until(() -> only.deposed.get() == 1 && only.elected.get() == 2);

        assertThat(only.leads()).isTrue();
        assertThat(only.callbacksInLoop).containsExactly(true, true, true);
    }

    /** Elected minus deposed, summed over every contender still running. */
    private int leaders() {
        return endpoints.stream().filter(e -> !e.gone).mapToInt(e -> e.elected.get() - e.deposed.get()).sum();
    }

    private Endpoint leader() {
        return endpoints.stream().filter(e -> !e.gone && e.leads()).findFirst().orElse(null);
    }

    private void publishRaw(String queue, String body) throws Exception {
        try (com.rabbitmq.client.Connection connection = broker.newConnectionFactory().newConnection();
             com.rabbitmq.client.Channel channel = connection.createChannel()) {
            channel.basicPublish("", queue, true, new AMQP.BasicProperties.Builder().type("hello").build(),
                    body.getBytes(StandardCharsets.UTF_8));
        }
    }
}
