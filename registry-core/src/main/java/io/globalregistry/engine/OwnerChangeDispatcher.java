package io.globalregistry.engine;

import io.globalregistry.OwnerChange;
import io.globalregistry.OwnerChangeListener;
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
