package io.globalregistry;

/** Nobody in the cluster owns the name a message was sent to. */
public class NoSuchNameException extends RegistryException {

    private final String name;

    public NoSuchNameException(String name) {
        super("No node of the cluster owns the name " + name);
        this.name = name;
    }

    /** The canonical JSON form of the name. */
    public String name() {
        return name;
    }
}
