package io.globalregistry;

/** A name was null, could not be encoded as JSON, or its canonical form is too long. */
public class InvalidNameException extends RegistryException {

    public InvalidNameException(String message) {
        super(message);
    }

    public InvalidNameException(String message, Throwable cause) {
        super(message, cause);
    }
}
