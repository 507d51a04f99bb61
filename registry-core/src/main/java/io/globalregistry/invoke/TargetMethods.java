package io.globalregistry.invoke;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import tools.jackson.databind.JavaType;

/**
 * Finds, on the owner, the method of a target that a call names: first by name and parameter type
 * names exactly, else by name and parameter count if that is unambiguous (the caller's interface
 * may declare a generic {@code T} where the target has {@code Item}). Only the target's own public
 * instance methods are candidates (not {@code Object}'s, not bridges); nothing named on the wire is
 * ever loaded. Each target class's table is built once ({@link ClassValue}), so no caller can grow it.
 */
final class TargetMethods {

    /** A method that can be called, with its generic parameter types resolved against the target class. */
    static final class Target {
        final Method method;
        final JavaType[] parameterTypes;
        final boolean async;

        Target(Method method, JavaType[] parameterTypes) {
            this.method = method;
            this.parameterTypes = parameterTypes;
            this.async = CompletionStage.class.isAssignableFrom(method.getReturnType());
        }
    }

    private record Signature(String name, List<String> params) {
    }

    private record Arity(String name, int count) {
    }

    /** The callable methods of one class. */
    private static final class Table {
        final Map<Signature, Target> exact = new HashMap<>();
        final Map<Arity, Target> byArity = new HashMap<>();
        final Set<Arity> ambiguous = new HashSet<>();
    }

    private final CallJson json;
    private final ClassValue<Table> tables = new ClassValue<>() {
        @Override
        protected Table computeValue(Class<?> type) {
            return build(type);
        }
    };

    TargetMethods(CallJson json) {
        this.json = json;
    }

    /** The method of {@code targetClass} that {@code name(params)} names, or null if none or ambiguous. */
    Target find(Class<?> targetClass, String name, List<String> params) {
        Table table = tables.get(targetClass);
        Target target = table.exact.get(new Signature(name, params));
        if (target != null) {
            return target;
        }
        return table.byArity.get(new Arity(name, params.size()));
    }

    private Table build(Class<?> type) {
        Table table = new Table();
        for (Method method : type.getMethods()) {
            if (Modifier.isStatic(method.getModifiers()) || method.isBridge() || method.isSynthetic()
                    || method.getDeclaringClass() == Object.class) {
                continue;
            }
            Method callable = callable(type, method);
            Target target = new Target(callable, json.parameterTypes(type, callable));
            table.exact.putIfAbsent(new Signature(method.getName(), MethodPlan.parameterNames(method.getParameterTypes())),
                    target);
            Arity arity = new Arity(method.getName(), method.getParameterCount());
            if (table.ambiguous.contains(arity)) {
                continue;
            }
            Target previous = table.byArity.putIfAbsent(arity, target);
            if (previous != null && !sameSignature(previous.method, callable)) {
                table.byArity.remove(arity);
                table.ambiguous.add(arity);
            }
        }
        return table;
    }

    private static boolean sameSignature(Method a, Method b) {
        return a.getName().equals(b.getName()) && Arrays.equals(a.getParameterTypes(), b.getParameterTypes());
    }

    /**
     * The same method as declared where it may be invoked from here: the class's own when public,
     * else a public interface's, else made accessible (a target of a non-public class).
     */
    private static Method callable(Class<?> type, Method method) {
        if (isPublic(method.getDeclaringClass())) {
            return method;
        }
        for (Class<?> candidate : interfaces(type)) {
            if (isPublic(candidate)) {
                try {
                    return candidate.getMethod(method.getName(), method.getParameterTypes());
                } catch (NoSuchMethodException e) {
                    // not this one
                }
            }
        }
        method.trySetAccessible();
        return method;
    }

    private static boolean isPublic(Class<?> type) {
        return MethodPlan.isPublic(type);
    }

    private static Set<Class<?>> interfaces(Class<?> type) {
        Set<Class<?>> all = new LinkedHashSet<>();
        Deque<Class<?>> todo = new ArrayDeque<>();
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            todo.add(c);
        }
        while (!todo.isEmpty()) {
            for (Class<?> i : todo.poll().getInterfaces()) {
                if (all.add(i)) {
                    todo.add(i);
                }
            }
        }
        return all;
    }
}
