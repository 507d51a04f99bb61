package io.globalregistry.membership;

import java.util.Objects;
import java.util.UUID;

/**
 * The identity of one run of one node: the configured node name plus an incarnation suffix that
 * is fresh at every start, so a restarted node is never mistaken for its dead predecessor.
 *
 * <p>Its text form {@code name@incarnation} is used on the wire and in queue names; it holds only
 * letters, digits, {@code - _ .} and one {@code @}.
 */
public record NodeId(String name, String incarnation) implements Comparable<NodeId> {

    public NodeId {
        requireToken(name, "node name");
        requireToken(incarnation, "incarnation");
    }

    /** A new identity for a node called {@code name}, with a random incarnation. */
    public static NodeId fresh(String name) {
        return new NodeId(name, UUID.randomUUID().toString().replace("-", "").substring(0, 12));
    }

    /** Parses the {@code name@incarnation} form. */
    public static NodeId parse(String text) {
        Objects.requireNonNull(text, "node id");
        int at = text.lastIndexOf('@');
        if (at <= 0 || at == text.length() - 1) {
            throw new IllegalArgumentException("Not a node id (name@incarnation): '" + text + "'");
        }
        return new NodeId(text.substring(0, at), text.substring(at + 1));
    }

    @Override
    public int compareTo(NodeId other) {
        int byName = name.compareTo(other.name);
        return byName != 0 ? byName : incarnation.compareTo(other.incarnation);
    }

    @Override
    public String toString() {
        return name + "@" + incarnation;
    }

    private static void requireToken(String value, String what) {
        if (value == null || value.isEmpty() || value.length() > 100) {
            throw new IllegalArgumentException("The " + what + " must have 1 to 100 characters, got " + value);
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_' || c == '.';
            if (!ok) {
                throw new IllegalArgumentException("The " + what + " '" + value
                        + "' may hold only letters, digits, '-', '_' and '.'");
            }
        }
    }
}
