package io.globalregistry.wire;

import io.globalregistry.membership.NodeId;
import java.util.List;
import java.util.Objects;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.NullNode;

/**
 * The registry's messages, one record per {@link MessageType}. Names travel as their canonical
 * JSON text. The sender, cluster and clock of a message are in its {@link Envelope}, not here.
 */
public sealed interface Message {

    /** The type that goes in the AMQP {@code type} property. */
    MessageType type();

    /** The wire name of the claim strategy, which a message without a strategy means. */
    String CLAIM_STRATEGY = "claim";

    /**
     * Broadcast every heartbeat interval; carries a digest of the names the sender owns, the
     * sender's registration strategy ({@code claim} or {@code leader}; null means {@code claim}) and,
     * if the sender is the leader, its leader epoch (else 0); and its crash grace in milliseconds: 0 when
     * it does not gate its acts on pings answered by the broker, so a report that its connection closed
     * certifies nothing; else how long after such a report it may be certified dead. Under LEASE, {@code lease}: how
     * long, from its send time, this heartbeat keeps its sender's incarnation (rule 8: idle nodes announce a longer one
     * than busy ones); 0 when not said, read as the longest a node of the cluster may announce.
     */
    record Heartbeat(int owned, long digest, String strategy, long leaderEpoch, long crashGrace, long lease)
            implements Message {
        public Heartbeat {
            strategy = strategy == null ? CLAIM_STRATEGY : strategy;
            crashGrace = Math.max(0, crashGrace);
            lease = Math.max(0, lease);
        }

        /** A heartbeat that announces no lease of its own (0: the cluster's longest, for whoever certifies by it). */
        public Heartbeat(int owned, long digest, String strategy, long leaderEpoch, long crashGrace) {
            this(owned, digest, strategy, leaderEpoch, crashGrace, 0);
        }

        /** A claim-strategy heartbeat. */
        public Heartbeat(int owned, long digest) {
            this(owned, digest, CLAIM_STRATEGY, 0, 0);
        }

        /** A heartbeat without crash detection. */
        public Heartbeat(int owned, long digest, String strategy, long leaderEpoch) {
            this(owned, digest, strategy, leaderEpoch, 0);
        }

        public MessageType type() {
            return MessageType.HEARTBEAT;
        }
    }

    /**
     * Broadcast once by a joining node, with its registration strategy (null means {@code claim}):
     * under {@code claim} every member answers with a {@link Sync}, under {@code leader} the leader
     * answers with {@link Leader}.
     */
    record Hello(String strategy) implements Message {
        public Hello {
            strategy = strategy == null ? CLAIM_STRATEGY : strategy;
        }

        /** A claim-strategy hello. */
        public Hello() {
            this(CLAIM_STRATEGY);
        }

        public MessageType type() {
            return MessageType.HELLO;
        }
    }

    /** Sent to one member whose heartbeat digest disagrees with our table: answer with a {@link Sync}. */
    record SyncRequest() implements Message {
        public MessageType type() {
            return MessageType.SYNC_REQUEST;
        }
    }

    /**
     * Part {@code part} of {@code parts} of the complete list of names the sender owns, as of the
     * clock value {@code asOf}. Under the {@code leader} strategy {@code pending} lists the names the
     * sender has asked the leader for and may still accept (the leader must not forget a grant of
     * one of them because the sync does not list it as owned), and {@code members} the sender's view
     * of the cluster (a new leader also waits for the members it did not know), and
     * {@code leaderEpoch} the newest leader epoch the sender knows (a new leader with an older epoch
     * takes a newer one); otherwise they are empty and 0.
     */
    record Sync(long asOf, int part, int parts, List<OwnedName> names, List<String> pending, List<NodeId> members,
                long leaderEpoch) implements Message {
        public Sync {
            Objects.requireNonNull(names, "names");
            if (parts < 1 || part < 0 || part >= parts) {
                throw new IllegalArgumentException("part " + part + " of " + parts);
            }
            names = List.copyOf(names);
            pending = pending == null ? List.of() : List.copyOf(pending);
            members = members == null ? List.of() : List.copyOf(members);
        }

        /** A sync of the claim strategy: names only. */
        public Sync(long asOf, int part, int parts, List<OwnedName> names) {
            this(asOf, part, parts, names, List.of(), List.of(), 0);
        }

        public MessageType type() {
            return MessageType.SYNC;
        }
    }

    /** One owned name and its fencing token. */
    record OwnedName(String name, long token) {
        public OwnedName {
            Objects.requireNonNull(name, "name");
        }
    }

