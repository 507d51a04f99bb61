package io.globalregistry.engine;

import io.globalregistry.Registration;
import io.globalregistry.invoke.CallNetwork;
import io.globalregistry.membership.NodeId;
import io.globalregistry.protocol.NodeRuntime;
import io.globalregistry.protocol.RegistryNode;
import io.globalregistry.protocol.Transport;
import io.globalregistry.wire.Envelope;
import io.globalregistry.wire.Message;
import io.globalregistry.wire.Message.Call;
import io.globalregistry.wire.Message.Reply;

/**
 * Calls' view of the node: the name table (read from any thread) and direct sends of calls and
 * replies. Only the clock belongs to the event loop: a message is stamped exclusively with the loop
 * ({@link NodeRuntime#runNow}, on the calling thread), then encoded and published on the calling
 * thread, so the threads running calls do not queue behind each other and the inbox consumer.
 */
final class NodeCallNetwork implements CallNetwork {

    private static final Runnable NOTHING = () -> { };

    private final RegistryNode node;
    private final NodeRuntime runtime;
    private final Transport transport;
    private final Resolver resolver;

    /** A read-through look-up: the table, then the leader (see {@link RegistryEngine#resolve}). */
    interface Resolver {
        Registration resolve(String key, boolean watch);
    }

    NodeCallNetwork(RegistryNode node, NodeRuntime runtime, Transport transport, Resolver resolver) {
        this.node = node;
        this.runtime = runtime;
        this.transport = transport;
        this.resolver = resolver;
    }

    @Override
    public Registration lookup(String key) {
        return node.lookup(key);
    }

    @Override
    public Registration resolve(String key) {
        return resolver.resolve(key, true);
    }

    @Override
    public void send(NodeId owner, Call call, Runnable onReturned) {
        Envelope envelope = stamp(call);
        if (envelope != null) {
            transport.send(owner, envelope, onReturned);
        }
    }

    @Override
    public void reply(NodeId caller, Reply reply) {
        Envelope envelope = stamp(reply);
        if (envelope != null) {
            transport.send(caller, envelope, NOTHING);
        }
    }

    /** {@code message} stamped with a fresh clock value, or null if the loop is closed. */
    private Envelope stamp(Message message) {
        long[] hlc = {-1};
        runtime.runNow(() -> hlc[0] = node.clock().tick());
        if (hlc[0] < 0) {
            return null;
        }
        return new Envelope(Envelope.PROTOCOL_VERSION, node.self(), node.config().cluster(), hlc[0], message);
    }

    @Override
    public boolean leaseValid() {
        return node.leaseValidWaiting();
    }

    @Override
    public boolean leaseHeld() {
        return node.leaseHeld();
    }

    @Override
    public void notOwner(String key, NodeId member) {
        runtime.runNow(() -> node.forgetCached(key, member));
    }

    @Override
    public void suspect(NodeId member) {
        runtime.execute(() -> {
            if (!node.isStopped()) {
                node.checkAlive(member, alive -> { });
            }
        });
    }
}
