package io.globalregistry;

import io.globalregistry.membership.NodeId;
import java.util.Optional;

/**
 * The outcome of a registration.
 *
 * @param registered true when this node now owns the name
 * @param owner this node when registered; otherwise the owner if known (it may be unknown when
 *              the name lost to a concurrent claim that is not decided yet)
 */
public record RegistrationResult(boolean registered, NodeId owner) {

    /** The owner, when known. */
    public Optional<NodeId> knownOwner() {
        return Optional.ofNullable(owner);
    }
}
