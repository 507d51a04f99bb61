package io.globalregistry.boot.singleton;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.concurrent.CompletionStage;
import org.springframework.aot.hint.BindingReflectionHintsRegistrar;
import org.springframework.aot.hint.MemberCategory;
import org.springframework.aot.hint.RuntimeHints;
import org.springframework.core.ResolvableType;
import org.springframework.util.ClassUtils;

/**
 * The runtime hints of one {@code @GlobalSingleton}, for a native image: what the registry does reflectively
 * with its interface and its real bean.
 *
 * <ul>
 *   <li>a JDK proxy of the interface alone: {@link io.globalregistry.GlobalNameRegistry#proxy(Object, Class)}
 *       implements exactly that one;</li>
 *   <li>invocation of the public methods of the interface and its super-interfaces (the proxy's calls, their
 *       {@code @OneWay} and {@code @Idempotent} marks) and of the real bean's class and its superclasses (the
 *       owner finds the called method among the target's public methods and invokes it);</li>
 *   <li>binding ({@link BindingReflectionHintsRegistrar}) of every type a call carries as JSON, with the
 *       generics they are read as: the parameters and the result of each interface method as the interface
 *       declares them (the caller writes the arguments, reads the result), and as the real bean's class declares
 *       them (the owner reads the arguments, writes the result). A {@code CompletableFuture} or
 *       {@code CompletionStage} result travels as its value.</li>
 * </ul>
 */
final class GlobalSingletonRuntimeHints {

    private static final BindingReflectionHintsRegistrar BINDING = new BindingReflectionHintsRegistrar();

    private GlobalSingletonRuntimeHints() {
    }

    /**
     * @param type      the interface the proxy implements
     * @param beanClass the real bean's class, or null when it cannot be determined
     */
    static void register(RuntimeHints hints, Class<?> type, Class<?> beanClass) {
        hints.proxies().registerJdkProxy(type);
        invokePublicMethods(hints, type);
        boolean implementation = beanClass != null && type.isAssignableFrom(beanClass);
        for (Class<?> c = beanClass; implementation && c != null && c != Object.class; c = c.getSuperclass()) {
            hints.reflection().registerType(c, MemberCategory.INVOKE_PUBLIC_METHODS);
        }
        for (Method method : type.getMethods()) {
            if (Modifier.isStatic(method.getModifiers()) || method.isDefault()
                    || method.getDeclaringClass() == Object.class) {
                continue; // not a call: runs on the proxy
            }
            bindings(hints, method, type);
            if (implementation) {
                Method target = ClassUtils.getMostSpecificMethod(method, beanClass);
                if (!target.equals(method)) {
                    bindings(hints, target, beanClass);
                }
            }
        }
    }

    /** Invocation of the public methods {@code type} declares, and those its super-interfaces declare. */
    private static void invokePublicMethods(RuntimeHints hints, Class<?> type) {
        hints.reflection().registerType(type, MemberCategory.INVOKE_PUBLIC_METHODS);
        for (Class<?> parent : type.getInterfaces()) {
            invokePublicMethods(hints, parent);
        }
    }

    /** The parameter and result types of {@code method}, resolved against {@code owner}. */
    private static void bindings(RuntimeHints hints, Method method, Class<?> owner) {
        for (int i = 0; i < method.getParameterCount(); i++) {
            binding(hints, ResolvableType.forMethodParameter(method, i, owner));
        }
        ResolvableType result = ResolvableType.forMethodReturnType(method, owner);
        if (CompletionStage.class.isAssignableFrom(result.toClass())) {
            result = result.as(CompletionStage.class).getGeneric(0);
        }
        binding(hints, result);
    }

    /** Binding of {@code type}, its array component and its generics, each as far as it is resolved. */
    private static void binding(RuntimeHints hints, ResolvableType type) {
        if (type == ResolvableType.NONE) {
            return;
        }
        Class<?> resolved = type.resolve();
        if (resolved != null && resolved != void.class) {
            BINDING.registerReflectionHints(hints.reflection(), resolved);
        }
        if (type.isArray()) {
            binding(hints, type.getComponentType());
            return;
        }
        for (ResolvableType generic : type.getGenerics()) {
            binding(hints, generic);
        }
    }
}
