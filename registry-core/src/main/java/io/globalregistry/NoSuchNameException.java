package io.globalregistry;

/** Nobody in the cluster owns the name a message was sent to. */
public class NoSuchNameException extends RegistryException {

    private final String name;

    public NoSuchNameException(String name) {
        super("No node of the cluster owns the name " + name);
        this.name = name;
    }

    /** Nobody owns {@code name}; {@code detail} says more (e.g. how long the caller waited for an owner). */
    public NoSuchNameException(String name, String detail) {
        super("No node of the cluster owns the name " + name + ": " + detail);
        this.name = name;
    }

    /** The canonical JSON form of the name. */
    public String name() {
        return name;
    }
}
