package io.globalregistry.invoke;

import io.globalregistry.MessageTooLargeException;
import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.lang.reflect.Type;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.NullNode;
import tools.jackson.databind.type.TypeBindings;
import tools.jackson.databind.type.TypeFactory;

/**
 * Converts call arguments and results to JSON and back with the payload mapper: each value is
 * written as what it is, and read as the type the receiving side declares ({@link JavaType}, so
 * {@code List<Item>} comes back as a list of {@code Item}). No type information travels, so no
 * class is ever chosen by the sender. Checks sizes against {@code max-message-size}.
 */
final class CallJson {

    private static final Object[] NO_ARGS = {};
    /** Room left in a reply for everything but the result. */
    static final int REPLY_ALLOWANCE = 512;

    private final ObjectMapper mapper;
    private final int maxMessageSize;

    CallJson(ObjectMapper mapper, int maxMessageSize) {
        this.mapper = mapper;
        this.maxMessageSize = maxMessageSize;
    }

    TypeFactory types() {
        return mapper.getTypeFactory();
    }

    /**
     * The arguments of a call as a JSON array.
     *
     * @throws MessageTooLargeException if they would not fit in a message
     * @throws IllegalArgumentException if one has no JSON form
     */
    JsonNode arguments(String key, MethodPlan plan, Object[] args) {
        Object[] values = args == null ? NO_ARGS : args;
        byte[] json;
        try {
            json = mapper.writeValueAsBytes(values);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("Cannot call " + plan.display + " on " + key
                    + ": an argument has no JSON form (" + e.getOriginalMessage() + ")", e);
        }
        int limit = maxMessageSize - plan.envelopeAllowance - 2 * key.length();
        if (json.length > limit) {
            throw new MessageTooLargeException(key, plan.display, json.length, limit);
        }
        return mapper.readTree(json);
    }

    /**
     * Reads a call's JSON arguments as {@code types}.
     *
     * @throws IllegalArgumentException if one cannot be read as its type
     */
    Object[] readArguments(JsonNode args, JavaType[] types) {
        if (args.size() != types.length) {
            throw new IllegalArgumentException(args.size() + " arguments for " + types.length + " parameters");
        }
        Object[] values = new Object[types.length];
        for (int i = 0; i < types.length; i++) {
            try {
                values[i] = read(args.get(i), types[i]);
            } catch (JacksonException e) {
                throw new IllegalArgumentException("argument " + i + " is not a " + types[i] + ": "
                        + e.getOriginalMessage(), e);
            }
        }
        return values;
    }

    /**
     * A result as JSON.
     *
     * @throws IllegalArgumentException if it has no JSON form or would not fit in a reply
     */
    JsonNode result(Object value) {
        if (value == null) {
            return NullNode.getInstance();
        }
        byte[] json;
        try {
            json = mapper.writeValueAsBytes(value);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("the result, a " + value.getClass().getName() + ", has no JSON form ("
                    + e.getOriginalMessage() + ")", e);
        }
        int limit = maxMessageSize - REPLY_ALLOWANCE;
        if (json.length > limit) {
            throw new IllegalArgumentException("the result takes " + json.length + " bytes as JSON, over the " + limit
                    + " bytes a reply may carry (max-message-size less the envelope)");
        }
        return mapper.readTree(json);
    }

    /**
     * Reads a JSON result as {@code type} (null for void).
     *
     * @throws JacksonException if it cannot be
     */
    Object readResult(JsonNode result, JavaType type) {
        if (type == null) {
            return null;
        }
        return read(result, type);
    }

    private Object read(JsonNode node, JavaType type) {
        if (node == null || node.isNull()) {
            return type.isPrimitive() ? Array.get(Array.newInstance(type.getRawClass(), 1), 0) : null;
        }
        return mapper.treeToValue(node, type);
    }

    /** The generic parameter types of {@code method} as seen from {@code owner}, a class or interface that has it. */
    JavaType[] parameterTypes(Class<?> owner, Method method) {
        TypeBindings bindings = bindings(owner, method);
        Type[] generic = method.getGenericParameterTypes();
        JavaType[] out = new JavaType[generic.length];
        for (int i = 0; i < generic.length; i++) {
            out[i] = types().resolveMemberType(generic[i], bindings);
        }
        return out;
    }

    private TypeBindings bindings(Class<?> owner, Method method) {
        JavaType declaring = types().constructType(owner).findSuperType(method.getDeclaringClass());
        return declaring == null ? TypeBindings.emptyBindings() : declaring.getBindings();
    }
}
