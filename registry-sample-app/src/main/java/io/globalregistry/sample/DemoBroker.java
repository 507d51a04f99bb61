package io.globalregistry.sample;

import io.globalregistry.test.TestBroker;

/**
 * The demo's broker when no RabbitMQ answers: resolves {@link TestBroker} (the local RabbitMQ if it answers after
 * all, else an embedded Qpid Broker-J in this JVM), prints one line
 * {@code BROKER kind=<kind> host=<host> port=<port> username=<u> password=<p> virtualHost=<vh>} and stays up
 * until killed. {@code demo.sh} reads that line and passes the address to the sample apps.
 */
public final class DemoBroker {

    private DemoBroker() {
    }

    public static void main(String[] args) throws InterruptedException {
        TestBroker broker = TestBroker.get();
        System.out.printf("BROKER kind=%s host=%s port=%d username=%s password=%s virtualHost=%s%n", broker.kind(),
                broker.host(), broker.port(), broker.username(), broker.password(), broker.virtualHost());
        System.out.flush();
        Thread.currentThread().join();
    }
}
