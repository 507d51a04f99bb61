package io.globalregistry.protocol;

import io.globalregistry.membership.Membership;
import io.globalregistry.membership.NodeId;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Crash detection under {@link RegistryConfig.Liveness#LEASE} (docs/PROTOCOL.md, "Liveness", rule 6), one node's
 * part: when the broker reports closed connections, this node announces its crash grace, pings the broker while it
 * owns a name and acts only within {@link RegistryConfig#crashLeaseMillis()} of a ping it answered; and it certifies
 * a member dead the grace that member announced after the broker reported its connection closed. Event-loop only,
 * except {@link #pingFresh} and {@link #grace}, which any thread may call.
 */
final class CrashDetector {

    private static final Logger LOG = LoggerFactory.getLogger(RegistryNode.class);

    private final NodeId self;
    private final RegistryConfig config;
    private final NodeRuntime runtime;
    private final Transport transport;
    private final Membership membership;
    private final BooleanSupplier stopped;
    private final IntSupplier ownedHere;
    private final Consumer<NodeId> certify;
    /** The grace this node announces, fixed at start; 0 when off. */
    private volatile long grace;
    /** Until when (monotonic ms) the newest ping the broker answered lets this node act. */
    private final AtomicLong pingedUntil = new AtomicLong(Long.MIN_VALUE);
    /** The grace each member announces in its heartbeats (0: a report of its closed connection proves nothing). */
    private final Map<NodeId, Long> announced = new HashMap<>();

    /**
     * @param ownedHere how many names this node owns (it pings only while it owns one)
     * @param certify removes a member certified dead, its names dropped
     */
    CrashDetector(NodeId self, RegistryConfig config, NodeRuntime runtime, Transport transport, Membership membership,
                  BooleanSupplier stopped, IntSupplier ownedHere, Consumer<NodeId> certify) {
        this.self = self;
        this.config = config;
        this.runtime = runtime;
        this.transport = transport;
        this.membership = membership;
        this.stopped = stopped;
        this.ownedHere = ownedHere;
        this.certify = certify;
    }

    /** At the node's start, under LEASE: on when the crash grace is set and the transport reports closed connections. */
    void start() {
        if (config.crashGrace().isZero()) {
            return;
        }
        if (transport.watchConnections(this::connectionClosedAtBroker)) {
            grace = config.crashGrace().toMillis();
            LOG.info("{}: crash detection on: the broker reports closed connections, so a node whose connection"
                    + " closes is certified dead {} ms later (it acts only within {} ms of a ping the broker"
                    + " answered)", self, grace, config.crashLeaseMillis());
            ping();
        } else {
            LOG.info("{}: crash detection off: the broker reports no closed connections (on RabbitMQ, enable the"
                    + " plugin rabbitmq_event_exchange); a crashed node is certified dead by the lease logs, {} ms"
                    + " after its last heartbeat", self, config.takeoverMillis());
        }
    }

    /** The grace this node announces (0: off). Any thread. */
    long grace() {
        return grace;
    }

    /** Whether a ping answer lets this node act at {@code now} (always, when off). Any thread. */
    boolean pingFresh(long now) {
        return grace == 0 || now <= pingedUntil.get();
    }

    /** This node gained a name: prove its connection now, not at the next ping. */
    void gained() {
        if (grace > 0) {
            runtime.execute(this::pingOnce);
        }
    }

    /** {@code member} announced {@code memberGrace} in a heartbeat (or a reader's summary of one). */
    void announced(NodeId member, long memberGrace) {
        announced.put(member, memberGrace);
    }

    /** {@code member} is gone. */
    void forget(NodeId member) {
        announced.remove(member);
    }

    /**
     * Pings the broker every quarter of the grace while this node owns a name (and at once when it gains one);
     * an answer to a ping sent at {@code t} lets this node act until {@code t} + the crash lease. The answer was
     * written before the connection closed, and another node certifies this one dead only the whole grace after
     * the broker reported it closed, so this node has stopped acting by then.
     */
    private void ping() {
        if (stopped.getAsBoolean()) {
            return;
        }
        if (ownedHere.getAsInt() > 0) {
            pingOnce(); // a node that owns nothing acts as no owner: it need not prove anything
        }
        runtime.schedule(config.crashPingMillis(), this::ping);
    }

    private void pingOnce() {
        if (!stopped.getAsBoolean()) {
            long until = runtime.monotonicMillis() + config.crashLeaseMillis();
            transport.ping(() -> pingedUntil.accumulateAndGet(until, Math::max));
        }
    }

    /**
     * The broker reported {@code member}'s connection closed. Once the grace it announced has passed, it acts no
     * more (its pings go unanswered, or it found its connection gone and gave up): it is certified dead, as if by
     * the lease logs. A member that announced no grace waits for them.
     */
    private void connectionClosedAtBroker(NodeId member) {
        if (stopped.getAsBoolean() || member.equals(self) || membership.isDead(member) || !membership.isMember(member)) {
            return;
        }
        long memberGrace = announced.getOrDefault(member, 0L);
        if (memberGrace == 0) {
            LOG.debug("{}: the broker reports the connection of {} closed; it announced no crash grace, so the lease"
                    + " logs will certify its death", self, member);
            return;
        }
        runtime.schedule(memberGrace, () -> {
            if (!stopped.getAsBoolean() && membership.isMember(member) && !membership.isDead(member)) {
                LOG.info("{} certifies {} dead: the broker reported its connection closed {} ms ago", self, member,
                        memberGrace);
                certify.accept(member);
            }
        });
    }
}
