package io.globalregistry;

import io.globalregistry.membership.NodeId;

/**
 * A call did not end within {@code call-timeout}. {@link #mayHaveRun()} tells the two cases apart:
 * true when the call was delivered to {@link #owner()} and no reply came (it may or may not have
 * run there, and it was not sent again unless its method is {@link Idempotent}); false when it
 * certainly did not run (its owner's inbox was gone, or the owner no longer had the name, and no
 * next owner appeared in time).
 */
public class CallTimeoutException extends CallException {

    private final long timeoutMillis;
    private final boolean mayHaveRun;

    public CallTimeoutException(String name, String method, NodeId owner, long timeoutMillis, boolean mayHaveRun) {
        super(name, method, owner, (mayHaveRun
                ? "No reply from " + owner + " to " + method + " on " + name + " within " + timeoutMillis
                        + " ms; the call was delivered and may have run"
                : "No owner of " + name + " could take " + method + " within " + timeoutMillis + " ms (last owner "
                        + owner + " was gone or no longer had it); the call did not run"));
        this.timeoutMillis = timeoutMillis;
        this.mayHaveRun = mayHaveRun;
    }

    /** The timeout that passed, in milliseconds. */
    public long timeoutMillis() {
        return timeoutMillis;
    }

    /** Whether the call was delivered, so it may have run on the owner. */
    public boolean mayHaveRun() {
        return mayHaveRun;
    }
}
