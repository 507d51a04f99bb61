package io.globalregistry.boot;

/**
 * Implemented by a {@link GlobalSingleton} bean that guards external writes with its fencing token: a number
 * that grows with every change of the singleton's owner in the cluster (pass it to the store, which rejects a
 * smaller one than it has seen). Called once per instance, after the dependencies are injected and before
 * {@code @PostConstruct} and the other init callbacks.
 */
public interface FencingTokenAware {

    /** This instance's fencing token. */
    void setFencingToken(long fencingToken);
}
