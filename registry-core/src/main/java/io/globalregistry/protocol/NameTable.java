package io.globalregistry.protocol;

import io.globalregistry.OwnerChange;
import io.globalregistry.OwnerChange.Reason;
import io.globalregistry.Registration;
import io.globalregistry.Registration.State;
import io.globalregistry.membership.NodeId;
import io.globalregistry.name.GlobalName;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * One node's table of owned names: written only from the node's event loop, read from any thread
 * through {@link #lookup(String)} (a concurrent map, so {@code whereis} costs one hash lookup).
 *
 * <p>Keeps, per owner, the number of names and an order-independent digest of them, which
 * heartbeats carry so a stale table is noticed and re-synced.
 */
public final class NameTable {

    private final NodeId self;
    private final Consumer<OwnerChange> events;
    private final ConcurrentHashMap<String, Registration> view = new ConcurrentHashMap<>();
    private final Map<String, Long> updatedAt = new HashMap<>();
    private final Map<NodeId, long[]> digests = new LinkedHashMap<>();

    public NameTable(NodeId self, Consumer<OwnerChange> events) {
        this.self = self;
        this.events = events;
    }

    /** The registration of {@code key}, from any thread. */
    public Registration lookup(String key) {
        return view.get(key);
    }

    /** Every registration, from any thread. */
    public Collection<Registration> all() {
        return view.values();
    }

    /** The names owned by {@code owner} as this table sees them. */
    public List<Registration> ownedBy(NodeId owner) {
        List<Registration> out = new ArrayList<>();
        for (Registration r : view.values()) {
            if (r.owner().equals(owner)) {
                out.add(r);
            }
        }
        out.sort((a, b) -> a.name().key().compareTo(b.name().key()));
        return out;
    }

    /** How many names {@code owner} has here. */
    public int count(NodeId owner) {
        long[] d = digests.get(owner);
        return d == null ? 0 : (int) d[0];
    }

    /** The digest of {@code owner}'s names here. */
    public long digest(NodeId owner) {
        long[] d = digests.get(owner);
        return d == null ? 0 : d[1];
    }

    /** This node now owns {@code name}. */
    public void putLocal(GlobalName name, long token, long hlc, long wallMillis, Object target) {
        put(new Registration(name, self, State.LOCAL, token, wallMillis, target), hlc);
    }

    /**
     * Applies an owner's word that it owns {@code name} with {@code token}, heard at clock {@code hlc}.
     * A name owned here is never taken away by another node's word, and a smaller token never
     * replaces a larger one (it is an older owner's late message).
     *
     * @return true if the table changed
     */
    public boolean applyRemote(GlobalName name, NodeId owner, long token, long hlc, long wallMillis) {
        Registration current = view.get(name.key());
        if (current != null) {
            if (current.owner().equals(owner) && current.fencingToken() == token) {
                updatedAt.merge(name.key(), hlc, Math::max);
                return false;
            }
            if (current.isLocal() || current.fencingToken() > token) {
                return false;
            }
        }
        put(new Registration(name, owner, State.REMOTE, token, wallMillis, null), hlc);
        return true;
    }

    /** Removes {@code key} if {@code owner} holds it with a token no newer than {@code token}. */
    public boolean remove(String key, NodeId owner, long token, Reason reason) {
        Registration current = view.get(key);
        if (current == null || !current.owner().equals(owner) || current.fencingToken() > token) {
            return false;
        }
        drop(current, reason);
        return true;
    }

    /** Removes every name of {@code owner} (it died or left). */
    public void removeOwner(NodeId owner) {
        removeOwner(owner, Reason.OWNER_DOWN);
    }

    /** Removes every name of {@code owner}, telling listeners {@code reason}. */
    public void removeOwner(NodeId owner, Reason reason) {
        for (Registration r : ownedBy(owner)) {
            drop(r, reason);
        }
    }

    /**
     * Removes {@code owner}'s names that a complete sync taken at {@code asOf} did not list,
     * unless this table heard of them after {@code asOf}.
     */
    public void retainSynced(NodeId owner, Set<String> listed, long asOf) {
        for (Registration r : ownedBy(owner)) {
            String key = r.name().key();
            if (!listed.contains(key) && updatedAt.getOrDefault(key, 0L) < asOf) {
                drop(r, Reason.UNREGISTERED);
            }
        }
    }

    /**
     * Forgets every name owned elsewhere, without telling listeners: a cache is flushed (strategy
     * {@code leader}, on a change of leader), nobody's ownership changed.
     */
    public void evictRemote() {
        for (Registration r : List.copyOf(view.values())) {
            if (!r.isLocal() && view.remove(r.name().key(), r)) {
                updatedAt.remove(r.name().key());
                account(r, -1);
            }
        }
    }

    private void put(Registration next, long hlc) {
        String key = next.name().key();
        Registration previous = view.put(key, next);
        updatedAt.put(key, hlc);
        if (previous != null) {
            account(previous, -1);
        }
        account(next, +1);
        if (previous == null || !previous.owner().equals(next.owner())) {
            events.accept(new OwnerChange(next.name(), previous == null ? null : previous.owner(), next.owner(),
                    next.fencingToken(), Reason.REGISTERED));
        }
    }

    private void drop(Registration r, Reason reason) {
        String key = r.name().key();
        view.remove(key);
        updatedAt.remove(key);
        account(r, -1);
        events.accept(new OwnerChange(r.name(), r.owner(), null, 0, reason));
    }

    private void account(Registration r, int sign) {
        long[] d = digests.computeIfAbsent(r.owner(), k -> new long[2]);
        d[0] += sign;
        d[1] ^= hash(r.name().key(), r.fencingToken());
        if (d[0] == 0) {
            digests.remove(r.owner());
        }
    }

    /** An order-independent 64-bit hash of one (name, token) pair; the digest XORs them. */
    public static long hash(String key, long token) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < key.length(); i++) {
            h = (h ^ key.charAt(i)) * 0x100000001b3L;
        }
        h ^= token * 0x9E3779B97F4A7C15L;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        return h;
    }
}
