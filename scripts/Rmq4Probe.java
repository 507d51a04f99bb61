import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.ShutdownSignalException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * What a broker answers to the queue declarations Global Registry makes, and to the inbox
 * alternatives. Run by scripts/rabbitmq4.sh probe (single-file source, amqp-client from ~/.m2):
 * java -cp amqp-client.jar:slf4j-api.jar scripts/Rmq4Probe.java HOST PORT
 */
public class Rmq4Probe {

    interface Step {
        String run(Channel ch) throws Exception;
    }

    static final String EXCHANGE = "probe-rmq4.exchange";
    static final List<String[]> ROWS = new ArrayList<>();
    static ConnectionFactory factory;

    public static void main(String[] args) throws Exception {
        factory = new ConnectionFactory();
        factory.setHost(args.length > 0 ? args[0] : "127.0.0.1");
        factory.setPort(args.length > 1 ? Integer.parseInt(args[1]) : 5673);
        factory.setAutomaticRecoveryEnabled(false);
        String run = Long.toString(System.currentTimeMillis() % 100000);
        try (Connection c = factory.newConnection("rmq4-probe")) {
            Map<String, Object> props = c.getServerProperties();
            System.out.println("server: " + props.get("product") + " " + props.get("version") + " at "
                    + factory.getHost() + ":" + factory.getPort());
            try (Channel ch = c.createChannel()) {
                ch.exchangeDeclare(EXCHANGE, "topic", false, false, null); // as AmqpTransport: transient topic
            }
            String q = "probe-rmq4." + run;

            // --- the declarations the registry makes today
            row(c, "registry inbox: queueDeclare(durable=false, exclusive=false, autoDelete=true)",
                    ch -> ok(ch.queueDeclare(q + ".inbox", false, false, true, null)));
            row(c, "registry leader: queueDeclare(durable=false, exclusive=true, autoDelete=true)",
                    ch -> ok(ch.queueDeclare(q + ".leader", false, true, true, null)));

            // --- passive declares
            row(c, "passive declare of a missing queue",
                    ch -> ok(ch.queueDeclarePassive(q + ".missing")));
            try (Connection holder = factory.newConnection("rmq4-probe-holder")) {
                Channel hc = holder.createChannel();
                String held;
                try {
                    hc.queueDeclare(q + ".held", false, true, true, null);
                    held = "held";
                } catch (Exception e) {
                    held = describe(e);
                }
                System.out.println("(holder connection declares " + q + ".held exclusive: " + held + ")");
                row(c, "passive declare of an exclusive queue another connection holds",
                        ch -> ok(ch.queueDeclarePassive(q + ".held")));
                row(c, "declare (excl, auto-delete) of an exclusive queue another connection holds",
                        ch -> ok(ch.queueDeclare(q + ".held", false, true, true, null)));
                if (hc.isOpen()) {
                    row(c, "passive declare of an exclusive queue held by the same connection",
                            ch -> ok(hc.queueDeclarePassive(q + ".held")));
                }
            }

            // --- inbox alternatives: declare, bind to the transient topic exchange, publish, receive
            row(c, "alt: exclusive auto-delete classic (declare+bind+publish+get)",
                    ch -> roundTrip(ch, q + ".alt-excl", false, true, true, null));
            row(c, "alt: durable classic with x-expires=10000 (declare+bind+publish+get)",
                    ch -> roundTrip(ch, q + ".alt-expires", true, false, false, Map.of("x-expires", 10_000)));
            row(c, "alt: durable classic x-expires=1500: unused for 4 s, then passive declare",
                    ch -> {
                        ch.queueDeclare(q + ".alt-expiring", true, false, false, Map.of("x-expires", 1_500));
                        Thread.sleep(4_000);
                        return ok(ch.queueDeclarePassive(q + ".alt-expiring")) + " (NOT expired)";
                    });
            row(c, "alt: durable classic auto-delete (declare+bind+publish+get)",
                    ch -> roundTrip(ch, q + ".alt-durable-ad", true, false, true, null));
            row(c, "alt: non-durable non-exclusive with x-expires=10000",
                    ch -> roundTrip(ch, q + ".alt-transient-expires", false, false, false, Map.of("x-expires", 10_000)));
            row(c, "alt: quorum (durable, x-queue-type=quorum) (declare+bind+publish+get)",
                    ch -> roundTrip(ch, q + ".alt-quorum", true, false, false, Map.of("x-queue-type", "quorum")));
            row(c, "alt: quorum + x-expires=10000 (declare+bind+publish+get)",
                    ch -> roundTrip(ch, q + ".alt-quorum-exp", true, false, false,
                            Map.of("x-queue-type", "quorum", "x-expires", 10_000)));
            row(c, "alt: quorum auto-delete / exclusive (should be refused)",
                    ch -> ok(ch.queueDeclare(q + ".alt-quorum-ad", true, false, true, Map.of("x-queue-type", "quorum"))));
            row(c, "alt: stream: declare (durable, x-queue-type=stream)",
                    ch -> ok(ch.queueDeclare(q + ".alt-stream", true, false, false, Map.of("x-queue-type", "stream"))));
            row(c, "alt: stream: bind + publish with confirms",
                    ch -> {
                        ch.queueBind(q + ".alt-stream", EXCHANGE, "s." + run);
                        ch.confirmSelect();
                        for (int i = 0; i < 3; i++) {
                            ch.basicPublish(EXCHANGE, "s." + run, true, null, ("m" + i).getBytes(StandardCharsets.UTF_8));
                        }
                        ch.waitForConfirmsOrDie(5_000);
                        return "OK: 3 published, all confirmed";
                    });
            row(c, "alt: stream: consume without basic.qos (should be refused)",
                    ch -> {
                        ch.basicConsume(q + ".alt-stream", false, new DefaultConsumer(ch));
                        Thread.sleep(300);
                        return ch.isOpen() ? "OK (?)" : "closed";
                    });
            row(c, "alt: stream: basic.qos(100) + consume x-stream-offset=first, manual ack",
                    ch -> {
                        ch.basicQos(100);
                        BlockingQueue<String> got = new ArrayBlockingQueue<>(10);
                        ch.basicConsume(q + ".alt-stream", false, Map.of("x-stream-offset", "first"),
                                new DefaultConsumer(ch) {
                                    @Override
                                    public void handleDelivery(String tag, Envelope env, AMQP.BasicProperties p,
                                            byte[] body) throws java.io.IOException {
                                        got.add(new String(body, StandardCharsets.UTF_8));
                                        getChannel().basicAck(env.getDeliveryTag(), false);
                                    }
                                });
                        List<String> seen = new ArrayList<>();
                        for (int i = 0; i < 3; i++) {
                            String m = got.poll(5, TimeUnit.SECONDS);
                            if (m == null) {
                                break;
                            }
                            seen.add(m);
                        }
                        return (seen.size() == 3 ? "OK: " : "PARTIAL: ") + "received " + seen;
                    });
            row(c, "alt: stream: basic.get (should be refused)",
                    ch -> ok(ch.basicGet(q + ".alt-stream", true)));

        }
        try (Connection c = factory.newConnection("rmq4-probe-cleanup")) {
            String q = "probe-rmq4." + run;
            // --- clean up what persists (durable ones)
            for (String name : List.of(".alt-expires", ".alt-durable-ad", ".alt-quorum", ".alt-quorum-exp", ".alt-stream")) {
                try (Channel ch = c.createChannel()) {
                    ch.queueDelete(q + name);
                } catch (Exception ignored) {
                    // gone already
                }
            }
            try (Channel ch = c.createChannel()) {
                ch.exchangeDelete(EXCHANGE);
            }
        }
        int w = ROWS.stream().mapToInt(r -> r[0].length()).max().orElse(10);
        System.out.println();
        for (String[] r : ROWS) {
            System.out.printf("%-" + w + "s | %s%n", r[0], r[1]);
        }
    }

