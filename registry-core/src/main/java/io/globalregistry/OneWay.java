package io.globalregistry;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a {@code void} method of a proxied interface as one-way: a call to a remote owner is sent
 * without waiting for any reply, so the caller learns nothing of its outcome (an exception thrown
 * by the target is logged on the owner). A call returned undelivered is sent again to the next
 * owner, in the background, within {@code call-timeout}; nobody owning the name at the time of the
 * call is still a {@link NoSuchNameException}. A call to a local owner runs on the calling thread,
 * and an exception it throws is logged, not thrown, as it would be on a remote owner.
 * {@link GlobalNameRegistry#proxy} refuses the annotation on a non-{@code void} method.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface OneWay {
}
