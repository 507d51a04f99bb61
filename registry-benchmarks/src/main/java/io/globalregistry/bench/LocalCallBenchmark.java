package io.globalregistry.bench;

import io.globalregistry.amqp.AmqpGlobalRegistry;
import io.globalregistry.protocol.RegistryConfig;
import io.globalregistry.test.TestBroker;
import java.util.UUID;
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
 * A proxy call whose owner is this node (direct invocation on the target, no broker, no JSON)
 * against the same call on the target through a plain interface reference.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class LocalCallBenchmark {

    private AmqpGlobalRegistry node;
    private BenchService plain;
    private BenchService proxy;
    private long a = 1;
    private long b = 2;

    @Setup(Level.Trial)
    public void setUp() {
        node = AmqpGlobalRegistry.builder()
                .rabbitConnectionFactory(TestBroker.get().newConnectionFactory())
                .config(RegistryConfig.defaults("bench-local-" + UUID.randomUUID().toString().substring(0, 8)))
                .nodeName("bench-local")
                .start();
        plain = new BenchService.Impl();
        if (!node.register("bench-service", plain).registered()) {
            throw new IllegalStateException("not registered");
        }
        proxy = node.proxy("bench-service", BenchService.class);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        node.close();
    }

    @Benchmark
    public long plainInterfaceCall() {
        return plain.add(a, b);
    }

    @Benchmark
    public long localOwnerProxyCall() {
        return proxy.add(a, b);
    }
}
