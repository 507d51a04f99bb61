package io.globalregistry.boot.autoconfigure;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.origin.Origin;
import org.springframework.boot.origin.OriginLookup;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.Environment;
import org.springframework.core.env.PropertySource;

/**
 * Reports an {@link InvalidGlobalRegistryPropertyException} at startup: the property, its value and
 * where it was set, what is wrong, and the fix as the action. Ordered before Spring Boot's generic
 * analyzer of invalid property values, which would also match.
 */
@Order(Ordered.HIGHEST_PRECEDENCE)
class InvalidGlobalRegistryPropertyFailureAnalyzer
        extends AbstractFailureAnalyzer<InvalidGlobalRegistryPropertyException> {

    private final Environment environment;

    InvalidGlobalRegistryPropertyFailureAnalyzer(Environment environment) {
        this.environment = environment;
    }

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, InvalidGlobalRegistryPropertyException cause) {
        PropertySource<?> source = source(cause.getName());
        Object value = source != null ? source.getProperty(cause.getName()) : cause.getValue();
        StringBuilder description = new StringBuilder();
        description.append("Invalid value '").append(value).append("' for configuration property '")
                .append(cause.getName()).append("'");
        Origin origin = source != null ? OriginLookup.getOrigin(source, cause.getName()) : null;
        if (origin != null) {
            description.append(" (originating from '").append(origin).append("')");
        }
        description.append(": ").append(cause.getProblem()).append('.');
        return new FailureAnalysis(description.toString(), cause.getAction(), cause);
    }

    /** The property source the value was taken from, or null when it is a default. */
    private PropertySource<?> source(String property) {
        if (!(environment instanceof ConfigurableEnvironment)) {
            return null;
        }
        for (PropertySource<?> source : ((ConfigurableEnvironment) environment).getPropertySources()) {
            if (source.containsProperty(property)) {
                return source;
            }
        }
        return null;
    }
}
