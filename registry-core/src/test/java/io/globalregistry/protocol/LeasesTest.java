package io.globalregistry.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.globalregistry.membership.NodeId;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Leases under {@code LEASE} with the default timings (heartbeat 250 ms, fence-after 1 s: lease 1.5 s, takeover
 * 1.75 s), on a clock of their own: an owner and an observer each publish a heartbeat every interval to the three
 * logs, read back by both 5 ms later (issue 9, Build 3: a GC pause of up to fence-after must not cost a node its
 * names). The owner pauses: it sends and reads nothing meanwhile, and checks its lease first when it resumes, as
 * {@code RegistryNode}'s tick does.
 */
class LeasesTest {

    private static final RegistryConfig CONFIG = RegistryConfig.defaults("leases").withLiveness(RegistryConfig.Liveness.LEASE);
    private static final long HEARTBEAT = CONFIG.heartbeatInterval().toMillis();
    private static final long READ_BACK = 5;
    private static final NodeId OWNER = NodeId.parse("owner@1");
    private static final NodeId OBSERVER = NodeId.parse("observer@1");

    /** What the run saw: whether the owner's lease lapsed (and when), and when the observer certified it dead. */
    private record Run(long lapsedAt, long certifiedAt, long ownerValidUntilAtPause, int actingTicks, int memberTicks) {
    }

    /** Runs 13 s; the owner pauses from {@code pauseAt} for {@code pauseMillis}; log {@code silentLog} (or -1) answers nobody. */
    private static Run run(long pauseAt, long pauseMillis, int silentLog) {
        return run(pauseAt, pauseMillis, silentLog, HEARTBEAT, CONFIG.leaseMillis(), CONFIG.leaseMillis());
    }

    /**
     * The same with the owner heartbeating every {@code every} ms, each heartbeat keeping its incarnation for
     * {@code lease} and announcing {@code announced} to the observer (they differ only in the unsafe variant).
     */
    private static Run run(long pauseAt, long pauseMillis, int silentLog, long every, long lease, long announced) {
        Leases owner = new Leases(CONFIG.leaseMillis(), CONFIG.idleLeaseMillis(), CONFIG::takeoverMillis, RegistryConfig.LEASE_LOGS);
        Leases observer = new Leases(CONFIG.leaseMillis(), CONFIG.idleLeaseMillis(), CONFIG::takeoverMillis, RegistryConfig.LEASE_LOGS);
        List<long[]> inFlight = new ArrayList<>(); // {readAt, sender (0 owner, 1 observer), hlc, read by ...}
        long hlc = 0;
        long lapsedAt = -1;
        long certifiedAt = -1;
        long validAtPause = Long.MIN_VALUE;
        int actingTicks = 0;
        int memberTicks = 0;
        for (long now = 0; now <= 13_000; now++) {
            boolean paused = now >= pauseAt && now < pauseAt + pauseMillis;
            if (now == pauseAt) {
                validAtPause = owner.validUntil();
            }
            for (var it = inFlight.iterator(); it.hasNext(); ) {
                long[] entry = it.next(); // {readAt, sender, hlc, read by the observer (1), read by the owner (1)}
                if (entry[0] > now) {
                    continue;
                }
                boolean ownersHeartbeat = entry[1] == 0;
                for (int log = 0; log < RegistryConfig.LEASE_LOGS; log++) {
                    if (log == silentLog) {
                        continue;
                    }
                    if (entry[3] == 0) {
                        if (ownersHeartbeat) {
                            observer.read(OWNER, log, now, announced);
                        } else {
                            observer.extend(log, observer.sendTimeOf(entry[2]));
                        }
                    }
                    if (entry[4] == 0 && !paused) { // a paused owner reads what came meanwhile once it resumes
                        if (ownersHeartbeat) {
                            owner.extend(log, owner.sendTimeOf(entry[2]));
                        } else {
                            owner.read(OBSERVER, log, now);
                        }
                    }
                }
                entry[3] = 1;
                if (!paused) {
                    entry[4] = 1;
                    it.remove();
                }
            }
            if (certifiedAt < 0 && observer.expired(List.of(OWNER), now).contains(OWNER)) {
                certifiedAt = now;
            }
            if (now % HEARTBEAT == 0) {
                observer.sent(++hlc, now);
                inFlight.add(new long[] {now + READ_BACK, 1, hlc, 0, 0});
            }
            if (lapsedAt < 0 && owner.lapsed(now)) {
                lapsedAt = now;
            }
            if (!paused && now % HEARTBEAT == 0) {
                actingTicks += owner.validAt(now) ? 1 : 0;
                memberTicks += owner.memberAt(now) ? 1 : 0;
            }
            if (!paused && (now % every == 0 || now == pauseAt + pauseMillis)) {
                owner.sent(++hlc, now, lease);
                inFlight.add(new long[] {now + READ_BACK, 0, hlc, 0, 0});
            }
        }
        return new Run(lapsedAt, certifiedAt, validAtPause, actingTicks, memberTicks);
    }

    @Test
    void pauseOfFenceAfterShouldCostNeitherTheLeaseNorACertificate() {
        Run run = run(6_001, CONFIG.fenceAfter().toMillis(), -1);
        assertThat(run.lapsedAt()).as("the owner's lease lapsed (ms)").isEqualTo(-1);
        assertThat(run.certifiedAt()).as("the observer certified the owner dead (ms)").isEqualTo(-1);
    }

