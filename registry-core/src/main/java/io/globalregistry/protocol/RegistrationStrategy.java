package io.globalregistry.protocol;

import io.globalregistry.Registration;
import io.globalregistry.RegistrationResult;
import io.globalregistry.membership.NodeId;
import io.globalregistry.name.GlobalName;
import io.globalregistry.wire.Envelope;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * How a node decides who owns a name. Every method runs on the node's event loop.
 * Implementations: {@code claim} (every member votes) and {@code leader} (one node decides).
 */
public interface RegistrationStrategy {

    /** Tries to make this node the owner of {@code name}; completes {@code result} when decided. */
    void register(GlobalName name, Object target, CompletableFuture<RegistrationResult> result);

    /** Handles a message of the strategy's own types; returns false if the type is not its own. */
    boolean onMessage(Envelope envelope);

    /** {@code owner} owns {@code name} now (an advertise arrived): claims for it here are lost. */
    void ownerKnown(GlobalName name, NodeId owner);

    /** {@code name} has no owner any more. */
    void released(String key);

    /** {@code node} died or left: stop waiting for it and drop what it held. */
    void memberGone(NodeId node);

    /** This node stopped (left, halted or fenced): fail every registration still under way. */
    void halt(String why);

    /** This node's pending claims, for {@code registrations()}. */
    List<Registration> pending();

    /** The node joined: it said hello and heard the members for the join window, so it knows them. */
    default void start() {
    }

    /**
     * Whether every node holds the whole table ({@code claim}): then members sync their names to
     * every joiner and new member, and every node checks every heartbeat's digest. Otherwise
     * ({@code leader}) only {@link #authoritative()} nodes check digests and the strategy decides
     * who learns which names ({@link #newMember}).
     */
    default boolean replicated() {
        return true;
    }

    /** Whether this node's table holds every owned name, so heartbeat digests are checked against it. */
    default boolean authoritative() {
        return true;
    }

    /** Not {@link #replicated()}: {@code member} was just heard of for the first time. */
    default void newMember(NodeId member) {
    }

    /**
     * A complete sync of {@code member}'s names was applied; {@code theirMembers} is its view of the
     * cluster and {@code theirLeaderEpoch} the newest leader epoch it knows, if it sent them.
     */
    default void synced(NodeId member, java.util.Set<NodeId> theirMembers, long theirLeaderEpoch) {
    }

    /**
     * Two owners of {@code name} met in the table: {@code loser}'s registration with {@code token}
     * was not taken (the table keeps this node's own names and, between others, the larger token).
     */
    default void duplicate(GlobalName name, NodeId loser, long token) {
    }

    /**
     * Not {@link #replicated()}: {@code name} is not in this node's table; completes {@code result}
     * with its registration, or null when nobody owns it. {@code watch}: the caller waits for an
     * owner, so this node should hear when one appears.
     */
    default void resolve(GlobalName name, boolean watch, CompletableFuture<Registration> result) {
        result.complete(null);
    }

    /** The leader as this node knows it, or null (always null for strategies without one). */
    default NodeId leader() {
        return null;
    }

    /** The newest leader epoch this node knows, else 0 (syncs carry it). */
    default long knownLeaderEpoch() {
        return 0;
    }

    /** This node's leader epoch while it is the leader, else 0 (heartbeats carry it). */
    default long leaderEpoch() {
        return 0;
    }
}
