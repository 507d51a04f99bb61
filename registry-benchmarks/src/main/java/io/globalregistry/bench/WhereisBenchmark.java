package io.globalregistry.bench;

import io.globalregistry.Registration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * {@code whereis} of a name owned by another node, on a node of a 3-node cluster on the broker:
 * the lookup every proxied call and send makes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class WhereisBenchmark {

    private BenchCluster cluster;
    private String stringName;
    private List<Object> listName;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        cluster = new BenchCluster(3);
        stringName = "billing-service";
        listName = List.of("room", 42);
        for (int i = 0; i < 1000; i++) {
            cluster.node(1).register("filler-" + i, "target");
        }
        cluster.node(1).register(stringName, "target");
        cluster.node(1).register(listName, "target");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while ((cluster.node(0).whereis(stringName).isEmpty() || cluster.node(0).whereis(listName).isEmpty())
                && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        if (cluster.node(0).whereis(stringName).isEmpty()) {
            throw new IllegalStateException("the name never reached node 0");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        cluster.close();
    }

    @Benchmark
    public Optional<Registration> whereisStringHit() {
        return cluster.node(0).whereis(stringName);
    }

    @Benchmark
    public Optional<Registration> whereisListHit() {
        return cluster.node(0).whereis(listName);
    }
}
