package io.globalregistry;

import io.globalregistry.membership.NodeId;

/**
 * The target threw an exception that the calling method cannot rethrow as itself (it does not
 * declare it, or it could not be rebuilt), or the owner could not invoke it at all (no such
 * method, arguments not convertible, result without JSON form or too large). Carries the remote
 * exception's class name and message; no class is ever loaded from that name.
 */
public class RemoteInvocationException extends CallException {

    private final String remoteClass;
    private final String remoteMessage;

    public RemoteInvocationException(String name, String method, NodeId owner, String remoteClass, String remoteMessage) {
        super(name, method, owner, method + " on " + name + " at " + owner + " failed: " + remoteClass
                + (remoteMessage == null ? "" : ": " + remoteMessage));
        this.remoteClass = remoteClass;
        this.remoteMessage = remoteMessage;
    }

    /** The fully qualified class name of the exception on the owner. */
    public String remoteClass() {
        return remoteClass;
    }

    /** The message of the exception on the owner (may be null). */
    public String remoteMessage() {
        return remoteMessage;
    }
}
