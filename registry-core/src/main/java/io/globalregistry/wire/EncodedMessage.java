package io.globalregistry.wire;

import java.util.Map;
import java.util.Objects;

/**
 * A message as it travels, independent of AMQP: the {@code type} and {@code contentType}
 * properties, the application headers and the body bytes. Built by {@link WireCodec#encode} and
 * read back by {@link WireCodec#decode}; the transport maps it to and from its own message type.
 *
 * @param type the message type's wire name (AMQP {@code type} property), may be null on receipt
 * @param contentType the content type with the protocol version, may be null on receipt
 * @param headers the application headers, never null (empty when there are none)
 * @param body the JSON body
 */
public record EncodedMessage(String type, String contentType, Map<String, Object> headers, byte[] body) {

    public EncodedMessage {
        headers = headers == null ? Map.of() : headers;
        Objects.requireNonNull(body, "body");
    }
}
