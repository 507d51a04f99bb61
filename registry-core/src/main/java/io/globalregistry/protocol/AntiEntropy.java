package io.globalregistry.protocol;

import io.globalregistry.Registration;
import io.globalregistry.membership.NodeId;
import io.globalregistry.wire.Message.Heartbeat;
import io.globalregistry.wire.Message.OwnedName;
import io.globalregistry.wire.Message.Sync;
import io.globalregistry.wire.Message.SyncRequest;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Syncs and anti-entropy (docs/PROTOCOL.md, "Join" and "Advertise, anti-entropy"): a node's complete list of the
 * names it owns, sent in parts; the parts of others' syncs collected until complete, then applied; and a
 * {@code sync-request} to a member whose heartbeats' digest stably disagrees with the table. Event-loop only.
 */
final class AntiEntropy {

    /** Most names in one sync message; parts are also kept under half of max-message-size. */
    static final int SYNC_CHUNK = 1000;

    /** Applies one owned name of a sync like an {@code advertise} of {@code owner}, as of clock value {@code hlc}. */
    @FunctionalInterface
    interface Advertised {
        void apply(NodeId owner, String key, long token, long hlc);
    }

    private record SyncKey(NodeId sender, long asOf) {
    }

    /** The parts of one sync received so far. */
    private static final class PartialSync {
        final BitSet parts = new BitSet();
        final Set<String> names = new HashSet<>();
        final Set<NodeId> members = new HashSet<>();
        long leaderEpoch;
    }


    private final NodeContext node;
    private final RegistrationStrategy strategy;
    private final Advertised advertised;
    private final Map<SyncKey, PartialSync> partialSyncs = new HashMap<>();
    private final Map<NodeId, Long> syncRequested = new HashMap<>();
    private final Map<NodeId, Heartbeat> lastHeartbeat = new HashMap<>();

    AntiEntropy(NodeContext node, RegistrationStrategy strategy, Advertised advertised) {
        this.node = node;
        this.strategy = strategy;
        this.advertised = advertised;
    }

    /**
     * Anti-entropy: asks {@code sender} for a sync when its heartbeat disagrees with our table. A
     * digest that changed since the sender's previous heartbeat is still moving (advertisements in
     * flight), so only a stable disagreement counts, at most once per suspect-after.
     */
    void checkDigest(NodeId sender, Heartbeat heartbeat) {
        Heartbeat previous = lastHeartbeat.put(sender, heartbeat);
        if (node.table().count(sender) == heartbeat.owned() && node.table().digest(sender) == heartbeat.digest()) {
            return;
        }
        if (!heartbeat.equals(previous)) {
            return;
        }
        long now = node.runtime().monotonicMillis();
        Long last = syncRequested.get(sender);
        if (last == null || now - last >= node.config().suspectAfter().toMillis()) {
            syncRequested.put(sender, now);
            node.send(sender, new SyncRequest(), () -> { });
        }
    }

    /** Sends {@code to} the complete list of names this node owns, in parts. */
    void sendSync(NodeId to) {
        List<List<OwnedName>> parts = syncParts(node.table().ownedBy(node.self()), node.config().maxMessageSize() / 2);
        long asOf = node.clock().tick();
        boolean leader = !strategy.replicated();
        List<String> pending = leader ? strategy.pending().stream().map(r -> r.name().key()).toList() : List.of();
        List<NodeId> members = leader ? List.copyOf(node.membership().memberIds()) : List.of();
        for (int part = 0; part < parts.size(); part++) {
            node.send(to, new Sync(asOf, part, parts.size(), parts.get(part), part == 0 ? pending : List.of(),
                    part == 0 ? members : List.of(), strategy.knownLeaderEpoch()), () -> { });
        }
    }

    /** Splits owned names into parts of at most {@link #SYNC_CHUNK} names and about {@code budget} bytes each. */
    static List<List<OwnedName>> syncParts(List<Registration> owned, int budget) {
        List<List<OwnedName>> parts = new ArrayList<>();
        List<OwnedName> current = new ArrayList<>();
        int bytes = 0;
        for (Registration r : owned) {
            int size = r.name().key().length() * 3 + 48; // worst case of the key as an escaped UTF-8 JSON string, plus the token
            if (!current.isEmpty() && (current.size() == SYNC_CHUNK || bytes + size > budget)) {
                parts.add(current);
                current = new ArrayList<>();
                bytes = 0;
            }
            current.add(new OwnedName(r.name().key(), r.fencingToken()));
            bytes += size;
        }
        parts.add(current);
        return parts;
    }

    void applySync(NodeId sender, Sync sync) {
        for (OwnedName owned : sync.names()) {
            advertised.apply(sender, owned.name(), owned.token(), sync.asOf());
        }
        SyncKey key = new SyncKey(sender, sync.asOf());
        PartialSync partial = partialSyncs.computeIfAbsent(key, k -> new PartialSync());
        partial.parts.set(sync.part());
        sync.names().forEach(owned -> partial.names.add(owned.name()));
        partial.names.addAll(sync.pending()); // asked for and maybe granted: not to be forgotten yet
        partial.members.addAll(sync.members());
        partial.leaderEpoch = Math.max(partial.leaderEpoch, sync.leaderEpoch());
        if (partial.parts.cardinality() == sync.parts()) {
            partialSyncs.remove(key);
            node.table().retainSynced(sender, partial.names, sync.asOf());
            strategy.synced(sender, partial.members, partial.leaderEpoch);
        }
    }

    /** {@code member} is gone: its partial syncs and digests go. */
    void forget(NodeId member) {
        syncRequested.remove(member);
        lastHeartbeat.remove(member);
        partialSyncs.keySet().removeIf(k -> k.sender().equals(member));
    }
}