    /** Broadcast by a node that wants to own {@code name}. */
    record Claim(String name, ClaimId claim) implements Message {
        public Claim {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(claim, "claim");
        }

        public MessageType type() {
            return MessageType.CLAIM;
        }
    }

    /** The answers to a claim. */
    enum Answer {
        /** The responder has granted the claim (binding until advertised, released or expired). */
        NONE,
        /** The responder owns the name. */
        LOCAL,
        /** The responder knows another owner. */
        REMOTE,
        /** The responder holds another claim, {@code blocker}, pending or granted. */
        PENDING
    }

    /**
     * A responder's answer to {@code claim}, sent to the claimant's inbox. {@code owner} and
     * {@code token} are set for LOCAL and REMOTE, {@code blocker} for PENDING; {@code members} is
     * the responder's view of the cluster, so the claimant also waits for members it did not know.
     */
    record ClaimReply(String name, ClaimId claim, Answer answer, NodeId owner, long token, ClaimId blocker,
                      List<NodeId> members) implements Message {
        public ClaimReply {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(claim, "claim");
            Objects.requireNonNull(answer, "answer");
            members = members == null ? List.of() : List.copyOf(members);
            if ((answer == Answer.LOCAL || answer == Answer.REMOTE) && owner == null) {
                throw new IllegalArgumentException("answer " + answer + " needs an owner");
            }
            if (answer == Answer.PENDING && blocker == null) {
                throw new IllegalArgumentException("answer PENDING needs a blocker");
            }
        }

        public MessageType type() {
            return MessageType.CLAIM_REPLY;
        }
    }

    /** Broadcast by the owner of {@code name}: it owns it with fencing token {@code token}. */
    record Advertise(String name, long token) implements Message {
        public Advertise {
            Objects.requireNonNull(name, "name");
        }

        public MessageType type() {
            return MessageType.ADVERTISE;
        }
    }

    /** Broadcast by a claimant that lost: release the grants given to {@code claim}. */
    record Release(String name, ClaimId claim) implements Message {
        public Release {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(claim, "claim");
        }

        public MessageType type() {
            return MessageType.RELEASE;
        }
    }

    /** Broadcast by the owner of {@code name}: it no longer owns it. */
    record Unregister(String name, long token) implements Message {
        public Unregister {
            Objects.requireNonNull(name, "name");
        }

        public MessageType type() {
            return MessageType.UNREGISTER;
        }
    }

    /** Broadcast by a node that stops gracefully, after it unregistered its names. */
    record Bye() implements Message {
        public MessageType type() {
            return MessageType.BYE;
        }
    }

    /**
     * Liveness {@code lease}: a reader of the lease logs certified {@code node} dead by them (docs/PROTOCOL.md,
     * "Liveness", rule 3); nodes that do not read the logs take its word.
     */
    record Down(NodeId node) implements Message {
        public Down {
            Objects.requireNonNull(node, "node");
        }

        public MessageType type() {
            return MessageType.DOWN;
        }
    }

    /**
     * Liveness {@code lease}: what a reader of the lease logs read there, broadcast every suspect-after for the
     * nodes that do not read them: each member's newest heartbeat (the sender's own included), every member it
     * knows ({@code known}: those it watches, read yet or not), and the nodes it certified dead by the logs lately
     * ({@code down} again, in case one was lost).
     */
    record Summary(List<Entry> members, List<NodeId> known, List<NodeId> dead) implements Message {
        public Summary {
            members = members == null ? List.of() : List.copyOf(members);
            known = known == null ? List.of() : List.copyOf(known);
            dead = dead == null ? List.of() : List.copyOf(dead);
        }

        /** One member's newest heartbeat, as read from the lease logs. */
        public record Entry(NodeId node, int owned, long digest, String strategy, long leaderEpoch, long crashGrace,
                            long lease) {
            public Entry {
                Objects.requireNonNull(node, "node");
                strategy = strategy == null ? CLAIM_STRATEGY : strategy;
            }

            /** The heartbeat this entry reports. */
            public Heartbeat heartbeat() {
                return new Heartbeat(owned, digest, strategy, leaderEpoch, crashGrace, lease);
            }
        }

        public MessageType type() {
            return MessageType.SUMMARY;
        }
    }

    /**
     * Strategy {@code leader}: the sender holds the leader queue since {@code epoch}. Broadcast
     * when it is elected, and sent again to a member whose names it still waits for: every member
     * answers with a {@link Sync} of the names it owns, and from then on accepts decisions only
     * from this leader.
     */
    record Leader(long epoch) implements Message {
        public MessageType type() {
            return MessageType.LEADER;
        }
    }

