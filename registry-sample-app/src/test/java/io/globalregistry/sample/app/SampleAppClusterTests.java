package io.globalregistry.sample.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.globalregistry.test.TestBroker;
import io.globalregistry.test.WithBroker;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Three sample-app JVMs on the real broker: every node's {@code /demo/next} is served by the same owner (one
 * active {@code SequenceService} in the cluster); the owner is killed with {@code kill -9} and a survivor
 * serves again after the failover, whose duration is printed. Each JVM's output goes to
 * {@code target/sample-app-cluster/<node>.log}.
 */
@WithBroker
class SampleAppClusterTests {

    private static final Pattern SERVED_BY = Pattern.compile("\"servedBy\"\\s*:\\s*\"([^\"]+)\"");
    private static final Pattern VALUE = Pattern.compile("\"value\"\\s*:\\s*(\\d+)");

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    @Test
    void ownerWhenKilledShouldBeReplacedByASurvivorServingTheSequence() throws Exception {
        TestBroker broker = TestBroker.get();
        String cluster = "sample-it-" + UUID.randomUUID().toString().substring(0, 8);
        Map<String, Node> nodes = new LinkedHashMap<>();
        try {
            for (String name : List.of("node-1", "node-2", "node-3")) {
                nodes.put(name, start(name, cluster, broker));
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
            for (Node node : nodes.values()) {
                awaitServing(node, deadline);
            }

            List<String> servedBy = new ArrayList<>();
            List<Long> values = new ArrayList<>();
            for (Node node : nodes.values()) {
                String body = get(node, "/demo/next").body();
                servedBy.add(group(SERVED_BY, body));
                values.add(Long.parseLong(group(VALUE, body)));
            }
            System.out.println("/demo/next from node-1..3: servedBy " + servedBy + ", values " + values);
            assertThat(servedBy).as("one active SequenceService").containsOnly(servedBy.get(0));
            assertThat(values).isSorted().doesNotHaveDuplicates();

            String owner = servedBy.get(0);
            Node survivor = nodes.values().stream().filter(node -> !node.name.equals(owner)).findFirst().orElseThrow();
            long killed = System.nanoTime();
            nodes.get(owner).process.destroyForcibly();
            String newOwner = null;
            int failedRequests = 0;
            while (System.nanoTime() - killed < Duration.ofSeconds(20).toNanos()) {
                try {
                    HttpResponse<String> response = get(survivor, "/demo/next");
                    if (response.statusCode() == 200 && !group(SERVED_BY, response.body()).equals(owner)) {
                        newOwner = group(SERVED_BY, response.body());
                        break;
                    }
                    failedRequests++;
                } catch (IOException e) {
                    failedRequests++;
                }
            }
            long gap = (System.nanoTime() - killed) / 1_000_000;
            System.out.printf("kill -9 of owner %s: %s serves /demo/next from %s %d ms later (%d failed requests)%n",
                    owner, survivor.name, newOwner, gap, failedRequests);
            assertThat(newOwner).as("a survivor owns the sequence").isNotNull().isNotEqualTo(owner);
            for (Node node : nodes.values()) {
                if (!node.name.equals(owner)) {
                    assertThat(group(SERVED_BY, get(node, "/demo/next").body())).isEqualTo(newOwner);
                }
            }
        } finally {
            for (Node node : nodes.values()) {
                node.process.destroyForcibly();
            }
            for (Node node : nodes.values()) {
                node.process.waitFor();
            }
        }
    }

    private record Node(String name, int port, Process process) {
    }

    private static Node start(String name, String cluster, TestBroker broker) throws IOException {
        int port = freePort();
        Path logs = Paths.get("target", "sample-app-cluster");
        logs.toFile().mkdirs();
        List<String> command = List.of(
                Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss512k",
                "-cp", System.getProperty("java.class.path"),
                SampleApplication.class.getName(),
                "--server.port=" + port,
                "--spring.rabbitmq.host=" + broker.host(),
                "--spring.rabbitmq.port=" + broker.port(),
                "--spring.rabbitmq.username=" + broker.username(),
                "--spring.rabbitmq.password=" + broker.password(),
                "--spring.rabbitmq.virtual-host=" + broker.virtualHost(),
                "--global-registry.cluster=" + cluster,
                "--global-registry.node-name=" + name,
                "--global-registry.heartbeat-interval=100ms",
                "--global-registry.suspect-after=400ms",
                "--global-registry.fence-after=300ms",
                "--global-registry.claim-timeout=1s",
                "--global-registry.join-window=300ms",
                "--global-registry.call-timeout=5s",
                "--spring.main.banner-mode=off");
        File log = logs.resolve(name + ".log").toFile();
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(log)).start();
        return new Node(name, port, process);
    }

    private void awaitServing(Node node, long deadline) throws InterruptedException {
        while (System.nanoTime() < deadline) {
            assertThat(node.process.isAlive()).as(node.name + " is alive (see its log)").isTrue();
            try {
                if (get(node, "/demo/next").statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            }
            Thread.sleep(200);
        }
        throw new AssertionError(node.name + " did not serve /demo/next in time");
    }

    private HttpResponse<String> get(Node node, String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + node.port + path))
                .timeout(Duration.ofSeconds(10)).GET().build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private static String group(Pattern pattern, String body) {
        Matcher matcher = pattern.matcher(body);
        if (!matcher.find()) {
            throw new AssertionError("unexpected body: " + body);
        }
        return matcher.group(1);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
