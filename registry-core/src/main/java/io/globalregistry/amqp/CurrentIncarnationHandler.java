package io.globalregistry.amqp;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;

/**
 * Behind a proxy of a node that may rejoin: hands each call to the proxy machinery of the node's
 * current incarnation, made once per incarnation, so a proxy made before a rejoin calls through the
 * new incarnation after it. While the node rejoins, calls fail at once (the incarnation that gave
 * up is halted).
 */
final class CurrentIncarnationHandler implements InvocationHandler {

    /** The handler made by one incarnation. */
    private record Bound(Incarnation incarnation, InvocationHandler handler) {
    }

    private final Incarnations incarnations;
    private final String key;
    private final Class<?> type;
    private volatile Bound bound;

    /** @param first the handler {@code current} made for this proxy (it also checked {@code type}) */
    CurrentIncarnationHandler(Incarnations incarnations, String key, Class<?> type, Incarnation current,
                              InvocationHandler first) {
        this.incarnations = incarnations;
        this.key = key;
        this.type = type;
        this.bound = new Bound(current, first);
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        Incarnation now = incarnations.current();
        Bound b = bound;
        if (b.incarnation() != now) {
            b = new Bound(now, now.engine().invocations().handler(key, type));
            bound = b;
        }
        return b.handler().invoke(proxy, method, args);
    }
}
