package io.globalregistry.amqp;

import com.rabbitmq.client.Address;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import io.globalregistry.membership.NodeId;
import java.io.IOException;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a lease log that does not exist yet is created, so that the three logs' leaders sit on three
 * different broker nodes (docs/PROTOCOL.md, "Wire"; docs/OPERATIONS.md, "Stream leaders"). A log is declared
 * with the {@code client-local} leader locator, so its leader is the broker node of the connection that
 * creates it: log {@code j} is created through a connection of its own to the {@code j}-th of the node's
 * broker addresses in <em>sorted</em> order ({@code host:port}), which every node of the cluster computes
 * alike whatever order it was given them in. So nodes that start together cannot pile the logs on one broker
 * node (RabbitMQ's {@code balanced} locator counts only the leaders already running, and three logs declared
 * at once by three nodes landed two or three on one broker node in 5 of 5 rounds: {@code LeaseLogPlacementTest}).
 *
 * <p>With one address (a load balancer, or a single broker) a log is created on the node's own connection.
 * If the {@code j}-th address does not accept a connection, the node's own connection creates the log
 * (logged at WARN: two logs may then share a leader). A log that exists is never declared through another
 * connection; the leaders stay where they are until RabbitMQ moves one.
 */
final class LeaseLogPlacement {

    private static final Logger LOG = LoggerFactory.getLogger(LeaseLogPlacement.class);
    private static final int CONNECT_TIMEOUT_MILLIS = 5_000;

    private final com.rabbitmq.client.ConnectionFactory rabbit; // null: the node's own connection only
    private final List<Address> sorted;
    private final NodeId self;

    /**
     * @param rabbit the RabbitMQ factory of the node's incarnation (its attached addresses are used), or null
     *               when the node's factory is not one the registry made (then every log is created on the
     *               node's own connection)
     */
    LeaseLogPlacement(com.rabbitmq.client.ConnectionFactory rabbit, NodeId self) {
        this.rabbit = rabbit;
        this.self = self;
        this.sorted = rabbit == null ? List.of() : sorted(BrokerAddresses.orderOf(rabbit));
    }

    /** The distinct addresses in the order every node computes alike: by {@code host:port}. */
    static List<Address> sorted(List<Address> addresses) {
        Map<String, Address> distinct = new LinkedHashMap<>();
        for (Address address : addresses) {
            distinct.putIfAbsent(BrokerAddresses.describe(List.of(address)), address);
        }
        return distinct.entrySet().stream().sorted(Map.Entry.comparingByKey(Comparator.naturalOrder()))
                .map(Map.Entry::getValue).toList();
    }

    /** The address log {@code log} is created through, or null for the node's own connection. */
    Address addressOf(int log) {
        return sorted.size() < 2 ? null : sorted.get(log % sorted.size());
    }

    /**
     * Creates {@code stream} (log {@code log}) unless it exists: through a connection to {@link #addressOf} that
     * log, else through {@code own}. The caller declares it on its own connection afterwards, which checks the
     * arguments of a stream that existed.
     */
    void createIfMissing(int log, String stream, Supplier<Channel> own, String virtualHost) {
        if (exists(own, stream)) {
            return;
        }
        Address address = addressOf(log);
        if (address == null) {
            LeaseStream.declare(own, stream, virtualHost);
            return;
        }
        com.rabbitmq.client.ConnectionFactory placing = rabbit.clone();
        placing.setConnectionTimeout(CONNECT_TIMEOUT_MILLIS);
        Connection connection;
        try {
            connection = placing.newConnection(List.of(address), "global-registry " + self + " lease-log " + log);
        } catch (IOException | TimeoutException | RuntimeException e) {
            LOG.warn("{} could not connect to {} to create the lease log {} there ({}); it creates it through its own"
                    + " connection, so two logs may share a leader (docs/OPERATIONS.md, \"Stream leaders\")", self,
                    BrokerAddresses.describe(List.of(address)), stream, BrokerErrors.describe(e));
            LeaseStream.declare(own, stream, virtualHost);
            return;
        }
        try {
            LeaseStream.declare(() -> {
                try {
                    return connection.createChannel();
                } catch (IOException e) {
                    throw new io.globalregistry.RegistryException("Could not open a channel to "
                            + BrokerAddresses.describe(List.of(address)) + ": " + BrokerErrors.describe(e), e);
                }
            }, stream, virtualHost);
            LOG.debug("{} created the lease log {} through {} (its leader is that broker node)", self, stream,
                    BrokerAddresses.describe(List.of(address)));
        } finally {
            try {
                connection.close(CONNECT_TIMEOUT_MILLIS);
            } catch (IOException | RuntimeException e) {
                LOG.trace("Closing the lease-log connection", e);
            }
        }
    }

    /** Whether {@code stream} exists: a passive declare on a channel of its own (a 404 closes it). */
    private static boolean exists(Supplier<Channel> own, String stream) {
        Channel channel = null;
        try {
            channel = own.get();
            channel.queueDeclarePassive(stream);
            return true;
        } catch (IOException | RuntimeException e) {
            if (BrokerErrors.isQueueGone(e, stream)) {
                return false;
            }
            // another answer: the declare that follows on the node's own connection says what is wrong
            LOG.debug("Looking up the lease stream {} ({}); it is declared on the node's connection", stream,
                    BrokerErrors.describe(e));
            return true;
        } finally {
            AmqpTransport.closeQuietly(channel);
        }
    }
}
