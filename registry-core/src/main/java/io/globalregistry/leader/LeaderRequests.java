package io.globalregistry.leader;

import io.globalregistry.OwnerChange.Reason;
import io.globalregistry.Registration;
import io.globalregistry.Registration.State;
import io.globalregistry.RegistrationResult;
import io.globalregistry.RegistrationTimeoutException;
import io.globalregistry.RegistryException;
import io.globalregistry.membership.NodeId;
import io.globalregistry.name.GlobalName;
import io.globalregistry.protocol.NameTable;
import io.globalregistry.protocol.NodeContext;
import io.globalregistry.protocol.NodeRuntime.Cancellable;
import io.globalregistry.wire.Message;
import io.globalregistry.wire.Message.Resolve;
import io.globalregistry.wire.Message.Resolved;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * This node's own questions to the leader, for {@link LeaderStrategy}: register a name, or who owns
 * it (watched or not). Each is asked of the leader this node follows (of itself when it leads, once
 * rebuilt), asked again after leader-retry when nobody took it and of every new leader, and given up
 * after the claim timeout; the answers fill the read-through cache of owners. Which leader to follow,
 * and whose answers to take, is {@link LeaderStrategy}'s to say; it runs on the node's event loop,
 * like the strategy.
 */
final class LeaderRequests {

    private static final Runnable NOTHING = () -> { };

    private final NodeContext node;
    /** This node as the leader: it answers this node's requests itself while it leads. */
    private final LeaderRole role;
    /** Liveness LEASE: requests go to the inbox of the leader this node follows, not to the leader queue. */
    private final boolean leaseElection;
    /** The leader as this node knows it ({@link LeaderStrategy#leader()}), or null. */
    private final Supplier<NodeId> leader;

    private long nextId = 1;
    private final Map<Long, Request> requests = new LinkedHashMap<>();
    private final Map<String, Request> registering = new HashMap<>();
    private final Map<String, Request> lookingUp = new HashMap<>();
    private final Map<String, Long> wanted = new HashMap<>();

    LeaderRequests(NodeContext node, LeaderRole role, boolean leaseElection, Supplier<NodeId> leader) {
        this.node = node;
        this.role = role;
        this.leaseElection = leaseElection;
        this.leader = leader;
    }

    /** One question of this node to the leader: register a name, or who owns it. */
    private final class Request {
        final long id;
        final GlobalName name;
        final boolean register;
        final boolean watch;
        final Object target;
        final long startedWall;
        final List<CompletableFuture<RegistrationResult>> registrations = new ArrayList<>(1);
        final List<CompletableFuture<Registration>> lookups = new ArrayList<>(1);
        Cancellable timeout;
        boolean retrying;

        Request(GlobalName name, boolean register, boolean watch, Object target) {
            this.id = nextId++;
            this.name = name;
            this.register = register;
            this.watch = watch;
            this.target = target;
            this.startedWall = node.runtime().wallClockMillis();
        }
    }

    private NameTable table() {
        return node.table();
    }

    /** To the leader: the leader queue, or under {@code LEASE} the inbox of the leader this node follows. */
    private void toLeader(Message message, Runnable onReturned) {
        if (!leaseElection) {
            node.sendToLeader(message, onReturned);
            return;
        }
        NodeId to = leader.get();
        if (to == null || to.equals(node.self())) {
            onReturned.run(); // nobody known leads (or this node just stepped down): asked again after leader-retry
        } else {
            node.send(to, message, onReturned);
        }
    }

    /** This node stopped: every open request fails (a lookup finds nobody), and no name is watched any more. */
    void abandonAll(String why) {
        for (Request request : List.copyOf(requests.values())) {
            forget(request);
            RegistryException error = new RegistryException("Registration of " + request.name.key()
                    + " abandoned: " + why);
            request.registrations.forEach(r -> r.completeExceptionally(error));
            request.lookups.forEach(r -> r.complete(null));
        }
        wanted.clear();
    }

    // ---- API ---------------------------------------------------------------------------------

    void register(GlobalName name, Object target, CompletableFuture<RegistrationResult> result) {
        Registration existing = table().lookup(name.key());
        if (existing != null && existing.isLocal()) {
            result.complete(new RegistrationResult(false, existing.owner()));
            return;
        } // a cached owner may be stale: only the leader decides
        Request request = registering.get(name.key());
        if (request != null) {
            request.registrations.add(result);
            return;
        }
        request = new Request(name, true, false, target);
        request.registrations.add(result);
        registering.put(name.key(), request);
        start(request);
    }

    void resolve(GlobalName name, boolean watch, CompletableFuture<Registration> result) {
        if (watch) {
            wanted.put(name.key(), node.runtime().monotonicMillis() + node.config().callTimeout().toMillis());
        }
        if (role.leading() && role.ready()) {
            result.complete(table().lookup(name.key()));
            return;
        }
        Request request = lookingUp.get(name.key());
        if (request != null) {
            request.lookups.add(result);
            return;
        }
        request = new Request(name, false, watch, null);
        request.lookups.add(result);
        lookingUp.put(name.key(), request);
        start(request);
    }

