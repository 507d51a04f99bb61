package io.globalregistry.boot.autoconfigure;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * Configuration properties of the global registry ({@code global-registry.*}). The broker itself is
 * configured with Spring Boot's {@code spring.rabbitmq.*} properties.
 *
 * <p>Values are checked when the registry starts; a bad one fails the startup naming the property, the
 * value and the fix.
 */
@ConfigurationProperties("global-registry")
public class GlobalRegistryProperties {

    /** Whether to start a registry node in this application (true by default). */
    private boolean enabled = true;

    /**
     * Name of the cluster to join; only nodes with the same cluster name see each other. Letters,
     * digits, '-', '_' and '.'. Defaults to spring.application.name (other characters replaced by
     * '-'), or "default" when that is not set.
     */
    private String cluster;

    /**
     * Name of this node, shown in the endpoint, logs and queue names; a fresh incarnation suffix is
     * added at every start. Letters, digits, '-', '_' and '.', at most 100 characters. Defaults to
     * the host name followed by the process id.
     */
    private String nodeName;

    /**
     * Strategy deciding who owns a name, the same on every node of a cluster: 'claim' by default
     * (every node votes on a registration and holds every name) or 'leader' (one node, elected by the
     * broker, decides; the others cache what they look up; @GlobalSingleton beans run on the leader).
     */
    private Strategy strategy = Strategy.CLAIM;

    /**
     * Under the 'leader' strategy: how often a node that is not the leader tries to become it, 250ms
     * by default (milliseconds when no unit is given); it bounds how long a cluster goes without a
     * leader once the leader's connection is gone.
     */
    private Duration leaderRetry = Duration.ofMillis(250);

    /**
     * What a node's right to act as an owner rests on, the same on every node of a cluster: 'auto' by
     * default ('lease' on RabbitMQ 3.9 and later, 'broker' elsewhere), 'lease' (heartbeats go to the
     * cluster's lease stream, and only a majority of broker nodes grants a lease: safe on a RabbitMQ
     * cluster in a partition) or 'broker' (a single broker node's records decide: only for a broker
     * that is one node, or Qpid Broker-J; faster failover, unsafe on a cluster).
     */
    private Liveness liveness = Liveness.AUTO;

    /**
     * Crash detection under liveness 'lease', used when the broker reports closed connections (RabbitMQ
     * with the plugin rabbitmq_event_exchange): a node whose connection the broker reports closed is
     * certified dead this long after the report, 150ms by default (milliseconds when no unit is given);
     * an owner acts only within nine tenths of it of a ping the broker answered. 0 turns it off: a
     * crashed owner's names then move once the lease logs certify its death (about 1.75s).
     */
    private Duration crashGrace = Duration.ofMillis(150);

    /**
     * Under liveness 'lease': how often a node that owns nothing, leads nothing and reads no lease log
     * heartbeats, 4s by default (milliseconds when no unit is given). Its heartbeats announce a lease
     * of fence-after + this + heartbeat-interval (5.25s by default), so the broker's idle work stays low
     * with many nodes; the price: a hung or cut-off idle node is certified dead only that lease and a
     * tenth after its last heartbeat, and claims wait for it meanwhile (a crashed one's closed
     * connection still frees it within crash-grace). Every node of a cluster uses the same.
     */
    private Duration idleHeartbeatInterval = Duration.ofSeconds(4);

    /**
     * Interval between two heartbeats of this node, 250ms by default (milliseconds when no unit is
     * given).
     */
    private Duration heartbeatInterval = Duration.ofMillis(250);

    /**
     * Silence after which a member is suspected and the broker is asked whether its inbox still
     * exists, 1s by default (milliseconds when no unit is given); longer than the heartbeat interval.
     */
    private Duration suspectAfter = Duration.ofSeconds(1);

    /**
     * Time without hearing its own heartbeats after which a node will suspend the names it owns, 1s by
     * default (milliseconds when no unit is given); longer than the heartbeat interval and below the
     * broker connection's heartbeat timeout.
     */
    private Duration fenceAfter = Duration.ofSeconds(1);

    /**
     * Time a registration waits for the answer of every live member before it fails, 2s by default
     * (milliseconds when no unit is given).
     */
    private Duration claimTimeout = Duration.ofSeconds(2);

    /**
     * Time a joining node collects the names of the other members before it may register, 500ms by
     * default (milliseconds when no unit is given); it waits at least fence-after + 2 x
     * heartbeat-interval, so that a member cut off from the broker has fenced first.
     */
    private Duration joinWindow = Duration.ofMillis(500);

