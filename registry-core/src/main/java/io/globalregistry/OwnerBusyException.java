package io.globalregistry;

import io.globalregistry.membership.NodeId;

/**
 * The owner's call executor was saturated (every thread busy and its queue full), so it refused
 * the call without running it. Safe to try again later.
 */
public class OwnerBusyException extends CallException {

    public OwnerBusyException(String name, String method, NodeId owner) {
        super(name, method, owner, owner + " is too busy to run " + method + " on " + name
                + " (its call executor and queue are full); the call did not run");
    }
}
