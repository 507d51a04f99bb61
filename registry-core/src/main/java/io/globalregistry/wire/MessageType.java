package io.globalregistry.wire;

import io.globalregistry.wire.Message.Advertise;
import io.globalregistry.wire.Message.Bye;
import io.globalregistry.wire.Message.Call;
import io.globalregistry.wire.Message.Claim;
import io.globalregistry.wire.Message.ClaimReply;
import io.globalregistry.wire.Message.Deliver;
import io.globalregistry.wire.Message.Down;
import io.globalregistry.wire.Message.Heartbeat;
import io.globalregistry.wire.Message.Hello;
import io.globalregistry.wire.Message.Leader;
import io.globalregistry.wire.Message.Release;
import io.globalregistry.wire.Message.Reply;
import io.globalregistry.wire.Message.Resolve;
import io.globalregistry.wire.Message.Resolved;
import io.globalregistry.wire.Message.Revoke;
import io.globalregistry.wire.Message.Summary;
import io.globalregistry.wire.Message.Sync;
import io.globalregistry.wire.Message.SyncRequest;
import io.globalregistry.wire.Message.Unregister;
import java.util.Optional;

/** Every message type, with its wire name (the AMQP {@code type} property) and body class. */
public enum MessageType {
    HEARTBEAT("heartbeat", Heartbeat.class),
    HELLO("hello", Hello.class),
    SYNC_REQUEST("sync-request", SyncRequest.class),
    SYNC("sync", Sync.class),
    CLAIM("claim", Claim.class),
    CLAIM_REPLY("claim-reply", ClaimReply.class),
    ADVERTISE("advertise", Advertise.class),
    RELEASE("release", Release.class),
    UNREGISTER("unregister", Unregister.class),
    BYE("bye", Bye.class),
    DELIVER("deliver", Deliver.class),
    CALL("call", Call.class),
    REPLY("reply", Reply.class),
    LEADER("leader", Leader.class),
    RESOLVE("resolve", Resolve.class),
    RESOLVED("resolved", Resolved.class),
    REVOKE("revoke", Revoke.class),
    DOWN("down", Down.class),
    SUMMARY("summary", Summary.class);

    private final String wireName;
    private final Class<? extends Message> bodyType;

    MessageType(String wireName, Class<? extends Message> bodyType) {
        this.wireName = wireName;
        this.bodyType = bodyType;
    }

    public String wireName() {
        return wireName;
    }

    public Class<? extends Message> bodyType() {
        return bodyType;
    }

    /** The type with this wire name, if any. */
    public static Optional<MessageType> fromWireName(String name) {
        for (MessageType type : values()) {
            if (type.wireName.equals(name)) {
                return Optional.of(type);
            }
        }
        return Optional.empty();
    }
}
