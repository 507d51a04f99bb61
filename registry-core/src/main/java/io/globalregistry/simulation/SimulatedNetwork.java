package io.globalregistry.simulation;

import io.globalregistry.membership.NodeId;
import io.globalregistry.protocol.NodeRuntime;
import io.globalregistry.protocol.Transport;
import io.globalregistry.wire.Envelope;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.function.Consumer;

/**
 * A deterministic stand-in for the broker: virtual time, one inbox per node, and seeded random
 * delay (so reordering), loss and duplication of every message. Each node gets a
 * {@link NodeRuntime} whose wall clock is skewed by a fixed offset, and a {@link Transport} with
 * the AMQP transport's contract: broadcasts reach the inboxes that exist when published; a direct
 * message to a missing inbox is returned; {@code checkAlive} answers whether the inbox exists.
 *
 * <p>Single-threaded: events run one at a time in (time, sequence) order, so a seed replays exactly.
 * Time is kept in microseconds.
 */
public final class SimulatedNetwork {

    private final Random random;
    private final PriorityQueue<Event> queue = new PriorityQueue<>();
    private final Map<NodeId, Inbox> inboxes = new LinkedHashMap<>();
    private Faults faults = Faults.NONE;
    private NodeId leaderQueueHolder;
    private long nowMicros;
    private long sequence;
    private long delivered;
    private long lost;
    private long duplicated;

    public SimulatedNetwork(long seed) {
        this.random = new Random(seed);
    }

    /**
     * What the network does to messages.
     *
     * @param loss probability a message is lost
     * @param duplication probability a message is delivered twice
     * @param minDelayMicros shortest delivery delay
     * @param maxDelayMicros longest ordinary delivery delay
     * @param lateProbability probability a message is held back much longer
     * @param lateMaxMicros the longest such hold-back
     */
    public record Faults(double loss, double duplication, long minDelayMicros, long maxDelayMicros,
                         double lateProbability, long lateMaxMicros) {
        /** A perfect network with a fixed 100 µs delay. */
        public static final Faults NONE = new Faults(0, 0, 100, 100, 0, 0);
    }

    private static final class Inbox {
        final Consumer<Envelope> consumer;
        boolean up = true;
        boolean processAlive = true;
        boolean isolated;

        Inbox(Consumer<Envelope> consumer) {
            this.consumer = consumer;
        }
    }

    private record Event(long time, long seq, NodeId node, Runnable task) implements Comparable<Event> {
        @Override
        public int compareTo(Event o) {
            return time != o.time ? Long.compare(time, o.time) : Long.compare(seq, o.seq);
        }
    }

    public void faults(Faults faults) {
        this.faults = faults;
    }

    public Random random() {
        return random;
    }

    public long nowMillis() {
        return nowMicros / 1000;
    }

    public long nowMicros() {
        return nowMicros;
    }

    /** Connects a node: its inbox now exists and receives messages. */
    public void attach(NodeId node, Consumer<Envelope> consumer) {
        inboxes.put(node, new Inbox(consumer));
    }

    /** The node's process dies: its inbox is deleted, its timers and queued events never run. */
    public void crash(NodeId node) {
        Inbox inbox = inboxes.get(node);
        if (inbox != null) {
            inbox.up = false;
            inbox.processAlive = false;
        }
    }

    /**
     * The node is cut off from the broker while its process runs on: nothing it publishes arrives,
     * nothing reaches it, but its inbox lives on (the broker has not noticed yet) until
     * {@code brokerNoticesAfterMicros} later, when the broker deletes it.
     */
    public void isolate(NodeId node, long brokerNoticesAfterMicros) {
        Inbox inbox = inboxes.get(node);
        if (inbox == null || !inbox.up) {
            return;
        }
        inbox.isolated = true;
        at(nowMicros + brokerNoticesAfterMicros, null, () -> inbox.up = false);
    }

    /** Whether the node's inbox exists (what the broker certifies). */
    public boolean isUp(NodeId node) {
        Inbox inbox = inboxes.get(node);
        return inbox != null && inbox.up;
    }

    /** Whether the node's process runs (its timers fire), cut off or not. */
    public boolean isRunning(NodeId node) {
        Inbox inbox = inboxes.get(node);
        return inbox != null && inbox.processAlive;
    }

    private boolean isolated(NodeId node) {
        Inbox inbox = inboxes.get(node);
        return inbox != null && inbox.isolated;
    }

    /**
     * The node holding the cluster's leader queue (strategy leader): the exclusive queue lives as
     * long as its holder's connection, i.e. its inbox; null when nobody holds it.
     */
    public NodeId leaderQueueHolder() {
        return leaderQueueHolder != null && isUp(leaderQueueHolder) ? leaderQueueHolder : null;
    }

    /** One attempt of {@code self} to declare the exclusive leader queue; retried every {@code retryMillis}. */
    private void contend(NodeId self, long retryMillis, Runnable elected) {
        if (!isUp(self)) {
            return; // its connection is gone: it contends no more
        }
        if (!isolated(self) && leaderQueueHolder() == null) {
            leaderQueueHolder = self;
            at(nowMicros + delay(), self, elected);
        } else if (!self.equals(leaderQueueHolder())) {
            at(nowMicros + retryMillis * 1000, self, () -> contend(self, retryMillis, elected));
        }
    }

