package io.globalregistry.wire;

import io.globalregistry.membership.NodeId;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.MapperFeature;
import tools.jackson.databind.SerializationContext;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.cfg.EnumFeature;
import tools.jackson.databind.deser.std.StdDeserializer;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.module.SimpleModule;
import tools.jackson.databind.ser.std.StdSerializer;

/**
 * The strict JSON mapper of the wire format: unknown, missing or duplicate properties fail, no
 * scalar coercion, no polymorphic typing (no class name is ever read from the wire). A
 * {@link NodeId} travels as its {@code "name@incarnation"} string and a {@link ClaimId} as the
 * pair {@code [hlc, "name@incarnation"]}.
 */
public final class WireJson {

    private WireJson() {
    }

    /** A new mapper configured for the wire format. */
    public static JsonMapper newMapper() {
        SimpleModule module = new SimpleModule("global-registry-wire");
        module.addSerializer(NodeId.class, new NodeIdSerializer());
        module.addDeserializer(NodeId.class, new NodeIdDeserializer());
        module.addSerializer(ClaimId.class, new ClaimIdSerializer());
        module.addDeserializer(ClaimId.class, new ClaimIdDeserializer());
        return JsonMapper.builder()
                .addModule(module)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .enable(EnumFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
                .build();
    }

    /** Writes a node id as {@code "name@incarnation"}. */
    static final class NodeIdSerializer extends StdSerializer<NodeId> {
        NodeIdSerializer() {
            super(NodeId.class);
        }

        @Override
        public void serialize(NodeId value, JsonGenerator gen, SerializationContext ctxt) {
            gen.writeString(value.toString());
        }
    }

    /** Reads a node id from {@code "name@incarnation"}; anything else fails. */
    static final class NodeIdDeserializer extends StdDeserializer<NodeId> {
        NodeIdDeserializer() {
            super(NodeId.class);
        }

        @Override
        public NodeId deserialize(JsonParser p, DeserializationContext ctxt) {
            if (p.currentToken() != JsonToken.VALUE_STRING) {
                return ctxt.reportInputMismatch(NodeId.class, "A node id must be a string, got %s", p.currentToken());
            }
            return parseNodeId(p.getString(), ctxt);
        }
    }

    /** Writes a claim id as {@code [hlc, "name@incarnation"]}. */
    static final class ClaimIdSerializer extends StdSerializer<ClaimId> {
        ClaimIdSerializer() {
            super(ClaimId.class);
        }

        @Override
        public void serialize(ClaimId value, JsonGenerator gen, SerializationContext ctxt) {
            gen.writeStartArray();
            gen.writeNumber(value.hlc());
            gen.writeString(value.node().toString());
            gen.writeEndArray();
        }
    }

    /** Reads a claim id from exactly {@code [integer, "name@incarnation"]}. */
    static final class ClaimIdDeserializer extends StdDeserializer<ClaimId> {
        ClaimIdDeserializer() {
            super(ClaimId.class);
        }

        @Override
        public ClaimId deserialize(JsonParser p, DeserializationContext ctxt) {
            if (p.currentToken() != JsonToken.START_ARRAY
                    || p.nextToken() != JsonToken.VALUE_NUMBER_INT
                    || p.getNumberType() != JsonParser.NumberType.INT && p.getNumberType() != JsonParser.NumberType.LONG) {
                return ctxt.reportInputMismatch(ClaimId.class, "A claim id must be [hlc, \"node@incarnation\"]");
            }
            long hlc = p.getLongValue();
            if (p.nextToken() != JsonToken.VALUE_STRING) {
                return ctxt.reportInputMismatch(ClaimId.class, "A claim id must be [hlc, \"node@incarnation\"]");
            }
            NodeId node = parseNodeId(p.getString(), ctxt);
            if (p.nextToken() != JsonToken.END_ARRAY) {
                return ctxt.reportInputMismatch(ClaimId.class, "A claim id must have exactly two elements");
            }
            return new ClaimId(hlc, node);
        }
    }

    private static NodeId parseNodeId(String text, DeserializationContext ctxt) {
        try {
            return NodeId.parse(text);
        } catch (IllegalArgumentException e) {
            return ctxt.reportInputMismatch(NodeId.class, "%s", e.getMessage());
        }
    }
}
