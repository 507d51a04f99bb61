package io.globalregistry.test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;

/**
 * Deletes the lease streams that tests leave on the local RabbitMQ: every registry cluster declares
 * the durable streams {@code global-registry.<cluster>.lease.0}, {@code .lease.1}, {@code .lease.2}
 * (older builds: one stream {@code global-registry.<cluster>.lease}), streams cannot auto-expire, and
 * every test makes clusters with fresh random names, so without this each {@code mvn verify} would
 * leave a hundred or more idle streams behind.
 *
 * <p>A JUnit Platform {@link LauncherSessionListener}, registered in
 * {@code META-INF/services/org.junit.platform.launcher.LauncherSessionListener}, so it runs in every
 * test JVM that has this module on its class path (the surefire fork of each module), when the
 * outermost launcher session opens (leftovers of a crashed or killed run) and when it closes. It does
 * not run in the JVMs the multi-JVM tests start ({@code LeaderFailoverTest}, {@code SampleAppClusterTests},
 * {@code SampleNodes}): they get the test JVM's {@code java.class.path}, this module included, but run a
 * {@code main} class ({@code LeaderNodeProcess}, {@code SampleApplication}) and never create a JUnit
 * launcher, and only a launcher loads {@link LauncherSessionListener}s.
 *
 * <h2>Which queues</h2>
 * A queue is deleted only if all of these hold:
 * <ul>
 * <li>its name is {@code global-registry.<cluster>.lease.<digits>} or
 *     {@code global-registry.<cluster>.lease} ({@link #LEASE_STREAM});</li>
 * <li>{@code <cluster>} is a name the tests (and benchmark fixtures) of this build generate
 *     ({@link #TEST_CLUSTER}): {@code <prefix>-<8 lower-case hex digits>} — the first 8 characters
 *     of a random UUID — with prefix
 *     {@code test} (registry-core: {@code ClusterFixture} and the {@code amqp} tests),
 *     {@code starter} (registry-spring-boot-starter: {@code TestCluster}),
 *     {@code sample-it} (registry-sample-app: {@code SampleAppClusterTests}),
 *     {@code bc-<strategy>} with a lower-case strategy such as {@code claim} or {@code leader}
 *     (registry-sample-app: {@code BrokerClusterTests}), {@code kill-<strategy>} (registry-sample-app:
 *     {@code KillFailoverTests}), or
 *     {@code bench} (registry-benchmarks: {@code BenchCluster}).
 *     Anything else is kept, in particular the sample app's demo cluster {@code registry-sample}
 *     ({@code global-registry.cluster} in its {@code application.yml}), {@code demo.sh}'s
 *     {@code registry-demo-<pid>}, and any cluster a person named;</li>
 * <li>it has no consumer: the readers of a live cluster (at least its first node in line, docs/PROTOCOL.md,
 *     "Liveness", rule 7) consume all of its cluster's lease streams,
 *     so this leaves alone the clusters of tests still running in another JVM (a parallel fork, or
 *     another build on the same machine). The consumer count comes from the listing: RabbitMQ ignores
 *     {@code if-unused} when deleting a stream (checked on 3.10.8), so the delete itself cannot guard.
 *     A node declares its cluster's three streams before it subscribes to any (up to seconds on a
 *     broker cluster, where it may wait for a replica), so a stream counts as in use when any stream
 *     of its cluster has a consumer, and only streams idle in two listings {@value #SETTLE_SECONDS} s
 *     apart are deleted (once, in CI, a stream of the starter's tests was deleted in that window by the
 *     janitor of another build on the machine).</li>
 * </ul>
 *
 * <h2>How</h2>
 * AMQP 0-9-1 cannot list queues, so it asks {@code rabbitmqctl -q list_queues -p <vhost> name consumers}
 * (one call, at most {@value #LIST_TIMEOUT_SECONDS} s), which is only possible when {@code rabbitmqctl}
 * is on the {@code PATH} and the broker of {@link TestBroker} is on this host; then it deletes the
 * chosen queues over one AMQP connection to that broker, after checking that it is a RabbitMQ. It
 * skips when the tests of this JVM fell back to the embedded Qpid, when the broker is remote, when
 * {@code rabbitmqctl} is missing, and when the system property {@value #DISABLE_PROPERTY} is
 * {@code false}. It never fails the build: it writes one line on stderr, {@code [lease-janitor] ...},
 * with the count and the time taken, or why it skipped or failed.
 */
