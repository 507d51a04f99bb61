package io.globalregistry.engine;

import io.globalregistry.DeliveryStats;
import io.globalregistry.DeliveryStats.Outcome;
import io.globalregistry.MessageHandler;
import io.globalregistry.NoSuchNameException;
import io.globalregistry.Registration;
import io.globalregistry.name.NameCodec;
import io.globalregistry.protocol.NodeRuntime;
import io.globalregistry.protocol.RegistryNode;
import io.globalregistry.wire.Message.Deliver;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * One-way messages to names: {@link #send} on the sending node (local owner: straight to the
 * target; remote owner: a {@link Deliver} to its inbox) and {@link #onDeliver} on the owning node.
 * Handlers run on their own executor, never on the event loop; a message that cannot be delivered
 * is dropped and counted in {@link DeliveryStats}, never thrown on the loop.
 */
final class Deliveries {

    private static final Logger LOG = LoggerFactory.getLogger(Deliveries.class);
    private static final long WARN_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** Room left in a message for everything but the payload: name, field names, quoting. */
    private static final int ENVELOPE_ALLOWANCE = 2 * NameCodec.MAX_KEY_LENGTH + 256;

    private final NameCodec names;
    private final RegistryNode node;
    private final NodeCallNetwork.Resolver resolver;
    private final NodeRuntime runtime;
    private final ObjectMapper mapper;
    private final HandlerTypes handlerTypes;
    private final Executor handlers;
    private final int maxMessageSize;
    private final DeliveryStats stats;
    private final AtomicLong lastWarning = new AtomicLong(System.nanoTime() - WARN_INTERVAL_NANOS);

    /** @param stats where what became of each message is counted */
    Deliveries(NameCodec names, RegistryNode node, NodeCallNetwork.Resolver resolver, NodeRuntime runtime,
               ObjectMapper mapper, Executor handlers, int maxMessageSize, DeliveryStats stats) {
        this.names = names;
        this.node = node;
        this.resolver = resolver;
        this.runtime = runtime;
        this.mapper = mapper;
        this.handlerTypes = new HandlerTypes(mapper.getTypeFactory());
        this.handlers = handlers;
        this.maxMessageSize = maxMessageSize;
        this.stats = stats;
    }

    DeliveryStats stats() {
        return stats;
    }

    /** API side, any thread. */
    void send(Object name, Object message) {
        String key = names.canonicalKey(name);
        if (message == null) {
            throw new IllegalArgumentException("The message sent to " + key + " must not be null");
        }
        Registration owner = resolver.resolve(key, false);
        if (owner == null) {
            throw new NoSuchNameException(key);
        }
        if (owner.isLocal()) {
            deliverObject(owner.target(), key, message);
            return;
        }
        JsonNode payload = toJson(key, message);
        runtime.execute(() -> sendOnLoop(key, payload));
    }

    /** On the loop: the owner may have changed since the caller looked. */
    private void sendOnLoop(String key, JsonNode payload) {
        Registration owner = node.lookup(key);
        if (owner == null) {
            drop(Outcome.NO_OWNER, key, "it had no owner any more when the message was about to leave", null);
        } else if (owner.isLocal()) {
            dispatch(() -> deliverJson(owner.target(), key, payload));
        } else {
            node.send(owner.owner(), new Deliver(key, payload),
                    () -> drop(Outcome.RETURNED, key, "the inbox of its owner " + owner.owner() + " is gone", null));
        }
    }

    /** Owner side, on the loop: a {@link Deliver} for a name owned here. */
    void onDeliver(Registration registration, Deliver deliver) {
        dispatch(() -> deliverJson(registration.target(), deliver.name(), deliver.payload()));
    }

    private JsonNode toJson(String key, Object message) {
        byte[] json;
        try {
            json = mapper.writeValueAsBytes(message);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("Cannot send a " + message.getClass().getName() + " to " + key
                    + ": it has no JSON form (" + e.getOriginalMessage() + ")", e);
        }
        if (json.length + ENVELOPE_ALLOWANCE > maxMessageSize) {
            throw new IllegalArgumentException("Cannot send a " + message.getClass().getName() + " to " + key + ": its JSON has "
                    + json.length + " bytes, over max-message-size " + maxMessageSize + " less " + ENVELOPE_ALLOWANCE
                    + " bytes for the envelope");
        }
        return mapper.readTree(json);
    }

    /** A local send: the object itself when the handler takes its type, else converted as if it had travelled. */
    private void deliverObject(Object target, String key, Object message) {
        MessageHandler<Object> handler = handler(target, key);
        if (handler == null) {
            return;
        }
        JavaType type = handlerTypes.messageType(target.getClass());
        Object converted;
        if (type.getRawClass().isInstance(message)) {
            converted = message;
        } else {
            try {
                converted = mapper.convertValue(message, type);
            } catch (JacksonException | IllegalArgumentException e) {
                drop(Outcome.UNCONVERTIBLE, key, "a " + message.getClass().getName() + " is not a " + type, e);
                return;
            }
        }
        dispatch(() -> invoke(handler, key, converted));
    }

    /** On a handler thread: converts the JSON payload to the handler's type and calls it. */
    private void deliverJson(Object target, String key, JsonNode payload) {
        MessageHandler<Object> handler = handler(target, key);
        if (handler == null) {
            return;
        }
        JavaType type = handlerTypes.messageType(target.getClass());
        Object message;
        if (type.getRawClass().isInstance(payload)) {
            message = payload;
        } else {
            try {
                message = mapper.treeToValue(payload, type);
            } catch (JacksonException | IllegalArgumentException e) {
                drop(Outcome.UNCONVERTIBLE, key, "the payload is not a " + type, e);
                return;
            }
        }
        invoke(handler, key, message);
    }

    @SuppressWarnings("unchecked")
    private MessageHandler<Object> handler(Object target, String key) {
        if (target instanceof MessageHandler) {
            return (MessageHandler<Object>) target;
        }
        drop(Outcome.NOT_A_HANDLER, key, "its target, a " + (target == null ? "null" : target.getClass().getName())
                + ", does not implement MessageHandler", null);
        return null;
    }

    private void invoke(MessageHandler<Object> handler, String key, Object message) {
        try {
            handler.onMessage(message);
            stats.record(Outcome.DELIVERED);
        } catch (RuntimeException e) {
            drop(Outcome.HANDLER_FAILED, key, "its handler threw", e);
        }
    }

    private void dispatch(Runnable delivery) {
        try {
            handlers.execute(delivery);
        } catch (RejectedExecutionException e) {
            LOG.debug("Registry closed; a delivery was dropped");
        }
    }

    /** Counts a dropped message; logs it at WARN at most once per 10 s (with the stack trace only if a handler threw). */
    private void drop(Outcome outcome, String key, String why, Exception cause) {
        stats.record(outcome);
        String detail = cause == null ? why : why + " (" + cause.getMessage() + ")";
        long now = System.nanoTime();
        long last = lastWarning.get();
        if (now - last >= WARN_INTERVAL_NANOS && lastWarning.compareAndSet(last, now)) {
            LOG.warn("Dropped a message sent to {} ({}): {} [at most one such line per 10 s; counts: {}]",
                    key, outcome, detail, stats, outcome == Outcome.HANDLER_FAILED ? cause : null);
        } else {
            LOG.debug("Dropped a message sent to {} ({}): {}", key, outcome, detail);
        }
    }
}
