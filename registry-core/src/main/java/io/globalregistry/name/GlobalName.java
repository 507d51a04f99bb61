package io.globalregistry.name;

/**
 * A registered name in its canonical form: compact JSON with object keys sorted and numbers
 * normalised, so equal values always give the same key. Build one with {@link NameCodec}.
 *
 * @param key the canonical JSON text, e.g. {@code "billing"} or {@code ["room",42]}
 */
public record GlobalName(String key) {

    @Override
    public String toString() {
        return key;
    }
}
