package io.globalregistry;

import io.globalregistry.membership.NodeId;
import io.globalregistry.wire.RejectedMessages;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * One node of a cluster-wide name registry: a name is owned by at most one node of the cluster at a
 * time, every node can find its owner and send to it. Thread-safe; get one from a transport's
 * entry point (e.g. {@code io.globalregistry.amqp.AmqpGlobalRegistry}).
 *
 * <p>Names are any JSON-able values ({@code "billing"}, {@code List.of("room", 42)}, a record),
 * compared by their canonical JSON form.
 */
public interface GlobalNameRegistry extends AutoCloseable {

    /** This node's identity (node name plus the incarnation of this run). */
    NodeId nodeId();

    /**
     * What this node knows of {@code name}'s owner, without any network round trip: the local
     * registration (with its target), a remote owner, or empty.
     *
     * @throws InvalidNameException if {@code name} is null or has no JSON form
     */
    Optional<Registration> whereis(Object name);

    /**
     * Makes this node the owner of {@code name} for {@code target}, unless another node owns it or
     * wins a concurrent claim. Blocks until decided, at most about claim-timeout + join-window + a margin.
     *
     * @return registered=true if this node now owns it; else false with the owner when known
     * @throws InvalidNameException if {@code name} is null or has no JSON form
     * @throws IllegalArgumentException if {@code target} is null
     * @throws RegistrationTimeoutException if it could not be decided in time (nothing was registered)
     */
    RegistrationResult register(Object name, Object target);

    /**
     * {@link #register} without blocking. The future completes off the registry's event loop, or
     * exceptionally with {@link RegistrationTimeoutException}.
     *
     * @throws InvalidNameException if {@code name} is null or has no JSON form
     * @throws IllegalArgumentException if {@code target} is null
     */
    CompletableFuture<RegistrationResult> registerAsync(Object name, Object target);

    /** Releases {@code name} if this node owns it; returns false (a no-op) otherwise. */
    boolean unregister(Object name);

    /**
     * Sends {@code message} one way to whatever is registered under {@code name}, wherever its
     * owner is. The target receives it if it implements {@link MessageHandler}; a message to a
     * remote owner travels as JSON and is converted to the handler's declared message type there.
     *
     * @throws NoSuchNameException if no node of the cluster owns {@code name}, as this node sees it
     * @throws IllegalArgumentException if {@code message} is null, has no JSON form, or is too large
     */
    void send(Object name, Object message);

    /** Every registration this node knows: its own, other nodes', and its pending claims. */
    List<Registration> registrations();

    /** The members of the cluster as this node sees them, itself included. */
    Set<NodeId> members();

    /** Adds a listener told of every change of owner, in order, on a registry thread (not the event loop). */
    void addListener(OwnerChangeListener listener);

    /** Removes a listener added before. */
    void removeListener(OwnerChangeListener listener);

    /** The incoming messages this node dropped, by reason. */
    RejectedMessages rejected();

    /** What became of the messages sent to names (delivered, dropped and why). */
    DeliveryStats deliveries();

    /** Leaves the cluster gracefully: unregisters every owned name, says goodbye, then disconnects. */
    @Override
    void close();
}
