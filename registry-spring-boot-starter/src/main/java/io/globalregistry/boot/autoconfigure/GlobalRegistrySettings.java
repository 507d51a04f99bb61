package io.globalregistry.boot.autoconfigure;

import io.globalregistry.boot.autoconfigure.GlobalRegistryProperties.Strategy;
import io.globalregistry.protocol.RegistryConfig;
import io.globalregistry.wire.SecurityConfig;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.springframework.core.env.Environment;
import org.springframework.util.StringUtils;
import org.springframework.util.unit.DataSize;

/**
 * The {@code global-registry.*} properties with their defaults resolved and every value checked: the
 * one place they are turned into the core's {@link RegistryConfig}. A bad value throws
 * {@link InvalidGlobalRegistryPropertyException} naming the property, the value and the fix.
 */
final class GlobalRegistrySettings {

    static final String PREFIX = "global-registry.";

    /** The longest cluster or node name; both together always fit the broker's 255-byte queue names. */
    static final int MAX_NAME_LENGTH = 100;

    /** The smallest max-message-size: a sync part or a claim must fit. */
    static final DataSize MIN_MESSAGE_SIZE = DataSize.ofKilobytes(4);

    private static final String ALLOWED = "letters, digits, '-', '_' and '.'";

    private final String cluster;
    private final String nodeName;
    private final Strategy strategy;
    private final RegistryConfig registryConfig;
    private final GlobalRegistryProperties properties;

    private GlobalRegistrySettings(String cluster, String nodeName, GlobalRegistryProperties properties) {
        this.cluster = cluster;
        this.nodeName = nodeName;
        this.strategy = properties.getStrategy();
        this.properties = properties;
        this.registryConfig = new RegistryConfig(cluster, properties.getHeartbeatInterval(),
                properties.getSuspectAfter(), properties.getClaimTimeout(), properties.getJoinWindow(),
                (int) properties.getMaxMessageSize().toBytes(), RegistryConfig.ClaimOrdering.HLC)
                .withFenceAfter(properties.getFenceAfter())
                .withCallTimeout(properties.getCallTimeout())
                .withSecurity(security(properties.getSecurity()))
                .withStrategy(strategy == Strategy.LEADER ? RegistryConfig.Strategy.LEADER : RegistryConfig.Strategy.CLAIM)
                .withLeaderRetry(properties.getLeaderRetry())
                .withCrashGrace(properties.getCrashGrace())
                .withIdleHeartbeatInterval(properties.getIdleHeartbeatInterval())
                .withLiveness(RegistryConfig.Liveness.valueOf((properties.getLiveness() == null
                        ? GlobalRegistryProperties.Liveness.AUTO : properties.getLiveness()).name()));
    }

    /**
     * Resolves the defaults (cluster from {@code spring.application.name}, node name from the host
     * name and process id) and checks every value.
     *
     * @throws InvalidGlobalRegistryPropertyException for the first bad value
     */
    static GlobalRegistrySettings of(GlobalRegistryProperties properties, Environment environment) {
        checkStrategy(properties.getStrategy());
        String cluster = properties.getCluster() != null
                ? checkName("cluster", properties.getCluster())
                : defaultCluster(environment.getProperty("spring.application.name"));
        String nodeName = properties.getNodeName() != null
                ? checkName("node-name", properties.getNodeName())
                : defaultNodeName();
        checkTimings(properties);
        checkMaxMessageSize(properties.getMaxMessageSize());
        checkSecurity(properties.getSecurity());
        return new GlobalRegistrySettings(cluster, nodeName, properties);
    }

    String cluster() {
        return cluster;
    }

    String nodeName() {
        return nodeName;
    }

    Strategy strategy() {
        return strategy;
    }

    /** The strategy as the endpoint shows it: {@code claim} or {@code leader}. */
    String strategyName() {
        return strategy.name().toLowerCase(Locale.ROOT);
    }

    /** The core's settings: cluster, heartbeat-interval, suspect-after, claim-timeout, join-window, message size. */
    RegistryConfig registryConfig() {
        return registryConfig;
    }

    /** Whether {@code global-registry.security.secret} is set (it has no effect yet). */
    boolean hasSecret() {
        return properties.getSecurity().getSecret() != null;
    }

