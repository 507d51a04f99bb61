package io.globalregistry;

/**
 * A registration could not be decided in time: a live member did not answer the claim, so
 * granting it could have made two owners. Nothing was registered; it is safe to try again.
 */
public class RegistrationTimeoutException extends RegistryException {

    private final String name;

    public RegistrationTimeoutException(String name, String detail) {
        super("Registration of " + name + " was not decided in time: " + detail);
        this.name = name;
    }

    /** The canonical JSON form of the name. */
    public String name() {
        return name;
    }
}
