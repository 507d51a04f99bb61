package io.globalregistry.wire;

/** Why an incoming message was dropped before it reached the protocol. */
public enum RejectReason {
    /** The body is larger than {@code max-message-size}. */
    TOO_LARGE,
    /** The {@code type} property names no message type of this protocol. */
    UNKNOWN_TYPE,
    /** The content type is not this protocol's, or names a protocol version other than the one spoken here. */
    UNSUPPORTED_VERSION,
    /** A header (sender, cluster, clock) is missing or invalid. */
    MALFORMED_ENVELOPE,
    /** The message belongs to another cluster. */
    WRONG_CLUSTER,
    /** The body is not valid JSON for its message type: unparseable, a field missing, unknown or invalid. */
    MALFORMED_BODY,
    /** A secret is configured and the message carries no signature. */
    UNSIGNED,
    /** A secret is configured and the signature matches neither it nor any previous secret. */
    BAD_SIGNATURE,
    /** A secret is configured and the message is older than the replay window, or a copy of one already received. */
    REPLAYED
}
