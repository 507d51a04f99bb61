package io.globalregistry.amqp;

import io.globalregistry.RegistryException;
import io.globalregistry.protocol.RegistryConfig.Liveness;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The liveness rule a node uses, resolved from what it asked for and the broker it reached (the
 * {@code product} and {@code version} server properties of its connection): {@link Liveness#AUTO}
 * becomes {@link Liveness#LEASE} on RabbitMQ 3.9 and later (it has streams), {@link Liveness#BROKER}
 * on anything else (Qpid Broker-J, older RabbitMQ); an explicit {@code LEASE} on a broker without
 * streams is refused. {@link #why} is the reason, for the one INFO line a node logs at start.
 *
 * @param liveness never {@code AUTO}
 */
record LivenessChoice(Liveness liveness, String why) {

    /** The configuration property that sets the rule (Spring Boot). */
    static final String PROPERTY = "global-registry.liveness";

    private static final Pattern VERSION = Pattern.compile("^(\\d+)\\.(\\d+)");

    LivenessChoice {
        Objects.requireNonNull(liveness, "liveness");
        if (liveness == Liveness.AUTO) {
            throw new IllegalArgumentException("a resolved liveness is never AUTO");
        }
    }

    /**
     * @param requested what the node's settings ask for
     * @param serverProperties the connection's server properties (values may be amqp-client LongStrings)
     * @param cluster the cluster (names the lease stream in the reason)
     * @throws RegistryException if {@code LEASE} is asked for on a broker without streams
     */
    static LivenessChoice resolve(Liveness requested, Map<String, Object> serverProperties, String cluster) {
        String product = property(serverProperties, "product");
        String version = property(serverProperties, "version");
        String broker = (product == null ? "an unnamed broker" : product) + (version == null ? "" : " " + version);
        boolean streams = hasStreams(product, version);
        String stream = AmqpNames.leaseStream(cluster, 0).replaceAll("0$", "{0.."
                + (io.globalregistry.protocol.RegistryConfig.LEASE_LOGS - 1) + "}");
        switch (requested) {
            case BROKER:
                return new LivenessChoice(Liveness.BROKER, "set by " + PROPERTY + " (on " + broker
                        + "); a member is dead once the broker answers 404 for its inbox");
            case LEASE:
                if (!streams) {
                    throw new RegistryException(PROPERTY + "=lease needs RabbitMQ 3.9 or later (streams), but the"
                            + " broker is " + broker + ": set " + PROPERTY + "=broker (safe on a single broker node"
                            + " only) or auto, or connect to RabbitMQ 3.9+");
                }
                return new LivenessChoice(Liveness.LEASE, "set by " + PROPERTY + "; " + broker
                        + " has streams; heartbeats go to streams " + stream);
            case AUTO:
            default:
                if (streams) {
                    return new LivenessChoice(Liveness.LEASE, broker + " has streams; heartbeats go to streams " + stream);
                }
                return new LivenessChoice(Liveness.BROKER, broker + " has no streams (RabbitMQ 3.9+ has); a member is"
                        + " dead once the broker answers 404 for its inbox, which is safe on a single broker node only");
        }
    }

    /** Whether a broker of {@code product} and {@code version} has streams: RabbitMQ 3.9 and later. */
    static boolean hasStreams(String product, String version) {
        if (product == null || version == null || !product.trim().equalsIgnoreCase("RabbitMQ")) {
            return false;
        }
        Matcher matcher = VERSION.matcher(version.trim());
        if (!matcher.find()) {
            return false;
        }
        try {
            int major = Integer.parseInt(matcher.group(1));
            int minor = Integer.parseInt(matcher.group(2));
            return major > 3 || (major == 3 && minor >= 9);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static String property(Map<String, Object> serverProperties, String key) {
        Object value = serverProperties == null ? null : serverProperties.get(key);
        return value == null ? null : value.toString(); // a LongString's toString is its UTF-8 text
    }

    /** The line a node logs at start: {@code liveness=lease: <why>}. */
    String logLine() {
        return "liveness=" + liveness.name().toLowerCase(java.util.Locale.ROOT) + ": " + why;
    }
}
