package io.globalregistry.amqp;

import com.rabbitmq.client.Address;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The broker nodes one registry node may connect to, and the order each of its incarnations tries
 * them in. Incarnation k (counting from 0, failed attempts to rejoin included) tries the list from
 * its entry {@code k mod n} on, wrapping around; amqp-client takes the first address that accepts
 * the connection. So a node starts on the first address, and each new incarnation (after a lost
 * connection or any other give-up) starts one address further on: it does not insist on the broker
 * node that just failed, and the failed one is still tried last.
 *
 * <p>An incarnation's leader-election connection tries the same order as its node connection,
 * so both normally end up on the same broker node. {@link LeaderElection} is constructed by the
 * transport from the RabbitMQ factory of the incarnation's Spring factory alone, so the builder
 * {@linkplain #attach attaches} the order to that RabbitMQ factory, and the election looks it up
 * with {@link #orderOf}; a factory with none attached connects to its own host and port.
 */
final class BrokerAddresses {

    /** The order attached to each incarnation's RabbitMQ factory (by identity; the factory does not override equals). */
    private static final Map<com.rabbitmq.client.ConnectionFactory, List<Address>> ATTACHED =
            Collections.synchronizedMap(new WeakHashMap<>());

    private final List<Address> all;
    private final AtomicLong incarnations = new AtomicLong();

    BrokerAddresses(List<Address> all) {
        if (all == null || all.isEmpty()) {
            throw new IllegalArgumentException("At least one broker address is required");
        }
        this.all = List.copyOf(all);
    }

    /**
     * Comma-separated {@code host[:port]} entries, as Spring's {@code setAddresses(String)} takes them
     * (IPv6 hosts in brackets); an entry without a port uses the client's default (5672, 5671 with TLS).
     */
    static List<Address> parse(String addresses) {
        Objects.requireNonNull(addresses, "addresses");
        List<Address> parsed = new ArrayList<>();
        for (String entry : addresses.split(",")) {
            String trimmed = entry.trim();
            if (trimmed.isEmpty()) {
                continue;
            }
            try {
                parsed.add(Address.parseAddress(trimmed));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("Invalid broker address '" + trimmed + "' in '" + addresses
                        + "': expected host or host:port", e);
            }
        }
        if (parsed.isEmpty()) {
            throw new IllegalArgumentException("No broker address in '" + addresses + "'");
        }
        return parsed;
    }

    /** Every address, in the order given. */
    List<Address> all() {
        return all;
    }

    /** The order the next incarnation tries the addresses in (see the class comment). */
    List<Address> nextOrder() {
        int start = (int) (incarnations.getAndIncrement() % all.size());
        List<Address> order = new ArrayList<>(all.size());
        order.addAll(all.subList(start, all.size()));
        order.addAll(all.subList(0, start));
        return List.copyOf(order);
    }

    /** Attaches {@code order} to the RabbitMQ factory of one incarnation, for its leader election. */
    static void attach(com.rabbitmq.client.ConnectionFactory factory, List<Address> order) {
        ATTACHED.put(factory, List.copyOf(order));
    }

    /** The order attached to {@code factory}, else its own host and port. */
    static List<Address> orderOf(com.rabbitmq.client.ConnectionFactory factory) {
        List<Address> attached = ATTACHED.get(factory);
        return attached != null ? attached : List.of(new Address(factory.getHost(), factory.getPort()));
    }

    /** {@code host:port, ...}, for logs (addresses carry no credentials). */
    static String describe(List<Address> addresses) {
        StringBuilder text = new StringBuilder();
        for (Address address : addresses) {
            if (!text.isEmpty()) {
                text.append(", ");
            }
            String host = address.getHost();
            text.append(host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host);
            if (address.getPort() != -1) {
                text.append(':').append(address.getPort());
            }
        }
        return text.toString();
    }

    @Override
    public String toString() {
        return describe(all);
    }
}
