package io.globalregistry;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a method of a proxied interface as safe to run more than once for one call. A call that
 * was delivered but whose owner was certified dead before it replied is then sent again to the
 * next owner (within the same {@code call-timeout}); without this mark it ends with a
 * {@link CallTimeoutException} instead, since it may have run. Calls that were certainly never
 * delivered (returned by the broker, or refused because the name had moved) are retried whether
 * marked or not.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Idempotent {
}
