package io.globalregistry.wire;

import io.globalregistry.RegistryException;

/**
 * An incoming message failed validation and must be dropped. Carries no stack trace: rejects are
 * expected input (a flood of garbage must stay cheap), and the reason and detail say everything.
 */
public class RejectedMessageException extends RegistryException {

    private final RejectReason reason;
    private final String detail;

    public RejectedMessageException(RejectReason reason, String detail) {
        super(reason + ": " + detail);
        this.reason = reason;
        this.detail = detail;
    }

    /** Why the message was rejected. */
    public RejectReason reason() {
        return reason;
    }

    /** What exactly was wrong, for the log. */
    public String detail() {
        return detail;
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }
}
