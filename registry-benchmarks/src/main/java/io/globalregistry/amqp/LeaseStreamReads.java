package io.globalregistry.amqp;

import io.globalregistry.protocol.RegistryConfig;

/**
 * For the benchmarks: what a node's lease-stream readers counted, which registry-core keeps
 * package-private ({@link AmqpTransport#leaseStreamReader}, {@link LeaseStream#delivered}). This
 * class lives in the benchmarks' own sources, in registry-core's package (on the class path, not a
 * module, registry-core's jar is not sealed); it reads, never changes anything.
 */
public final class LeaseStreamReads {

    private LeaseStreamReads() {
    }

    /**
     * The heartbeats the lease-stream readers of {@code transport} handed to its node since it
     * started, summed over the {@link RegistryConfig#LEASE_LOGS} logs: one per entry read (each
     * heartbeat is in every log, so a heartbeat read from all three counts three), entries read
     * again after a resubscription, rejected or not heartbeats not included. 0 under liveness
     * {@code broker}.
     */
    public static long heartbeatsRead(AmqpTransport transport) {
        long sum = 0;
        for (int log = 0; log < RegistryConfig.LEASE_LOGS; log++) {
            LeaseStream reader = transport.leaseStreamReader(log);
            if (reader != null) {
                sum += reader.delivered();
            }
        }
        return sum;
    }
}
