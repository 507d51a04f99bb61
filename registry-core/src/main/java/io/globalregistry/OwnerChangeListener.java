package io.globalregistry;

/** Told of every change of owner this node sees. Must not block: it runs on a registry thread. */
@FunctionalInterface
public interface OwnerChangeListener {

    void onOwnerChange(OwnerChange change);
}
