package io.globalregistry.boot.autoconfigure;

import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;

/**
 * A {@code global-registry.*} property has a value the registry cannot start with. Carries the
 * property, the value, what is wrong and how to fix it; {@link InvalidGlobalRegistryPropertyFailureAnalyzer}
 * turns it into Spring Boot's startup failure report.
 */
public class InvalidGlobalRegistryPropertyException extends InvalidConfigurationPropertyValueException {

    private final String problem;
    private final String action;

    /**
     * @param name the property, e.g. {@code global-registry.heartbeat-interval}
     * @param value the value it has
     * @param problem what is wrong with it
     * @param action how to fix it
     */
    public InvalidGlobalRegistryPropertyException(String name, Object value, String problem, String action) {
        super(name, value, problem + ". " + action);
        this.problem = problem;
        this.action = action;
    }

    /** What is wrong with the value. */
    public String getProblem() {
        return problem;
    }

    /** How to fix it. */
    public String getAction() {
        return action;
    }
}