    static String roundTrip(Channel ch, String name, boolean durable, boolean exclusive, boolean autoDelete,
            Map<String, Object> args) throws Exception {
        AMQP.Queue.DeclareOk d = ch.queueDeclare(name, durable, exclusive, autoDelete, args);
        ch.queueBind(name, EXCHANGE, "rk." + name);
        ch.confirmSelect();
        ch.basicPublish(EXCHANGE, "rk." + name, true, null, "hello".getBytes(StandardCharsets.UTF_8));
        ch.waitForConfirmsOrDie(5_000);
        GetResponse r = null;
        for (int i = 0; i < 20 && r == null; i++) {
            r = ch.basicGet(name, true);
            if (r == null) {
                Thread.sleep(100);
            }
        }
        return "OK: declared " + d.getQueue() + ", bound, published+confirmed, "
                + (r == null ? "basic.get found NOTHING" : "got '" + new String(r.getBody(), StandardCharsets.UTF_8) + "'");
    }

    static String ok(Object reply) {
        if (reply instanceof AMQP.Queue.DeclareOk) {
            AMQP.Queue.DeclareOk d = (AMQP.Queue.DeclareOk) reply;
            return "OK: declare-ok " + d.getQueue() + " (messages " + d.getMessageCount() + ", consumers "
                    + d.getConsumerCount() + ")";
        }
        return "OK: " + reply;
    }

    /**
     * Runs one step on a channel of its own connection (a refusal may close the whole connection);
     * records OK or the broker's close (channel or connection) code and first line of text.
     */
    static void row(Connection unused, String what, Step step) {
        String result;
        boolean connectionClosed = false;
        Connection c = null;
        try {
            c = factory.newConnection("rmq4-probe-step");
            Channel ch = c.createChannel();
            result = step.run(ch);
        } catch (Throwable t) {
            result = c == null ? "could not connect: " + t : describe(t);
        }
        if (c != null) {
            connectionClosed = !c.isOpen();
            try {
                c.abort(2_000);
            } catch (Throwable ignored) {
                // closed already
            }
        }
        if (connectionClosed && !result.startsWith("connection.close")) {
            result += "  [connection closed]";
        }
        System.out.println(what + " -> " + result);
        ROWS.add(new String[] {what, result});
    }

    static String firstLine(String text) {
        int nl = text.indexOf('\n');
        return nl < 0 ? text : text.substring(0, nl) + " [...]";
    }

    static String describe(Throwable t) {
        for (Throwable x = t; x != null; x = x.getCause()) {
            if (x instanceof ShutdownSignalException) {
                Object reason = ((ShutdownSignalException) x).getReason();
                if (reason instanceof AMQP.Channel.Close) {
                    AMQP.Channel.Close cl = (AMQP.Channel.Close) reason;
                    return "channel.close " + cl.getReplyCode() + " " + firstLine(cl.getReplyText());
                }
                if (reason instanceof AMQP.Connection.Close) {
                    AMQP.Connection.Close cl = (AMQP.Connection.Close) reason;
                    return "connection.close " + cl.getReplyCode() + " " + firstLine(cl.getReplyText());
                }
            }
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }
}
