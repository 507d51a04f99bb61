package io.globalregistry.clock;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class HybridLogicalClockTest {

    @Test
    void tickFollowsThePhysicalClockWhenItMovesOn() {
        AtomicLong wall = new AtomicLong(1_000);
        HybridLogicalClock clock = new HybridLogicalClock(wall::get);
        long first = clock.tick();
        wall.set(2_000);
        long second = clock.tick();
        assertThat(HybridLogicalClock.physicalMillis(first)).isEqualTo(1_000);
        assertThat(HybridLogicalClock.physicalMillis(second)).isEqualTo(2_000);
        assertThat(HybridLogicalClock.logical(second)).isZero();
    }

    @Test
    void tickNeverGoesBackwardsWhenThePhysicalClockDoes() {
        AtomicLong wall = new AtomicLong(5_000);
        HybridLogicalClock clock = new HybridLogicalClock(wall::get);
        long before = clock.tick();
        wall.set(1_000);
        assertThat(clock.tick()).isGreaterThan(before);
    }

    @Property
    void anEventAfterReceivingOrdersAfterWhatWasReceived(@ForAll @LongRange(min = 0, max = 1L << 40) long localWall,
                                                         @ForAll @LongRange(min = -HybridLogicalClock.MAX_AHEAD_MILLIS,
                                                                 max = HybridLogicalClock.MAX_AHEAD_MILLIS) long skew) {
        long remoteWall = Math.max(0, localWall + skew);
        HybridLogicalClock remote = new HybridLogicalClock(() -> remoteWall);
        HybridLogicalClock local = new HybridLogicalClock(() -> localWall);
        long sent = remote.tick();
        local.receive(sent);
        assertThat(local.tick()).isGreaterThan(sent);
    }

    @Test
    void aTimestampFarAheadPullsTheClockOnlyToTheBound() {
        HybridLogicalClock clock = new HybridLogicalClock(() -> 1_000);
        long merged = clock.receive(Long.MAX_VALUE);
        assertThat(HybridLogicalClock.physicalMillis(merged)).isEqualTo(1_000 + HybridLogicalClock.MAX_AHEAD_MILLIS);
        assertThat(clock.tick()).isGreaterThan(merged);
        assertThat(clock.receive(-5)).isGreaterThan(merged);
    }
}
