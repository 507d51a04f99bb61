package io.globalregistry.boot.autoconfigure;

import io.globalregistry.boot.InvalidGlobalSingletonException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Reports an {@link InvalidGlobalSingletonException} at startup: the bean and what is wrong, the fix as the action. */
class InvalidGlobalSingletonFailureAnalyzer extends AbstractFailureAnalyzer<InvalidGlobalSingletonException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, InvalidGlobalSingletonException cause) {
        return new FailureAnalysis("The @GlobalSingleton bean '" + cause.getBeanName() + "' cannot work: "
                + cause.getProblem() + ".", "Fix: " + cause.getFix() + ".", cause);
    }
}
