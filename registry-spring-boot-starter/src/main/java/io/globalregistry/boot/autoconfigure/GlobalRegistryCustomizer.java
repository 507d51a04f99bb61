package io.globalregistry.boot.autoconfigure;

import io.globalregistry.amqp.AmqpGlobalRegistry;

/**
 * Customizes the builder of the auto-configured registry before it starts, after the
 * {@code global-registry.*} properties were applied. Every bean of this type is applied, in
 * {@link org.springframework.core.Ordered order}.
 */
@FunctionalInterface
public interface GlobalRegistryCustomizer {

    /** Customizes {@code builder}; do not call {@code start()}. */
    void customize(AmqpGlobalRegistry.Builder builder);
}
