package io.globalregistry.sample;

import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.MessageHandler;
import io.globalregistry.OwnerChange;
import io.globalregistry.Registration;
import io.globalregistry.RegistrationResult;
import io.globalregistry.amqp.AmqpGlobalRegistry;
import io.globalregistry.test.TestBroker;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The core demo: three registry nodes on the broker (own connection each) race for one name,
 * every node finds the owner and sends to it, the owner's connection is cut abruptly, and a
 * standby takes the name over; prints how long that took.
 */
public final class CoreDemo {

    /** A message for the billing service. */
    public record Invoice(String customer, long cents) {
    }

    /** What runs under the name on its owner. */
    static final class Billing implements MessageHandler<Invoice> {
        private final String node;
        private final CountDownLatch received;

        Billing(String node, CountDownLatch received) {
            this.node = node;
            this.received = received;
        }

        @Override
        public void onMessage(Invoice invoice) {
            System.out.printf("  [%s] billing got %s%n", node, invoice);
            received.countDown();
        }
    }

    public static void main(String[] args) throws Exception {
        TestBroker broker = TestBroker.get();
        String cluster = "demo-" + UUID.randomUUID().toString().substring(0, 6);
        System.out.println("== broker " + broker + ", cluster " + cluster);
        List<AmqpGlobalRegistry> nodes = new ArrayList<>();
        for (String name : List.of("alpha", "bravo", "charlie")) {
            nodes.add(AmqpGlobalRegistry.builder().rabbitConnectionFactory(broker.newConnectionFactory())
                    .cluster(cluster).nodeName(name).start());
        }
        try {
            CountDownLatch received = new CountDownLatch(3);
            System.out.println("== three nodes race for the name \"billing\"");
            List<Thread> racers = new ArrayList<>();
            for (AmqpGlobalRegistry node : nodes) {
                Thread t = new Thread(() -> System.out.printf("  [%s] register(\"billing\") -> %s%n",
                        node.nodeId().name(), node.register("billing", new Billing(node.nodeId().name(), received))));
                racers.add(t);
                t.start();
            }
            for (Thread t : racers) {
                t.join();
            }
            Thread.sleep(200);
            for (AmqpGlobalRegistry node : nodes) {
                System.out.printf("  [%s] whereis(\"billing\") -> %s%n", node.nodeId().name(),
                        node.whereis("billing").map(r -> r.owner() + " (" + r.state() + ")").orElse("nobody"));
            }
            System.out.println("== every node sends an invoice to \"billing\"");
            for (AmqpGlobalRegistry node : nodes) {
                node.send("billing", new Invoice(node.nodeId().name() + "-customer", 1999));
            }
            received.await(5, TimeUnit.SECONDS);

            AmqpGlobalRegistry owner = owner(nodes);
            List<AmqpGlobalRegistry> survivors = new ArrayList<>(nodes);
            survivors.remove(owner);
            CountDownLatch decided = new CountDownLatch(survivors.size());
            long[] tookOver = new long[1];
            AmqpGlobalRegistry[] winner = new AmqpGlobalRegistry[1];
            for (AmqpGlobalRegistry standby : survivors) {
                standby.addListener((OwnerChange change) -> {
                    if (change.name().key().equals("\"billing\"") && change.reason() == OwnerChange.Reason.OWNER_DOWN) {
                        new Thread(() -> {
                            try {
                                RegistrationResult result = standby.register("billing",
                                        new Billing(standby.nodeId().name(), new CountDownLatch(1)));
                                if (result.registered()) {
                                    tookOver[0] = System.nanoTime();
                                    winner[0] = standby;
                                }
                                System.out.printf("  [%s] saw the owner go; register(\"billing\") -> %s%n",
                                        standby.nodeId().name(), result);
                            } finally {
                                decided.countDown();
                            }
                        }).start();
                    }
                });
            }
            System.out.println("== the owner " + owner.nodeId() + " loses its connection abruptly");
            long cut = System.nanoTime();
            owner.crash();
            nodes.remove(owner);
            if (decided.await(15, TimeUnit.SECONDS) && winner[0] != null) {
                System.out.printf("== failover: %s owns \"billing\" %.0f ms after the crash%n", winner[0].nodeId(),
                        (tookOver[0] - cut) / 1e6);
            } else {
                System.out.println("== no failover within 15 s");
            }
        } finally {
            nodes.forEach(GlobalNameRegistry::close);
        }
        System.out.println("== stopped");
        System.exit(0);
    }

    private static AmqpGlobalRegistry owner(List<AmqpGlobalRegistry> nodes) {
        for (AmqpGlobalRegistry node : nodes) {
            if (node.whereis("billing").map(Registration::isLocal).orElse(false)) {
                return node;
            }
        }
        throw new IllegalStateException("nobody owns billing");
    }
}
