package io.globalregistry.amqp;

import com.rabbitmq.client.Channel;
import io.globalregistry.engine.NodeTransport.LeaseInbound;
import io.globalregistry.membership.NodeId;
import io.globalregistry.protocol.NodeRuntime;
import io.globalregistry.protocol.RegistryConfig;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.function.Supplier;
import java.util.stream.IntStream;

/**
 * Liveness {@code lease} on the AMQP transport: the cluster's {@link RegistryConfig#LEASE_LOGS} lease
 * logs, RabbitMQ streams {@code global-registry.<cluster>.lease.<j>}, each created through a connection to a
 * broker node of its own ({@link LeaseLogPlacement}), so their leaders sit on different broker nodes of a
 * cluster and one broker node lost or cut off stops one log, not the leases (docs/PROTOCOL.md, "Liveness"). Every heartbeat goes to each;
 * each is read by its own {@link LeaseStream}, whose heartbeats go to the node tagged with the log.
 */
final class LeaseLogs {

    private final List<String> names;
    private final List<LeaseStream> readers = new CopyOnWriteArrayList<>();
    private Runnable starter; // guarded by this: reads every stream from its next entry

    LeaseLogs(String cluster) {
        this.names = IntStream.range(0, RegistryConfig.LEASE_LOGS).mapToObj(log -> AmqpNames.leaseStream(cluster, log))
                .toList();
    }

    /** The streams' names, log 0 first. */
    List<String> names() {
        return names;
    }

    /**
     * Creates every stream that does not exist where {@code placement} says, then declares each on the node's
     * connection (see {@link LeaseStream#declare}: checks the arguments).
     */
    void declare(Supplier<Channel> opener, String virtualHost, LeaseLogPlacement placement) {
        for (int log = 0; log < names.size(); log++) {
            placement.createIfMissing(log, names.get(log), opener, virtualHost);
            LeaseStream.declare(opener, names.get(log), virtualHost);
        }
    }

    /** Starts reading every stream from its next entry; returns once each is consumed. */
    synchronized void start(Supplier<Channel> opener, NodeId self, InboxListener reader, NodeRuntime runtime,
                            LeaseInbound inbound, Runnable lost, ExecutorService resubscriber) {
        starter = () -> {
            for (int log = 0; log < names.size(); log++) {
                int from = log;
                LeaseStream stream = new LeaseStream(opener, self, names.get(log), reader, runtime,
                        envelope -> inbound.accept(from, envelope), lost, resubscriber);
                stream.start();
                readers.add(stream);
            }
        };
        starter.run();
    }

    /**
     * Stops reading (each reader's consumer cancelled, its channel closed), or reads again, every stream from its
     * next entry: a node that is not among the readers (docs/PROTOCOL.md, "Liveness") reads nothing.
     */
    synchronized void reading(boolean read) {
        if (!read) {
            close();
            readers.clear();
        } else if (readers.isEmpty() && starter != null) {
            starter.run();
        }
    }

    /** Whether the streams are being read. */
    boolean reading() {
        return !readers.isEmpty();
    }

    /** The reader of log {@code log}, once started; else null. */
    LeaseStream reader(int log) {
        return log < readers.size() ? readers.get(log) : null;
    }

    void close() {
        readers.forEach(LeaseStream::close);
    }

    void abort() {
        readers.forEach(LeaseStream::abort);
    }
}
