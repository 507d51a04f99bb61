package io.globalregistry.boot.autoconfigure;

import com.rabbitmq.client.Address;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.util.ClassUtils;

/**
 * The broker addresses of the application: those of Spring Boot's {@code RabbitConnectionDetails}
 * bean ({@code spring.rabbitmq.addresses}, else host and port; or a service connection's), which
 * Boot's own connection factory was made from. Looked up by class name, since its package moved in
 * Boot 4.2 ({@code org.springframework.boot.amqp.autoconfigure} to
 * {@code org.springframework.boot.rabbitmq.autoconfigure}), and read through its public methods.
 */
final class ApplicationBrokerAddresses {

    private static final Log LOG = LogFactory.getLog(ApplicationBrokerAddresses.class);

    private static final List<String> DETAILS = List.of(
            "org.springframework.boot.amqp.autoconfigure.RabbitConnectionDetails",
            "org.springframework.boot.rabbitmq.autoconfigure.RabbitConnectionDetails");

    private ApplicationBrokerAddresses() {
    }

    /**
     * The addresses of the connection details, if there is one such bean and the application's
     * RabbitMQ factory was made from it (its host and port are the first address, as Boot sets them);
     * otherwise empty, and the registry uses that factory's host and port alone.
     */
    static List<Address> of(ListableBeanFactory beans, ClassLoader loader,
                            com.rabbitmq.client.ConnectionFactory settings) {
        for (String name : DETAILS) {
            if (!ClassUtils.isPresent(name, loader)) {
                continue;
            }
            Class<?> type = ClassUtils.resolveClassName(name, loader);
            Object details = beans.getBeanProvider(type).getIfUnique();
            if (details == null) {
                continue;
            }
            List<Address> addresses = read(type, details);
            if (addresses.isEmpty()) {
                return List.of();
            }
            Address first = addresses.get(0);
            if (!first.getHost().equals(settings.getHost()) || first.getPort() != settings.getPort()) {
                LOG.info("The application's RabbitMQ ConnectionFactory (" + settings.getHost() + ":"
                        + settings.getPort() + ") was not made from its RabbitConnectionDetails (" + describe(addresses)
                        + "); the global registry uses that factory's host and port only");
                return List.of();
            }
            return addresses;
        }
        return List.of();
    }

    /**
     * {@code getAddresses()} of the details, each a record with {@code host()} and {@code port()};
     * called through the public interface, as Boot's implementation is package-private.
     */
    private static List<Address> read(Class<?> type, Object details) {
        try {
            Method getAddresses = type.getMethod("getAddresses");
            List<Address> addresses = new ArrayList<>();
            for (Object address : (List<?>) getAddresses.invoke(details)) {
                Class<?> record = address.getClass(); // the public RabbitConnectionDetails.Address
                addresses.add(new Address((String) record.getMethod("host").invoke(address),
                        (Integer) record.getMethod("port").invoke(address)));
            }
            return addresses;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warn("Could not read the broker addresses of " + details.getClass().getName() + " (" + e
                    + "); the global registry uses the application's RabbitMQ host and port only");
            return List.of();
        }
    }

    /** {@code host:port, ...} (addresses carry no credentials). */
    static String describe(List<Address> addresses) {
        StringBuilder text = new StringBuilder();
        for (Address address : addresses) {
            if (!text.isEmpty()) {
                text.append(", ");
            }
            text.append(address.getHost());
            if (address.getPort() != -1) {
                text.append(':').append(address.getPort());
            }
        }
        return text.toString();
    }
}
