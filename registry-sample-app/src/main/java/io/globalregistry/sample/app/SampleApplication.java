package io.globalregistry.sample.app;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.scheduling.annotation.EnableScheduling;

/**
 * The sample web application: start it several times (different {@code server.port} and
 * {@code global-registry.node-name}) on one broker and every node serves {@code GET /demo/next} from the one
 * {@link SequenceService} of the cluster; kill its owner and another node takes it over.
 */
@SpringBootApplication
@EnableScheduling
public class SampleApplication {

    public static void main(String[] args) {
        SpringApplication.run(SampleApplication.class, args);
    }
}