    /**
     * Checks that fence-after stays below the broker's connection heartbeat timeout, the time after
     * which the broker declares this node's connection dead and deletes its inbox.
     *
     * @param requestedHeartbeatSeconds the heartbeat the connection asks for, 0 for none
     */
    void checkFenceAfterBelowBrokerHeartbeat(int requestedHeartbeatSeconds) {
        Duration fenceAfter = properties.getFenceAfter();
        Duration brokerTimeout = Duration.ofSeconds(requestedHeartbeatSeconds);
        if (requestedHeartbeatSeconds > 0 && fenceAfter.compareTo(brokerTimeout) >= 0) {
            throw invalid("fence-after", format(fenceAfter), "must stay below the broker connection's heartbeat "
                            + "timeout (spring.rabbitmq.requested-heartbeat, " + format(brokerTimeout) + "), or "
                            + "another node may take over this node's names before it suspends them",
                    "Lower " + PREFIX + "fence-after or raise spring.rabbitmq.requested-heartbeat");
        }
    }

    private static void checkStrategy(Strategy strategy) {
        if (strategy == null) {
            throw invalid("strategy", null, "must be set", "Set " + PREFIX + "strategy to 'claim' (the default)");
        }
    }

    private static String checkName(String property, String value) {
        if (!StringUtils.hasText(value)) {
            throw invalid(property, value, "must not be blank",
                    "Set " + PREFIX + property + " to a name of " + ALLOWED + ", or remove it to use the default");
        }
        if (value.length() > MAX_NAME_LENGTH) {
            throw invalid(property, value, "is " + value.length() + " characters long, more than " + MAX_NAME_LENGTH,
                    "Set " + PREFIX + property + " to a shorter name");
        }
        for (int i = 0; i < value.length(); i++) {
            if (!allowed(value.charAt(i))) {
                throw invalid(property, value, "holds '" + value.charAt(i) + "', but may hold only " + ALLOWED,
                        "Set " + PREFIX + property + " to a name of " + ALLOWED + ", e.g. '" + sanitize(value) + "'");
            }
        }
        return value;
    }

    private static void checkTimings(GlobalRegistryProperties properties) {
        Duration heartbeat = positive("heartbeat-interval", properties.getHeartbeatInterval(), "250ms");
        Duration suspect = positive("suspect-after", properties.getSuspectAfter(), "1s");
        Duration fence = positive("fence-after", properties.getFenceAfter(), "1s");
        positive("claim-timeout", properties.getClaimTimeout(), "2s");
        positive("join-window", properties.getJoinWindow(), "500ms");
        positive("call-timeout", properties.getCallTimeout(), "5s");
        positive("leader-retry", properties.getLeaderRetry(), "250ms");
        Duration grace = properties.getCrashGrace();
        if (grace == null || grace.isNegative() || (!grace.isZero() && grace.toMillis() < 20)) {
            throw invalid("crash-grace", grace == null ? null : format(grace), "must be 0 (off) or at least 20ms",
                    "Set " + PREFIX + "crash-grace to 150ms (the default), or to 0 to wait for the lease logs");
        }
        Duration idle = positive("idle-heartbeat-interval", properties.getIdleHeartbeatInterval(), "4s");
        if (idle.compareTo(heartbeat) < 0) {
            throw invalid("idle-heartbeat-interval", format(idle), "must not be shorter than " + PREFIX
                            + "heartbeat-interval (" + format(heartbeat) + ")",
                    "Set " + PREFIX + "idle-heartbeat-interval to 4s (the default), or to "
                            + PREFIX + "heartbeat-interval for an idle node to heartbeat like a busy one");
        }
        if (suspect.compareTo(heartbeat) <= 0) {
            throw invalid("suspect-after", format(suspect), "must be longer than " + PREFIX + "heartbeat-interval ("
                            + format(heartbeat) + "), or every member would be suspected between two heartbeats",
                    "Set " + PREFIX + "suspect-after to about 4 heartbeat intervals ("
                            + format(heartbeat.multipliedBy(4)) + "), or lower " + PREFIX + "heartbeat-interval");
        }
        if (fence.compareTo(heartbeat) <= 0) {
            throw invalid("fence-after", format(fence), "must be longer than " + PREFIX + "heartbeat-interval ("
                            + format(heartbeat) + "), or a node would suspend its names between two of its own "
                            + "heartbeats",
                    "Set " + PREFIX + "fence-after to at least 2 heartbeat intervals ("
                            + format(heartbeat.multipliedBy(2)) + "), e.g. 1s (the default)");
        }
    }

