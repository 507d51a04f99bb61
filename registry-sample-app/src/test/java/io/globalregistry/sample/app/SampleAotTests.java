package io.globalregistry.sample.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.globalregistry.sample.app.SampleNodes.Node;
import io.globalregistry.test.TestBroker;
import io.globalregistry.test.WithBroker;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The sample app as Spring AOT made it: the build runs the Boot plugin's {@code process-aot} before the tests
 * (registry-sample-app/pom.xml), and two sample-app JVMs start with {@code -Dspring.aot.enabled=true}, so their
 * contexts come from the generated initializer, the {@code @GlobalSingleton} included. One of them owns the
 * singleton; after a {@code kill -9} of it the other serves it. (GraalVM's native-image is not on this machine:
 * the native compile itself is not tried.)
 */
@WithBroker
class SampleAotTests {

    @Test
    void aotProcessedNodesShouldShareOneSingletonAndFailOverAfterKill9(TestBroker broker) throws Exception {
        String cluster = "sample-aot-" + UUID.randomUUID().toString().substring(0, 8);
        try (SampleNodes apps = new SampleNodes(Paths.get("target", "sample-aot"))) {
            List<Node> nodes = new ArrayList<>();
            for (String name : List.of("aot-1", "aot-2")) {
                nodes.add(apps.start(name, List.of("-Dspring.aot.enabled=true"), List.of(
                        "--spring.rabbitmq.host=" + broker.host(),
                        "--spring.rabbitmq.port=" + broker.port(),
                        "--spring.rabbitmq.username=" + broker.username(),
                        "--spring.rabbitmq.password=" + broker.password(),
                        "--spring.rabbitmq.virtual-host=" + broker.virtualHost(),
                        "--global-registry.cluster=" + cluster)));
            }
            for (Node node : nodes) {
                apps.awaitServing(node, Duration.ofSeconds(60));
                assertThat(Files.readString(node.log().toPath())).as(node.name() + " started from the AOT code")
                        .contains("Starting AOT-processed SampleApplication");
            }
            List<String> servedBy = new ArrayList<>();
            for (Node node : nodes) {
                servedBy.add(served(apps, node));
            }
            assertThat(servedBy).as("one owner serves both").hasSize(2).containsOnly(servedBy.get(0));
            Node owner = nodes.stream().filter(n -> n.name().equals(servedBy.get(0))).findFirst().orElseThrow();
            Node survivor = nodes.get(nodes.get(0) == owner ? 1 : 0);

            long killed = System.nanoTime();
            SampleNodes.kill(owner);
            String after = null;
            while (System.nanoTime() - killed < Duration.ofSeconds(20).toNanos()) {
                try {
                    after = served(apps, survivor);
                    if (survivor.name().equals(after)) {
                        break;
                    }
                } catch (java.io.IOException | RuntimeException notYet) {
                    // the old owner's calls fail until the survivor took over
                }
                Thread.sleep(20);
            }
            long millis = (System.nanoTime() - killed) / 1_000_000;
            System.out.println("[aot] two AOT-processed nodes: " + owner.name() + " owned the singleton; after its"
                    + " kill -9 " + survivor.name() + " served it " + millis + " ms later");
            assertThat(after).as("the survivor serves the singleton").isEqualTo(survivor.name());
        }
    }

    private static String served(SampleNodes apps, Node node) throws Exception {
        JsonNode body = apps.json(apps.get(node, "/demo/next", Duration.ofSeconds(6)).body());
        return body.get("servedBy").asString();
    }
}
