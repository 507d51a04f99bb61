package io.globalregistry.amqp;

import io.globalregistry.Idempotent;
import io.globalregistry.MessageHandler;
import io.globalregistry.OneWay;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** The interfaces, values and targets the call tests use; every target counts what ran on it. */
final class CallModel {

    private CallModel() {
    }

    record Point(int x, int y) {
    }

    record Chat(String from, String text) {
    }

    /** A checked exception that {@link Ledger#withdraw} declares. */
    static class InsufficientFundsException extends Exception {
        InsufficientFundsException(String message) {
            super(message);
        }
    }

    /** A subclass the caller does not know of; rebuilt as the declared superclass. */
    static class OverdraftException extends InsufficientFundsException {
        OverdraftException(String message) {
            super(message);
        }
    }

    /** What the tests call. */
    interface Ledger {
        int add(int a, int b);

        long addLongs(long a, long b);

        double half(double value);

        boolean not(boolean value);

        String greet(String name);

        Point move(Point point, int dx);

        List<Point> line(int n);

        Map<String, List<Integer>> index(Map<String, Integer> counts);

        String orNull(String value);

        Point nothing();

        int withdraw(int amount) throws InsufficientFundsException;

        void boom(String message);

        CompletableFuture<Point> later(int x);

        CompletableFuture<String> laterFailing(String message);

        @OneWay
        void record(String event);

        @Idempotent
        int tick();

        int increment();

        long slow(long millis);

        String big(int chars);

        default String describe() {
            return "ledger " + greet("default");
        }
    }

    /** A method the target does not have. */
    interface Unknown {
        String missing(String value);
    }

    /** The target's method, by an interface it does not implement. */
    interface Greeter {
        String greet(String name);
    }

    /** Counts every method that ran. */
    static class LedgerTarget implements Ledger, MessageHandler<Chat> {
        final String owner;
        final AtomicInteger runs = new AtomicInteger();
        final AtomicInteger increments = new AtomicInteger();
        final AtomicInteger ticks = new AtomicInteger();
        final List<String> events = new CopyOnWriteArrayList<>();
        final List<Chat> chats = new CopyOnWriteArrayList<>();
        final Map<String, Thread> threads = new ConcurrentHashMap<>();
        volatile CompletableFuture<Point> pending = new CompletableFuture<>();
        volatile boolean completeLaterAtOnce = true;

        LedgerTarget(String owner) {
            this.owner = owner;
        }

        private void ran(String method) {
            runs.incrementAndGet();
            threads.put(method, Thread.currentThread());
        }

        @Override
        public int add(int a, int b) {
            ran("add");
            return a + b;
        }

        @Override
        public long addLongs(long a, long b) {
            ran("addLongs");
            return a + b;
        }

        @Override
        public double half(double value) {
            ran("half");
            return value / 2;
        }

        @Override
        public boolean not(boolean value) {
            ran("not");
            return !value;
        }

        @Override
        public String greet(String name) {
            ran("greet");
            return "hello " + name + " from " + owner;
        }

        @Override
        public Point move(Point point, int dx) {
            ran("move");
            return new Point(point.x() + dx, point.y());
        }

        @Override
        public List<Point> line(int n) {
            ran("line");
            List<Point> out = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                out.add(new Point(i, i * i));
            }
            return out;
        }

        @Override
        public Map<String, List<Integer>> index(Map<String, Integer> counts) {
            ran("index");
            Map<String, List<Integer>> out = new TreeMap<>();
            counts.forEach((k, v) -> {
                List<Integer> values = new ArrayList<>();
                for (int i = 0; i < v; i++) {
                    values.add(i);
                }
                out.put(k, values);
            });
            return out;
        }

        @Override
        public String orNull(String value) {
            ran("orNull");
            return value == null ? null : value + "!";
        }

        @Override
        public Point nothing() {
            ran("nothing");
            return null;
        }

        @Override
        public int withdraw(int amount) throws InsufficientFundsException {
            ran("withdraw");
            if (amount > 1000) {
                throw new OverdraftException("overdraft of " + amount);
            }
            if (amount > 100) {
                throw new InsufficientFundsException("only 100 left, asked " + amount);
            }
            return 100 - amount;
        }

        @Override
        public void boom(String message) {
            ran("boom");
            throw new IllegalStateException(message);
        }

        @Override
        public CompletableFuture<Point> later(int x) {
            ran("later");
            if (completeLaterAtOnce) {
                return CompletableFuture.completedFuture(new Point(x, -x));
            }
            return pending.thenApply(p -> new Point(p.x() + x, p.y()));
        }

        @Override
        public CompletableFuture<String> laterFailing(String message) {
            ran("laterFailing");
            return CompletableFuture.supplyAsync(() -> {
                throw new UnsupportedOperationException(message);
            });
        }

        @Override
        public void record(String event) {
            ran("record");
            events.add(event);
        }

        @Override
        public int tick() {
            ran("tick");
            return ticks.incrementAndGet();
        }

        @Override
        public int increment() {
            ran("increment");
            return increments.incrementAndGet();
        }

        @Override
        public long slow(long millis) {
            ran("slow");
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return millis;
        }

        @Override
        public String big(int chars) {
            ran("big");
            return "x".repeat(chars);
        }

        @Override
        public void onMessage(Chat message) {
            chats.add(message);
        }
    }
}
