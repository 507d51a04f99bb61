package io.globalregistry.test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.apache.qpid.server.SystemLauncher;
import org.apache.qpid.server.SystemLauncherListener;
import org.apache.qpid.server.model.Broker;
import org.apache.qpid.server.model.Port;
import org.apache.qpid.server.model.State;
import org.apache.qpid.server.model.SystemConfig;

/**
 * An Apache Qpid Broker-J started in this JVM: in-memory store, one AMQP 0-9-1 port on a free
 * loopback port, PLAIN login {@code guest}/{@code guest} without TLS, and a single virtual host
 * that clients reach as {@code "/"}.
 *
 * <p>A JVM shutdown hook always stops the broker and deletes its work directory; {@link #close()}
 * does the same earlier.
 */
final class EmbeddedQpid implements AutoCloseable {

    /** The Broker-J release this module depends on. */
    static final String VERSION = "10.1.0";

    private static final String HOST = "localhost";
    private static final String PORT_NAME = "AMQP";
    private static final String USERNAME = "guest";
    private static final String PASSWORD = "guest";

    private final SystemLauncher launcher;
    private final Path workDir;
    private final TestBroker broker;
    private final Thread shutdownHook;
    private final AtomicBoolean stopped = new AtomicBoolean();

    private EmbeddedQpid(SystemLauncher launcher, Path workDir, int port) {
        this.launcher = launcher;
        this.workDir = workDir;
        this.broker = new TestBroker(TestBroker.Kind.EMBEDDED_QPID, HOST, port, USERNAME, PASSWORD, "/");
        this.shutdownHook = new Thread(this::stop, "embedded-qpid-shutdown");
    }

    /**
     * Starts a new broker and waits until its AMQP port accepts connections.
     *
     * @throws IllegalStateException if the broker does not start or its port is not ACTIVE
     */
    static EmbeddedQpid start() {
        Path workDir;
        int port;
        try {
            workDir = Files.createTempDirectory("embedded-qpid-");
            port = freePort();
            Files.writeString(workDir.resolve("initial-config.json"), initialConfig(port));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the embedded Qpid Broker-J work directory", e);
        }
        AtomicReference<SystemConfig<?>> systemConfig = new AtomicReference<>();
        SystemLauncher launcher = new SystemLauncher(new SystemLauncherListener.DefaultSystemLauncherListener() {
            @Override
            public void onContainerResolve(SystemConfig<?> config) {
                systemConfig.set(config);
            }
        });
        EmbeddedQpid qpid = new EmbeddedQpid(launcher, workDir, port);
        Runtime.getRuntime().addShutdownHook(qpid.shutdownHook);
        try {
            launcher.startup(Map.of(
                    "type", "Memory",
                    SystemConfig.INITIAL_CONFIGURATION_LOCATION,
                    workDir.resolve("initial-config.json").toUri().toString(),
                    SystemConfig.STARTUP_LOGGED_TO_SYSTEM_OUT, false,
                    "context", Map.of(SystemConfig.QPID_WORK_DIR, workDir.toString())));
            requireActivePort(systemConfig.get(), port);
        } catch (Exception e) {
            qpid.close();
            throw new IllegalStateException("embedded Qpid Broker-J " + VERSION + " failed to start on "
                    + HOST + ":" + port + " (work dir " + workDir + ")", e);
        }
        return qpid;
    }

    /** Where clients connect: kind {@link TestBroker.Kind#EMBEDDED_QPID}, guest/guest, vhost "/". */
    TestBroker broker() {
        return broker;
    }

    /** Stops the broker and deletes its work directory; idempotent. */
    @Override
    public void close() {
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shutdownInProgress) {
            // the hook is running or about to; nothing left to do
        }
    }

    private void stop() {
        if (stopped.compareAndSet(false, true)) {
            try {
                launcher.shutdown();
            } finally {
                deleteRecursively(workDir);
            }
        }
    }

    private static void requireActivePort(SystemConfig<?> systemConfig, int port) {
        if (systemConfig == null) {
            throw new IllegalStateException("the broker never resolved its system configuration");
        }
        Broker<?> broker = systemConfig.getContainer(Broker.class);
        Port<?> amqp = broker.getPorts().stream()
                .filter(p -> PORT_NAME.equals(p.getName()))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no port named " + PORT_NAME + " in " + broker.getPorts()));
        if (amqp.getState() != State.ACTIVE) {
            throw new IllegalStateException("AMQP port " + port + " is " + amqp.getState() + ", not ACTIVE");
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            return socket.getLocalPort();
        }
    }

    /**
     * The broker's initial configuration: a PLAIN provider usable without TLS, one AMQP 0-9-1 port
     * whose aliases send both the empty name and {@code "/"} to the default node, and one Memory
     * virtual host node holding one Memory virtual host.
     */
    private static String initialConfig(int port) {
        return """
                {
                  "name": "embedded-test-broker",
                  "modelVersion": "9.1",
                  "authenticationproviders": [ {
                    "name": "plain",
                    "type": "Plain",
                    "secureOnlyMechanisms": [],
                    "users": [ { "name": "%s", "type": "managed", "password": "%s" } ]
                  } ],
                  "ports": [ {
                    "name": "%s",
                    "port": %d,
                    "bindingAddress": "%s",
                    "protocols": [ "AMQP_0_9_1" ],
                    "authenticationProvider": "plain",
                    "context": { "qpid.port.closeWhenNoRoute": "false" },
                    "virtualhostaliases": [
                      { "name": "nameAlias", "type": "nameAlias" },
                      { "name": "defaultAlias", "type": "defaultAlias" },
                      { "name": "hostnameAlias", "type": "hostnameAlias" }
                    ]
                  } ],
                  "virtualhostnodes": [ {
                    "name": "default",
                    "type": "Memory",
                    "defaultVirtualHostNode": "true",
                    "virtualHostInitialConfiguration": "{\\"type\\": \\"Memory\\"}"
                  } ]
                }
                """.formatted(USERNAME, PASSWORD, PORT_NAME, port, HOST);
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            System.err.println("[test-broker] could not delete " + dir + ": " + e);
        }
    }
}
