package io.globalregistry;

/**
 * A call's arguments do not fit in {@code max-message-size} once encoded; the call was not sent.
 */
public class MessageTooLargeException extends CallException {

    private final int bytes;
    private final int limit;

    public MessageTooLargeException(String name, String method, int bytes, int limit) {
        super(name, method, null, "The arguments of " + method + " on " + name + " take " + bytes
                + " bytes as JSON, over the " + limit + " bytes a call may carry (max-message-size less the envelope);"
                + " the call was not sent");
        this.bytes = bytes;
        this.limit = limit;
    }

    /** The size of the encoded arguments. */
    public int bytes() {
        return bytes;
    }

    /** The most the arguments may take. */
    public int limit() {
        return limit;
    }
}
