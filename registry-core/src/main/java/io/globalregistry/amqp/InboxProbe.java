package io.globalregistry.amqp;

import com.rabbitmq.client.Channel;
import io.globalregistry.engine.RegistryThreads;
import io.globalregistry.membership.NodeId;
import io.globalregistry.protocol.NodeRuntime;
import io.globalregistry.support.RateLimitedLog;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * Liveness {@code broker}'s death check ({@link AmqpTransport#checkAlive}): a passive declare of the
 * member's inbox on a throwaway channel, on one thread of its own ({@code global-registry-<node>-checks}),
 * the answer handed to the node's loop. Only the broker's clean "no queue" answer means the inbox is gone
 * ({@link BrokerErrors#isQueueGone}); any other failure (another 404 text, a 405, a 541, a timeout, a
 * channel or connection error) is "unknown", logged at most every 10 s, and counts as alive. So does a
 * check asked after the transport stopped.
 */
final class InboxProbe {

    private static final Logger LOG = LoggerFactory.getLogger(AmqpTransport.class);

    private final String cluster;
    private final NodeRuntime runtime;
    private final Supplier<Channel> channels;
    private final BooleanSupplier stopped;
    private final ExecutorService checks;
    private final RateLimitedLog checkLog = new RateLimitedLog(LOG, Level.WARN);

    InboxProbe(NodeId self, String cluster, NodeRuntime runtime, Supplier<Channel> channels, BooleanSupplier stopped) {
        this.cluster = cluster;
        this.runtime = runtime;
        this.channels = channels;
        this.stopped = stopped;
        this.checks = RegistryThreads.fixed(self.name(), "checks", 1);
    }

    /** Whether {@code node}'s inbox exists, answered on the loop. */
    void checkAlive(NodeId node, Consumer<Boolean> alive) {
        String queue = AmqpNames.inbox(cluster, node);
        if (!AmqpNames.fits(queue)) {
            runtime.execute(() -> alive.accept(false)); // no such queue can exist
            return;
        }
        try {
            checks.execute(() -> {
                boolean answer = inboxExists(queue);
                runtime.execute(() -> alive.accept(answer));
            });
        } catch (RejectedExecutionException e) {
            runtime.execute(() -> alive.accept(true));
        }
    }

    private boolean inboxExists(String queue) {
        if (stopped.getAsBoolean()) {
            return true;
        }
        Channel channel = null;
        try {
            channel = channels.get();
            if (channel == null) {
                LOG.warn("No channel available to check {}; assuming it is alive", queue);
                return true;
            }
            channel.queueDeclarePassive(queue);
            return true;
        } catch (Exception e) {
            if (BrokerErrors.isQueueGone(e, queue)) {
                return false;
            }
            checkLog.log("Could not tell whether {} exists ({}); assuming its node is alive", queue,
                    BrokerErrors.describe(e));
            return true;
        } finally {
            AmqpTransport.closeQuietly(channel);
        }
    }

    /** Stops the check thread (checks asked later are answered "alive"). */
    void shutdown() {
        checks.shutdownNow();
    }
}
