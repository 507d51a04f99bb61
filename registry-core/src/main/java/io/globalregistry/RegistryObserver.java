package io.globalregistry;

import java.time.Duration;

/**
 * Told how long each registration and each proxied call of one node took and how it ended, e.g. to
 * feed timers (the Spring Boot starter's Micrometer implementation). Set it on the node's builder;
 * {@link #NO_OP} by default. Its methods run on the thread that saw the end (a caller's, or a
 * registry thread): they must be quick and must not throw.
 *
 * <p>A proxied call whose owner is this node runs the target directly on the caller's thread, in
 * tens of nanoseconds: it is counted ({@link #localCallFinished}), not timed, since two clock reads
 * would cost more than the call itself; without an observer it costs nothing more.
 */
public interface RegistryObserver {

    /** Observes nothing. */
    RegistryObserver NO_OP = new RegistryObserver() {
        @Override
        public String toString() {
            return "RegistryObserver.NO_OP";
        }
    };

    /** How a registration ended. */
    enum RegistrationOutcome {
        /** This node now owns the name. */
        WON,
        /** Another node owns the name, or won a concurrent claim. */
        LOST,
        /** Nothing was decided: timed out, the node was fenced, stopped or closed. */
        FAILED
    }

    /** How a call through a {@linkplain GlobalNameRegistry#proxy proxy} ended, as its caller saw it. */
    enum CallOutcome {
        /** It returned (a one-way call: it was handed to the owner's inbox, or run here). */
        OK,
        /** The target threw: a declared exception, or {@link RemoteInvocationException}. */
        ERROR,
        /** The owner's call executor was full ({@link OwnerBusyException}). */
        BUSY,
        /** No reply, or no owner that could take it, within call-timeout ({@link CallTimeoutException}). */
        TIMEOUT,
        /** No node owned the name ({@link NoSuchNameException}). */
        NO_OWNER,
        /** The arguments were over max-message-size ({@link MessageTooLargeException}); nothing was sent. */
        TOO_LARGE,
        /** Anything else: the node was closed or rejoining, the result could not be read, the caller was interrupted. */
        FAILED
    }

    /**
     * A registration ended.
     *
     * @param took from the call of {@code register}/{@code registerAsync} until it was decided or failed
     * @param outcome how it ended
     */
    default void registrationFinished(Duration took, RegistrationOutcome outcome) {
    }

    /**
     * A proxied call to another node ended, or one that found no owner or could not be sent
     * ({@code equals}, {@code hashCode}, {@code toString} and default methods are not calls).
     *
     * @param took from the proxy's method call until it returned or threw (for a {@code CompletableFuture}
     *             method, until the future completed)
     * @param outcome how it ended
     */
    default void callFinished(Duration took, CallOutcome outcome) {
    }

    /**
     * A proxied call whose owner is this node ran the target directly on the caller's thread; not
     * timed (see above).
     *
     * @param outcome {@link CallOutcome#OK}, or {@link CallOutcome#ERROR} when the target threw
     */
    default void localCallFinished(CallOutcome outcome) {
    }
}
