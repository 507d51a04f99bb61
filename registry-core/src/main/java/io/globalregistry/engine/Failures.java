package io.globalregistry.engine;

import io.globalregistry.RegistryException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Unwraps the failure of an asynchronous step into the exception the API caller should see. */
final class Failures {

    private Failures() {
    }

    static RuntimeException unwrap(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof RuntimeException) {
            return (RuntimeException) cause;
        }
        if (cause instanceof Error) {
            throw (Error) cause;
        }
        return new RegistryException(String.valueOf(cause.getMessage()), cause);
    }
}
