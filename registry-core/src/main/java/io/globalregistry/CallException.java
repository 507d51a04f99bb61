package io.globalregistry;

import io.globalregistry.membership.NodeId;

/**
 * A call through a {@linkplain GlobalNameRegistry#proxy proxy} failed; carries the name, the
 * method and the owner the call went to (null when it never reached one).
 */
public class CallException extends RegistryException {

    private final String name;
    private final String method;
    private final transient NodeId owner;

    public CallException(String name, String method, NodeId owner, String message) {
        super(message);
        this.name = name;
        this.method = method;
        this.owner = owner;
    }

    public CallException(String name, String method, NodeId owner, String message, Throwable cause) {
        super(message, cause);
        this.name = name;
        this.method = method;
        this.owner = owner;
    }

    /** The canonical JSON form of the name called. */
    public String name() {
        return name;
    }

    /** The method called, {@code Interface.method}. */
    public String method() {
        return method;
    }

    /** The owner the call was sent to, or null when it never reached one. */
    public NodeId owner() {
        return owner;
    }
}
