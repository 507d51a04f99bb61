package io.globalregistry.invoke;

import io.globalregistry.RemoteInvocationException;
import io.globalregistry.membership.NodeId;
import java.lang.reflect.Constructor;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;

/**
 * Exceptions across the wire. On the owner: the class names of a thrown exception (its class, then
 * its superclasses) and its message. On the caller: the exception to throw, rebuilt as the most
 * specific type the called method declares among those names (with a {@code (String)} or no-arg
 * constructor), else a {@link RemoteInvocationException}. Only the declared types are instantiated;
 * no class is ever loaded by a name from the wire.
 */
final class RemoteErrors {

    private static final int MAX_TYPES = 16;
    private static final int MAX_MESSAGE = 4096;

    private RemoteErrors() {
    }

    /** The class names of {@code error}: its class first, then its superclasses up to {@link Throwable}. */
    static List<String> typesOf(Throwable error) {
        List<String> names = new ArrayList<>();
        for (Class<?> c = error.getClass(); c != null && c != Object.class && names.size() < MAX_TYPES;
             c = c.getSuperclass()) {
            names.add(c.getName());
        }
        return names;
    }

    /** The message of {@code error}, clipped. */
    static String messageOf(Throwable error) {
        String message = error.getMessage();
        if (message == null || message.length() <= MAX_MESSAGE) {
            return message;
        }
        return message.substring(0, MAX_MESSAGE) + "...";
    }

    /**
     * The exception a caller of {@code plan} sees for an exception of {@code types} with
     * {@code message} thrown by the target of {@code key} on {@code owner}.
     */
    static Throwable rebuild(MethodPlan plan, String key, NodeId owner, List<String> types, String message) {
        String remoteClass = types.isEmpty() ? "unknown" : types.get(0);
        RemoteInvocationException remote = new RemoteInvocationException(key, plan.display, owner, remoteClass, message);
        for (String name : types) {
            for (Class<?> declared : plan.declaredExceptions) {
                if (declared.getName().equals(name)) {
                    Throwable rebuilt = instantiate(declared, message);
                    if (rebuilt != null) {
                        try {
                            rebuilt.initCause(remote);
                        } catch (IllegalStateException | IllegalArgumentException e) {
                            rebuilt.addSuppressed(remote);
                        }
                        return rebuilt;
                    }
                }
            }
        }
        return remote;
    }

    private static Throwable instantiate(Class<?> type, String message) {
        if (!Throwable.class.isAssignableFrom(type) || Modifier.isAbstract(type.getModifiers())) {
            return null;
        }
        try {
            Constructor<?> withMessage = type.getDeclaredConstructor(String.class);
            withMessage.trySetAccessible();
            return (Throwable) withMessage.newInstance(message);
        } catch (ReflectiveOperationException | RuntimeException e) {
            // try the no-arg constructor
        }
        try {
            Constructor<?> plain = type.getDeclaredConstructor();
            plain.trySetAccessible();
            return (Throwable) plain.newInstance();
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
