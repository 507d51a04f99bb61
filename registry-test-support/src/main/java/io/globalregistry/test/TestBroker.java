package io.globalregistry.test;

import java.io.IOException;
import java.util.Objects;
import java.util.concurrent.TimeoutException;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;

/**
 * The AMQP broker every test in the JVM shares, obtained with {@link #get()}.
 *
 * <p>Resolution, once per JVM: read the {@code spring.rabbitmq.*} settings (system property, then
 * {@code SPRING_RABBITMQ_*} environment variable, then the RabbitMQ default); if a RabbitMQ
 * answers there, use it; if not and {@code CI=true}, fail; otherwise start an embedded
 * Qpid Broker-J in-process (see {@link EmbeddedQpid}) and use that. One line on stderr says
 * which broker was chosen.
 */
public final class TestBroker {

    /** What is behind the address. */
    public enum Kind {
        /** A real RabbitMQ server found at the configured address. */
        RABBITMQ,
        /** An Apache Qpid Broker-J started inside this JVM. */
        EMBEDDED_QPID
    }

    private static final int PROBE_TIMEOUT_MILLIS = 2_000;

    private static TestBroker instance;
    private static RuntimeException failure;

    private final Kind kind;
    private final String host;
    private final int port;
    private final String username;
    private final String password;
    private final String virtualHost;

    TestBroker(Kind kind, String host, int port, String username, String password, String virtualHost) {
        this.kind = Objects.requireNonNull(kind, "kind");
        this.host = Objects.requireNonNull(host, "host");
        this.port = port;
        this.username = Objects.requireNonNull(username, "username");
        this.password = Objects.requireNonNull(password, "password");
        this.virtualHost = Objects.requireNonNull(virtualHost, "virtualHost");
    }

    /**
     * Returns the started broker for this JVM, resolving it on the first call.
     *
     * @throws IllegalStateException if {@code CI=true} and no RabbitMQ answers, or the embedded
     *     broker cannot start; later calls throw the same exception
     */
    public static synchronized TestBroker get() {
        if (instance == null && failure == null) {
            try {
                instance = resolve();
            } catch (RuntimeException e) {
                failure = e;
            }
        }
        if (failure != null) {
            throw failure;
        }
        return instance;
    }

    /**
     * The broker resolved in this JVM so far, or {@code null} if {@link #get()} was not called yet
     * or failed; never resolves (so never probes, never starts the embedded broker).
     */
    static synchronized TestBroker resolvedOrNull() {
        return instance;
    }

    /**
     * The RabbitMQ address the settings name, without probing it: what {@link #get()} tries first.
     *
     * @throws IllegalStateException if the port setting is not a number
     */
    static TestBroker configured() {
        return new TestBroker(Kind.RABBITMQ,
                setting("localhost", "spring.rabbitmq.host", "SPRING_RABBITMQ_HOST"),
                port(setting("5672", "spring.rabbitmq.port", "SPRING_RABBITMQ_PORT")),
                setting("guest", "spring.rabbitmq.username", "SPRING_RABBITMQ_USERNAME"),
                setting("guest", "spring.rabbitmq.password", "SPRING_RABBITMQ_PASSWORD"),
                setting("/", "spring.rabbitmq.virtual-host", "SPRING_RABBITMQ_VIRTUAL_HOST",
                        "SPRING_RABBITMQ_VIRTUALHOST"));
    }

    private static TestBroker resolve() {
        TestBroker configured = configured();
        String address = configured.host + ":" + configured.port;
        Exception probeFailure = configured.probe();
        if (probeFailure == null) {
            System.err.println("[test-broker] using RabbitMQ at " + address);
            return configured;
        }
        if ("true".equals(System.getenv("CI"))) {
            throw new IllegalStateException("CI=true and no RabbitMQ answers at " + address
                    + ": start it (rabbitmq-server -detached) or point SPRING_RABBITMQ_HOST/PORT"
                    + " at a running broker; the embedded fallback is disabled on CI ("
                    + probeFailure + ")", probeFailure);
        }
        EmbeddedQpid qpid = EmbeddedQpid.start();
        TestBroker embedded = qpid.broker();
        System.err.println("[test-broker] *** no RabbitMQ at " + address + ": started EMBEDDED Qpid Broker-J "
                + EmbeddedQpid.VERSION + " on " + embedded.host + ":" + embedded.port + " ***");
        return embedded;
    }

    /** The system property if set, else the first environment variable set, else {@code fallback}. */
    private static String setting(String fallback, String property, String... environmentVariables) {
        String value = System.getProperty(property);
        for (int i = 0; isBlank(value) && i < environmentVariables.length; i++) {
            value = System.getenv(environmentVariables[i]);
        }
        return isBlank(value) ? fallback : value.trim();
    }

    private static boolean isBlank(String value) {
        return value == null || value.isBlank();
    }

    private static int port(String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalStateException("spring.rabbitmq.port / SPRING_RABBITMQ_PORT is not a number: " + value, e);
        }
    }

    /** Opens and closes one connection; returns why that failed, or {@code null} if it worked. */
    private Exception probe() {
        ConnectionFactory factory = newConnectionFactory();
        factory.setConnectionTimeout(PROBE_TIMEOUT_MILLIS);
        factory.setHandshakeTimeout(PROBE_TIMEOUT_MILLIS);
        factory.setAutomaticRecoveryEnabled(false);
        try (Connection ignored = factory.newConnection("test-broker-probe")) {
            return null;
        } catch (IOException | TimeoutException | RuntimeException e) {
            return e;
        }
    }

    /** A new client connection factory pointed at this broker, with these credentials and virtual host. */
    public ConnectionFactory newConnectionFactory() {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setHost(host);
        factory.setPort(port);
        factory.setUsername(username);
        factory.setPassword(password);
        factory.setVirtualHost(virtualHost);
        return factory;
    }

    public Kind kind() {
        return kind;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public String username() {
        return username;
    }

    public String password() {
        return password;
    }

    public String virtualHost() {
        return virtualHost;
    }

    @Override
    public String toString() {
        return kind + " at " + host + ":" + port + " vhost " + virtualHost + " as " + username;
    }
}