    private static Duration positive(String property, Duration value, String example) {
        if (value == null || value.isZero() || value.isNegative()) {
            throw invalid(property, value == null ? null : format(value), "must be a positive duration",
                    "Set " + PREFIX + property + " to a positive duration such as " + example + " (the default)");
        }
        return value;
    }

    private static void checkMaxMessageSize(DataSize size) {
        if (size == null || size.toBytes() < MIN_MESSAGE_SIZE.toBytes()) {
            throw invalid("max-message-size", size, "must be at least 4KB (" + MIN_MESSAGE_SIZE.toBytes()
                            + " bytes) so that claims and name syncs fit",
                    "Set " + PREFIX + "max-message-size to 4KB or more, e.g. 1MB (the default)");
        }
        if (size.toBytes() > Integer.MAX_VALUE) {
            throw invalid("max-message-size", size, "must be less than 2GB",
                    "Set " + PREFIX + "max-message-size to at most the broker's limit, e.g. 1MB (the default)");
        }
    }

    private static void checkSecurity(GlobalRegistryProperties.Security security) {
        if (security.getSecret() != null && !StringUtils.hasText(security.getSecret())) {
            throw invalid("security.secret", "", "must not be blank when set",
                    "Set " + PREFIX + "security.secret to a long random value, or remove it");
        }
        List<String> previous = security.getPreviousSecrets();
        for (int i = 0; previous != null && i < previous.size(); i++) {
            if (!StringUtils.hasText(previous.get(i))) {
                throw invalid("security.previous-secrets[" + i + "]", previous.get(i), "must not be blank",
                        "Remove the blank entry from " + PREFIX + "security.previous-secrets");
            }
        }
    }

    /** spring.application.name with other characters than {@link #ALLOWED} replaced by '-', else "default". */
    static String defaultCluster(String applicationName) {
        String cluster = applicationName == null ? "" : sanitize(applicationName.trim());
        return cluster.isEmpty() ? "default" : truncate(cluster);
    }

    /** The host name's first label and the process id, e.g. {@code web-7f9c-4121}. */
    static String defaultNodeName() {
        String host = sanitize(hostName());
        int dot = host.indexOf('.');
        if (dot > 0) {
            host = host.substring(0, dot);
        }
        String pid = Long.toString(ProcessHandle.current().pid());
        if (host.isEmpty()) {
            host = "node";
        }
        return truncate(host, MAX_NAME_LENGTH - pid.length() - 1) + "-" + pid;
    }

    private static String hostName() {
        for (String variable : new String[] {"HOSTNAME", "COMPUTERNAME"}) {
            String value = System.getenv(variable);
            if (StringUtils.hasText(value)) {
                return value.trim();
            }
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "node";
        }
    }

    private static String sanitize(String value) {
        StringBuilder out = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            out.append(allowed(c) ? c : '-');
        }
        return out.toString();
    }

    private static String truncate(String value) {
        return truncate(value, MAX_NAME_LENGTH);
    }

    private static String truncate(String value, int max) {
        return value.length() <= max ? value : value.substring(0, max);
    }

    private static boolean allowed(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
                || c == '.';
    }

    /** 250ms, 1s, 1500ms: the form the properties are written in. */
    static String format(Duration duration) {
        if (duration.isNegative()) {
            return "-" + format(duration.negated());
        }
        if (duration.getNano() % 1_000_000 != 0) {
            return duration.toString();
        }
        long millis = duration.toMillis();
        return millis % 1000 == 0 ? (millis / 1000) + "s" : millis + "ms";
    }

    private static InvalidGlobalRegistryPropertyException invalid(String property, Object value, String problem,
                                                                  String action) {
        return new InvalidGlobalRegistryPropertyException(PREFIX + property, value, problem, action);
    }

    private static SecurityConfig security(GlobalRegistryProperties.Security security) {
        if (security.getSecret() == null || security.getSecret().isEmpty()) {
            return SecurityConfig.NONE;
        }
        return new SecurityConfig(security.getSecret(), List.copyOf(security.getPreviousSecrets()),
                SecurityConfig.DEFAULT_REPLAY_WINDOW);
    }
}
