package io.globalregistry.sample.app;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Sample-app JVMs for the multi-JVM tests: each started with {@link ProcessBuilder} on a free port, its
 * output in a log file of its own, stopped by {@link #close()} (every process it started, by its
 * {@link Process} handle). Reads each node over HTTP: {@code /demo/next}, the {@code globalregistry}
 * endpoint, and the {@code TICK} lines of the {@code @GlobalSingleton}'s scheduled method.
 */
final class SampleNodes implements AutoCloseable {

    static final Pattern TICK = Pattern.compile("TICK node=(\\S+) epochSecond=(\\d+) epochMilli=(\\d+)");

    private final Path logs;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    private final ObjectMapper json = JsonMapper.builder().build();
    private final List<Process> processes = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger starts = new AtomicInteger();

    /** One sample-app JVM. */
    record Node(String name, int port, Process process, File log) {
        long pid() {
            return process.pid();
        }
    }

    SampleNodes(Path logs) throws IOException {
        this.logs = logs;
        Files.createDirectories(logs);
    }

    /** Starts a sample-app JVM named {@code name} with {@code args} (Spring Boot command-line properties). */
    Node start(String name, List<String> args) throws IOException {
        return start(name, List.of(), args);
    }

    /** {@link #start(String, List)} with JVM options {@code jvmOptions} (e.g. {@code -Dspring.aot.enabled=true}). */
    Node start(String name, List<String> jvmOptions, List<String> args) throws IOException {
        int port = freePort();
        List<String> command = new ArrayList<>(List.of(
                Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss512k"));
        command.addAll(jvmOptions);
        command.addAll(List.of(
                "-cp", System.getProperty("java.class.path"),
                SampleApplication.class.getName(),
                "--server.port=" + port,
                "--global-registry.node-name=" + name,
                "--server.shutdown=graceful",
                "--spring.main.banner-mode=off"));
        command.addAll(args);
        File log = logs.resolve(name + "-" + starts.incrementAndGet() + ".log").toFile();
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(log)).start();
        processes.add(process);
        return new Node(name, port, process, log);
    }

    /** Waits until {@code node} serves {@code /demo/next}. */
    void awaitServing(Node node, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!node.process().isAlive()) {
                throw new AssertionError(node.name() + " died (see " + node.log() + ")");
            }
            try {
                if (get(node, "/demo/next", Duration.ofSeconds(6)).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            }
            Thread.sleep(100);
        }
        throw new AssertionError(node.name() + " did not serve /demo/next in time (see " + node.log() + ")");
    }

    HttpResponse<String> get(Node node, String path, Duration timeout) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + node.port() + path))
                .timeout(timeout).GET().build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(Node node, String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + node.port() + path))
                .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.noBody()).build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    JsonNode json(String body) {
        return json.readTree(body);
    }

    /**
     * The node {@code node} says owns {@code name} (its {@code globalregistry} endpoint's view), and
     * whether it holds it itself: {@code "local:<owner>"}, {@code "remote:<owner>"}, or null when it
     * knows no owner; null too when it does not answer within {@code timeout}.
     */
    String view(Node node, String name, Duration timeout) {
        try {
            HttpResponse<String> response = get(node, "/actuator/globalregistry", timeout);
            if (response.statusCode() != 200) {
                return null;
            }
            for (JsonNode registration : json.readTree(response.body()).get("registrations")) {
                if (registration.get("name").asString().equals(name)) {
                    String owner = registration.get("owner").asString();
                    return registration.get("state").asString() + ":" + owner.substring(0, owner.indexOf('@'));
                }
            }
            return null;
        } catch (IOException | RuntimeException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Every TICK of the nodes' logs: epoch second -> the nodes that ticked in it. */
    static Map<Long, TreeSet<String>> ticksBySecond(List<Node> nodes) throws IOException {
        Map<Long, TreeSet<String>> bySecond = new TreeMap<>();
        for (Node node : nodes) {
            for (String line : Files.readAllLines(node.log().toPath())) {
                Matcher m = TICK.matcher(line);
                if (m.find()) {
                    bySecond.computeIfAbsent(Long.parseLong(m.group(2)), s -> new TreeSet<>()).add(m.group(1));
                }
            }
        }
        return bySecond;
    }

    /** The epoch milliseconds of {@code node}'s TICK lines. */
    static List<Long> tickMillis(Node node) throws IOException {
        List<Long> millis = new ArrayList<>();
        for (String line : Files.readAllLines(node.log().toPath())) {
            Matcher m = TICK.matcher(line);
            if (m.find()) {
                millis.add(Long.parseLong(m.group(3)));
            }
        }
        return millis;
    }

    /** Sends {@code signal} (e.g. STOP, CONT) to {@code node}'s JVM. */
    static void signal(Node node, String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(node.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IOException("kill -" + signal + " " + node.pid() + " failed");
        }
    }

    /** Stops one node at once (kill -9). */
    static void kill(Node node) throws InterruptedException {
        node.process().destroyForcibly();
        node.process().waitFor(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        synchronized (processes) {
            for (Process process : processes) {
                if (process.isAlive()) {
                    ProcessHandle.of(process.pid()).ifPresent(p -> {
                        try {
                            new ProcessBuilder("kill", "-CONT", Long.toString(p.pid())).start().waitFor();
                        } catch (IOException | InterruptedException ignored) {
                            // it is destroyed next anyway
                        }
                    });
                    process.destroyForcibly();
                }
            }
            for (Process process : processes) {
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
