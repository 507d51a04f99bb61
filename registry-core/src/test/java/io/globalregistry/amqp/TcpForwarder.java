package io.globalregistry.amqp;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in for one node of a broker cluster: a TCP port on 127.0.0.1 forwarding every connection
 * to the real broker. {@link #kill()} is the broker node dying: its connections are cut and the port
 * refuses new ones.
 */
final class TcpForwarder implements AutoCloseable {

    private final ServerSocket server;
    private final String targetHost;
    private final int targetPort;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final List<Socket> upstreams = new CopyOnWriteArrayList<>();
    /** Set by {@link #cutBrokerSide()}: the clients' side of each connection stays open and its data is dropped. */
    private volatile boolean oneSided;
    private final AtomicInteger accepted = new AtomicInteger();

    TcpForwarder(String targetHost, int targetPort) throws IOException {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "forwarder-" + port());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** The port it listens on, on 127.0.0.1. */
    int port() {
        return server.getLocalPort();
    }

    /** {@code 127.0.0.1:port}. */
    String address() {
        return "127.0.0.1:" + port();
    }

    /** How many connections it has taken. */
    int accepted() {
        return accepted.get();
    }

    private void accept() {
        while (!server.isClosed()) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // killed
            }
            accepted.incrementAndGet();
            try {
                Socket upstream = new Socket(targetHost, targetPort);
                sockets.add(client);
                sockets.add(upstream);
                upstreams.add(upstream);
                pump(client, upstream, true);
                pump(upstream, client, false);
            } catch (IOException e) {
                closeQuietly(client);
            }
        }
    }

    private void pump(Socket from, Socket to, boolean fromClient) {
        Thread pump = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            boolean dropping = false;
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                for (int read; (read = in.read(buffer)) >= 0; ) {
                    if (dropping) {
                        continue;
                    }
                    try {
                        out.write(buffer, 0, read);
                        out.flush();
                    } catch (IOException e) {
                        if (!(fromClient && oneSided)) {
                            throw e;
                        }
                        dropping = true; // the broker's side is gone; the client's data vanishes, unanswered
                    }
                }
            } catch (IOException e) {
                // one side closed
            } finally {
                if (oneSided) {
                    closeQuietly(fromClient ? to : from); // only the broker's side
                } else {
                    closeQuietly(from);
                    closeQuietly(to);
                }
            }
        }, "forwarder-" + port() + "-pump");
        pump.setDaemon(true);
        pump.start();
    }

    /**
     * The network drops the connections on one side: the broker sees each closed at once, the clients see
     * nothing (their sockets stay open, what they send vanishes, nothing comes back). New ones are refused.
     */
    void cutBrokerSide() {
        oneSided = true;
        closeQuietly(server);
        for (Socket upstream : upstreams) {
            closeQuietly(upstream);
        }
    }

    /** The broker node dies: every connection through it is cut, and new ones are refused. */
    void kill() {
        closeQuietly(server);
        for (Socket socket : sockets) {
            closeQuietly(socket);
        }
    }

    @Override
    public void close() {
        kill();
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception e) {
            // closing anyway
        }
    }
}