    /**
     * Strategy {@code leader}: sent to the leader queue. {@code register}: the sender asks to own
     * {@code name}; else it asks who owns it, and with {@code watch} also to be told when an owner
     * appears. {@code id} correlates the {@link Resolved}.
     */
    record Resolve(String name, long id, boolean register, boolean watch) implements Message {
        public Resolve {
            Objects.requireNonNull(name, "name");
        }

        public MessageType type() {
            return MessageType.RESOLVE;
        }
    }

    /**
     * Strategy {@code leader}: the leader of {@code epoch} answers {@link Resolve} {@code id} (0
     * when it tells a watcher unasked): {@code owner} owns {@code name} with {@code token}, or nobody
     * does ({@code owner} null). A registration was granted when {@code owner} is its sender.
     */
    record Resolved(String name, long id, NodeId owner, long token, long epoch) implements Message {
        public Resolved {
            Objects.requireNonNull(name, "name");
        }

        public MessageType type() {
            return MessageType.RESOLVED;
        }
    }

    /**
     * Strategy {@code leader}: sent by the leader to one of two owners of {@code name} it found
     * while rebuilding its table: the receiver's registration with {@code token} lost to the other.
     */
    record Revoke(String name, long token) implements Message {
        public Revoke {
            Objects.requireNonNull(name, "name");
        }

        public MessageType type() {
            return MessageType.REVOKE;
        }
    }

    /** A one-way message for whatever is registered under {@code name}, sent to its owner's inbox. */
    record Deliver(String name, JsonNode payload) implements Message {
        public Deliver {
            Objects.requireNonNull(name, "name");
        }

        public MessageType type() {
            return MessageType.DELIVER;
        }
    }

    /** The longest method name and parameter type name a {@link Call} may carry, in characters. */
    int MAX_MEMBER_NAME = 512;
    /** The most parameters a {@link Call} may carry (the JVM's own limit). */
    int MAX_PARAMETERS = 255;

    /**
     * A call of {@code method} on whatever is registered under {@code name}, sent to its owner's
     * inbox. {@code params} are the canonical names of the parameter types the caller's interface
     * declares (only compared with the target's own methods, never loaded); {@code args} is a JSON
     * array with one element per parameter. {@code id} correlates the {@link Reply}; a
     * {@code oneWay} call gets none.
     */
    record Call(String name, long id, String method, List<String> params, JsonNode args, boolean oneWay)
            implements Message {
        public Call {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(method, "method");
            Objects.requireNonNull(params, "params");
            Objects.requireNonNull(args, "args");
            if (method.isEmpty() || method.length() > MAX_MEMBER_NAME) {
                throw new IllegalArgumentException("a method name of " + method.length() + " characters");
            }
            params = List.copyOf(params);
            if (params.size() > MAX_PARAMETERS) {
                throw new IllegalArgumentException(params.size() + " parameters");
            }
            for (String param : params) {
                if (param.isEmpty() || param.length() > MAX_MEMBER_NAME) {
                    throw new IllegalArgumentException("a parameter type name of " + param.length() + " characters");
                }
            }
            if (!args.isArray() || args.size() != params.size()) {
                throw new IllegalArgumentException("args must be a JSON array of " + params.size() + " elements");
            }
        }

        public MessageType type() {
            return MessageType.CALL;
        }
    }

    /** How a {@link Call} ended on the owner. */
    enum Outcome {
        /** The target returned {@code result}. */
        OK,
        /** The target threw: {@code errorTypes} (its class, then its superclasses) and {@code error} (its message). */
        FAILED,
        /** The owner could not invoke the target (no such method, bad arguments, result without JSON form or too large). */
        INVALID,
        /** The owner's call executor was full: the call did not run. */
        BUSY,
        /** The name is not registered on the receiving node (any more): the call did not run. */
        NOT_OWNER
    }

    /**
     * The owner's answer to the {@link Call} with correlation id {@code id}, sent to the caller's
     * inbox. {@code result} is JSON {@code null} unless OK; {@code errorTypes} and {@code error} are
     * set for FAILED and INVALID.
     */
    record Reply(long id, Outcome outcome, JsonNode result, List<String> errorTypes, String error) implements Message {
        public Reply {
            Objects.requireNonNull(outcome, "outcome");
            result = result == null ? NullNode.getInstance() : result;
            errorTypes = errorTypes == null ? List.of() : List.copyOf(errorTypes);
        }

        public MessageType type() {
            return MessageType.REPLY;
        }
    }
}