    private void start(Request request) {
        requests.put(request.id, request);
        request.timeout = node.runtime().schedule(node.config().claimTimeout().toMillis(), () -> expire(request));
        send(request);
    }

    /** To the leader: this node itself when it leads (once rebuilt), else the leader queue (liveness broker) or the followed leader's inbox (lease). */
    private void send(Request request) {
        if (requests.get(request.id) != request) {
            return;
        }
        if (role.leading()) {
            if (role.ready()) {
                decideOwn(request);
            } // else sent once rebuilt (LeaderRole#becomeReady)
            return;
        }
        toLeader(new Resolve(request.name.key(), request.id, request.register, request.watch),
                () -> returned(request));
    }

    /** No leader took it (the queue is unheld, the inbox gone, or no leader is known): try again after leader-retry, until the request expires. */
    private void returned(Request request) {
        if (requests.get(request.id) != request || request.retrying) {
            return;
        }
        request.retrying = true;
        node.runtime().schedule(node.config().leaderRetry().toMillis(), () -> {
            request.retrying = false;
            send(request);
        });
    }

    private void expire(Request request) {
        if (requests.get(request.id) != request) {
            return;
        }
        forget(request);
        NodeId leader = this.leader.get();
        String detail = "no leader decided within " + node.config().claimTimeout().toMillis() + " ms"
                + (leader == null ? " (no leader known)" : " (leader " + leader + ")");
        request.registrations.forEach(r -> r.completeExceptionally(
                new RegistrationTimeoutException(request.name.key(), detail)));
        request.lookups.forEach(r -> r.complete(null));
    }

    private void forget(Request request) {
        requests.remove(request.id);
        registering.remove(request.name.key(), request);
        lookingUp.remove(request.name.key(), request);
        if (request.timeout != null) {
            request.timeout.cancel();
        }
    }

    /** This node leads: it answers its own request from its table. */
    private void decideOwn(Request request) {
        Registration current = table().lookup(request.name.key());
        if (request.register && current == null) {
            long token = role.grant(request.name, node.self(), request.target);
            finish(request, node.self(), token);
        } else {
            finish(request, current == null ? null : current.owner(), current == null ? 0 : current.fencingToken());
        }
    }

    /** The leader's decision for {@code request}: {@code owner} (null: nobody) owns the name with {@code token}. */
    private void finish(Request request, NodeId owner, long token) {
        forget(request);
        String key = request.name.key();
        if (request.register) {
            RegistrationResult result;
            if (node.self().equals(owner)) {
                Registration mine = table().lookup(key);
                if (mine == null || !mine.isLocal()) {
                    if (mine != null) { // a stale cache entry: the leader knows better
                        table().remove(key, mine.owner(), Long.MAX_VALUE, Reason.UNREGISTERED);
                    }
                    table().putLocal(request.name, token, token, node.runtime().wallClockMillis(), request.target);
                }
                result = new RegistrationResult(true, node.self());
            } else {
                cache(request.name, owner, token);
                result = new RegistrationResult(false, owner);
            }
            request.registrations.forEach(r -> r.complete(result));
        } else {
            cache(request.name, owner, token);
            Registration found = owner == null ? null : table().lookup(key);
            request.lookups.forEach(r -> r.complete(found));
        }
    }

    /** Caches {@code owner} of {@code name}, unless nobody owns it, it is this node, or its death is certified here. */
    private void cache(GlobalName name, NodeId owner, long token) {
        if (owner == null || owner.equals(node.self()) || node.membership().isDead(owner)) {
            return;
        }
        // a member from now on, if it was not: should it die silently, it is suspected and its entry goes
        node.membership().heard(owner, node.runtime().monotonicMillis());
        table().applyRemote(name, owner, token, node.clock().tick(), node.runtime().wallClockMillis());
        wanted.remove(name.key());
    }

    List<Registration> pending() {
        List<Registration> out = new ArrayList<>();
        for (Request request : registering.values()) {
            out.add(new Registration(request.name, node.self(), State.PENDING, 0, request.startedWall, null));
        }
        return out;
    }

    // ---- answers and new leaders -----------------------------------------------------------------

    /**
     * An answer of the leader this node follows, under the epoch it follows, to one of this node's
     * requests (id 0: an owner appeared for a name it watches).
     */
    void resolved(Resolved answer) {
        if (answer.id() == 0) {
            cache(new GlobalName(answer.name()), answer.owner(), answer.token());
            return;
        }
        Request request = requests.get(answer.id());
        if (request != null && request.name.key().equals(answer.name())) {
            finish(request, answer.owner(), answer.token());
        }
    }

    /** Every open request is sent again (see {@link #send}): the strategy's own, once this node is rebuilt as the leader. */
    void sendAll() {
        for (Request request : List.copyOf(requests.values())) {
            send(request);
        }
    }

    /** A new leader (or none, this node deposed): every open request, and every watched name not yet owned, is asked again. */
    void resendAll() {
        sendAll();
        long now = node.runtime().monotonicMillis();
        wanted.values().removeIf(until -> until < now);
        for (String key : wanted.keySet()) {
            if (table().lookup(key) == null && !lookingUp.containsKey(key)) {
                toLeader(new Resolve(key, 0, false, true), NOTHING);
            }
        }
    }
}