public final class LeaseStreamJanitor implements LauncherSessionListener {

    /** A lease stream, either form; group 1 is the cluster name. */
    static final Pattern LEASE_STREAM = Pattern.compile("^global-registry\\.(.+)\\.lease(?:\\.\\d+)?$");

    /** The cluster names this build's tests and benchmark fixtures generate. */
    static final Pattern TEST_CLUSTER =
            Pattern.compile("^(?:test|starter|sample-it|bench|bc-[a-z]+|kill-[a-z]+)-[0-9a-f]{8}$");

    /** {@code -Dglobal-registry.test.lease-janitor=false} turns the cleanup off. */
    static final String DISABLE_PROPERTY = "global-registry.test.lease-janitor";

    static final int LIST_TIMEOUT_SECONDS = 20;

    /** How long apart the two listings are. */
    static final int SETTLE_SECONDS = 3;

    private static final int CONNECT_TIMEOUT_MILLIS = 5_000;

    /** Open launcher sessions in this JVM: cleans when the outermost one opens and when it closes. */
    private static int openSessions;

    @Override
    public void launcherSessionOpened(LauncherSession session) {
        synchronized (LeaseStreamJanitor.class) {
            if (openSessions++ > 0) {
                return;
            }
        }
        clean("session opened");
    }

    @Override
    public void launcherSessionClosed(LauncherSession session) {
        synchronized (LeaseStreamJanitor.class) {
            if (openSessions == 0 || --openSessions > 0) {
                return;
            }
        }
        clean("session closed");
    }

    /** Whether {@code queue} is the lease stream of a cluster that a test of this build made. */
    static boolean isTestLeaseStream(String queue) {
        Matcher lease = LEASE_STREAM.matcher(queue);
        return lease.matches() && TEST_CLUSTER.matcher(lease.group(1)).matches();
    }

    /** One line of {@code rabbitmqctl list_queues name consumers}. */
    record Queue(String name, int consumers) {
    }

    /** Parses tab-separated {@code name consumers} lines; skips what does not parse (headers, warnings). */
    static List<Queue> parse(String listing) {
        List<Queue> queues = new ArrayList<>();
        for (String line : listing.split("\\R")) {
            int tab = line.lastIndexOf('\t');
            if (tab <= 0) {
                continue;
            }
            try {
                queues.add(new Queue(line.substring(0, tab), Integer.parseInt(line.substring(tab + 1).trim())));
            } catch (NumberFormatException e) {
                // a header or a message, not a queue
            }
        }
        return queues;
    }

    /** The names to delete: test lease streams of clusters none of whose lease streams has a consumer. */
    static List<String> deletable(List<Queue> queues) {
        java.util.Set<String> clustersInUse = new java.util.HashSet<>();
        for (Queue queue : queues) {
            Matcher lease = LEASE_STREAM.matcher(queue.name());
            if (queue.consumers() > 0 && lease.matches()) {
                clustersInUse.add(lease.group(1));
            }
        }
        List<String> names = new ArrayList<>();
        for (Queue queue : queues) {
            Matcher lease = LEASE_STREAM.matcher(queue.name());
            if (queue.consumers() == 0 && isTestLeaseStream(queue.name()) && lease.matches()
                    && !clustersInUse.contains(lease.group(1))) {
                names.add(queue.name());
            }
        }
        return names;
    }

    /** Of {@code first}'s deletable names, those still deletable in {@code second}, a later listing. */
    static List<String> deletable(List<Queue> first, List<Queue> second) {
        List<String> still = deletable(second);
        return deletable(first).stream().filter(still::contains).toList();
    }

