package io.globalregistry.invoke;

import io.globalregistry.Idempotent;
import io.globalregistry.OneWay;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.type.TypeBindings;
import tools.jackson.databind.type.TypeFactory;

/**
 * How a proxy handles one method of its interface, worked out once when the proxy is made: run
 * locally ({@code Object} and default methods) or call the owner, with the method's identity on
 * the wire (name and parameter type names), its result type as declared (generics resolved against
 * the proxied interface, a {@code CompletableFuture<T>} unwrapped to {@code T}), and its marks.
 */
final class MethodPlan {

    /** Where a call of the method runs. */
    enum Kind {
        /** {@code equals}, {@code hashCode}, {@code toString}: on the proxy itself. */
        OBJECT,
        /** A default method: its own body, on the proxy. */
        DEFAULT,
        /** On the name's owner. */
        CALL
    }

    final Method method;
    final Kind kind;
    /** {@code Interface.method}, for messages. */
    final String display;
    final List<String> params;
    /** The type the result is read as: the declared return type, a future's value type; null for void. */
    final JavaType resultType;
    final boolean async;
    final boolean oneWay;
    final boolean idempotent;
    final Class<?>[] declaredExceptions;
    /** Room to leave in a message for everything but the arguments. */
    final int envelopeAllowance;
    /** For a default method of a non-public interface: its body, taking the proxy then the arguments. */
    private final MethodHandle defaultBody;

    private MethodPlan(Method method, Kind kind, List<String> params, JavaType resultType, boolean async,
                       boolean oneWay, boolean idempotent) {
        this.method = method;
        this.kind = kind;
        this.display = method.getDeclaringClass().getSimpleName() + "." + method.getName();
        this.params = params;
        this.resultType = resultType;
        this.async = async;
        this.oneWay = oneWay;
        this.idempotent = idempotent;
        this.declaredExceptions = method.getExceptionTypes();
        int chars = method.getName().length();
        for (String param : params) {
            chars += param.length() + 3;
        }
        this.envelopeAllowance = 2 * chars + 512;
        this.defaultBody = kind == Kind.DEFAULT && !isPublic(method.getDeclaringClass()) ? special(method) : null;
    }

    /**
     * Runs the body of a default method on {@code proxy}: {@link InvocationHandler#invokeDefault}
     * when its interface is public, else through a private lookup (a non-public interface is not
     * accessible from this package).
     */
    Object invokeDefault(Object proxy, Object[] args) throws Throwable {
        if (defaultBody == null) {
            return InvocationHandler.invokeDefault(proxy, method, args);
        }
        Object[] all = new Object[(args == null ? 0 : args.length) + 1];
        all[0] = proxy;
        if (args != null) {
            System.arraycopy(args, 0, all, 1, args.length);
        }
        return defaultBody.invokeWithArguments(all);
    }

    private static MethodHandle special(Method method) {
        Class<?> declaring = method.getDeclaringClass();
        try {
            return MethodHandles.privateLookupIn(declaring, MethodHandles.lookup()).unreflectSpecial(method, declaring);
        } catch (IllegalAccessException e) {
            throw new IllegalArgumentException("Cannot run the default method " + declaring.getName() + "."
                    + method.getName() + " of a proxy: its interface is not public and its package is not open to"
                    + " io.globalregistry (" + e.getMessage() + ")", e);
        }
    }

    static boolean isPublic(Class<?> type) {
        for (Class<?> c = type; c != null; c = c.getEnclosingClass()) {
            if (!Modifier.isPublic(c.getModifiers())) {
                return false;
            }
        }
        return true;
    }

    /**
     * The plan of {@code method}, a method of the proxied interface {@code type}.
     *
     * @throws IllegalArgumentException if the method misuses {@link OneWay}
     */
    static MethodPlan of(Class<?> type, Method method, TypeFactory types) {
        if (method.getDeclaringClass() == Object.class) {
            return new MethodPlan(method, Kind.OBJECT, List.of(), null, false, false, false);
        }
        if (method.isDefault()) {
            return new MethodPlan(method, Kind.DEFAULT, List.of(), null, false, false, false);
        }
        Class<?> raw = method.getReturnType();
        boolean async = raw == CompletableFuture.class || raw == CompletionStage.class;
        boolean oneWay = method.isAnnotationPresent(OneWay.class);
        if (oneWay && raw != void.class) {
            throw new IllegalArgumentException("@OneWay needs a void method, but " + type.getName() + "."
                    + method.getName() + " returns " + raw.getName());
        }
        JavaType result = null;
        if (raw != void.class) {
            JavaType declaring = types.constructType(type).findSuperType(method.getDeclaringClass());
            TypeBindings bindings = declaring == null ? TypeBindings.emptyBindings() : declaring.getBindings();
            result = types.resolveMemberType(method.getGenericReturnType(), bindings);
            if (async) {
                result = result.containedTypeOrUnknown(0);
            }
        }
        method.trySetAccessible();
        return new MethodPlan(method, Kind.CALL, parameterNames(method.getParameterTypes()), result, async, oneWay,
                method.isAnnotationPresent(Idempotent.class));
    }

    /** The names of parameter types as they travel: canonical names where there are some. */
    static List<String> parameterNames(Class<?>[] parameterTypes) {
        List<String> names = new ArrayList<>(parameterTypes.length);
        for (Class<?> parameter : parameterTypes) {
            names.add(typeName(parameter));
        }
        return Collections.unmodifiableList(names);
    }

    static String typeName(Class<?> type) {
        String canonical = type.getCanonicalName();
        return canonical != null ? canonical : type.getTypeName();
    }

    /** Whether {@code method} is one a proxy must handle (static interface methods are not). */
    static boolean proxied(Method method) {
        return !Modifier.isStatic(method.getModifiers());
    }
}