    /** The runtime of one node: virtual time, its wall clock {@code skewMillis} off. */
    public NodeRuntime runtime(NodeId node, long skewMillis) {
        return new NodeRuntime() {
            @Override
            public long monotonicMillis() {
                return nowMicros / 1000;
            }

            @Override
            public long wallClockMillis() {
                return 1_700_000_000_000L + nowMicros / 1000 + skewMillis;
            }

            @Override
            public Cancellable schedule(long delayMillis, Runnable task) {
                boolean[] cancelled = {false};
                at(nowMicros + delayMillis * 1000, node, () -> {
                    if (!cancelled[0]) {
                        task.run();
                    }
                });
                return () -> cancelled[0] = true;
            }

            @Override
            public void execute(Runnable task) {
                at(nowMicros, node, task);
            }
        };
    }

    /** The transport of one node. */
    public Transport transport(NodeId self) {
        return new Transport() {
            @Override
            public void broadcast(Envelope envelope) {
                if (isolated(self)) {
                    return;
                }
                for (Map.Entry<NodeId, Inbox> entry : inboxes.entrySet()) {
                    if (entry.getValue().up) {
                        deliver(entry.getKey(), envelope);
                    }
                }
            }

            @Override
            public void send(NodeId to, Envelope envelope, Runnable onReturned) {
                if (isolated(self)) {
                    return;
                }
                if (isUp(to)) {
                    deliver(to, envelope);
                } else {
                    at(nowMicros + delay(), self, onReturned);
                }
            }

            @Override
            public void sendToLeader(Envelope envelope, Runnable onReturned) {
                if (isolated(self)) {
                    return;
                }
                NodeId holder = leaderQueueHolder();
                if (holder != null) {
                    deliver(holder, envelope);
                } else {
                    at(nowMicros + delay(), self, onReturned);
                }
            }

            @Override
            public void contendForLeadership(long retryMillis, Runnable elected, Runnable deposed) {
                // the holder loses the queue only with its inbox, so with its process or its
                // connection: it never runs on deposed here
                at(nowMicros + delay(), self, () -> contend(self, retryMillis, elected));
            }

            @Override
            public void disconnect() {
                Inbox inbox = inboxes.get(self);
                if (inbox != null) {
                    inbox.up = false;
                }
            }

            @Override
            public void checkAlive(NodeId node, Consumer<Boolean> alive) {
                if (isolated(self)) {
                    return; // the broker never answers a node cut off from it
                }
                at(nowMicros + delay(), self, () -> alive.accept(isUp(node)));
            }
        };
    }

    private void deliver(NodeId to, Envelope envelope) {
        if (random.nextDouble() < faults.loss()) {
            lost++;
            return;
        }
        int copies = random.nextDouble() < faults.duplication() ? 2 : 1;
        duplicated += copies - 1;
        for (int i = 0; i < copies; i++) {
            long delay = random.nextDouble() < faults.lateProbability()
                    ? faults.maxDelayMicros() + (long) (random.nextDouble() * faults.lateMaxMicros())
                    : delay();
            at(nowMicros + delay, to, () -> {
                Inbox inbox = inboxes.get(to);
                if (inbox.up && !inbox.isolated) {
                    delivered++;
                    inbox.consumer.accept(envelope);
                }
            });
        }
    }

    private long delay() {
        long span = faults.maxDelayMicros() - faults.minDelayMicros();
        return faults.minDelayMicros() + (span <= 0 ? 0 : (long) (random.nextDouble() * span));
    }

    /** Runs {@code task} at {@code timeMicros} unless {@code node} is down by then (null: always). */
    public void at(long timeMicros, NodeId node, Runnable task) {
        queue.add(new Event(Math.max(timeMicros, nowMicros), sequence++, node, task));
    }

    /**
     * Runs events up to {@code untilMicros}, calling {@code afterEach} after every event.
     *
     * @return the number of events run
     */
    public long runUntil(long untilMicros, Runnable afterEach) {
        long count = 0;
        while (!queue.isEmpty() && queue.peek().time() <= untilMicros) {
            Event event = queue.poll();
            nowMicros = event.time();
            if (event.node() != null && !isRunning(event.node())) {
                continue;
            }
            event.task().run();
            count++;
            afterEach.run();
        }
        nowMicros = Math.max(nowMicros, untilMicros);
        return count;
    }

    /** The nodes whose inbox exists. */
    public List<NodeId> upNodes() {
        List<NodeId> up = new ArrayList<>();
        inboxes.forEach((id, inbox) -> {
            if (inbox.up) {
                up.add(id);
            }
        });
        return up;
    }

    /** The nodes whose process runs, cut off or not. */
    public List<NodeId> runningNodes() {
        List<NodeId> running = new ArrayList<>();
        inboxes.forEach((id, inbox) -> {
            if (inbox.processAlive) {
                running.add(id);
            }
        });
        return running;
    }

    public long delivered() {
        return delivered;
    }

    public long lost() {
        return lost;
    }

    public long duplicated() {
        return duplicated;
    }
}
