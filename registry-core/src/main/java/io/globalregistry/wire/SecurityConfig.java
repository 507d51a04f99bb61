package io.globalregistry.wire;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Whether and how registry messages are signed (HMAC-SHA256, see {@link MessageSigner}).
 *
 * <p>With a {@code secret}, every message sent is signed with it, and a message received is
 * accepted only if signed with it or one of {@code previousSecrets}, not older than
 * {@code replayWindow} behind this node's wall clock, and not a copy of one received within it.
 * Without one ({@link #NONE}, the default) nothing is signed or checked, and any broker user can
 * forge registry traffic.
 *
 * <p>Rotation without a pause: (1) on every node add the new secret to {@code previousSecrets};
 * (2) on every node make it the {@code secret} and the old one a previous secret; (3) drop the old one.
 * The replay window must exceed the clock skew between nodes.
 *
 * @param secret the shared secret messages are signed with, or null for none
 * @param previousSecrets secrets also accepted on receipt (never used to sign)
 * @param replayWindow how old (by its clock) a received message may be
 */
public record SecurityConfig(String secret, List<String> previousSecrets, Duration replayWindow) {

    /** The default replay window: 30 s. */
    public static final Duration DEFAULT_REPLAY_WINDOW = Duration.ofSeconds(30);

    /** No signing, no checks. */
    public static final SecurityConfig NONE = new SecurityConfig(null, List.of(), DEFAULT_REPLAY_WINDOW);

    public SecurityConfig {
        previousSecrets = previousSecrets == null ? List.of() : List.copyOf(previousSecrets);
        Objects.requireNonNull(replayWindow, "replay-window");
        if (secret != null && secret.isBlank()) {
            throw new IllegalArgumentException("security.secret must not be blank (leave it unset to sign nothing)");
        }
        if (secret == null && !previousSecrets.isEmpty()) {
            throw new IllegalArgumentException("security.previous-secrets need a security.secret");
        }
        for (String previous : previousSecrets) {
            if (previous.isBlank()) {
                throw new IllegalArgumentException("security.previous-secrets must not hold a blank secret");
            }
        }
        if (replayWindow.isNegative() || replayWindow.isZero()) {
            throw new IllegalArgumentException("security.replay-window must be a positive duration, got " + replayWindow);
        }
    }

    /** Sign with {@code secret}, also accepting {@code previous} ones. */
    public static SecurityConfig secret(String secret, String... previous) {
        return new SecurityConfig(Objects.requireNonNull(secret, "secret"), List.of(previous), DEFAULT_REPLAY_WINDOW);
    }

    /** The same with another replay window. */
    public SecurityConfig withReplayWindow(Duration window) {
        return new SecurityConfig(secret, previousSecrets, window);
    }

    /** Whether messages are signed and checked. */
    public boolean enabled() {
        return secret != null;
    }

    /** Never shows the secrets. */
    @Override
    public String toString() {
        return "SecurityConfig[" + (enabled() ? "secret=****, previousSecrets=" + previousSecrets.size() : "unsigned")
                + ", replayWindow=" + replayWindow + "]";
    }
}
