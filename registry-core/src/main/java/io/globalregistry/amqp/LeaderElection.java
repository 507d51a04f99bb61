package io.globalregistry.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Address;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.ShutdownSignalException;
import io.globalregistry.engine.RegistryThreads;
import io.globalregistry.membership.NodeId;
import io.globalregistry.protocol.NodeRuntime;
import io.globalregistry.support.RateLimitedLog;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.MessageListener;
import org.springframework.amqp.rabbit.support.DefaultMessagePropertiesConverter;
import org.springframework.amqp.rabbit.support.MessagePropertiesConverter;

/**
 * Broker-arbitrated leadership of one node (DESIGN §6): the leader is the node whose election
 * connection holds the cluster's leader queue, declared exclusive, auto-delete and non-durable, so
 * the broker grants it to one connection at a time and frees it the moment that connection dies.
 *
 * <p>The election has a connection of its own, apart from the node's: a refused declare closes its
 * channel (RabbitMQ: 405 RESOURCE_LOCKED) or its connection (Qpid Broker-J: 530 NOT_ALLOWED), which
 * must not take the node's inbox or publishers with it. A refused contender keeps the connection (reopening it
 * only if it died) and tries again every {@code retryMillis} on one daemon thread
 * {@code global-registry-<node>-leader}; a refusal is the normal case and logged at DEBUG only.
 *
 * <p>When the declare succeeds, {@code elected} is queued on the loop, then the queue is consumed
 * without acks through a listener that queues every message on the loop too, so the node always
 * learns it leads before it sees a request. When the consumer ends (its connection or channel lost,
 * the queue deleted), {@code deposed} is queued on the loop, once per election, behind the messages
 * already delivered; the connection is dropped (freeing the queue if the broker still holds it for
 * it) and the contention goes on. After {@link #close} no callback runs.
 *
 * <p>The election connection tries the broker addresses of the node's incarnation in the same
 * order as the node's own connection ({@link BrokerAddresses#orderOf} the factory: all of them, in
 * turn), so a broker node that is down is passed over; it never recovers by itself.
 */
final class LeaderElection {

    private static final Logger LOG = LoggerFactory.getLogger(LeaderElection.class);
    private static final int CLOSE_TIMEOUT_MILLIS = 2_000;

    /** One election won: the channel consuming the queue, and whether it has been lost since. */
    private static final class Term {
        final Channel channel;
        boolean lost; // guarded by the election

        Term(Channel channel) {
            this.channel = channel;
        }
    }

    private final com.rabbitmq.client.ConnectionFactory factory;
    private final List<Address> addresses;
    private final NodeId self;
    private final String queue;
    private final NodeRuntime runtime;
    private final MessageListener listener;
    private final long retryMillis;
    private final Runnable elected;
    private final Runnable deposed;
    private final ScheduledThreadPoolExecutor attempts;
    private final MessagePropertiesConverter converter = new DefaultMessagePropertiesConverter();
    private final RateLimitedLog failures = new RateLimitedLog(LOG, Level.WARN);
    private Connection connection; // guarded by this
    private Term term; // guarded by this; the election held now, if any
    private boolean closed; // guarded by this

    /**
     * @param factory the broker settings; a copy opens the election's connection (no automatic recovery),
     *     to the addresses attached to it by the builder, else to its host and port
     * @param self this node (names the connection and the thread)
     * @param queue the cluster's leader queue
     * @param runtime the node's event loop, where {@code elected} and {@code deposed} run
     * @param listener takes the leader queue's messages; it must queue them on the loop (behind {@code elected})
     * @param retryMillis how long a refused contender waits before it tries again
     * @param elected runs on the loop when this node gains the queue
     * @param deposed runs on the loop when this node loses it (once per {@code elected})
     */
    LeaderElection(com.rabbitmq.client.ConnectionFactory factory, NodeId self, String queue, NodeRuntime runtime,
                   MessageListener listener, long retryMillis, Runnable elected, Runnable deposed) {
        if (retryMillis <= 0) {
            throw new IllegalArgumentException("retryMillis must be positive, got " + retryMillis);
        }
        this.addresses = BrokerAddresses.orderOf(factory);
        this.factory = factory.clone();
        this.factory.setAutomaticRecoveryEnabled(false); // a dead election must stay dead: the queue went with it
        this.factory.setTopologyRecoveryEnabled(false);
        this.factory.setThreadFactory(RegistryThreads.factory(self.name(), "leader-connection"));
        this.self = self;
        this.queue = queue;
        this.runtime = runtime;
        this.listener = listener;
        this.retryMillis = retryMillis;
        this.elected = elected;
        this.deposed = deposed;
        this.attempts = new ScheduledThreadPoolExecutor(1, RegistryThreads.factory(self.name(), "leader"));
        this.attempts.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.attempts.setRemoveOnCancelPolicy(true);
    }

    /** Starts contending: the first attempt is made at once, on the election's thread. */
    void start() {
        later(0, this::attempt);
    }

    /** Whether this node holds the leader queue now, as far as it knows. */
    synchronized boolean isLeader() {
        return term != null;
    }

