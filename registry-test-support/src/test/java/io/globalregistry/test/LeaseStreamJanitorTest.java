package io.globalregistry.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.ServiceLoader;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.platform.launcher.LauncherSessionListener;

/** The name rule of {@link LeaseStreamJanitor}: which queues it deletes, which it keeps. */
class LeaseStreamJanitorTest {

    @ParameterizedTest
    @ValueSource(strings = {
        "global-registry.test-1a2b3c4d.lease.0",
        "global-registry.test-1a2b3c4d.lease.1",
        "global-registry.test-1a2b3c4d.lease.2",
        "global-registry.test-00ff00ff.lease.17",
        "global-registry.test-1a2b3c4d.lease",           // the older single stream
        "global-registry.starter-e3b6c223.lease.0",
        "global-registry.starter-e3b6c223.lease",
        "global-registry.sample-it-fc5cea52.lease.2",
        "global-registry.bc-claim-0123abcd.lease.1",
        "global-registry.bc-leader-0123abcd.lease.0",
        "global-registry.bench-89abcdef.lease.2",
    })
    void deletesTheLeaseStreamsOfTestClusters(String queue) {
        assertThat(LeaseStreamJanitor.isTestLeaseStream(queue)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        // the sample app's demo cluster, demo.sh's cluster, clusters people name
        "global-registry.registry-sample.lease.0",
        "global-registry.registry-sample.lease.2",
        "global-registry.registry-sample.lease",
        "global-registry.registry-demo-4242.lease.0",
        "global-registry.shop.lease.0",
        "global-registry.test.lease.0",
        "global-registry.my-test-1a2b3c4d.lease.0",
        // not test-generated: wrong length, upper case, suffixes, other prefixes
        "global-registry.test-1a2b3c4.lease.0",
        "global-registry.test-1a2b3c4d9.lease.0",
        "global-registry.test-1A2B3C4D.lease.0",
        "global-registry.test-1a2b3c4d-x.lease.0",
        "global-registry.bc--0123abcd.lease.0",
        "global-registry.bc-Claim-0123abcd.lease.0",
        // not lease streams of a test cluster
        "global-registry.test-1a2b3c4d",
        "global-registry.test-1a2b3c4d.leader",
        "global-registry.test-1a2b3c4d.node.a-1",
        "global-registry.test-1a2b3c4d.node.x.lease.0",
        "global-registry.test-1a2b3c4d.lease.",
        "global-registry.test-1a2b3c4d.lease.x",
        "global-registry.test-1a2b3c4d.leases.0",
        "global-registry.test-1a2b3c4d.lease.0.copy",
        "other.test-1a2b3c4d.lease.0",
        "test-1a2b3c4d.lease.0",
        "",
    })
    void keepsEverythingElse(String queue) {
        assertThat(LeaseStreamJanitor.isTestLeaseStream(queue)).isFalse();
    }

    @Test
    void deletesOnlyStreamsWithoutConsumers() {
        String listing = """
                name\tconsumers
                global-registry.test-1a2b3c4d.lease.0\t0
                global-registry.test-1a2b3c4d.lease.1\t0
                global-registry.test-feedbeef.lease.0\t3
                global-registry.registry-sample.lease.0\t0
                amq.gen-xyz\t1
                Timeout: 60.0 seconds ...
                """;
        List<LeaseStreamJanitor.Queue> queues = LeaseStreamJanitor.parse(listing);
        assertThat(queues).hasSize(5);
        assertThat(LeaseStreamJanitor.deletable(queues))
                .containsExactly("global-registry.test-1a2b3c4d.lease.0", "global-registry.test-1a2b3c4d.lease.1");
    }

    /** A cluster with one stream consumed is in use: its other streams were just declared, not yet subscribed. */
    @Test
    void keepsTheIdleStreamsOfAClusterWithAConsumedOne() {
        List<LeaseStreamJanitor.Queue> queues = LeaseStreamJanitor.parse("""
                global-registry.test-1a2b3c4d.lease.0	1
                global-registry.test-1a2b3c4d.lease.1	0
                global-registry.test-1a2b3c4d.lease.2	0
                global-registry.test-0badcafe.lease.0	0
                """);
        assertThat(LeaseStreamJanitor.deletable(queues)).containsExactly("global-registry.test-0badcafe.lease.0");
    }

    /** Only what was idle in both listings goes: a cluster that a later listing shows consumed stays. */
    @Test
    void deletesOnlyWhatIsIdleInBothListings() {
        List<LeaseStreamJanitor.Queue> first = LeaseStreamJanitor.parse("""
                global-registry.test-1a2b3c4d.lease.0	0
                global-registry.test-0badcafe.lease.0	0
                """);
        List<LeaseStreamJanitor.Queue> second = LeaseStreamJanitor.parse("""
                global-registry.test-1a2b3c4d.lease.0	2
                global-registry.test-0badcafe.lease.0	0
                global-registry.test-12345678.lease.0	0
                """);
        assertThat(LeaseStreamJanitor.deletable(first, second)).containsExactly("global-registry.test-0badcafe.lease.0");
    }

    @Test
    void onlyLocalBrokersAreListed() {
        assertThat(LeaseStreamJanitor.isLocal("localhost")).isTrue();
        assertThat(LeaseStreamJanitor.isLocal("127.0.0.1")).isTrue();
        assertThat(LeaseStreamJanitor.isLocal("rabbit.example.com")).isFalse();
    }

    @Test
    void isRegisteredWithTheJUnitLauncher() {
        assertThat(ServiceLoader.load(LauncherSessionListener.class).stream().map(ServiceLoader.Provider::type))
                .contains(LeaseStreamJanitor.class);
    }
}
