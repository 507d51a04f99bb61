package io.globalregistry.wire;

import io.globalregistry.membership.NodeId;
import java.util.Objects;

/**
 * A message with what travels beside it: protocol version, sender, cluster and the sender's
 * hybrid-logical-clock value when it sent it.
 */
public record Envelope(int version, NodeId sender, String cluster, long hlc, Message body) {

    /** The protocol version this code speaks. */
    public static final int PROTOCOL_VERSION = 1;

    public Envelope {
        Objects.requireNonNull(sender, "sender");
        Objects.requireNonNull(cluster, "cluster");
        Objects.requireNonNull(body, "body");
    }

    public MessageType type() {
        return body.type();
    }
}
