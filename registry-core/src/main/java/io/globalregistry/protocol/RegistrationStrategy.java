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
}
