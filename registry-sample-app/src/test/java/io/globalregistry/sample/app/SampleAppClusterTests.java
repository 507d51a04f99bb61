package io.globalregistry.sample.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.globalregistry.test.TestBroker;
import io.globalregistry.test.WithBroker;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Three sample-app JVMs on the real broker (each started with {@link ProcessBuilder}, random free ports, output
 * in {@code target/sample-app-cluster/<node>-<start>.log}), one cluster for the whole class, in order:
 * <ol>
 * <li>started at the same moment, every node's {@code /demo/next} is served by the same owner;</li>
 * <li>the actuator's health, {@code globalregistry} endpoint and {@code global.registry.*} meters (members, calls,
 * registration timers) over HTTP;</li>
 * <li>a graceful stop (SIGTERM) of the owner while a client calls a survivor every 10 ms: no failed call;</li>
 * <li>{@code kill -9} of the owner, several rounds (the killed node restarted in between): failover times, and the
 * new owner's {@code global.registry.failovers} meter;</li>
 * <li>the {@code @Scheduled} tick (logged as {@code TICK node=.. epochSecond=..}) never ran on two nodes in the
 * same second, over the whole run.</li>
 * </ol>
 * Every JVM is destroyed in {@link #stopAll()}.
 */
@WithBroker
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SampleAppClusterTests {

    private static final List<String> NAMES = List.of("node-1", "node-2", "node-3");
    private static final Path LOGS = Paths.get("target", "sample-app-cluster");
    private static final Pattern TICK = Pattern.compile("TICK node=(\\S+) epochSecond=(\\d+) epochMilli=(\\d+)");
    private static final int MAX_KILL_ROUNDS = 5;
    private static final int MIN_KILL_ROUNDS = 5;
    private static final Duration KILL_ROUNDS_BUDGET = Duration.ofSeconds(20);

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    private final ObjectMapper json = JsonMapper.builder().build();
    private final Map<String, Node> nodes = new LinkedHashMap<>();
    private final List<Process> allProcesses = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger starts = new AtomicInteger();
    private TestBroker broker;
    private String cluster;

    @BeforeAll
    void startCluster() throws Exception {
        broker = TestBroker.get();
        cluster = "sample-it-" + UUID.randomUUID().toString().substring(0, 8);
        Files.createDirectories(LOGS);
        try (Stream<Path> old = Files.list(LOGS)) {
            for (Path log : old.filter(path -> path.toString().endsWith(".log")).toList()) {
                Files.delete(log);
            }
        }
        // (a) the three JVMs at the same moment: ports first, then one start after the other without waiting
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (String name : NAMES) {
            ports.put(name, freePort());
        }
        for (String name : NAMES) {
            nodes.put(name, start(name, ports.get(name)));
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(45).toNanos();
        for (Node node : nodes.values()) {
            awaitServing(node, deadline);
        }
    }

    @AfterAll
    void stopAll() throws InterruptedException {
        synchronized (allProcesses) {
            for (Process process : allProcesses) {
                process.destroyForcibly();
            }
            for (Process process : allProcesses) {
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    @Order(1)
    void nodesStartedTogetherShouldHaveExactlyOneActiveSingleton() throws Exception {
        List<String> servedBy = new ArrayList<>();
        List<Long> values = new ArrayList<>();
        for (Node node : nodes.values()) {
            JsonNode body = json.readTree(get(node, "/demo/next").body());
            servedBy.add(body.get("servedBy").asString());
            values.add(body.get("value").asLong());
        }
        System.out.println("(a) /demo/next from node-1..3: servedBy " + servedBy + ", values " + values);
        assertThat(servedBy).as("one active SequenceService").containsOnly(servedBy.get(0));
        assertThat(servedBy.get(0)).isIn(NAMES);
        assertThat(values).isSorted().doesNotHaveDuplicates();

        // exactly one node holds the sequence locally
        List<String> localOn = new ArrayList<>();
        for (Node node : nodes.values()) {
            JsonNode registrations = json.readTree(get(node, "/actuator/globalregistry").body()).get("registrations");
            for (JsonNode registration : registrations) {
                if (registration.get("name").asString().equals("\"sequence\"")
                        && registration.get("state").asString().equals("local")) {
                    localOn.add(node.name);
                }
            }
        }
        assertThat(localOn).containsExactly(servedBy.get(0));
    }

    @Test
    @Order(2)
    void actuatorShouldShowHealthRegistrationsAndMembers() throws Exception {
        String owner = owner();
        Node node = nodes.get(owner);

        HttpResponse<String> healthResponse = get(node, "/actuator/health");
        assertThat(healthResponse.statusCode()).isEqualTo(200);
        JsonNode health = json.readTree(healthResponse.body());
        System.out.println("(b) /actuator/health globalRegistry: " + health.path("components").path("globalRegistry"));
        assertThat(health.get("status").asString()).isEqualTo("UP");
        JsonNode component = health.path("components").path("globalRegistry");
        assertThat(component.path("status").asString()).isEqualTo("UP");
        assertThat(component.path("details").path("node").asString()).startsWith(owner);
        assertThat(component.path("details").path("members").asInt()).isEqualTo(3);
        assertThat(component.path("details").path("ownedNames").asInt()).isEqualTo(2);

        HttpResponse<String> endpointResponse = get(node, "/actuator/globalregistry");
        assertThat(endpointResponse.statusCode()).isEqualTo(200);
        JsonNode endpoint = json.readTree(endpointResponse.body());
        System.out.println("(b) /actuator/globalregistry: " + endpoint);
        String nodeId = endpoint.get("node").asString();
        assertThat(nodeId).startsWith(owner);
        assertThat(endpoint.get("strategy").asString()).isEqualTo("claim");
        assertThat(endpoint.get("members")).hasSize(3);
        assertThat(endpoint.get("lastHeartbeats").propertyNames()).hasSize(2) // the two other members
                .allSatisfy(member -> assertThat(java.time.Instant.parse(endpoint.get("lastHeartbeats").get(member).asString()))
                        .isAfter(java.time.Instant.now().minusSeconds(5)));
        Map<String, JsonNode> byName = new TreeMap<>();
        for (JsonNode registration : endpoint.get("registrations")) {
            byName.put(registration.get("name").asString(), registration);
        }
        assertThat(byName).containsOnlyKeys("\"sequence\"", "[\"global-singleton\",\"sequence\"]");
        for (JsonNode registration : byName.values()) {
            assertThat(registration.get("state").asString()).isEqualTo("local");
            assertThat(registration.get("owner").asString()).isEqualTo(nodeId);
            assertThat(java.time.Instant.parse(registration.get("since").asString())).isBefore(java.time.Instant.now());
            assertThat(registration.get("fencingToken").isNumber()).isTrue();
            assertThat(registration.get("fencingToken").asLong()).isPositive();
        }
        // a non-owner sees the same registrations as remote, owned by the same node
        Node other = nodes.values().stream().filter(n -> !n.name.equals(owner)).findFirst().orElseThrow();
        JsonNode remote = json.readTree(get(other, "/actuator/globalregistry/sequence").body());
        assertThat(remote.get("state").asString()).isEqualTo("remote");
        assertThat(remote.get("owner").asString()).isEqualTo(nodeId);
        assertThat(remote.get("fencingToken").asLong()).isEqualTo(byName.get("\"sequence\"").get("fencingToken").asLong());

        HttpResponse<String> metricResponse = get(node, "/actuator/metrics/global.registry.members");
        assertThat(metricResponse.statusCode()).isEqualTo(200);
        JsonNode metric = json.readTree(metricResponse.body());
        System.out.println("(b) /actuator/metrics/global.registry.members: " + metric);
        assertThat(metric.get("name").asString()).isEqualTo("global.registry.members");
        assertThat(metric.get("measurements").get(0).get("value").asDouble()).isEqualTo(3.0);

        // (a) called /demo/next once on every node: a local call on the owner, a remote one elsewhere
        double localCalls = measurement(node, "global.registry.calls.local", "COUNT", "outcome:ok");
        double remoteCalls = measurement(other, "global.registry.calls", "COUNT", "outcome:ok");
        double won = measurement(node, "global.registry.registrations", "COUNT", "outcome:won");
        double registrationsElsewhere = measurement(other, "global.registry.registrations", "COUNT");
        System.out.printf("(b) /actuator/metrics: owner %s made %.0f local calls and won %.0f registrations "
                + "(guard and name); %s made %.0f remote calls and %.0f registrations%n", owner, localCalls, won,
                other.name, remoteCalls, registrationsElsewhere);
        assertThat(localCalls).isGreaterThanOrEqualTo(1);
        assertThat(remoteCalls).isGreaterThanOrEqualTo(1);
        assertThat(won).isGreaterThanOrEqualTo(2);
        assertThat(registrationsElsewhere).as("its claim of the guard, lost").isGreaterThanOrEqualTo(1);
        assertThat(measurement(other, "global.registry.calls", "TOTAL_TIME", "outcome:ok")).isPositive();
        assertThat(measurement(node, "global.registry.failovers", "COUNT")).as("nothing failed over yet").isZero();
    }

    /** One statistic of a meter from {@code /actuator/metrics/{name}}, for the tags {@code key:value} given. */
    private double measurement(Node node, String meter, String statistic, String... tags)
            throws IOException, InterruptedException {
        StringBuilder path = new StringBuilder("/actuator/metrics/").append(meter);
        for (int i = 0; i < tags.length; i++) {
            path.append(i == 0 ? '?' : '&').append("tag=").append(tags[i]);
        }
        HttpResponse<String> response = get(node, path.toString());
        assertThat(response.statusCode()).as(path + " on " + node.name).isEqualTo(200);
        for (JsonNode measurement : json.readTree(response.body()).get("measurements")) {
            if (measurement.get("statistic").asString().equals(statistic)) {
                return measurement.get("value").asDouble();
            }
        }
        throw new AssertionError("no " + statistic + " in " + response.body());
    }

    @Test
    @Order(3)
    void gracefulStopOfTheOwnerShouldFailNoCall() throws Exception {
        String owner = owner();
        Node stopping = nodes.get(owner);
        Node survivor = nodes.values().stream().filter(n -> !n.name.equals(owner)).findFirst().orElseThrow();

        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger ok = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        AtomicLong longestGap = new AtomicLong();
        AtomicReference<String> lastServedBy = new AtomicReference<>();
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        Thread client = new Thread(() -> {
            long lastOk = System.nanoTime();
            while (running.get()) {
                try {
                    HttpResponse<String> response = get(survivor, "/demo/next");
                    long now = System.nanoTime();
                    if (response.statusCode() == 200) {
                        ok.incrementAndGet();
                        longestGap.accumulateAndGet((now - lastOk) / 1_000_000, Math::max);
                        lastOk = now;
                        lastServedBy.set(json.readTree(response.body()).get("servedBy").asString());
                    } else {
                        failed.incrementAndGet();
                        failures.add(response.statusCode() + " " + response.body());
                    }
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    return;
                } catch (IOException | RuntimeException e) {
                    failed.incrementAndGet();
                    failures.add(e.toString());
                }
            }
        }, "graceful-client");
        client.start();
        try {
            Thread.sleep(300);
            long stopped = System.nanoTime();
            stopping.process.destroy();
            assertThat(stopping.process.waitFor(20, TimeUnit.SECONDS)).as(owner + " exits on SIGTERM").isTrue();
            long exitMillis = (System.nanoTime() - stopped) / 1_000_000;
            long waitUntil = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while ((lastServedBy.get() == null || lastServedBy.get().equals(owner)) && System.nanoTime() < waitUntil) {
                Thread.sleep(10);
            }
            Thread.sleep(300);
            running.set(false);
            client.join(15_000);
            System.out.printf("(c) SIGTERM of owner %s (exited after %d ms): %d calls on %s, %d failed, "
                    + "longest gap between answers %d ms, now served by %s%n", owner, exitMillis, ok.get(),
                    survivor.name, failed.get(), longestGap.get(), lastServedBy.get());
            assertThat(failures).as("failed calls during the graceful handover").isEmpty();
            assertThat(lastServedBy.get()).isNotNull().isNotEqualTo(owner).isIn(NAMES);
            assertThat(Files.readString(stopping.log.toPath())).as("the old owner destroyed its bean")
                    .contains("Sequence stopped on " + owner);
        } finally {
            running.set(false);
            client.interrupt();
            client.join(5_000);
        }
        Node restarted = start(owner, freePort());
        nodes.put(owner, restarted);
        awaitServing(restarted, System.nanoTime() + Duration.ofSeconds(30).toNanos());
    }

    @Test
    @Order(4)
    void killedOwnerShouldBeReplacedRoundAfterRound() throws Exception {
        long phaseStarted = System.nanoTime();
        List<Long> failovers = new ArrayList<>();
        for (int round = 1; round <= MAX_KILL_ROUNDS; round++) {
            if (round > MIN_KILL_ROUNDS && System.nanoTime() - phaseStarted > KILL_ROUNDS_BUDGET.toNanos()) {
                break;
            }
            String owner = owner();
            Node survivor = nodes.values().stream().filter(n -> !n.name.equals(owner)).findFirst().orElseThrow();
            long killed = System.nanoTime();
            nodes.get(owner).process.destroyForcibly();
            String newOwner = null;
            int failedRequests = 0;
            while (System.nanoTime() - killed < Duration.ofSeconds(20).toNanos()) {
                try {
                    HttpResponse<String> response = get(survivor, "/demo/next");
                    if (response.statusCode() == 200) {
                        String servedBy = json.readTree(response.body()).get("servedBy").asString();
                        if (!servedBy.equals(owner)) {
                            newOwner = servedBy;
                            break;
                        }
                    }
                    failedRequests++;
                } catch (IOException e) {
                    failedRequests++;
                }
                Thread.sleep(10);
            }
            long millis = (System.nanoTime() - killed) / 1_000_000;
            System.out.printf("(d) round %d: kill -9 of owner %s: %s serves /demo/next from %s %d ms later "
                    + "(%d failed requests)%n", round, owner, survivor.name, newOwner, millis, failedRequests);
            assertThat(newOwner).as("a survivor owns the sequence").isNotNull().isNotEqualTo(owner);
            failovers.add(millis);
            Node takenOverBy = nodes.get(newOwner);
            // counted once the bean is registered, which the survivor's call may beat by a moment
            await().atMost(Duration.ofSeconds(2)).until(() -> measurement(takenOverBy, "global.registry.failovers",
                    "COUNT", "reason:owner_down") >= 1);
            double counted = measurement(takenOverBy, "global.registry.failovers", "COUNT", "reason:owner_down");
            System.out.printf("(d) round %d: global.registry.failovers{reason=owner_down} on %s: %.0f%n", round,
                    newOwner, counted);
            assertThat(counted).as("the new owner counted the failover").isGreaterThanOrEqualTo(1);
            for (Node node : nodes.values()) {
                if (!node.name.equals(owner)) {
                    assertThat(json.readTree(get(node, "/demo/next").body()).get("servedBy").asString())
                            .isEqualTo(newOwner);
                }
            }
            nodes.get(owner).process.waitFor(10, TimeUnit.SECONDS);
            Node restarted = start(owner, freePort());
            nodes.put(owner, restarted);
            awaitServing(restarted, System.nanoTime() + Duration.ofSeconds(30).toNanos());
        }
        List<Long> sorted = new ArrayList<>(failovers);
        Collections.sort(sorted);
        System.out.printf("(d) kill -9 failover over %d rounds: %s ms, p50 %d ms, max %d ms%n", failovers.size(),
                failovers, sorted.get((sorted.size() - 1) / 2), sorted.get(sorted.size() - 1));
        assertThat(failovers).hasSizeGreaterThanOrEqualTo(MIN_KILL_ROUNDS);
    }

    @Test
    @Order(5)
    void scheduledTickShouldNeverRunOnTwoNodesInTheSameSecond() throws Exception {
        Thread.sleep(1_100); // at least one more tick on the current owner
        Map<Long, Set<String>> nodesBySecond = new TreeMap<>();
        int ticks = 0;
        try (Stream<Path> logs = Files.list(LOGS)) {
            for (Path log : logs.filter(path -> path.toString().endsWith(".log")).toList()) {
                for (String line : Files.readAllLines(log)) {
                    Matcher matcher = TICK.matcher(line);
                    if (matcher.find()) {
                        ticks++;
                        nodesBySecond.computeIfAbsent(Long.parseLong(matcher.group(2)), s -> new TreeSet<>())
                                .add(matcher.group(1));
                    }
                }
            }
        }
        Map<Long, Set<String>> clashes = new TreeMap<>();
        nodesBySecond.forEach((second, names) -> {
            if (names.size() > 1) {
                clashes.put(second, names);
            }
        });
        Set<String> tickers = new TreeSet<>();
        nodesBySecond.values().forEach(tickers::addAll);
        System.out.printf("(e) %d TICK lines in %d seconds from %s; seconds with ticks from two nodes: %s%n", ticks,
                nodesBySecond.size(), tickers, clashes);
        assertThat(ticks).isGreaterThan(5);
        assertThat(tickers).as("the tick moved with the owner").hasSizeGreaterThan(1);
        assertThat(clashes).as("seconds in which two nodes ticked").isEmpty();
    }

    private record Node(String name, int port, Process process, File log) {
    }

    /** The current owner's name, as served by {@code /demo/next} on a live node. */
    private String owner() throws IOException, InterruptedException {
        for (Node node : nodes.values()) {
            if (node.process.isAlive()) {
                HttpResponse<String> response = get(node, "/demo/next");
                if (response.statusCode() == 200) {
                    return json.readTree(response.body()).get("servedBy").asString();
                }
            }
        }
        throw new AssertionError("no live node serves /demo/next");
    }

    private Node start(String name, int port) throws IOException {
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
                "--server.shutdown=graceful",
                "--spring.main.banner-mode=off");
        File log = LOGS.resolve(name + "-" + starts.incrementAndGet() + ".log").toFile();
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(log)).start();
        allProcesses.add(process);
        return new Node(name, port, process, log);
    }

    private void awaitServing(Node node, long deadline) throws InterruptedException {
        while (System.nanoTime() < deadline) {
            assertThat(node.process.isAlive()).as(node.name + " is alive (see " + node.log + ")").isTrue();
            try {
                if (get(node, "/demo/next").statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            }
            Thread.sleep(100);
        }
        throw new AssertionError(node.name + " did not serve /demo/next in time (see " + node.log + ")");
    }

    private HttpResponse<String> get(Node node, String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + node.port + path))
                .timeout(Duration.ofSeconds(10)).GET().build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
