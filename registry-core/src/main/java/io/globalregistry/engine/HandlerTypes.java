package io.globalregistry.engine;

import io.globalregistry.MessageHandler;
import java.util.concurrent.ConcurrentHashMap;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.type.TypeFactory;

/**
 * Finds the message type {@code T} a target's class declares for {@link MessageHandler MessageHandler<T>},
 * following superclasses and generic interfaces; {@link JsonNode} when it declares none (a lambda,
 * a raw type or an unresolved type variable). Cached per class.
 */
final class HandlerTypes {

    private final TypeFactory types;
    private final JavaType jsonNode;
    private final ConcurrentHashMap<Class<?>, JavaType> cache = new ConcurrentHashMap<>();

    HandlerTypes(TypeFactory types) {
        this.types = types;
        this.jsonNode = types.constructType(JsonNode.class);
    }

    JavaType messageType(Class<?> handlerClass) {
        return cache.computeIfAbsent(handlerClass, this::resolve);
    }

    private JavaType resolve(Class<?> handlerClass) {
        JavaType[] parameters = types.constructType(handlerClass).findTypeParameters(MessageHandler.class);
        if (parameters == null || parameters.length != 1 || parameters[0] == null || parameters[0].isJavaLangObject()) {
            return jsonNode;
        }
        return parameters[0];
    }
}