    private static void clean(String when) {
        long start = System.nanoTime();
        String outcome;
        try {
            outcome = cleanOrSkip();
        } catch (Exception | LinkageError e) {
            outcome = "failed, nothing more done: " + e;
        }
        System.err.printf(Locale.ROOT, "[lease-janitor] %s: %s (%d ms)%n", when, outcome,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    }

    /** Does the work; returns what happened, for the log line. */
    private static String cleanOrSkip() throws IOException, InterruptedException {
        if ("false".equalsIgnoreCase(System.getProperty(DISABLE_PROPERTY, "").trim())) {
            return "skipped, " + DISABLE_PROPERTY + "=false";
        }
        TestBroker resolved = TestBroker.resolvedOrNull();
        if (resolved != null && resolved.kind() != TestBroker.Kind.RABBITMQ) {
            return "skipped, the tests used " + resolved;
        }
        TestBroker broker = resolved != null ? resolved : TestBroker.configured();
        if (!isLocal(broker.host())) {
            return "skipped, the broker " + broker.host() + " is not on this host";
        }
        Path rabbitmqctl = onPath("rabbitmqctl");
        if (rabbitmqctl == null) {
            return "skipped, no rabbitmqctl on the PATH to list queues with";
        }
        List<String> list = List.of(rabbitmqctl.toString(), "-q", "list_queues", "-p", broker.virtualHost(),
                "--no-table-headers", "name", "consumers");
        List<Queue> queues = parse(run(list));
        long others = queues.stream()
                .filter(q -> LEASE_STREAM.matcher(q.name()).matches() && !isTestLeaseStream(q.name())).count();
        List<String> names = deletable(queues);
        if (!names.isEmpty()) {
            Thread.sleep(TimeUnit.SECONDS.toMillis(SETTLE_SECONDS));
            names = deletable(queues, parse(run(list)));
        }
        long inUse = queues.stream().filter(q -> q.consumers() > 0 && isTestLeaseStream(q.name())).count();
        String kept = "kept " + inUse + " in use and " + others + " not of a test cluster";
        if (names.isEmpty()) {
            return "no test lease stream to delete among " + queues.size() + " queue(s) in vhost "
                    + broker.virtualHost() + ", " + kept;
        }
        int deleted = delete(broker, names);
        return "deleted " + deleted + " of " + names.size() + " test lease stream(s) among " + queues.size()
                + " queue(s) on " + broker + ", " + kept;
    }

    /** Deletes over one connection; returns how many deletes the broker confirmed. */
    private static int delete(TestBroker broker, List<String> names) throws IOException {
        ConnectionFactory factory = broker.newConnectionFactory();
        factory.setConnectionTimeout(CONNECT_TIMEOUT_MILLIS);
        factory.setHandshakeTimeout(CONNECT_TIMEOUT_MILLIS);
        factory.setAutomaticRecoveryEnabled(false);
        try (Connection connection = factory.newConnection("lease-janitor")) {
            Object product = connection.getServerProperties().get("product");
            if (product == null || !product.toString().contains("RabbitMQ")) {
                throw new IOException("the broker at " + broker.host() + ":" + broker.port()
                        + " is not a RabbitMQ (product " + product + ")");
            }
            int deleted = 0;
            Channel channel = connection.createChannel();
            for (String name : names) {
                try {
                    channel.queueDelete(name);
                    deleted++;
                } catch (IOException e) {
                    // refused (e.g. access): the channel is closed, go on with a new one
                    channel = connection.createChannel();
                }
            }
            return deleted;
        } catch (TimeoutException e) {
            throw new IOException("no AMQP connection to " + broker.host() + ":" + broker.port() + ": " + e, e);
        }
    }

    /** Runs a command; its standard output, or an exception saying why not. */
    private static String run(List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("lease-janitor", ".out");
        Path err = Files.createTempFile("lease-janitor", ".err");
        try {
            Process process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!process.waitFor(LIST_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + " took over " + LIST_TIMEOUT_SECONDS + " s");
            }
            if (process.exitValue() != 0) {
                String message = Files.readString(err, StandardCharsets.UTF_8).strip().replaceAll("\\s+", " ");
                throw new IOException(String.join(" ", command) + " exited with " + process.exitValue() + ": "
                        + (message.length() > 300 ? message.substring(0, 300) + "..." : message));
            }
            return Files.readString(out, StandardCharsets.UTF_8);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Whether the broker runs on this host, where {@code rabbitmqctl} reaches it. */
    static boolean isLocal(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        return h.equals("localhost") || h.startsWith("127.") || h.equals("::1") || h.equals("[::1]");
    }

    private static Path onPath(String executable) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(Pattern.quote(File.pathSeparator))) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, executable);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }
}
