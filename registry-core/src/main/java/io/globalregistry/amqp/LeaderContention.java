package io.globalregistry.amqp;

import io.globalregistry.membership.NodeId;
import io.globalregistry.protocol.NodeRuntime;
import io.globalregistry.wire.Envelope;
import io.globalregistry.wire.RejectedMessages;
import io.globalregistry.wire.WireCodec;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.amqp.rabbit.connection.AbstractConnectionFactory;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;

/**
 * Strategy {@code leader} under liveness {@code broker} on the AMQP transport: the node's one
 * {@link LeaderElection} for the cluster's leader queue, on a connection of its own opened from the RabbitMQ
 * settings of the node's factory (which must then be an {@link AbstractConnectionFactory}, as the builder's
 * is). The leader queue's messages are checked like the inbox's ({@code admit}) and reach the node's inbound.
 * At most one election per transport; none once the transport stopped.
 */
final class LeaderContention {

    private static final Logger LOG = LoggerFactory.getLogger(AmqpTransport.class);

    private final ConnectionFactory connectionFactory;
    private final NodeId self;
    private final String leaderQueue;
    private final NodeRuntime runtime;
    private final WireCodec codec;
    private final RejectedMessages rejected;
    private final Predicate<Envelope> admit;
    private final BooleanSupplier stopped;
    private LeaderElection election; // guarded by this

    LeaderContention(ConnectionFactory connectionFactory, NodeId self, String leaderQueue, NodeRuntime runtime,
                     WireCodec codec, RejectedMessages rejected, Predicate<Envelope> admit, BooleanSupplier stopped) {
        this.connectionFactory = connectionFactory;
        this.self = self;
        this.leaderQueue = leaderQueue;
        this.runtime = runtime;
        this.codec = codec;
        this.rejected = rejected;
        this.admit = admit;
        this.stopped = stopped;
    }

    /**
     * Starts contending (see {@link AmqpTransport#contendForLeadership}); returns at once.
     *
     * @param inbound the node's inbound, null if the transport is not started
     * @throws IllegalStateException if not started, already contending, or without RabbitMQ settings
     */
    void contend(Consumer<Envelope> inbound, long retryMillis, Runnable elected, Runnable deposed) {
        Objects.requireNonNull(elected, "elected");
        Objects.requireNonNull(deposed, "deposed");
        if (inbound == null) {
            throw new IllegalStateException("Start the transport of " + self + " before it contends for leadership");
        }
        if (!(connectionFactory instanceof AbstractConnectionFactory)) {
            throw new IllegalStateException("Leader election opens a connection of its own from the RabbitMQ settings"
                    + " of the node's connection factory, which must be an AbstractConnectionFactory (e.g. a"
                    + " CachingConnectionFactory); got a " + connectionFactory.getClass().getName());
        }
        synchronized (this) {
            if (election != null) {
                throw new IllegalStateException(self + " already contends for leadership");
            }
            if (stopped.getAsBoolean()) {
                LOG.debug("{} is closed; it does not contend for leadership", self);
                return;
            }
            election = new LeaderElection(((AbstractConnectionFactory) connectionFactory).getRabbitConnectionFactory(),
                    self, leaderQueue, runtime, InboxListener.queued(codec, rejected, runtime, inbound, admit),
                    retryMillis, elected, deposed);
            election.start();
        }
    }

    /** Drops the election connection: {@code deposed} follows if it led; the contention goes on. */
    void dropConnection() {
        LeaderElection contending = election();
        if (contending != null) {
            contending.dropConnection();
        }
    }

    /** Whether this node holds the leader queue now, as far as it knows (false when it does not contend). */
    boolean isLeader() {
        LeaderElection contending = election();
        return contending != null && contending.isLeader();
    }

    /** Ends the election, if any, without a {@code deposed} callback; {@code abort} for a crash. */
    void end(boolean abort) {
        LeaderElection contending = election();
        if (contending != null) {
            contending.close(abort);
        }
    }

    private synchronized LeaderElection election() {
        return election;
    }
}