    /**
     * Time a call to a name owned by another node will wait for the owner's reply, 5s by default
     * (milliseconds when no unit is given); waiting for a new owner and retries included.
     */
    private Duration callTimeout = Duration.ofSeconds(5);

    /**
     * Largest registry message sent or accepted, 1MB by default (bytes when no unit is given), at least
     * 4KB; larger incoming messages are dropped and counted.
     */
    private DataSize maxMessageSize = DataSize.ofMegabytes(1);

    private final Security security = new Security();

    public boolean isEnabled() {
        return enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public String getCluster() {
        return cluster;
    }

    public void setCluster(String cluster) {
        this.cluster = cluster;
    }

    public String getNodeName() {
        return nodeName;
    }

    public void setNodeName(String nodeName) {
        this.nodeName = nodeName;
    }

    public Strategy getStrategy() {
        return strategy;
    }

    public void setStrategy(Strategy strategy) {
        this.strategy = strategy;
    }

    public Liveness getLiveness() {
        return liveness;
    }

    public void setLiveness(Liveness liveness) {
        this.liveness = liveness;
    }

    public Duration getHeartbeatInterval() {
        return heartbeatInterval;
    }

    public void setHeartbeatInterval(Duration heartbeatInterval) {
        this.heartbeatInterval = heartbeatInterval;
    }

    public Duration getSuspectAfter() {
        return suspectAfter;
    }

    public void setSuspectAfter(Duration suspectAfter) {
        this.suspectAfter = suspectAfter;
    }

    public Duration getCrashGrace() {
        return crashGrace;
    }

    public void setCrashGrace(Duration crashGrace) {
        this.crashGrace = crashGrace;
    }

    public Duration getIdleHeartbeatInterval() {
        return idleHeartbeatInterval;
    }

    public void setIdleHeartbeatInterval(Duration idleHeartbeatInterval) {
        this.idleHeartbeatInterval = idleHeartbeatInterval;
    }

    public Duration getFenceAfter() {
        return fenceAfter;
    }

    public void setFenceAfter(Duration fenceAfter) {
        this.fenceAfter = fenceAfter;
    }

    public Duration getClaimTimeout() {
        return claimTimeout;
    }

    public void setClaimTimeout(Duration claimTimeout) {
        this.claimTimeout = claimTimeout;
    }

    public Duration getLeaderRetry() {
        return leaderRetry;
    }

    public void setLeaderRetry(Duration leaderRetry) {
        this.leaderRetry = leaderRetry;
    }

    public Duration getJoinWindow() {
        return joinWindow;
    }

    public void setJoinWindow(Duration joinWindow) {
        this.joinWindow = joinWindow;
    }

    public Duration getCallTimeout() {
        return callTimeout;
    }

    public void setCallTimeout(Duration callTimeout) {
        this.callTimeout = callTimeout;
    }

    public DataSize getMaxMessageSize() {
        return maxMessageSize;
    }

    public void setMaxMessageSize(DataSize maxMessageSize) {
        this.maxMessageSize = maxMessageSize;
    }

    public Security getSecurity() {
        return security;
    }

    /** How ownership of names is decided. */
    public enum Strategy {

        /** Every node votes on a registration (kz_globals, hardened). */
        CLAIM,

        /** One leader node, elected by the broker, decides; the others keep a read-through cache (leader_registry). */
        LEADER
    }

    /** What a node's right to act as an owner rests on (docs/PROTOCOL.md, "Liveness"). */
    public enum Liveness {

        /** 'lease' on RabbitMQ 3.9 and later (it has streams), 'broker' elsewhere. */
        AUTO,

        /** A single broker node's records decide who is alive: only for a one-node broker or Qpid Broker-J. */
        BROKER,

        /** A lease that only a majority of broker nodes grants, through the cluster's lease stream. */
        LEASE
    }

    /** Message signing (HMAC-SHA256). */
    public static class Security {

        /**
         * Shared secret that signs every registry message (HMAC-SHA256), none by default; unsigned or
         * wrongly signed messages are then dropped. Without it any user of the broker can forge registry traffic.
         */
        private String secret;

        /**
         * Secrets still accepted besides the current one while a new secret is rolled out to every
         * node, none by default.
         */
        private List<String> previousSecrets = new ArrayList<>();

        public String getSecret() {
            return secret;
        }

        public void setSecret(String secret) {
            this.secret = secret;
        }

        public List<String> getPreviousSecrets() {
            return previousSecrets;
        }

        public void setPreviousSecrets(List<String> previousSecrets) {
            this.previousSecrets = previousSecrets;
        }
    }
}
