package io.globalregistry.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The CPU time of a local process from Linux's {@code /proc}: utime + stime (fields 14 and 15 of
 * {@code /proc/<pid>/stat}, in clock ticks of {@code getconf CLK_TCK}), and how to find the local
 * RabbitMQ's Erlang VM: the {@code beam.smp} processes whose command line names the {@code rabbit}
 * application, and of those the one holding the socket that listens on the broker's port
 * ({@code /proc/net/tcp} and {@code tcp6}, matched by inode against {@code /proc/<pid>/fd}).
 */
final class ProcessCpu {

    /** Clock ticks per second. */
    static final long TICKS_PER_SECOND = ticksPerSecond();

    private final long pid;
    private final String how;

    private ProcessCpu(long pid, String how) {
        this.pid = pid;
        this.how = how;
    }

    /** This JVM. */
    static ProcessCpu self() {
        return new ProcessCpu(ProcessHandle.current().pid(), "this JVM");
    }

    /**
     * The local broker listening on {@code port}, or {@code null} if none is found here (say why on
     * stderr); {@code -Dbench.broker.pid=N} names it instead.
     */
    static ProcessCpu localBroker(String host, int port) {
        String given = System.getProperty("bench.broker.pid");
        if (given != null) {
            return new ProcessCpu(Long.parseLong(given.trim()), "pid given by -Dbench.broker.pid");
        }
        if (!host.equals("localhost") && !host.startsWith("127.")) {
            System.err.println("broker CPU: the broker is at " + host + ", not on this machine; not measured");
            return null;
        }
        List<Long> beams = new ArrayList<>();
        try (DirectoryStream<Path> processes = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path process : processes) {
                String command = commandLine(process);
                if (command.contains("beam.smp") && command.contains("rabbit")) {
                    beams.add(Long.parseLong(process.getFileName().toString()));
                }
            }
        } catch (IOException e) {
            System.err.println("broker CPU: cannot list /proc (" + e + "); not measured");
            return null;
        }
        Set<String> sockets = listeningSockets(port);
        for (long beam : beams) {
            if (holdsAny(beam, sockets)) {
                return new ProcessCpu(beam, "beam.smp listening on " + port);
            }
        }
        if (beams.size() == 1) {
            return new ProcessCpu(beams.get(0), "the only RabbitMQ beam.smp (its sockets not readable)");
        }
        System.err.println("broker CPU: " + beams.size() + " RabbitMQ beam.smp processes " + beams + ", none seen"
                + " listening on " + port + "; not measured (name it with -Dbench.broker.pid=N)");
        return null;
    }

    long pid() {
        return pid;
    }

    /** How the process was found. */
    String how() {
        return how;
    }

    /** utime + stime so far, in clock ticks; -1 if the process is gone. */
    long ticks() {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
            // "pid (comm) state ppid ...": comm may hold spaces, so count fields after the last ')', which is field 2
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
            return Long.parseLong(fields[14 - 3]) + Long.parseLong(fields[15 - 3]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** CPU use between two {@link #ticks()} readings {@code nanos} apart, in % of one core. */
    static double percent(long ticksBefore, long ticksAfter, long nanos) {
        if (ticksBefore < 0 || ticksAfter < 0) {
            return Double.NaN;
        }
        return 100.0 * (ticksAfter - ticksBefore) / TICKS_PER_SECOND / (nanos / 1e9);
    }

    private static String commandLine(Path process) {
        try {
            return new String(Files.readAllBytes(process.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
        } catch (IOException | RuntimeException e) {
            return ""; // gone, or not ours to read
        }
    }

    /** The inodes of the sockets listening (state 0A) on {@code port}, as "socket:[inode]". */
    private static Set<String> listeningSockets(int port) {
        Set<String> inodes = new HashSet<>();
        String hexPort = String.format(Locale.ROOT, ":%04X", port);
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            try {
                for (String line : Files.readAllLines(Path.of(table))) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length > 9 && f[1].endsWith(hexPort) && f[3].equals("0A")) {
                        inodes.add("socket:[" + f[9] + "]");
                    }
                }
            } catch (IOException e) {
                // no IPv6, say
            }
        }
        return inodes;
    }

    private static boolean holdsAny(long pid, Set<String> sockets) {
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : fds) {
                try {
                    if (sockets.contains(Files.readSymbolicLink(fd).toString())) {
                        return true;
                    }
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
        } catch (IOException | SecurityException e) {
            return false;
        }
        return false;
    }

    private static long ticksPerSecond() {
        try {
            Process getconf = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(getconf.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
            getconf.waitFor();
            return Long.parseLong(out);
        } catch (IOException | RuntimeException e) {
            return 100;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 100;
        }
    }
}
