package io.globalregistry.simulation;

import io.globalregistry.membership.NodeId;
import io.globalregistry.protocol.NodeRuntime;
import io.globalregistry.protocol.RegistryConfig;
import io.globalregistry.protocol.Transport;
import io.globalregistry.wire.Envelope;
import io.globalregistry.wire.Message;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * A deterministic stand-in for the broker: virtual time, one inbox per node, and seeded random
 * delay (so reordering), loss and duplication of every message. Each node gets a
 * {@link NodeRuntime} whose wall clock is skewed by a fixed offset, and a {@link Transport} with
 * the AMQP transport's contract: broadcasts reach the inboxes that exist when published; a direct
 * message to a missing inbox is returned; {@code checkAlive} answers whether the inbox exists.
 *
 * <p>The broker may be a cluster of broker nodes ({@link #brokers}), each client connected to one.
 * A {@link #partition} cuts broker nodes apart as RabbitMQ sees it: messages routed across the cut
 * are lost; after {@code net_ticktime} each side forgets the records of the queues of the other side,
 * so a passive declare answers "gone" for a live node's inbox and an exclusive queue (the leader
 * queue) can be declared on both sides; what a {@link #heal} brings back depends on the
 * {@link PartitionHandling}. The lease logs (RabbitMQ streams, {@link RegistryConfig#LEASE_LOGS} of
 * them, each led by its own broker node) take an entry only from a client whose broker node reaches the
 * log's leader on a side holding a majority of broker nodes, and hand the entries to every reader on
 * that side in one order, without loss or duplication; readers elsewhere read nothing until they are
 * back. A log whose leader is cut off or killed stops until RabbitMQ moves its leader (after the
 * partition is noticed, or a moment after a kill).
 * A node's process can also be {@link #pause}d (a GC pause, SIGSTOP): its events wait.
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
    private int brokers = 1;
    private PartitionHandling handling = PartitionHandling.PAUSE_MINORITY;
    private int[] side = {0};
    private boolean[] paused = {false};
    /** Whether each side has forgotten the other side's queue records (net_ticktime passed); until a merge. */
    private boolean split;
    /** The sides as the queue records were split (net_ticktime after the cut), until a merge. */
    private int[] recordSides = {0};
    private final List<List<Envelope>> logs = new ArrayList<>();
    private int[] logLeader;
    private boolean[] logMoving;
    private final Map<NodeId, Long> pausedUntil = new HashMap<>();
    private Consumer<NodeId> connectionClosed = node -> { };
    /** The unsafe variant: a ping is answered whether or not the node's connection is open at the broker. */
    private boolean unprovenPings;
    private long closeReports;
    /** The unsafe variant: a heartbeat is confirmed once its publisher's broker node took it, committed or not. */
    private boolean uncommittedConfirms;
    private long unannouncedLease;
    private final java.util.Set<NodeId> reportedClosed = new java.util.HashSet<>();
    private long nowMicros;
    private long sequence;
    private long delivered;
    private long lost;
    private long duplicated;

    public SimulatedNetwork(long seed) {
        this.random = new Random(seed);
        placeLogs();
    }

    private void placeLogs() {
        logs.clear();
        logLeader = new int[RegistryConfig.LEASE_LOGS];
        logMoving = new boolean[RegistryConfig.LEASE_LOGS];
        for (int j = 0; j < RegistryConfig.LEASE_LOGS; j++) {
            logs.add(new ArrayList<>());
            logLeader[j] = j % brokers; // LeaseLogPlacement: log j created through broker node j
        }
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

    /** What the broker cluster does once a partition between its nodes is noticed (RabbitMQ's cluster_partition_handling). */
    public enum PartitionHandling {
        /** Nothing: both sides go on, and after the heal the queue records stay apart until an operator restarts nodes. */
        IGNORE,
        /** A side without a majority pauses: its clients lose their connections and cannot connect until the heal. */
        PAUSE_MINORITY,
        /** Both sides go on; at the heal the losing (smaller) side restarts: its clients lose their connections. */
        AUTOHEAL
    }

    private static final class Inbox {
        final Consumer<Envelope> consumer;
        final int broker;
        /** Which broker nodes' records hold this inbox (a passive declare there finds it, routing there reaches it). */
        final boolean[] known;
        boolean up = true;
        boolean processAlive = true;
        boolean isolated;
        BiConsumer<Integer, Envelope> leaseConsumer;
        /** Whether it consumes the lease logs now (it may stop and start again, from their next entries). */
        boolean readingLogs = true;
        /** Crash detection: told of other nodes' connections the broker reports closed (null: not watching). */
        Consumer<NodeId> closedWatcher;
        final int[] cursor = new int[RegistryConfig.LEASE_LOGS];
        final long[] lastLogDelivery = new long[RegistryConfig.LEASE_LOGS];

        Inbox(Consumer<Envelope> consumer, int broker, int brokers) {
            this.consumer = consumer;
            this.broker = broker;
            this.known = new boolean[brokers];
            Arrays.fill(known, true);
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

    /** Connects a node to broker node 0: its inbox now exists and receives messages. */
    public void attach(NodeId node, Consumer<Envelope> consumer) {
        attach(node, consumer, null, 0);
    }

    /**
     * Connects a node to broker node {@code broker}: its inbox exists there (and, unless the cluster is
     * split, in every broker node's records). {@code leaseConsumer} not null: it reads the lease logs
     * (each heartbeat with its log), and its {@link Transport#heartbeat} goes to them.
     */
    public void attach(NodeId node, Consumer<Envelope> consumer, BiConsumer<Integer, Envelope> leaseConsumer,
                       int broker) {
        Inbox inbox = new Inbox(consumer, broker, brokers);
        if (split) {
            for (int b = 0; b < brokers; b++) {
                inbox.known[b] = recordSides[b] == recordSides[broker];
            }
        }
        inbox.leaseConsumer = leaseConsumer;
        for (int j = 0; j < logs.size(); j++) {
            inbox.cursor[j] = logs.get(j).size();
        }
        inboxes.put(node, inbox);
    }

    /**
     * Makes the broker a cluster of {@code count} nodes with {@code partitionHandling}; before any node attaches.
     */
    public void brokers(int count, PartitionHandling partitionHandling) {
        if (!inboxes.isEmpty()) {
            throw new IllegalStateException("brokers are set before nodes attach");
        }
        this.brokers = count;
        this.handling = partitionHandling;
        this.side = new int[count];
        this.recordSides = new int[count];
        this.paused = new boolean[count];
        placeLogs();
    }

    public int brokerCount() {
        return brokers;
    }

    /**
     * The unsafe variant the crash-detection rule must be caught without: a node's ping is answered even when
     * its connection is closed at the broker (as if the client answered it itself), so an owner whose
     * connection only the broker saw close goes on acting past its crash grace.
     */
    public void unprovenPings(boolean on) {
        this.unprovenPings = on;
    }

    /**
     * The unsafe variant a confirmed lease must be caught without: the broker node a heartbeat was published on
     * confirms it at once, whether or not a majority of the log's replicas stores it (a confirm that proves only
     * that one broker node took it), so a node cut off with a minority keeps its lease.
     */
    public void uncommittedConfirms(boolean on) {
        this.uncommittedConfirms = on;
    }

    /**
     * The unsafe variant rule 8's announced leases must be caught without: every heartbeat a reader reads announces
     * {@code lease} (the busy lease), whatever its sender announced, so an idle node heartbeating seconds apart is
     * certified dead while its incarnation holds. 0: off.
     */
    public void unannouncedIdleLeases(long lease) {
        this.unannouncedLease = lease;
    }

    /** Whether a broker node ever reported {@code node}'s connection closed (crash detection may have certified it). */
    public boolean wasReportedClosed(NodeId node) {
        return reportedClosed.contains(node);
    }

    /** How many reports of a closed connection reached a watching node. */
    public long closeReports() {
        return closeReports;
    }

    /**
     * Crash detection: broker node {@code from} reports {@code closed}'s connection closed (the event exchange):
     * every watching node whose queue the report can be routed to hears of it, a moment later. A paused broker
     * node reports nothing; a partition keeps the report on its side.
     */
    private void reportClosed(NodeId closed, int from) {
        if (paused[from]) {
            return;
        }
        reportedClosed.add(closed);
        for (Map.Entry<NodeId, Inbox> entry : inboxes.entrySet()) {
            Inbox watcher = entry.getValue();
            if (watcher.closedWatcher == null || entry.getKey().equals(closed) || !routable(from, watcher)) {
                continue;
            }
            at(nowMicros + delay(), entry.getKey(), () -> {
                if (watcher.up && !watcher.isolated) {
                    closeReports++;
                    watcher.closedWatcher.accept(closed);
                }
            });
        }
    }

    /**
     * A partition was noticed: the broker nodes not on {@code closedSide} report {@code closed}'s connection (on a
     * broker node of {@code closedSide}) closed to the watchers on their own side, unless paused.
     */
    private void reportClosedAcross(NodeId closed, int closedSide) {
        reportedClosed.add(closed);
        for (Map.Entry<NodeId, Inbox> entry : inboxes.entrySet()) {
            Inbox watcher = entry.getValue();
            int at = watcher.broker;
            if (watcher.closedWatcher == null || entry.getKey().equals(closed) || side[at] == closedSide || paused[at]
                    || !watcher.up || watcher.isolated) {
                continue;
            }
            at(nowMicros + delay(), entry.getKey(), () -> {
                if (watcher.up && !watcher.isolated) {
                    closeReports++;
                    watcher.closedWatcher.accept(closed);
                }
            });
        }
    }

    /**
     * The network drops {@code node}'s connection on the broker's side only: the broker closes it (and reports
     * it) at once, while the node's process runs on unaware, its messages and pings vanishing, until its client
     * notices {@code clientNoticesAfterMicros} later.
     */
    public void closeOneSided(NodeId node, long clientNoticesAfterMicros) {
        Inbox inbox = inboxes.get(node);
        if (inbox == null || !inbox.up) {
            return;
        }
        inbox.up = false;
        reportClosed(node, inbox.broker);
        at(nowMicros + clientNoticesAfterMicros, node, () -> connectionClosed.accept(node));
    }

    /** Told when the broker closes a node's connection (its broker node paused or restarted): the client notices at once. */
    public void onConnectionClosed(Consumer<NodeId> handler) {
        this.connectionClosed = handler;
    }

    /** A broker node a new client may connect to (not paused), chosen at random. */
    public int randomConnectableBroker() {
        List<Integer> open = new ArrayList<>();
        for (int b = 0; b < brokers; b++) {
            if (!paused[b]) {
                open.add(b);
            }
        }
        return open.isEmpty() ? 0 : open.get(random.nextInt(open.size()));
    }

    /** The broker node {@code node} is connected to. */
    public int brokerOf(NodeId node) {
        return inboxes.get(node).broker;
    }

    /**
     * Cuts broker node {@code cut} off from the others; {@code noticeAfterMicros} later (net_ticktime)
     * each side forgets the other side's queue records and the partition handling acts.
     */
    public void partition(int cut, long noticeAfterMicros) {
        if (brokers < 2 || isPartitioned()) {
            return;
        }
        for (int b = 0; b < brokers; b++) {
            side[b] = b == cut ? 1 : 0;
        }
        int[] thisCut = side.clone();
        at(nowMicros + noticeAfterMicros, null, () -> {
            if (Arrays.equals(side, thisCut)) {
                noticed();
            }
        });
    }

    private void noticed() {
        split = true;
        recordSides = side.clone();
        // each side takes the other side's broker nodes for down and, with them, their clients' connections: their
        // connection tracking reports each closed (RabbitMQ does, on nodedown), to the watchers of its own side
        for (Map.Entry<NodeId, Inbox> entry : inboxes.entrySet()) {
            Inbox inbox = entry.getValue();
            if (inbox.up) {
                reportClosedAcross(entry.getKey(), side[inbox.broker]);
            }
        }
        for (Inbox inbox : inboxes.values()) {
            for (int b = 0; b < brokers; b++) {
                inbox.known[b] = side[b] == side[inbox.broker];
            }
        }
        if (handling == PartitionHandling.PAUSE_MINORITY) {
            for (int b = 0; b < brokers; b++) {
                if (!majority(side[b])) {
                    paused[b] = true;
                    closeConnectionsOn(b, false); // its reports reach nobody: it is paused
                }
            }
        }
        for (int j = 0; j < logLeader.length; j++) {
            if (!majority(side[logLeader[j]])) {
                moveLog(j, b -> majority(side[b]));
            }
        }
    }

    /** RabbitMQ elects another leader for log {@code j}, on a broker node {@code eligible}, a moment later. */
    private void moveLog(int j, java.util.function.IntPredicate eligible) {
        logMoving[j] = true;
        at(nowMicros + 200_000 + random.nextInt(1_500_000), null, () -> {
            List<Integer> candidates = new ArrayList<>();
            for (int b = 0; b < brokers; b++) {
                if (eligible.test(b)) {
                    candidates.add(b);
                }
            }
            if (!candidates.isEmpty()) {
                logLeader[j] = candidates.get(random.nextInt(candidates.size()));
            }
            logMoving[j] = false;
            pumpLog(j);
        });
    }

    /** Whether some broker nodes cannot reach each other now. */
    public boolean isPartitioned() {
        return Arrays.stream(side).anyMatch(s -> s != side[0]);
    }

    /** The network between the broker nodes is whole again; the partition handling decides what follows. */
    public void heal() {
        if (!isPartitioned() && !split) {
            return;
        }
        boolean wasSplit = split;
        int[] before = side.clone();
        Arrays.fill(side, 0);
        if (handling == PartitionHandling.IGNORE && wasSplit) {
            return; // the records stay apart: routing between the two sides' queues never comes back
        }
        if (handling == PartitionHandling.AUTOHEAL && wasSplit) {
            for (int b = 0; b < brokers; b++) {
                if (!majorityOf(before, before[b])) {
                    closeConnectionsOn(b, true); // the losing side restarts
                }
            }
        }
        Arrays.fill(paused, false);
        split = false;
        Arrays.fill(recordSides, 0);
        for (NodeId holder : leaderHolders.values()) {
            if (isUp(holder)) {
                leaderQueueHolder = holder; // the other side's holder lost its connection in the merge
            }
        }
        leaderHolders.clear();
        for (Inbox inbox : inboxes.values()) {
            if (inbox.up) {
                Arrays.fill(inbox.known, true);
            }
        }
        pumpLog();
    }

    /**
     * The operator restarts broker node {@code broker} (what RabbitMQ's documentation says to do after a
     * partition under IGNORE): its clients lose their connections, and once the network is whole its
     * records merge with the others'.
     */
    public void restartBroker(int broker) {
        closeConnectionsOn(broker, true);
        if (!isPartitioned() && split) {
            split = false;
            Arrays.fill(recordSides, 0);
            for (NodeId holder : leaderHolders.values()) {
                if (isUp(holder)) {
                    leaderQueueHolder = holder;
                }
            }
            leaderHolders.clear();
            for (Inbox inbox : inboxes.values()) {
                if (inbox.up) {
                    Arrays.fill(inbox.known, true);
                }
            }
            pumpLog();
        }
    }

    /** kill -9 of a broker node's process: its clients' connections close (they notice at once), the logs it led move. */
    public void killBroker(int broker) {
        closeConnectionsOn(broker, false); // a dead broker node reports nothing
        for (int j = 0; j < logLeader.length; j++) {
            if (logLeader[j] == broker && brokers > 1) {
                moveLog(j, b -> b != broker);
            }
        }
    }

    private void closeConnectionsOn(int broker, boolean reports) {
        for (Map.Entry<NodeId, Inbox> entry : new ArrayList<>(inboxes.entrySet())) {
            Inbox inbox = entry.getValue();
            if (inbox.broker == broker && inbox.up) {
                inbox.up = false;
                NodeId node = entry.getKey();
                if (reports) {
                    reportClosed(node, broker);
                }
                if (inbox.processAlive) {
                    at(nowMicros + delay(), node, () -> connectionClosed.accept(node));
                }
            }
        }
    }

    private boolean majority(int ofSide) {
        return majorityOf(side, ofSide);
    }

    private boolean majorityOf(int[] sides, int ofSide) {
        long count = Arrays.stream(sides).filter(s -> s == ofSide).count();
        return count * 2 > brokers;
    }

    /** Whether a message published on broker node {@code from} reaches the inbox {@code to} now. */
    private boolean routable(int from, Inbox to) {
        return to.up && !to.isolated && side[from] == side[to.broker] && to.known[from] && !paused[from]
                && !paused[to.broker];
    }

    /** Whether lease log {@code j} takes entries from, and hands them to, clients of broker node {@code broker}. */
    private boolean logReaches(int j, int broker) {
        int leader = logLeader[j];
        return !logMoving[j] && !paused[broker] && !paused[leader] && side[broker] == side[leader]
                && majority(side[leader]);
    }

    /**
     * Pauses {@code node}'s process for {@code micros} (a GC pause, SIGSTOP): its timers and deliveries
     * wait until it resumes; its connection and inbox stay, the broker holds its messages.
     */
    public void pause(NodeId node, long micros) {
        pausedUntil.merge(node, nowMicros + micros, Math::max);
    }

    /** Whether {@code node}'s process is paused now. */
    public boolean isPaused(NodeId node) {
        Long until = pausedUntil.get(node);
        return until != null && until > nowMicros;
    }

    /** A heartbeat published to the lease logs by {@code from}: appended to each, after a delay, if it reaches it. */
    private void appendToLog(NodeId from, Envelope envelope) {
        appendToLog(from, envelope, null);
    }

    /**
     * {@link #appendToLog(NodeId, Envelope)}; with {@code confirmed}, each log that appends it (a majority of its
     * replicas stores it) confirms it to the publisher a moment later, if its connection is still open.
     */
    private void appendToLog(NodeId from, Envelope envelope, java.util.function.IntConsumer confirmed) {
        Inbox publisher = inboxes.get(from);
        if (publisher == null || !publisher.up || publisher.isolated) {
            return;
        }
        int broker = publisher.broker;
        for (int j = 0; j < logs.size(); j++) {
            int log = j;
            long delay = random.nextDouble() < faults.lateProbability()
                    ? faults.maxDelayMicros() + (long) (random.nextDouble() * faults.lateMaxMicros())
                    : delay();
            if (confirmed != null && uncommittedConfirms) {
                at(nowMicros + delay(), from, () -> {
                    if (publisher.up && !publisher.isolated && !paused[broker]) {
                        confirmed.accept(log);
                    }
                });
            }
            at(nowMicros + delay, null, () -> {
                if (logReaches(log, broker)) {
                    logs.get(log).add(envelope);
                    pumpLog(log);
                    if (confirmed != null && !uncommittedConfirms) {
                        at(nowMicros + delay(), from, () -> {
                            if (publisher.up && !publisher.isolated) {
                                confirmed.accept(log);
                            }
                        });
                    }
                }
            });
        }
    }

    private void pumpLog() {
        for (int j = 0; j < logs.size(); j++) {
            pumpLog(j);
        }
    }

    /** Hands every reader that log {@code j} reaches the entries it has not read yet, in order. */
    private void pumpLog(int j) {
        List<Envelope> log = logs.get(j);
        for (Map.Entry<NodeId, Inbox> entry : inboxes.entrySet()) {
            Inbox inbox = entry.getValue();
            if (inbox.leaseConsumer == null || !inbox.readingLogs || !inbox.up || inbox.isolated
                    || !logReaches(j, inbox.broker)) {
                continue;
            }
            NodeId node = entry.getKey();
            while (inbox.cursor[j] < log.size()) {
                Envelope stored = log.get(inbox.cursor[j]++);
                Envelope next = unannouncedLease > 0 && stored.body() instanceof Message.Heartbeat h
                        ? new Envelope(stored.version(), stored.sender(), stored.cluster(), stored.hlc(),
                                new Message.Heartbeat(h.owned(), h.digest(), h.strategy(), h.leaderEpoch(), h.crashGrace(),
                                        unannouncedLease))
                        : stored;
                long at = Math.max(nowMicros + delay(), inbox.lastLogDelivery[j]);
                inbox.lastLogDelivery[j] = at;
                at(at, node, () -> {
                    if (inbox.up && !inbox.isolated && inbox.readingLogs) {
                        delivered++;
                        inbox.leaseConsumer.accept(j, next);
                    }
                });
            }
        }
    }

    /** The node's process dies: its inbox is deleted, its timers and queued events never run. */
    public void crash(NodeId node) {
        Inbox inbox = inboxes.get(node);
        if (inbox != null) {
            boolean wasUp = inbox.up && !inbox.isolated;
            inbox.up = false;
            inbox.processAlive = false;
            if (wasUp) {
                reportClosed(node, inbox.broker); // its socket closed with the process
            }
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
        at(nowMicros + brokerNoticesAfterMicros, null, () -> {
            if (inbox.up) {
                inbox.up = false;
                reportClosed(node, inbox.broker); // its heartbeat timeout
            }
        });
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

    /** The holders of the leader queue as each broker node's records have it (two when the cluster is split). */
    private NodeId leaderQueueHolderSeenFrom(int broker) {
        NodeId holder = leaderHolders.get(recordSides[broker]);
        if (!split) {
            holder = leaderQueueHolder;
        }
        return holder != null && isUp(holder) && inboxes.get(holder).known[broker] ? holder : null;
    }

    private final Map<Integer, NodeId> leaderHolders = new HashMap<>();
    private final Map<NodeId, Runnable[]> contenders = new HashMap<>();

    /** One attempt of {@code self} to declare the exclusive leader queue; retried every {@code retryMillis}. */
    private void contend(NodeId self, long retryMillis, Runnable elected) {
        if (!isUp(self)) {
            return; // its connection is gone: it contends no more
        }
        int broker = inboxes.get(self).broker;
        if (!isolated(self) && !paused[broker] && leaderQueueHolderSeenFrom(broker) == null) {
            leaderQueueHolder = self;
            leaderHolders.put(recordSides[broker], self);
            at(nowMicros + delay(), self, elected);
        } else if (!self.equals(leaderQueueHolderSeenFrom(broker))) {
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
                if (isolated(self) || !isUp(self)) {
                    return;
                }
                int from = inboxes.get(self).broker;
                for (Map.Entry<NodeId, Inbox> entry : inboxes.entrySet()) {
                    if (routable(from, entry.getValue())) {
                        deliver(entry.getKey(), envelope);
                    }
                }
            }

            @Override
            public void heartbeat(Envelope envelope) {
                if (inboxes.get(self).leaseConsumer != null) {
                    appendToLog(self, envelope);
                } else {
                    broadcast(envelope);
                }
            }

            @Override
            public boolean confirmsHeartbeats() {
                return inboxes.get(self).leaseConsumer != null;
            }

            @Override
            public void heartbeat(Envelope envelope, java.util.function.IntConsumer confirmed) {
                if (inboxes.get(self).leaseConsumer != null) {
                    appendToLog(self, envelope, confirmed);
                } else {
                    broadcast(envelope);
                }
            }

            @Override
            public void readLeaseLogs(boolean read, Runnable attached) {
                Inbox me = inboxes.get(self);
                if (!read) {
                    me.readingLogs = false;
                    at(nowMicros + delay(), self, attached);
                    return;
                }
                at(nowMicros + delay(), self, () -> { // consume-ok: from the logs' next entries
                    for (int j = 0; j < logs.size(); j++) {
                        me.cursor[j] = logs.get(j).size();
                    }
                    me.readingLogs = true;
                    attached.run();
                });
            }

            @Override
            public void send(NodeId to, Envelope envelope, Runnable onReturned) {
                if (isolated(self) || !isUp(self)) {
                    return;
                }
                int from = inboxes.get(self).broker;
                Inbox target = inboxes.get(to);
                if (target != null && routable(from, target)) {
                    deliver(to, envelope);
                } else if (target != null && target.up && side[from] != side[target.broker] && target.known[from]) {
                    return; // routed across the cut before the broker noticed: lost, not returned
                } else {
                    at(nowMicros + delay(), self, onReturned);
                }
            }

            @Override
            public void sendToLeader(Envelope envelope, Runnable onReturned) {
                if (isolated(self) || !isUp(self)) {
                    return;
                }
                NodeId holder = leaderQueueHolderSeenFrom(inboxes.get(self).broker);
                if (holder != null) {
                    if (routable(inboxes.get(self).broker, inboxes.get(holder))) {
                        deliver(holder, envelope);
                    }
                } else {
                    at(nowMicros + delay(), self, onReturned);
                }
            }

            @Override
            public void resignLeadership() {
                Runnable[] again = contenders.get(self);
                if (again == null) {
                    return;
                }
                if (self.equals(leaderQueueHolder)) {
                    leaderQueueHolder = null;
                }
                leaderHolders.values().remove(self);
                at(nowMicros + delay(), self, again[0]);
            }

            @Override
            public void contendForLeadership(long retryMillis, Runnable elected, Runnable deposed) {
                contenders.put(self, new Runnable[] {() -> contend(self, retryMillis, elected)});
                // the holder loses the queue only with its inbox, so with its process or its
                // connection: it never runs on deposed here
                at(nowMicros + delay(), self, () -> contend(self, retryMillis, elected));
            }

            @Override
            public void disconnect() {
                Inbox inbox = inboxes.get(self);
                if (inbox != null && inbox.up) {
                    inbox.up = false;
                    if (!inbox.isolated) {
                        reportClosed(self, inbox.broker);
                    }
                }
            }

            @Override
            public boolean watchConnections(Consumer<NodeId> closed) {
                inboxes.get(self).closedWatcher = closed;
                return true;
            }

            @Override
            public void ping(Runnable answered) {
                Inbox me = inboxes.get(self);
                if (unprovenPings) {
                    at(nowMicros + 2 * delay(), self, answered);
                    return;
                }
                if (me == null || !me.up || me.isolated) {
                    return; // never reaches the broker
                }
                int broker = me.broker;
                at(nowMicros + delay(), null, () -> {
                    if (me.up && !me.isolated && !paused[broker]) { // the broker answers over an open connection
                        at(nowMicros + delay(), self, () -> {
                            if (!me.isolated) {
                                answered.run();
                            }
                        });
                    }
                });
            }

            @Override
            public void checkAlive(NodeId node, Consumer<Boolean> alive) {
                if (isolated(self)) {
                    return; // the broker never answers a node cut off from it
                }
                int from = inboxes.get(self).broker;
                at(nowMicros + delay(), self, () -> {
                    Inbox inbox = inboxes.get(node);
                    alive.accept(inbox != null && inbox.up && inbox.known[from]); // what this broker node's records say
                });
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
                if (inbox.up && !inbox.isolated && !paused[inbox.broker]) {
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
            Long resumes = event.node() == null ? null : pausedUntil.get(event.node());
            if (resumes != null && resumes > nowMicros) {
                queue.add(new Event(resumes, sequence++, event.node(), event.task())); // waits for the process to resume
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