    @Test
    void pauseOfFenceAfterWithOneLogSilentShouldCostNeitherTheLeaseNorACertificate() {
        Run run = run(6_001, CONFIG.fenceAfter().toMillis(), 2);
        assertThat(run.lapsedAt()).isEqualTo(-1);
        assertThat(run.certifiedAt()).isEqualTo(-1);
    }

    @Test
    void pauseLongerThanTheLeaseShouldEndItBeforeTheObserverCertifiesTheOwnerDead() {
        Run run = run(6_001, 2_500, -1);
        assertThat(run.lapsedAt()).as("the owner's lease lapsed during the pause")
                .isBetween(6_001L + CONFIG.leaseMillis() - HEARTBEAT, 6_001L + CONFIG.leaseMillis());
        assertThat(run.certifiedAt()).as("certified dead during the pause").isBetween(6_001L, 6_001L + 2_500);
        assertThat(run.certifiedAt()).as("only after the owner's lease ran out")
                .isGreaterThan(run.ownerValidUntilAtPause());
    }

    /**
     * Rule 7: an idle node heartbeats once every idle-heartbeat-interval (4 s), announcing the idle lease (5.25 s). It
     * keeps its incarnation without a gap, the observer never certifies it, yet it may act only within the busy lease
     * of each heartbeat: most of the time it may not.
     */
    @Test
    void idleNodeKeepsItsIncarnationOnRareHeartbeatsButMayActOnlyWithinTheBusyLease() {
        long every = CONFIG.idleHeartbeatInterval().toMillis();
        Run run = run(20_000, 0, -1, every, CONFIG.idleLeaseMillis(), CONFIG.idleLeaseMillis());
        assertThat(run.lapsedAt()).as("the idle node's lease lapsed (ms)").isEqualTo(-1);
        assertThat(run.certifiedAt()).as("the observer certified the idle node dead (ms)").isEqualTo(-1);
        assertThat(run.memberTicks()).as("ticks a member (all but the first, before its first read-back)")
                .isEqualTo(13_000 / (int) HEARTBEAT);
        assertThat(run.actingTicks()).as("ticks it may act, of " + (13_000 / HEARTBEAT + 1))
                .isLessThan(13_000 / (int) HEARTBEAT / 2);
    }

    /** With one log silent as well. */
    @Test
    void idleNodeWithOneLogSilentKeepsItsIncarnation() {
        long every = CONFIG.idleHeartbeatInterval().toMillis();
        Run run = run(20_000, 0, 1, every, CONFIG.idleLeaseMillis(), CONFIG.idleLeaseMillis());
        assertThat(run.lapsedAt()).isEqualTo(-1);
        assertThat(run.certifiedAt()).isEqualTo(-1);
    }

    /** An idle node paused for fence-after right before its next heartbeat keeps its incarnation too. */
    @Test
    void idleNodePausedForFenceAfterKeepsItsIncarnation() {
        long every = CONFIG.idleHeartbeatInterval().toMillis();
        Run run = run(2 * every - 10, CONFIG.fenceAfter().toMillis(), -1, every, CONFIG.idleLeaseMillis(),
                CONFIG.idleLeaseMillis());
        assertThat(run.lapsedAt()).isEqualTo(-1);
        assertThat(run.certifiedAt()).isEqualTo(-1);
    }

    /**
     * The unsafe variant: idle heartbeats as rare, announcing the busy lease. The observer certifies a node whose
     * incarnation holds without a gap (I7), which may then act again on its next heartbeat: the announcement is what
     * makes rare heartbeats safe.
     */
    @Test
    void idleHeartbeatsAnnouncingTheBusyLeaseGetALiveIncarnationCertifiedDead() {
        long every = CONFIG.idleHeartbeatInterval().toMillis();
        Run run = run(20_000, 0, -1, every, CONFIG.idleLeaseMillis(), CONFIG.leaseMillis());
        assertThat(run.lapsedAt()).as("the idle node's lease lapsed (ms)").isEqualTo(-1);
        assertThat(run.certifiedAt()).as("certified dead while its incarnation held (ms)").isPositive();
    }

    /** A member the observer never read counts as read when it first looked, announcing the longest lease. */
    @Test
    void memberNeverReadIsCertifiedOnlyAfterTheIdleTakeoverFromTheFirstLook() {
        Leases observer = new Leases(CONFIG.leaseMillis(), CONFIG.idleLeaseMillis(), CONFIG::takeoverMillis,
                RegistryConfig.LEASE_LOGS);
        assertThat(observer.expired(List.of(OWNER), 0)).isEmpty();
        long hlc = 0;
        long certifiedAt = -1;
        for (long now = 0; now <= 10_000 && certifiedAt < 0; now += HEARTBEAT) {
            observer.sent(++hlc, now);
            for (int log = 0; log < RegistryConfig.LEASE_LOGS; log++) {
                observer.extend(log, observer.sendTimeOf(hlc));
            }
            if (observer.expired(List.of(OWNER), now).contains(OWNER)) {
                certifiedAt = now;
            }
        }
        assertThat(certifiedAt).isGreaterThan(CONFIG.idleTakeoverMillis())
                .isLessThanOrEqualTo(CONFIG.idleTakeoverMillis() + HEARTBEAT);
    }
}
