package io.globalregistry.test;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class that needs the shared AMQP broker: starts it (see {@link TestBroker#get()})
 * before the class runs and lets tests take a {@link TestBroker} parameter.
 */
@Documented
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(BrokerExtension.class)
public @interface WithBroker {
}
