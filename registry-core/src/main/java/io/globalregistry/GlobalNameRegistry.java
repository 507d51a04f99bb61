package io.globalregistry;

import io.globalregistry.membership.NodeId;
import io.globalregistry.wire.RejectedMessages;
import java.time.Instant;
import java.util.List;
import java.util.Map;
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

    /**
     * A proxy implementing {@code type} whose calls go to whatever is registered under {@code name}
     * on its current owner, wherever that is now or after a failover. The proxy is bound to the
     * name, not to a node, and is cheap to keep.
     *
     * <ul>
     *   <li>Owner is this node: the target is invoked directly on the calling thread (no broker, no
     *       JSON); its exceptions propagate as they are.</li>
     *   <li>Owner elsewhere: a {@code call} to the owner's inbox; arguments and result travel as JSON
     *       and are read as the types the methods declare (generics included). The owner runs it on
     *       a bounded executor. A {@code CompletableFuture} return type makes the call asynchronous
     *       end to end; a {@code void} method marked {@link OneWay} does not wait for a reply.</li>
     *   <li>Failures: a declared exception thrown by the target is rethrown as its type where it can
     *       be rebuilt, any other as {@link RemoteInvocationException}; {@link OwnerBusyException}
     *       when the owner's executor is full; {@link CallTimeoutException} when no reply came within
     *       {@code call-timeout}; {@link NoSuchNameException} when no owner appeared within it; and
     *       {@link MessageTooLargeException} for arguments over {@code max-message-size}.</li>
     *   <li>Retries: a call that was certainly not delivered (the owner's inbox was gone, the owner
     *       no longer owned the name, or there was no owner yet) waits for the next owner and is sent
     *       again, within {@code call-timeout}. A delivered call is sent again only if its method is
     *       {@link Idempotent} and its owner was certified dead before replying.</li>
     *   <li>Default methods and {@code equals}/{@code hashCode}/{@code toString} run locally on the proxy.</li>
     * </ul>
     *
     * @throws InvalidNameException if {@code name} is null or has no JSON form
     * @throws IllegalArgumentException if {@code type} is not an interface, or misuses {@link OneWay}
     */
    <T> T proxy(Object name, Class<T> type);

    /** Every registration this node knows: its own, other nodes', and its pending claims. */
    List<Registration> registrations();

    /** The members of the cluster as this node sees them, itself included. */
    Set<NodeId> members();

    /** Adds a listener told of every change of owner, in order, on a registry thread (not the event loop). */
    void addListener(OwnerChangeListener listener);

    /** Removes a listener added before. */
    void removeListener(OwnerChangeListener listener);

    /**
     * The leader of the cluster as this node knows it, under the {@code leader} strategy; always
     * empty under {@code claim}, which has none.
     */
    default Optional<NodeId> leader() {
        return Optional.empty();
    }

    /** Adds a listener told of every change of leader this node learns (never called under {@code claim}). */
    default void addLeaderListener(LeaderListener listener) {
    }

    /** Removes a leader listener added before. */
    default void removeLeaderListener(LeaderListener listener) {
    }

    /** The incoming messages this node dropped, by reason. */
    RejectedMessages rejected();

    /** What became of the messages sent to names (delivered, dropped and why). */
    DeliveryStats deliveries();

    /**
     * When this node last heard each other member (wall-clock time, as this node's clock sees it):
     * a heartbeat or any other message. This node is not included.
     */
    default Map<NodeId, Instant> lastHeartbeats() {
        return Map.of();
    }

    /**
     * Whether this node is fenced: it has not heard itself through the broker for fence-after, or
     * lost its connection, so it gave its names up (see PROTOCOL.md "Self-fencing"); also while it
     * rejoins the cluster as a new incarnation.
     */
    default boolean isFenced() {
        return false;
    }

    /**
     * Whether this node may act as the owner of {@code name} now: it holds the name and its lease is
     * valid on the monotonic clock (docs/PROTOCOL.md "Liveness"). Check it right before an action only
     * the owner may take (the starter does for each run of a {@code @GlobalSingleton}'s scheduled
     * methods); guard writes to external systems with the fencing token as well, since a pause can come
     * between the check and the write. Any thread; cheap (no message, no lock).
     */
    default boolean mayActAsOwner(Object name) {
        Registration registration = whereis(name).orElse(null);
        return registration != null && registration.isLocal() && !isFenced();
    }

    /**
     * How many times this node gave up its incarnation (connection lost, or not hearing itself for
     * 5 x fence-after) and rejoined the cluster as a new one; {@link #nodeId()} is then the new one.
     */
    default long rejoins() {
        return 0;
    }

    /** Leaves the cluster gracefully: unregisters every owned name, says goodbye, then disconnects. */
    @Override
    void close();
}