    /** One try: connect if need be, declare the queue; won -> elected and consume; refused -> try again later. */
    private void attempt() {
        Connection open = connect();
        if (open == null) {
            return;
        }
        Channel channel = null;
        try {
            channel = open.createChannel();
            if (channel == null) {
                throw new IOException("No channel available (channel-max reached)");
            }
            channel.queueDeclare(queue, false, true, true, null);
        } catch (IOException | RuntimeException e) {
            closeQuietly(channel); // a refusal has closed it already; another failure may not have
            if (BrokerErrors.isExclusiveElsewhere(e)) {
                LOG.debug("{}: {} is held by another node; trying again in {} ms", self, queue, retryMillis);
            } else if (!isClosed()) {
                failures.log("{} could not contend for {} ({}); trying again every {} ms", self, queue,
                        BrokerErrors.describe(e), retryMillis);
            }
            later(retryMillis, this::attempt);
            return;
        }
        Term won = new Term(channel);
        synchronized (this) {
            if (closed) {
                return; // close() takes the connection down
            }
            term = won;
            runtime.execute(elected);
        }
        LOG.info("{} is the leader of {}", self, queue);
        try {
            channel.basicConsume(queue, true, new LeaderQueueConsumer(won));
        } catch (IOException | RuntimeException e) {
            lost(won, "could not consume it: " + BrokerErrors.describe(e));
        }
    }

    /** The open election connection, opened if need be; null once closed or if it cannot be opened (then retried). */
    private Connection connect() {
        synchronized (this) {
            if (closed) {
                return null;
            }
            if (connection != null && connection.isOpen()) {
                return connection;
            }
        }
        Connection opened;
        try {
            opened = factory.newConnection(addresses, "global-registry " + self + " leader-election");
        } catch (IOException | TimeoutException | RuntimeException e) {
            if (!isClosed()) {
                failures.log("{} could not open its leader-election connection ({}); trying again every {} ms", self,
                        BrokerErrors.describe(e), retryMillis);
                later(retryMillis, this::attempt);
            }
            return null;
        }
        synchronized (this) {
            if (!closed) {
                connection = opened;
                return opened;
            }
        }
        opened.abort(CLOSE_TIMEOUT_MILLIS);
        return null;
    }

    /** The consumer of {@code term} ended: deposed (once), then drop the connection and contend again. */
    private void lost(Term lostTerm, String why) {
        synchronized (this) {
            if (lostTerm.lost) {
                return;
            }
            lostTerm.lost = true;
            if (closed || term != lostTerm) {
                return;
            }
            term = null;
            runtime.execute(deposed);
        }
        LOG.warn("{} lost the leadership of {} ({}); contending again", self, queue, why);
        later(0, () -> {
            dropConnection(lostTerm.channel.getConnection());
            attempt();
        });
    }

    /** Aborts {@code dead} (not blocking on a broker that may be gone) and forgets it. */
    private void dropConnection(Connection dead) {
        synchronized (this) {
            if (connection == dead) {
                connection = null;
            }
        }
        dead.abort(CLOSE_TIMEOUT_MILLIS);
    }

    private static void closeQuietly(Channel channel) {
        if (channel != null && channel.isOpen()) {
            try {
                channel.abort();
            } catch (IOException | RuntimeException e) {
                LOG.trace("Closing a refused election channel", e);
            }
        }
    }

    private void later(long delayMillis, Runnable task) {
        try {
            attempts.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            LOG.trace("{}: election closed; no more attempts", self);
        }
    }

    /** The settings the election connects with (for tests). */
    com.rabbitmq.client.ConnectionFactory factory() {
        return factory;
    }

    /** The addresses the election connection tries, in order (for tests). */
    List<Address> addresses() {
        return addresses;
    }

    private synchronized boolean isClosed() {
        return closed;
    }

    /**
     * Drops the election's connection as a network failure would, the election going on: if this
     * node led, {@code deposed} runs and it contends again. For tests.
     */
    void dropConnection() {
        Connection current;
        synchronized (this) {
            current = connection;
        }
        if (current != null) {
            current.abort(CLOSE_TIMEOUT_MILLIS);
        }
    }

    /**
     * Stops contending and gives the queue up, without {@code deposed}: {@code abort} cuts the
     * connection at once (a crash), else it is closed (the broker frees the queue either way).
     */
    void close(boolean abort) {
        Connection current;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            current = connection;
            connection = null;
            term = null;
        }
        attempts.shutdown(); // an attempt under way finds the election closed; none is interrupted mid-RPC
        if (current == null || !current.isOpen()) {
            return;
        }
        try {
            if (abort) {
                current.abort(CLOSE_TIMEOUT_MILLIS);
            } else {
                current.close(CLOSE_TIMEOUT_MILLIS);
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("{}: closing the leader-election connection: {}", self, e.toString());
        }
    }

    /** Hands the leader queue's messages to the listener, and tells the election when the consumer ends. */
    private final class LeaderQueueConsumer extends DefaultConsumer {

        private final Term owner;

        LeaderQueueConsumer(Term owner) {
            super(owner.channel);
            this.owner = owner;
        }

        @Override
        public void handleDelivery(String consumerTag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
            listener.onMessage(new Message(body, converter.toMessageProperties(properties, envelope, "UTF-8")));
        }

        @Override
        public void handleCancel(String consumerTag) {
            lost(owner, "the broker cancelled its consumer: the queue was deleted");
        }

        @Override
        public void handleShutdownSignal(String consumerTag, ShutdownSignalException signal) {
            lost(owner, signal.getMessage());
        }
    }

    @Override
    public String toString() {
        return "LeaderElection[" + queue + " by " + self + "]";
    }
}
