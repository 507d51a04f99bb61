package io.globalregistry.test.cluster;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * A real RabbitMQ cluster of {@code n} nodes on this machine, one node per Linux network
 * namespace, so that tests can cut a broker node off from the others, heal the cut, and kill a
 * node with {@code kill -9}.
 *
 * <h2>Layout</h2>
 * <ul>
 *   <li>A bridge {@code grcbr0} in the root namespace with address {@code <subnet>.1/24}
 *       (default subnet {@code 10.213.77}); clients (the test JVM) reach every node through it.
 *   <li>Node {@code i} runs in namespace {@code grc<i>}, attached to the bridge by the veth pair
 *       {@code grcv<i>} / {@code eth0}, with address {@code <subnet>.<10+i>}; its Erlang node
 *       name is {@code rabbit@<subnet>.<10+i>} (long names, no host name resolution). The
 *       namespace has its own loopback, so the epmd that {@code rabbitmq-server} starts there is
 *       separate from the root namespace's epmd and from the {@code rabbit@localhost} broker.
 *   <li>All state lives under {@code <java.io.tmpdir>/grc-rabbit-cluster/run-*}: per node its
 *       Mnesia directory, logs, {@code rabbitmq.conf}, {@code advanced.config}, enabled plugins
 *       file and an empty {@code rabbitmq-env.conf} (so {@code /etc/rabbitmq/rabbitmq-env.conf} of
 *       the system broker is never read), plus a shared {@code HOME} with the cluster's
 *       {@code .erlang.cookie} (mode 400).
 *   <li>The nodes form the cluster by {@code classic_config} peer discovery; a node that comes
 *       up alone anyway is joined with {@code stop_app / reset / join_cluster / start_app}.
 * </ul>
 *
 * <h2>Faults</h2>
 * {@link #partition(int...)} adds {@code blackhole} routes between the given nodes and the rest,
 * inside both sides' namespaces, so established Erlang distribution connections go silent and time
 * out after {@code net_ticktime}; routes to the bridge address are untouched, so clients in the
 * root namespace still reach every node. {@link #heal()} removes those routes. {@link #kill(int)}
 * sends SIGKILL to the node's {@code beam.smp}, {@link #start(int)} starts it again on the same
 * data directory.
 *
 * <h2>Cleanup</h2>
 * {@link #close()} kills every process in the cluster's namespaces by pid (the beams, their epmds
 * and helpers, as listed by {@code ip netns pids}), deletes the namespaces and the bridge and the
 * run directory. It also runs from a JVM shutdown hook. Whatever a crashed earlier run left behind
 * (namespaces {@code grc<digits>}, links {@code grcbr0}/{@code grcv<digits>}, processes whose
 * command line names the run directory, old run directories) is removed at the next
 * {@link #start(Options)}. One cluster at a time runs on a machine: {@code start} holds a file
 * lock ({@code grc-rabbit-cluster/lock}) until {@code close}, and waits for it if another JVM has
 * it; so whatever carries the prefix when the lock is acquired is stale.
 *
 * <p>Needs root, {@code ip} (iproute2) and the Debian {@code rabbitmq-server} package (or
 * {@code GRC_RABBITMQ_SBIN} / system property {@code grc.rabbitmq.sbin} pointing at a RabbitMQ
 * {@code sbin} directory); see {@link #unavailableReason()} and {@link #assumeAvailable()}.
 */
public final class RabbitCluster implements AutoCloseable {

    /** Prefix of every namespace and link the harness creates. */
    public static final String PREFIX = "grc";
    public static final int AMQP_PORT = 5672;

    private static final String BRIDGE = PREFIX + "br0";
    private static final Pattern STALE_NETNS = Pattern.compile("^(" + PREFIX + "\\d+)\\b");
    private static final Pattern STALE_LINK = Pattern.compile("^\\d+:\\s+(" + PREFIX + "(?:br0|v\\d+))[@:]");
    private static final String RUN_DIR_MARKER = "grc-rabbit-cluster";
    private static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    private static final Duration CMD_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration CTL_TIMEOUT = Duration.ofSeconds(60);

    private static final Semaphore JVM_LOCK = new Semaphore(1);

    /** How to start a cluster. Immutable; every setter returns a copy. */
    public static final class Options {
        private final int nodes;
        private final String partitionHandling;
        private final int netTicktimeSeconds;
        private final String subnet;
        private final Duration startTimeout;
        private final Duration lockTimeout;
        private final List<String> extraConfig;

        private Options(int nodes, String partitionHandling, int netTicktimeSeconds, String subnet,
                Duration startTimeout, Duration lockTimeout, List<String> extraConfig) {
            this.nodes = nodes;
            this.partitionHandling = partitionHandling;
            this.netTicktimeSeconds = netTicktimeSeconds;
            this.subnet = subnet;
            this.startTimeout = startTimeout;
            this.lockTimeout = lockTimeout;
            this.extraConfig = List.copyOf(extraConfig);
        }

        /** {@code n} nodes (1 to 50), {@code ignore}, net_ticktime 10 s, subnet 10.213.77. */
        public static Options nodes(int n) {
            if (n < 1 || n > 50) {
                throw new IllegalArgumentException("nodes must be 1..50: " + n);
            }
            return new Options(n, "ignore", 10, "10.213.77", Duration.ofSeconds(90), Duration.ofMinutes(5), List.of());
        }

        /** {@code cluster_partition_handling}: {@code ignore}, {@code pause_minority} or {@code autoheal}. */
        public Options partitionHandling(String mode) {
            if (!Set.of("ignore", "pause_minority", "autoheal").contains(mode)) {
                throw new IllegalArgumentException("partition handling must be ignore, pause_minority or autoheal: " + mode);
            }
            return new Options(nodes, mode, netTicktimeSeconds, subnet, startTimeout, lockTimeout, extraConfig);
        }

        /** Erlang {@code net_ticktime} of every node (and of {@code rabbitmqctl}). */
        public Options netTicktimeSeconds(int seconds) {
            if (seconds < 1) {
                throw new IllegalArgumentException("net_ticktime must be positive: " + seconds);
            }
            return new Options(nodes, partitionHandling, seconds, subnet, startTimeout, lockTimeout, extraConfig);
        }

        /** The first three octets of the private /24, e.g. {@code "10.213.77"}. */
        public Options subnet(String firstThreeOctets) {
            if (!firstThreeOctets.matches("\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}")) {
                throw new IllegalArgumentException("subnet must be three octets like 10.213.77: " + firstThreeOctets);
            }
            return new Options(nodes, partitionHandling, netTicktimeSeconds, firstThreeOctets, startTimeout, lockTimeout,
                    extraConfig);
        }

        /** How long {@link RabbitCluster#start(Options)} waits for the cluster to form. */
        public Options startTimeout(Duration timeout) {
            return new Options(nodes, partitionHandling, netTicktimeSeconds, subnet, Objects.requireNonNull(timeout),
                    lockTimeout, extraConfig);
        }

        /** How long to wait for a cluster another JVM (or test) is running to close. */
        public Options lockTimeout(Duration timeout) {
            return new Options(nodes, partitionHandling, netTicktimeSeconds, subnet, startTimeout,
                    Objects.requireNonNull(timeout), extraConfig);
        }

        /** Extra lines for every node's {@code rabbitmq.conf}, e.g. {@code "log.file.level = debug"}. */
        public Options config(String... lines) {
            List<String> all = new ArrayList<>(extraConfig);
            all.addAll(Arrays.asList(lines));
            return new Options(nodes, partitionHandling, netTicktimeSeconds, subnet, startTimeout, lockTimeout, all);
        }

        public int nodes() {
            return nodes;
        }

        public String partitionHandling() {
            return partitionHandling;
        }

        public int netTicktimeSeconds() {
            return netTicktimeSeconds;
        }

        @Override
        public String toString() {
            return "nodes=" + nodes + ", partition_handling=" + partitionHandling + ", net_ticktime="
                    + netTicktimeSeconds + "s, subnet=" + subnet + ".0/24";
        }
    }

    private final Options options;
    private final Path runDir;
    private final Path home;
    private final Path sbin;
    private final FileChannel lockChannel;
    private final FileLock fileLock;
    private final Process[] beams;
    private final Set<String> cutRoutes = new LinkedHashSet<>();
    private final List<String> namespaces = new ArrayList<>();
    private boolean bridgeCreated;
    private boolean closed;
    private final Thread shutdownHook;

    private RabbitCluster(Options options, Path runDir, Path sbin, FileChannel lockChannel, FileLock fileLock) {
        this.options = options;
        this.runDir = runDir;
        this.home = runDir.resolve("home");
        this.sbin = sbin;
        this.lockChannel = lockChannel;
        this.fileLock = fileLock;
        this.beams = new Process[options.nodes];
        this.shutdownHook = new Thread(this::closeFromHook, "grc-rabbit-cluster-shutdown");
    }

    // ------------------------------------------------------------------ availability

    /**
     * Why a cluster cannot be started here, or empty if it can: needs Linux, root, {@code ip}
     * with network namespace support, and RabbitMQ's {@code sbin} scripts with {@code erl}.
     */
    public static Optional<String> unavailableReason() {
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
            return Optional.of("RabbitCluster needs Linux (network namespaces); os.name=" + System.getProperty("os.name"));
        }
        String uid = uid();
        if (!"0".equals(uid)) {
            return Optional.of("RabbitCluster needs root (it creates network namespaces and a bridge); uid=" + uid);
        }
        if (findExecutable("ip") == null) {
            return Optional.of("RabbitCluster needs the 'ip' command (iproute2) on PATH");
        }
        Cmd.Result netns = Cmd.run(List.of("ip", "netns", "list"), CMD_TIMEOUT);
        if (!netns.ok()) {
            return Optional.of("'ip netns list' failed: " + netns.stderr().strip());
        }
        Path sbin = findSbin();
        if (sbin == null) {
            return Optional.of("RabbitCluster needs rabbitmq-server: no RabbitMQ sbin directory found (looked at $"
                    + "GRC_RABBITMQ_SBIN, -Dgrc.rabbitmq.sbin, /usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin);"
                    + " apt-get install rabbitmq-server");
        }
        if (findExecutable("erl") == null) {
            return Optional.of("RabbitCluster needs Erlang ('erl' on PATH)");
        }
        return Optional.empty();
    }

    /**
     * For JUnit: returns if a cluster can be started; otherwise prints the reason loudly to
     * stderr and, with {@code CI=true}, fails the test, else aborts it (reported as skipped).
     */
    public static void assumeAvailable() {
        Optional<String> reason = unavailableReason();
        if (reason.isEmpty()) {
            return;
        }
        boolean ci = "true".equalsIgnoreCase(System.getenv("CI"));
        String message = "RabbitCluster unavailable: " + reason.get()
                + (ci ? " -- CI=true, so this FAILS the test." : " -- test ABORTED (skipped); set CI=true to fail instead.");
        System.err.println("\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
        System.err.println("!!! " + message);
        System.err.println("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n");
        if (ci) {
            Assertions.fail(message);
        }
        Assumptions.abort(message);
    }

    private static String uid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return line.substring(4).trim().split("\\s+")[0];
                }
            }
        } catch (IOException e) {
            // fall through
        }
        return "unknown";
    }

    private static Path findExecutable(String name) {
        String path = Optional.ofNullable(System.getenv("PATH")).orElse("") + ":" + PATH;
        for (String dir : path.split(":")) {
            if (!dir.isEmpty()) {
                Path candidate = Path.of(dir, name);
                if (Files.isExecutable(candidate)) {
                    return candidate;
                }
            }
        }
        return null;
    }

    private static Path findSbin() {
        String configured = Optional.ofNullable(System.getProperty("grc.rabbitmq.sbin"))
                .orElse(System.getenv("GRC_RABBITMQ_SBIN"));
        List<Path> candidates = new ArrayList<>();
        if (configured != null && !configured.isBlank()) {
            candidates.add(Path.of(configured));
        }
        Path lib = Path.of("/usr/lib/rabbitmq/lib");
        if (Files.isDirectory(lib)) {
            try (Stream<Path> dirs = Files.list(lib)) {
                dirs.filter(p -> p.getFileName().toString().startsWith("rabbitmq_server-"))
                        .sorted(Comparator.reverseOrder())
                        .forEach(p -> candidates.add(p.resolve("sbin")));
            } catch (IOException e) {
                // ignore
            }
        }
        for (Path candidate : candidates) {
            if (Files.isExecutable(candidate.resolve("rabbitmq-server")) && Files.isExecutable(candidate.resolve("rabbitmqctl"))) {
                return candidate;
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ start

    /**
     * Starts the cluster and returns once every node reports all nodes running.
     *
     * @throws IllegalStateException if the harness cannot run here (see {@link #unavailableReason()})
     *     or the cluster does not form within the start timeout; everything started is cleaned up
     */
    public static RabbitCluster start(Options options) {
        Objects.requireNonNull(options, "options");
        unavailableReason().ifPresent(reason -> {
            throw new IllegalStateException("RabbitCluster unavailable: " + reason);
        });
        long t0 = System.nanoTime();
        Path root = Path.of(System.getProperty("java.io.tmpdir"), RUN_DIR_MARKER);
        FileChannel channel = null;
        FileLock lock = null;
        boolean jvmLocked = false;
        try {
            if (!JVM_LOCK.tryAcquire(options.lockTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("another RabbitCluster in this JVM is still open after " + options.lockTimeout
                        + "; only one cluster runs at a time");
            }
            jvmLocked = true;
            Files.createDirectories(root);
            channel = FileChannel.open(root.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            long deadline = System.nanoTime() + options.lockTimeout.toNanos();
            boolean announced = false;
            while ((lock = channel.tryLock()) == null) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("another process holds " + root.resolve("lock") + " (a RabbitCluster"
                            + " in another JVM) after " + options.lockTimeout);
                }
                if (!announced) {
                    log("waiting for another JVM's RabbitCluster to close (lock " + root.resolve("lock") + ")");
                    announced = true;
                }
                Thread.sleep(500);
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            releaseLocks(channel, lock, jvmLocked);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw e instanceof RuntimeException r ? r : new IllegalStateException("cannot lock " + root, e);
        }

        RabbitCluster cluster;
        try {
            cleanStale(root);
            Path runDir = Files.createDirectories(root.resolve("run-" + System.currentTimeMillis() + "-"
                    + UUID.randomUUID().toString().substring(0, 8)));
            cluster = new RabbitCluster(options, runDir, findSbin(), channel, lock);
        } catch (IOException | RuntimeException e) {
            releaseLocks(channel, lock, true);
            throw e instanceof RuntimeException r ? r : new UncheckedIOException((IOException) e);
        }
        try {
            Runtime.getRuntime().addShutdownHook(cluster.shutdownHook);
            cluster.boot();
        } catch (RuntimeException | Error e) {
            try {
                cluster.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        log(String.format("cluster of %d nodes (%s) up in %.1f s: %s", options.nodes, options,
                (System.nanoTime() - t0) / 1e9, cluster.amqpAddresses()));
        return cluster;
    }

    private static void releaseLocks(FileChannel channel, FileLock lock, boolean jvmLocked) {
        try {
            if (lock != null) {
                lock.release();
            }
            if (channel != null) {
                channel.close();
            }
        } catch (IOException e) {
            // ignore
        }
        if (jvmLocked) {
            JVM_LOCK.release();
        }
    }

    private void boot() {
        checkSubnetFree();
        try {
            Files.createDirectories(home);
            Path cookie = home.resolve(".erlang.cookie");
            Files.writeString(cookie, "GRC" + UUID.randomUUID().toString().replace("-", "").toUpperCase(),
                    StandardCharsets.US_ASCII);
            Files.setPosixFilePermissions(cookie, PosixFilePermissions.fromString("r--------"));
            for (int i = 0; i < options.nodes; i++) {
                writeNodeFiles(i);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the cluster's files under " + runDir, e);
        }
        long t0 = System.nanoTime();
        ip("link", "add", BRIDGE, "type", "bridge");
        bridgeCreated = true;
        ip("addr", "add", bridgeAddress() + "/24", "dev", BRIDGE);
        ip("link", "set", BRIDGE, "up");
        for (int i = 0; i < options.nodes; i++) {
            String ns = namespace(i);
            ip("netns", "add", ns);
            namespaces.add(ns);
            ip("link", "add", veth(i), "type", "veth", "peer", "name", "eth0", "netns", ns);
            ip("link", "set", veth(i), "master", BRIDGE, "up");
            ip("-n", ns, "addr", "add", host(i) + "/24", "dev", "eth0");
            ip("-n", ns, "link", "set", "eth0", "up");
            ip("-n", ns, "link", "set", "lo", "up");
        }
        log(String.format("network (bridge %s %s/24, namespaces %s) in %.2f s", BRIDGE, bridgeAddress(), namespaces,
                (System.nanoTime() - t0) / 1e9));
        t0 = System.nanoTime();
        for (int i = 0; i < options.nodes; i++) {
            launch(i);
        }
        Duration timeout = options.startTimeout;
        long deadline = System.nanoTime() + timeout.toNanos();
        for (int i = 0; i < options.nodes; i++) {
            awaitBooted(i, deadline);
        }
        log(String.format("all %d nodes booted in %.1f s", options.nodes, (System.nanoTime() - t0) / 1e9));
        joinStragglers(deadline);
        awaitRunning(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
    }

    private void checkSubnetFree() {
        String addresses = Cmd.run(List.of("ip", "-o", "-4", "addr", "show"), CMD_TIMEOUT).orThrow();
        String routes = Cmd.run(List.of("ip", "-4", "route", "show"), CMD_TIMEOUT).orThrow();
        String net = options.subnet + ".";
        if (addresses.contains(" " + net) || routes.lines().anyMatch(l -> l.startsWith(net))) {
            throw new IllegalStateException("subnet " + options.subnet + ".0/24 is already in use in the root namespace"
                    + " (ip addr/route); choose another with Options.subnet(...)\n" + addresses + routes);
        }
    }

    private void writeNodeFiles(int i) throws IOException {
        Path dir = nodeDir(i);
        Files.createDirectories(dir.resolve("mnesia"));
        Files.createDirectories(dir.resolve("log"));
        StringBuilder conf = new StringBuilder();
        conf.append("listeners.tcp.default = ").append(AMQP_PORT).append('\n');
        conf.append("loopback_users = none\n");
        conf.append("cluster_partition_handling = ").append(options.partitionHandling).append('\n');
        conf.append("cluster_name = grc-cluster\n");
        conf.append("log.console = false\n");
        conf.append("log.file.level = info\n");
        conf.append("cluster_formation.peer_discovery_backend = classic_config\n");
        for (int n = 0; n < options.nodes; n++) {
            conf.append("cluster_formation.classic_config.nodes.").append(n + 1).append(" = ").append(nodeName(n)).append('\n');
        }
        for (String line : options.extraConfig) {
            conf.append(line).append('\n');
        }
        Files.writeString(dir.resolve("rabbitmq.conf"), conf);
        Files.writeString(dir.resolve("advanced.config"),
                "[{kernel, [{net_ticktime, " + options.netTicktimeSeconds + "}]}].\n");
        // the event exchange: the registry's crash detection (docs/PROTOCOL.md, "Liveness") runs as on a production cluster
        Files.writeString(dir.resolve("enabled_plugins"), "[rabbitmq_event_exchange].\n");
        Files.writeString(dir.resolve("rabbitmq-env.conf"), "# intentionally empty: not /etc/rabbitmq/rabbitmq-env.conf\n");
    }

    private Map<String, String> nodeEnvironment(int i) {
        Path dir = nodeDir(i);
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", PATH);
        env.put("HOME", home.toString());
        env.put("LANG", "C.UTF-8");
        env.put("LC_ALL", "C.UTF-8");
        env.put("RABBITMQ_CONF_ENV_FILE", dir.resolve("rabbitmq-env.conf").toString());
        env.put("RABBITMQ_NODENAME", nodeName(i));
        env.put("RABBITMQ_USE_LONGNAME", "true");
        env.put("RABBITMQ_MNESIA_BASE", dir.resolve("mnesia").toString());
        env.put("RABBITMQ_LOG_BASE", dir.resolve("log").toString());
        env.put("RABBITMQ_CONFIG_FILE", dir.resolve("rabbitmq.conf").toString());
        env.put("RABBITMQ_ADVANCED_CONFIG_FILE", dir.resolve("advanced.config").toString());
        env.put("RABBITMQ_ENABLED_PLUGINS_FILE", dir.resolve("enabled_plugins").toString());
        env.put("RABBITMQ_PID_FILE", dir.resolve("rabbit.pid").toString());
        env.put("RABBITMQ_PLUGINS_EXPAND_DIR", dir.resolve("plugins-expand").toString());
        return env;
    }

    private synchronized void launch(int i) {
        Map<String, String> env = nodeEnvironment(i);
        // Makes the rabbitmq-server script exec erl instead of forking it behind a signal-relaying
        // shell, so the process we start (through 'ip netns exec', which execs too) is beam.smp.
        env.put("RUNNING_UNDER_SYSTEMD", "true");
        ProcessBuilder builder = new ProcessBuilder("ip", "netns", "exec", namespace(i),
                sbin.resolve("rabbitmq-server").toString());
        builder.environment().clear();
        builder.environment().putAll(env);
        builder.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        File out = nodeDir(i).resolve("stdout.log").toFile();
        builder.redirectOutput(ProcessBuilder.Redirect.appendTo(out));
        builder.redirectErrorStream(true);
        try {
            beams[i] = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start node " + i, e);
        }
        log("node " + i + " " + nodeName(i) + " starting, pid " + beams[i].pid());
    }

    private void awaitBooted(int i, long deadline) {
        int relaunches = 0;
        while (true) {
            if (!isRunning(i)) {
                // seen once in CI: the prelaunch's Erlang distribution did not start ('EXIT',nodistribution),
                // as if the namespace's epmd was not listening yet; a second launch finds it
                if (relaunches < MAX_RELAUNCHES && stdoutOf(i).contains("nodistribution")
                        && System.nanoTime() < deadline) {
                    relaunches++;
                    log("node " + i + " " + nodeName(i) + " exited while booting (nodistribution); launching it again");
                    sleep(1000);
                    launch(i);
                    continue;
                }
                throw new IllegalStateException("node " + i + " (" + nodeName(i) + ") exited while booting\n" + diagnostics(i));
            }
            if (!amqpPortOpen(i) && System.nanoTime() < deadline) {
                sleep(250); // cheap; a rabbitmqctl run costs about a CPU second
                continue;
            }
            long seconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(deadline - System.nanoTime()));
            // fails at once while the node has not registered with its epmd yet
            Cmd.Result result = ctl(i, Duration.ofSeconds(seconds + 10), "await_startup", "--timeout", String.valueOf(seconds));
            if (result.ok()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("node " + i + " (" + nodeName(i) + ") did not boot in time: "
                        + result.stderr().strip() + "\n" + diagnostics(i));
            }
            sleep(1000);
        }
    }

    /** How many times a node that exited while booting for want of distribution is launched again. */
    private static final int MAX_RELAUNCHES = 2;

    private String stdoutOf(int i) {
        try {
            return Files.readString(nodeDir(i).resolve("stdout.log"));
        } catch (IOException e) {
            return "";
        }
    }

    private boolean amqpPortOpen(int i) {
        try (java.net.Socket socket = new java.net.Socket()) {
            socket.connect(new java.net.InetSocketAddress(host(i), AMQP_PORT), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Joins every node that booted outside the largest cluster to that cluster (the classic_config race). */
    private void joinStragglers(long deadline) {
        List<Set<Integer>> views = new ArrayList<>();
        for (int i = 0; i < options.nodes; i++) {
            views.add(runningNodes(i));
        }
        Set<Integer> main = views.stream().max(Comparator.comparingInt(Set::size)).orElseThrow();
        if (main.size() == options.nodes) {
            return;
        }
        String seed = nodeName(main.iterator().next());
        for (int i = 0; i < options.nodes; i++) {
            if (!main.contains(i)) {
                log("node " + i + " formed no cluster with " + seed + " (views " + views + "); joining it by join_cluster");
                rabbitmqctl(i, "stop_app");
                rabbitmqctl(i, "reset");
                rabbitmqctl(i, "join_cluster", seed);
                rabbitmqctl(i, "start_app");
            }
        }
    }

    // ------------------------------------------------------------------ addresses

    /** Number of nodes. */
    public int size() {
        return options.nodes;
    }

    public Options options() {
        return options;
    }

    /** IP address of node {@code i}, reachable from the root namespace. */
    public String host(int i) {
        checkIndex(i);
        return options.subnet + "." + (10 + i);
    }

    /** {@code host:5672} of node {@code i}. */
    public String amqpAddress(int i) {
        return host(i) + ":" + AMQP_PORT;
    }

    /** All nodes' {@code host:port}, comma-separated (for {@code spring.rabbitmq.addresses}). */
    public String amqpAddresses() {
        return IntStream.range(0, options.nodes).mapToObj(this::amqpAddress).collect(Collectors.joining(","));
    }

    /** Erlang node name of node {@code i}, {@code rabbit@<ip>}. */
    public String nodeName(int i) {
        return "rabbit@" + host(i);
    }

    /** Network namespace of node {@code i}. */
    public String namespace(int i) {
        return PREFIX + i;
    }

    /** Directory with node {@code i}'s config, Mnesia data and logs ({@code log/}, {@code stdout.log}). */
    public Path nodeDir(int i) {
        return runDir.resolve("node" + i);
    }

    /** The bridge's address in the root namespace (the source address clients connect from). */
    public String bridgeAddress() {
        return options.subnet + ".1";
    }

    private String veth(int i) {
        return PREFIX + "v" + i;
    }

    private void checkIndex(int i) {
        if (i < 0 || i >= options.nodes) {
            throw new IndexOutOfBoundsException("node " + i + " of " + options.nodes);
        }
    }

    // ------------------------------------------------------------------ faults

    /**
     * Cuts the given nodes off from all others (both directions, by blackhole routes inside each
     * side's namespace). Clients in the root namespace still reach every node. Cuts accumulate
     * until {@link #heal()}.
     */
    public synchronized void partition(int... side) {
        checkOpen();
        Set<Integer> a = Arrays.stream(side).boxed().collect(Collectors.toCollection(TreeSet::new));
        if (a.isEmpty()) {
            throw new IllegalArgumentException("partition needs at least one node");
        }
        a.forEach(this::checkIndex);
        long t0 = System.nanoTime();
        for (int x : a) {
            for (int y = 0; y < options.nodes; y++) {
                if (!a.contains(y)) {
                    blackhole(x, y);
                    blackhole(y, x);
                }
            }
        }
        log(String.format("partition: %s cut off from the others in %.0f ms", a, (System.nanoTime() - t0) / 1e6));
    }

    private void blackhole(int from, int to) {
        String key = from + ">" + to;
        if (cutRoutes.add(key)) {
            ip("-n", namespace(from), "route", "replace", "blackhole", host(to) + "/32");
        }
    }

    /** Removes every cut made by {@link #partition(int...)}. */
    public synchronized void heal() {
        checkOpen();
        long t0 = System.nanoTime();
        for (String key : new ArrayList<>(cutRoutes)) {
            String[] parts = key.split(">");
            int from = Integer.parseInt(parts[0]);
            int to = Integer.parseInt(parts[1]);
            ip("-n", namespace(from), "route", "del", "blackhole", host(to) + "/32");
            cutRoutes.remove(key);
        }
        log(String.format("heal: all routes restored in %.0f ms", (System.nanoTime() - t0) / 1e6));
    }

    /** Sends SIGKILL to node {@code i}'s {@code beam.smp} (by pid) and waits until it is gone. */
    public synchronized void kill(int i) {
        checkOpen();
        checkIndex(i);
        Process beam = beams[i];
        if (beam == null || !beam.isAlive()) {
            throw new IllegalStateException("node " + i + " is not running");
        }
        long pid = beam.pid();
        beam.destroyForcibly();
        try {
            if (!beam.waitFor(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("beam.smp pid " + pid + " of node " + i + " survived SIGKILL for 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        log("node " + i + " killed (kill -9 of beam.smp pid " + pid + ")");
    }

    /** Starts a killed node again on its data directory and waits until it has booted. */
    public void start(int i) {
        synchronized (this) {
            checkOpen();
            checkIndex(i);
            if (isRunning(i)) {
                throw new IllegalStateException("node " + i + " is running");
            }
            launch(i);
        }
        awaitBooted(i, System.nanoTime() + options.startTimeout.toNanos());
    }

    /** Whether node {@code i}'s beam.smp process is alive (it may still be booting or paused). */
    public synchronized boolean isRunning(int i) {
        checkIndex(i);
        return beams[i] != null && beams[i].isAlive();
    }

    /** The pid of node {@code i}'s beam.smp, or -1 if it is not running. */
    public synchronized long beamPid(int i) {
        checkIndex(i);
        return isRunning(i) ? beams[i].pid() : -1;
    }

    // ------------------------------------------------------------------ rabbitmqctl

    /**
     * Runs {@code rabbitmqctl -n <node i> --longnames <args...>} inside node {@code i}'s namespace
     * with the cluster's cookie, and returns its stdout. Each argument is passed as is (no
     * splitting): {@code rabbitmqctl(0, "list_queues", "name", "type")}.
     *
     * @throws IllegalStateException with stdout and stderr if it exits non-zero or takes over 60 s
     */
    public String rabbitmqctl(int i, String... args) {
        return ctl(i, CTL_TIMEOUT, args).orThrow();
    }

    /** Like {@link #rabbitmqctl(int, String...)} but returns exit code, stdout and stderr without throwing. */
    public CtlResult tryRabbitmqctl(int i, String... args) {
        Cmd.Result r = ctl(i, CTL_TIMEOUT, args);
        return new CtlResult(r.exitCode(), r.stdout(), r.stderr());
    }

    /** Outcome of a {@code rabbitmqctl} run. */
    public record CtlResult(int exitCode, String stdout, String stderr) {
        public boolean ok() {
            return exitCode == 0;
        }
    }

    private Cmd.Result ctl(int i, Duration timeout, String... args) {
        checkIndex(i);
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace(i),
                sbin.resolve("rabbitmqctl").toString(), "-n", nodeName(i), "--longnames"));
        command.addAll(Arrays.asList(args));
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", PATH);
        env.put("HOME", home.toString());
        env.put("LANG", "C.UTF-8");
        env.put("LC_ALL", "C.UTF-8");
        env.put("RABBITMQ_CONF_ENV_FILE", nodeDir(i).resolve("rabbitmq-env.conf").toString());
        env.put("RABBITMQ_USE_LONGNAME", "true");
        // The CLI names itself rabbitmqcli-<n>-<RABBITMQ_NODENAME>; without this it would be
        // ...@<this host's name>, which the other nodes cannot reach from their namespaces, and
        // commands that gather from every node (list_queues) would hang.
        env.put("RABBITMQ_NODENAME", nodeName(i));
        env.put("RABBITMQ_CTL_ERL_ARGS", "-kernel net_ticktime " + options.netTicktimeSeconds);
        return Cmd.run(command, env, timeout);
    }

    /**
     * The leader of each queue whose name starts with {@code prefix}, as node {@code i} sees it
     * ({@code list_queues name leader}; ask while the cluster is whole): queue name
     * to node index, -1 for a leader that is no node of this cluster or none (a classic queue).
     */
    public Map<String, Integer> queueLeaders(int i, String prefix) {
        String out = rabbitmqctl(i, "list_queues", "--quiet", "--no-table-headers", "name", "leader");
        Map<String, Integer> leaders = new java.util.TreeMap<>();
        for (String line : out.split("\n")) {
            String[] columns = line.trim().split("\t");
            if (columns.length < 1 || !columns[0].startsWith(prefix)) {
                continue;
            }
            String leader = columns.length > 1 ? columns[1].trim() : "";
            int index = -1;
            for (int n = 0; n < options.nodes; n++) {
                if (nodeName(n).equals(leader)) {
                    index = n;
                }
            }
            leaders.put(columns[0], index);
        }
        return leaders;
    }

    private static final Pattern RUNNING_NODES = Pattern.compile("\"running_nodes\"\\s*:\\s*\\[([^\\]]*)\\]");
    private static final Pattern QUOTED = Pattern.compile("\"([^\"]+)\"");

    /**
     * The running nodes as node {@code i} sees them ({@code cluster_status}), as node indexes;
     * empty if node {@code i} does not answer or its rabbit application is not running (e.g.
     * paused by pause_minority).
     */
    public Set<Integer> runningNodes(int i) {
        return runningNodesIn(clusterStatus(i));
    }

    /** Node {@code i}'s {@code cluster_status} as JSON, or null if it does not answer. */
    private String clusterStatus(int i) {
        if (!isRunning(i)) {
            return null;
        }
        Cmd.Result r = ctl(i, CTL_TIMEOUT, "cluster_status", "--formatter", "json", "-q");
        return r.ok() ? r.stdout() : null;
    }

    private Set<Integer> runningNodesIn(String status) {
        Set<Integer> result = new TreeSet<>();
        if (status == null) {
            return result;
        }
        Matcher m = RUNNING_NODES.matcher(status);
        if (m.find()) {
            Matcher q = QUOTED.matcher(m.group(1));
            while (q.find()) {
                String name = q.group(1);
                for (int n = 0; n < options.nodes; n++) {
                    if (nodeName(n).equals(name)) {
                        result.add(n);
                    }
                }
            }
        }
        return result;
    }

    /**
     * Waits until each node in {@code expected} sees exactly the nodes in {@code expected} as
     * running (other nodes are not asked). Returns the time it took.
     */
    public Duration awaitRunningNodes(Set<Integer> expected, Duration timeout) {
        long t0 = System.nanoTime();
        long deadline = t0 + timeout.toNanos();
        while (true) {
            Map<Integer, Set<Integer>> views = new LinkedHashMap<>();
            boolean ok = true;
            for (int i : expected) {
                Set<Integer> view = runningNodes(i);
                views.put(i, view);
                ok &= view.equals(expected);
            }
            if (ok) {
                return Duration.ofNanos(System.nanoTime() - t0);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("after " + timeout + " the nodes' views of running nodes are " + views
                        + ", expected " + expected + " on each of " + expected);
            }
            sleep(500);
        }
    }

    private static final Pattern PARTITIONS = Pattern.compile("\"partitions\"\\s*:\\s*(\\{\\s*\\}|\\[\\s*\\])?");

    /**
     * Whether node {@code i} answers {@code cluster_status} and lists no partition. A partition recorded
     * while the cluster was cut stays listed until the cluster is whole again: after a heal under
     * {@code pause_minority} until the paused side has restarted, under {@code autoheal} until the losing
     * side has (which begins only some seconds after the heal).
     */
    public boolean noPartitionSeenBy(int i) {
        return noPartitionIn(clusterStatus(i));
    }

    private static boolean noPartitionIn(String status) {
        if (status == null) {
            return false;
        }
        Matcher m = PARTITIONS.matcher(status);
        return m.find() && m.group(1) != null;
    }

    /**
     * Waits until every node whose beam is alive sees all of them running and lists no partition, so the
     * next run starts on a whole cluster. Returns the time it took.
     */
    public Duration awaitSettled(Duration timeout) {
        long t0 = System.nanoTime();
        long deadline = t0 + timeout.toNanos();
        Set<Integer> alive = IntStream.range(0, options.nodes).filter(this::isRunning).boxed()
                .collect(Collectors.toCollection(TreeSet::new));
        while (true) {
            boolean ok = true;
            List<String> views = new ArrayList<>();
            for (int i : alive) {
                String status = clusterStatus(i); // one rabbitmqctl per node and round: each costs a CPU second
                boolean whole = runningNodesIn(status).equals(alive) && noPartitionIn(status);
                views.add(i + (status == null ? " does not answer" : " sees " + runningNodesIn(status)
                        + (noPartitionIn(status) ? "" : " and a partition")));
                ok &= whole;
                if (!ok) {
                    break;
                }
            }
            if (ok) {
                return Duration.ofNanos(System.nanoTime() - t0);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("after " + timeout + " the broker cluster is not whole again: " + views);
            }
            sleep(1_000);
        }
    }

    /** {@link #awaitRunningNodes(Set, Duration)} with every node whose beam is alive. */
    public Duration awaitRunning(Duration timeout) {
        Set<Integer> alive = IntStream.range(0, options.nodes).filter(this::isRunning).boxed()
                .collect(Collectors.toCollection(TreeSet::new));
        return awaitRunningNodes(alive, timeout);
    }

    /** The last {@code lines} lines of node {@code i}'s RabbitMQ log. */
    public String logTail(int i, int lines) {
        Path log = nodeDir(i).resolve("log").resolve(nodeName(i) + ".log");
        try {
            List<String> all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log " + log + ": " + e + ")";
        }
    }

    private String diagnostics(int i) {
        String stdout;
        try {
            stdout = Files.readString(nodeDir(i).resolve("stdout.log"));
        } catch (IOException e) {
            stdout = "(none)";
        }
        return "--- stdout of node " + i + ":\n" + tail(stdout, 30) + "\n--- log of node " + i + ":\n" + logTail(i, 30);
    }

    private static String tail(String text, int lines) {
        List<String> all = text.lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    // ------------------------------------------------------------------ close and cleanup

    /**
     * Kills every process in the cluster's namespaces by pid, deletes namespaces, bridge and the
     * run directory, and releases the lock. Idempotent.
     *
     * @throws IllegalStateException if something could not be removed (after trying everything)
     */
    @Override
    public void close() {
        List<String> problems = new ArrayList<>();
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            long t0 = System.nanoTime();
            for (int i = 0; i < options.nodes; i++) {
                if (beams[i] != null && beams[i].isAlive()) {
                    beams[i].destroyForcibly();
                }
            }
            for (String ns : namespaces) {
                problems.addAll(killNamespace(ns));
            }
            for (int i = 0; i < options.nodes; i++) {
                if (beams[i] != null) {
                    try {
                        beams[i].waitFor(5, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
            problems.addAll(killByCommandLine(runDir.toString()));
            // delete the veth pairs explicitly: a deleted namespace frees its end (and so the
            // pair) only asynchronously, and the next start would find grcv<i> still there
            for (int i = 0; i < namespaces.size(); i++) {
                Cmd.Result r = Cmd.run(List.of("ip", "link", "del", veth(i)), CMD_TIMEOUT);
                if (!r.ok() && !r.stderr().contains("Cannot find device")) {
                    problems.add("ip link del " + veth(i) + ": " + r.stderr().strip());
                }
            }
            for (String ns : namespaces) {
                Cmd.Result r = Cmd.run(List.of("ip", "netns", "del", ns), CMD_TIMEOUT);
                if (!r.ok()) {
                    problems.add("ip netns del " + ns + ": " + r.stderr().strip());
                }
            }
            if (bridgeCreated) {
                Cmd.Result r = Cmd.run(List.of("ip", "link", "del", BRIDGE), CMD_TIMEOUT);
                if (!r.ok()) {
                    problems.add("ip link del " + BRIDGE + ": " + r.stderr().strip());
                }
            }
            try {
                deleteRecursively(runDir);
            } catch (IOException e) {
                problems.add("cannot delete " + runDir + ": " + e);
            }
            releaseLocks(lockChannel, fileLock, true);
            log(String.format("closed in %.1f s%s", (System.nanoTime() - t0) / 1e9,
                    problems.isEmpty() ? "" : " with problems: " + problems));
        }
        if (Thread.currentThread() != shutdownHook) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException | IllegalArgumentException e) {
                // shutting down already, or never registered
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalStateException("RabbitCluster cleanup incomplete: " + problems);
        }
    }

    private void closeFromHook() {
        try {
            close();
        } catch (RuntimeException e) {
            System.err.println("[RabbitCluster] shutdown hook: " + e.getMessage());
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("cluster is closed");
        }
    }

    /** SIGKILLs every pid in {@code ns} until none is left; returns problems. */
    private static List<String> killNamespace(String ns) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (true) {
            Cmd.Result r = Cmd.run(List.of("ip", "netns", "pids", ns), CMD_TIMEOUT);
            if (!r.ok()) {
                return List.of(); // the namespace does not exist (any more)
            }
            List<Long> pids = r.stdout().lines().map(String::strip).filter(s -> s.matches("\\d+"))
                    .map(Long::parseLong).toList();
            if (pids.isEmpty()) {
                return List.of();
            }
            if (System.nanoTime() > deadline) {
                return List.of("processes " + pids + " in namespace " + ns + " survive SIGKILL");
            }
            for (long pid : pids) {
                if (pid != ProcessHandle.current().pid()) {
                    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
            sleep(200);
        }
    }

    /** SIGKILLs every process whose command line contains {@code marker}; returns problems. */
    private static List<String> killByCommandLine(String marker) {
        List<String> problems = new ArrayList<>();
        long self = ProcessHandle.current().pid();
        List<ProcessHandle> victims = ProcessHandle.allProcesses()
                .filter(p -> p.pid() != self)
                .filter(p -> commandLine(p.pid()).contains(marker))
                .toList();
        for (ProcessHandle p : victims) {
            log("killing leftover pid " + p.pid() + ": " + abbreviate(commandLine(p.pid())));
            p.destroyForcibly();
        }
        for (ProcessHandle p : victims) {
            try {
                p.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                if (p.isAlive()) {
                    problems.add("pid " + p.pid() + " survives SIGKILL");
                }
            }
        }
        return problems;
    }

    private static String commandLine(long pid) {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc", String.valueOf(pid), "cmdline"));
            return new String(raw, StandardCharsets.UTF_8).replace('\0', ' ');
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 160 ? s : s.substring(0, 160) + "...";
    }

    /**
     * Removes what a crashed earlier run left: processes in {@code grc<digits>} namespaces and
     * those namespaces, {@code grcbr0}/{@code grcv<digits>} links, processes whose command line
     * names a run directory, and old run directories. Called with the machine-wide lock held.
     */
    private static void cleanStale(Path root) throws IOException {
        List<String> found = new ArrayList<>();
        String list = Cmd.run(List.of("ip", "netns", "list"), CMD_TIMEOUT).orThrow();
        for (String line : list.lines().toList()) {
            Matcher m = STALE_NETNS.matcher(line.strip());
            if (m.find()) {
                String ns = m.group(1);
                found.add("namespace " + ns);
                List<String> problems = killNamespace(ns);
                if (!problems.isEmpty()) {
                    throw new IllegalStateException("cannot clean stale namespace " + ns + ": " + problems);
                }
                Cmd.run(List.of("ip", "netns", "del", ns), CMD_TIMEOUT).orThrow();
            }
        }
        List<String> problems = killByCommandLine(root.toString() + "/run-");
        if (!problems.isEmpty()) {
            throw new IllegalStateException("cannot kill stale processes: " + problems);
        }
        String links = Cmd.run(List.of("ip", "-o", "link", "show"), CMD_TIMEOUT).orThrow();
        for (String line : links.lines().toList()) {
            Matcher m = STALE_LINK.matcher(line);
            if (m.find()) {
                String link = m.group(1);
                found.add("link " + link);
                Cmd.Result r = Cmd.run(List.of("ip", "link", "del", link), CMD_TIMEOUT);
                if (!r.ok() && !r.stderr().contains("Cannot find device")) {
                    throw new IllegalStateException("cannot delete stale link " + link + ": " + r.stderr().strip());
                }
            }
        }
        try (Stream<Path> entries = Files.list(root)) {
            for (Path p : entries.filter(p -> p.getFileName().toString().startsWith("run-")).toList()) {
                found.add("directory " + p);
                deleteRecursively(p);
            }
        }
        if (!found.isEmpty()) {
            log("cleaned up after an earlier run: " + found);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    private static void ip(String... args) {
        List<String> command = new ArrayList<>();
        command.add("ip");
        command.addAll(Arrays.asList(args));
        Cmd.run(command, CMD_TIMEOUT).orThrow();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static void log(String message) {
        System.err.println("[RabbitCluster] " + message);
    }
}
