package io.globalregistry.engine;

import io.globalregistry.OwnerChange;
import io.globalregistry.LeaderListener;
import io.globalregistry.OwnerChangeListener;
import io.globalregistry.membership.NodeId;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes owner changes from the protocol's event loop and tells the listeners on a single other
 * thread, so they see every change in order and a slow listener never holds up the protocol.
 */
final class OwnerChangeDispatcher implements Consumer<OwnerChange> {

    private static final Logger LOG = LoggerFactory.getLogger(OwnerChangeDispatcher.class);

    private final List<OwnerChangeListener> listeners = new CopyOnWriteArrayList<>();
    private final List<LeaderListener> leaderListeners = new CopyOnWriteArrayList<>();
    private final Executor executor;

    /** @param executor a single-threaded executor (so changes stay in order) */
    OwnerChangeDispatcher(Executor executor) {
        this.executor = executor;
    }

    void add(OwnerChangeListener listener) {
        listeners.add(listener);
    }

    void remove(OwnerChangeListener listener) {
        listeners.remove(listener);
    }

    void addLeaderListener(LeaderListener listener) {
        leaderListeners.add(listener);
    }

    void removeLeaderListener(LeaderListener listener) {
        leaderListeners.remove(listener);
    }

    /** The leader changed: told on the same thread as owner changes, in order with them. */
    void leaderChanged(NodeId leader) {
        if (leaderListeners.isEmpty()) {
            return;
        }
        try {
            executor.execute(() -> {
                for (LeaderListener listener : leaderListeners) {
                    try {
                        listener.onLeaderChange(leader);
                    } catch (RuntimeException e) {
                        LOG.warn("Leader listener {} failed on {}", listener, leader, e);
                    }
                }
            });
        } catch (RejectedExecutionException e) {
            LOG.debug("Registry closed; leader change to {} not told", leader);
        }
    }

    @Override
    public void accept(OwnerChange change) {
        if (listeners.isEmpty()) {
            return;
        }
        try {
            executor.execute(() -> tell(change));
        } catch (RejectedExecutionException e) {
            LOG.debug("Registry closed; owner change {} not told", change);
        }
    }

    private void tell(OwnerChange change) {
        for (OwnerChangeListener listener : listeners) {
            try {
                listener.onOwnerChange(change);
            } catch (RuntimeException e) {
                LOG.warn("Owner change listener {} failed on {}", listener, change, e);
            }
        }
    }
}
