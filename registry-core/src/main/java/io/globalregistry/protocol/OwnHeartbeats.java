package io.globalregistry.protocol;

import io.globalregistry.wire.Envelope;
import io.globalregistry.wire.Message;
import io.globalregistry.wire.Message.Heartbeat;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongFunction;

/**
 * What and when this node heartbeats, and what the lease logs' confirms of its heartbeats do to its lease
 * (docs/PROTOCOL.md, "Liveness", rules 1 and 8). A busy node heartbeats every interval announcing the busy lease; an
 * idle one (it owns, leads, reads and registers nothing) once every idle-heartbeat-interval announcing the idle lease,
 * which keeps its incarnation but lets it act no longer than a busy lease: it announces the idle lease at once when it
 * becomes idle, and sends a busy heartbeat at once when it is about to register ({@link #wake}), so its incarnation
 * holds without a gap. Event-loop only.
 */
final class OwnHeartbeats {

    private final RegistryConfig config;
    private final NodeRuntime runtime;
    private final Transport transport;
    private final Leases leases;
    private final Function<Message, Envelope> envelopes;
    private final LongFunction<Heartbeat> bodies;
    private final Consumer<String> giveUp;
    private final BooleanSupplier stopped;
    private boolean confirmed;
    /** Ticks since the last heartbeat; whether the last heartbeat announced the idle lease. */
    private int idleTicks;
    private boolean idleSpell;
    /** This node registers something until then (monotonic ms), so it is not idle. */
    private long busyUntil = Long.MIN_VALUE;
    /** When a heartbeat of this node's own last came back or was confirmed (monotonic ms). */
    private long lastHeard;

    /**
     * @param bodies this node's heartbeat announcing a lease (ms)
     * @param giveUp ends the incarnation, with why (its lease lapsed)
     */
    OwnHeartbeats(RegistryConfig config, NodeRuntime runtime, Transport transport, Leases leases,
                  Function<Message, Envelope> envelopes, LongFunction<Heartbeat> bodies, Consumer<String> giveUp,
                  BooleanSupplier stopped) {
        this.config = config;
        this.runtime = runtime;
        this.transport = transport;
        this.leases = leases;
        this.envelopes = envelopes;
        this.bodies = bodies;
        this.giveUp = giveUp;
        this.stopped = stopped;
    }

    /** The node starts; {@code confirmed}: under LEASE, the transport reports the logs' confirms. */
    void start(long now, boolean confirmed) {
        this.confirmed = confirmed;
        lastHeard = now;
    }

    /** Whether the transport reports the logs' confirms (rules 1 and 7: a node need not read to hold its lease). */
    boolean confirmed() {
        return confirmed;
    }

    /** Whether this node is about to register (so not idle) at {@code now}. */
    boolean registering(long now) {
        return now < busyUntil;
    }

    long lastHeard() {
        return lastHeard;
    }

    /** A heartbeat of this node's own came back through the broker at {@code now}. */
    void heard(long now) {
        lastHeard = now;
    }

    /** How busy a node is, for how often it heartbeats. */
    enum Duty {
        /** It owns or leads something, registers, or joins: every interval, the busy lease. */
        BUSY,
        /** It only reads the lease logs: every other interval, the busy lease (rule 7). */
        READING,
        /** Nothing at all: every idle-heartbeat-interval, the idle lease (rule 8). */
        IDLE
    }

    /** One heartbeat interval passed; {@code duty}: what the node does now. */
    void tick(long now, Duty duty) {
        if (!confirmed) {
            Envelope heartbeat = envelopes.apply(bodies.apply(config.leaseMillis()));
            leases.sent(heartbeat.hlc(), now);
            transport.heartbeat(heartbeat);
            return;
        }
        boolean idle = duty == Duty.IDLE;
        ++idleTicks;
        if (duty == Duty.BUSY || idleSpell != idle || idleTicks >= (idle ? config.idleHeartbeatTicks() : 2)) {
            publish(now, idle);
        }
    }

    /**
     * This node is about to register, or gained a name: busy for a while; after an idle spell, whose heartbeats let it
     * act for no more than a busy lease, it heartbeats at once so it may act within a confirm.
     */
    void wake() {
        long now = runtime.monotonicMillis();
        busyUntil = Math.max(busyUntil, now + config.grantTtlMillis());
        if (idleSpell && confirmed && !stopped.getAsBoolean()) {
            publish(now, false);
        }
    }

    private void publish(long now, boolean idle) {
        long lease = idle ? config.idleLeaseMillis() : config.leaseMillis();
        Envelope heartbeat = envelopes.apply(bodies.apply(lease));
        leases.sent(heartbeat.hlc(), now, lease);
        long hlc = heartbeat.hlc();
        transport.heartbeat(heartbeat, log -> confirmed(log, hlc));
        idleSpell = idle;
        idleTicks = 0;
    }

    /**
     * Log {@code log} stored our heartbeat stamped {@code hlc} on a majority of its replicas: it extends the lease
     * (rule 1) like a read-back, but certifies nobody.
     */
    private void confirmed(int log, long hlc) {
        long now = runtime.monotonicMillis();
        Leases.Sent sent = leases.sendTimeOf(hlc);
        if (stopped.getAsBoolean() || sent == null) {
            return;
        }
        if (leases.lapsed(now)) {
            giveUp.accept("its lease lapsed " + (now - leases.memberUntil()) + " ms before this heartbeat was confirmed");
            return;
        }
        lastHeard = now;
        leases.confirmed(log, sent);
    }
}
