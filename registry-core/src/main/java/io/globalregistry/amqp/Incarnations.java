package io.globalregistry.amqp;

import io.globalregistry.OwnerChange;
import io.globalregistry.LeaderListener;
import io.globalregistry.OwnerChangeListener;
import io.globalregistry.membership.NodeId;
import io.globalregistry.support.RateLimitedLog;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * The incarnations of one node, one at a time (DESIGN 6b: "on reconnect it rejoins"). When the
 * current one gives up (its connection lost, or it did not hear itself for 5 x fence-after), it is
 * halted, so whatever was under way on it fails at once, and a new one, with a fresh {@link NodeId},
 * connection and inbox, joins the cluster in the background; while the broker cannot be reached,
 * again after a pause that doubles from the heartbeat interval up to {@link #MAX_PAUSE_MILLIS}. The
 * new incarnation owns nothing: the listeners, which are the node's and outlive its incarnations,
 * are told {@link OwnerChangeListener#onRejoined} so whoever owned names registers them again.
 */
final class Incarnations {

    /** The longest pause between two attempts to rejoin. */
    static final long MAX_PAUSE_MILLIS = 5_000;

    private static final Logger LOG = LoggerFactory.getLogger(Incarnations.class);

    private final NodeStarter starter;
    private final boolean rejoin;
    private final List<OwnerChangeListener> listeners = new CopyOnWriteArrayList<>();
    private final OwnerChangeListener forwarder = this::forward;
    private final List<LeaderListener> leaderListeners = new CopyOnWriteArrayList<>();
    private final LeaderListener leaderForwarder = this::forwardLeader;
    private final RateLimitedLog retryLog = new RateLimitedLog(LOG, Level.WARN);
    private final AtomicLong rejoins = new AtomicLong();
    private final Object lock = new Object();
    private volatile Incarnation current;
    private volatile boolean rejoining;
    private volatile boolean listened;
    private volatile boolean closed;
    private Thread rejoiner; // guarded by lock

    /** @param rejoin whether a new incarnation starts when the current one gives up */
    Incarnations(NodeStarter starter, boolean rejoin) {
        this.starter = starter;
        this.rejoin = rejoin;
    }

    /** Starts the first incarnation; its failure (say the broker cannot be reached) is thrown. */
    void start() {
        Incarnation first = starter.create();
        prepare(first);
        first.engine().start();
        current = first;
    }

    /** The incarnation now: while {@link #isRejoining()}, the one that gave up (halted). */
    Incarnation current() {
        return current;
    }

    /** Whether the current incarnation gave up and the next one has not joined yet. */
    boolean isRejoining() {
        return rejoining;
    }

    /** How many times a new incarnation joined after the one before gave up. */
    long rejoins() {
        return rejoins.get();
    }

    void addListener(OwnerChangeListener listener) {
        listeners.add(listener);
        listened = true;
        current.forwardTo(forwarder); // and the next incarnation (see rejoin)
    }

    void removeListener(OwnerChangeListener listener) {
        listeners.remove(listener);
    }

    void addLeaderListener(LeaderListener listener) {
        leaderListeners.add(listener);
    }

    void removeLeaderListener(LeaderListener listener) {
        leaderListeners.remove(listener);
    }

    private void forwardLeader(NodeId leader) {
        for (LeaderListener listener : leaderListeners) {
            try {
                listener.onLeaderChange(leader);
            } catch (RuntimeException e) {
                LOG.warn("Leader listener {} failed on {}", listener, leader, e);
            }
        }
    }

    /** Before a new incarnation starts: hear when it gives up, and hand its changes to the listeners. */
    private void prepare(Incarnation incarnation) {
        incarnation.engine().onGaveUp(why -> gaveUp(incarnation, why));
        incarnation.engine().addLeaderListener(leaderForwarder);
        if (listened) {
            incarnation.forwardTo(forwarder);
        }
    }

    private void forward(OwnerChange change) {
        for (OwnerChangeListener listener : listeners) {
            try {
                listener.onOwnerChange(change);
            } catch (RuntimeException e) {
                LOG.warn("Owner change listener {} failed on {}", listener, change, e);
            }
        }
    }

    /** On the listeners' thread of {@code old}, after they were told of its FENCED names. */
    private void gaveUp(Incarnation old, String why) {
        synchronized (lock) {
            if (closed || old != current || !rejoin) {
                return;
            }
            rejoining = true;
            rejoiner = new Thread(() -> rejoin(old, why), "global-registry-" + starter.nodeName() + "-rejoin");
            rejoiner.setDaemon(true);
            rejoiner.start();
        }
    }

    private void rejoin(Incarnation old, String why) {
        long started = System.nanoTime();
        old.engine().halt("The registry node " + old.id() + " gave up its incarnation (" + why
                + ") and is rejoining the cluster as a new one; try again shortly");
        long pause = Math.max(1, starter.settings().heartbeatInterval().toMillis());
        for (int attempt = 1; !closed; attempt++) {
            Incarnation fresh;
            try {
                fresh = starter.create(); // connects
                prepare(fresh);
                fresh.engine().start();
            } catch (RuntimeException e) {
                retryLog.log("Registry node {} could not rejoin the cluster yet (attempt {}): {}; trying again in {} ms"
                        + " and on", starter.nodeName(), attempt, e.toString(), pause);
                try {
                    Thread.sleep(pause);
                } catch (InterruptedException interrupted) {
                    return; // closed
                }
                pause = Math.min(2 * pause, MAX_PAUSE_MILLIS);
                continue;
            }
            synchronized (lock) {
                if (closed) {
                    fresh.engine().close();
                    return;
                }
                current = fresh;
                rejoining = false;
                rejoiner = null;
            }
            if (listened) {
                fresh.forwardTo(forwarder); // a listener added while it started
            }
            rejoins.incrementAndGet();
            LOG.warn("Registry node {} gave up its incarnation ({}) and rejoined the cluster as {} after {} ms"
                            + " ({} attempt{}); it owns no name until it registers again", old.id(), why, fresh.id(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), attempt, attempt == 1 ? "" : "s");
            for (OwnerChangeListener listener : listeners) {
                try {
                    listener.onRejoined(old.id(), fresh.id());
                } catch (RuntimeException e) {
                    LOG.warn("Listener {} failed on the rejoin of {} as {}", listener, old.id(), fresh.id(), e);
                }
            }
            return;
        }
    }

    /** Leaves the cluster: no new incarnation starts; the current one (unless it gave up) leaves gracefully. */
    void close() {
        stopRejoining();
        current.engine().close();
    }

    /** Crashes the current incarnation (for tests): no goodbye, and no new incarnation. */
    void crash() {
        stopRejoining();
        Incarnation now = current;
        now.transport().abortConnection();
        now.engine().halt();
    }

    private void stopRejoining() {
        Thread running;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            running = rejoiner;
        }
        if (running != null) {
            running.interrupt();
            try {
                running.join(TimeUnit.SECONDS.toMillis(15));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
