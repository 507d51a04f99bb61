package io.globalregistry.bench;

import io.globalregistry.RegistryObserver;
import io.globalregistry.amqp.AmqpGlobalRegistry;
import io.globalregistry.protocol.RegistryConfig;
import io.globalregistry.test.TestBroker;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
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
 * against the same call on the target through a plain interface reference, and the same proxy call
 * on a node with a {@link RegistryObserver} (told of each local call, not timed: here it counts them
 * by outcome).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class LocalCallBenchmark {

    private AmqpGlobalRegistry node;
    private AmqpGlobalRegistry observedNode;
    private BenchService plain;
    private BenchService proxy;
    private BenchService observedProxy;
    private long a = 1;
    private long b = 2;

    /** Counts calls by outcome and adds up the time of remote ones: about the least a real observer does. */
    static final class CountingObserver implements RegistryObserver {
        private final Map<CallOutcome, LongAdder> counts = new EnumMap<>(CallOutcome.class);
        private final LongAdder nanos = new LongAdder();

        CountingObserver() {
            for (CallOutcome outcome : CallOutcome.values()) {
                counts.put(outcome, new LongAdder());
            }
        }

        @Override
        public void callFinished(Duration took, CallOutcome outcome) {
            counts.get(outcome).increment();
            nanos.add(took.toNanos());
        }

        @Override
        public void localCallFinished(CallOutcome outcome) {
            counts.get(outcome).increment();
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        plain = new BenchService.Impl();
        node = start(RegistryObserver.NO_OP);
        proxy = node.proxy("bench-service", BenchService.class);
        observedNode = start(new CountingObserver());
        observedProxy = observedNode.proxy("bench-service", BenchService.class);
    }

    private AmqpGlobalRegistry start(RegistryObserver observer) {
        AmqpGlobalRegistry started = AmqpGlobalRegistry.builder()
                .rabbitConnectionFactory(TestBroker.get().newConnectionFactory())
                .config(RegistryConfig.defaults("bench-local-" + UUID.randomUUID().toString().substring(0, 8)))
                .nodeName("bench-local")
                .observer(observer)
                .start();
        if (!started.register("bench-service", plain).registered()) {
            throw new IllegalStateException("not registered");
        }
        return started;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        BenchCluster.closeAndCleanUp(TestBroker.get(), node);
        BenchCluster.closeAndCleanUp(TestBroker.get(), observedNode);
    }

    @Benchmark
    public long plainInterfaceCall() {
        return plain.add(a, b);
    }

    @Benchmark
    public long localOwnerProxyCall() {
        return proxy.add(a, b);
    }

    @Benchmark
    public long localOwnerProxyCallObserved() {
        return observedProxy.add(a, b);
    }
}
