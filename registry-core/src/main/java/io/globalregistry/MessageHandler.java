package io.globalregistry;

/**
 * A registered target that accepts messages sent with {@link GlobalNameRegistry#send}. A message
 * from another node arrives as JSON and is converted to {@code T}, the type argument this class
 * declares (a lambda declares none: it then receives a {@code tools.jackson.databind.JsonNode}).
 * Runs on a registry handler thread, never on the protocol's event loop.
 *
 * @param <T> the message type
 */
@FunctionalInterface
public interface MessageHandler<T> {

    /** Handles one message. An exception is logged and counted; it does not reach the sender. */
    void onMessage(T message);
}
