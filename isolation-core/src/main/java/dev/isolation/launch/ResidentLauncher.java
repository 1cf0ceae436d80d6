package dev.isolation.launch;

import java.io.File;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;

/**
 * The native helper, started once per JVM and kept: each sandbox start sends it a request (a control socket and
 * the program's stdio, as descriptors) and it forks a sandbox helper for it, instead of the JVM spawning a process
 * (through jspawnhelper: two execs) per start. It ends when the JVM's end of its socket closes, i.e. with the JVM;
 * if it dies meanwhile, the next start starts another.
 *
 * <p>When it may (as root), it also keeps one new network namespace ready, made after each start that took the last
 * one: making a network namespace is the dearest of the namespaces (the kernel registers a loopback device, and the
 * teardown of earlier ones holds the same locks), and this way it happens while the sandbox that took the last one
 * starts, not before. Each is given to one sandbox only; the one left ready goes with the launcher.
 */
final class ResidentLauncher {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int EPIPE = 32;
    private static final int ECONNRESET = 104;
    private static final int CONNECT_TIMEOUT_MILLIS = 10_000;
    private static final Object STARTING = new Object();
    private static volatile ResidentLauncher current;

    private final Process process;
    private final int socketFd;
    private final Path helper;

    private ResidentLauncher(Process process, int socketFd, Path helper) {
        this.process = process;
        this.socketFd = socketFd;
        this.helper = helper;
    }

    /**
     * Hands a sandbox helper's control socket and the program's stdin, stdout and stderr to the launcher, which
     * forks the helper; the caller keeps (and closes) its own descriptors. {@code newNetworkNamespace}: the sandbox
     * gets a network namespace of its own and no user namespace, so the one the launcher made ahead will do.
     */
    static void spawn(int controlFd, int[] stdio, boolean newNetworkNamespace) throws IOException {
        int[] fds = {controlFd, stdio[0], stdio[1], stdio[2]};
        byte[] request = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putInt(Wire.REQUEST_SANDBOX)
                .putInt(newNetworkNamespace ? Wire.REQUEST_NETWORK_NAMESPACE : 0).array();
        ResidentLauncher launcher = running();
        try {
            launcher.send(request, fds);
        } catch (Posix.Failure e) {
            if (e.errno() != EPIPE && e.errno() != ECONNRESET) {
                throw e;
            }
            replace(launcher).send(request, fds); // it died since the last start: once more, with a new one
        }
    }

    /** The path of the helper binary the launcher runs, for messages. */
    static String helperPath() throws IOException {
        return running().helper.toString();
    }

    private synchronized void send(byte[] request, int[] fds) throws Posix.Failure {
        Posix.sendWithDescriptors(socketFd, request, fds, "request to the resident launcher " + helper);
    }

    private static ResidentLauncher running() throws IOException {
        ResidentLauncher launcher = current;
        return launcher != null && launcher.process.isAlive() ? launcher : replace(launcher);
    }

    /** Starts the launcher now unless it runs: from a thread whose priority the launcher should have. */
    static void ensureRunning() throws IOException {
        running();
    }

    private static ResidentLauncher replace(ResidentLauncher dead) throws IOException {
        if (BackgroundWork.isLowered()) { // it would inherit the lowest priority, and every sandbox with it
            throw new IOException("the resident launcher is not running, and a background thread does not start it");
        }
        synchronized (STARTING) {
            ResidentLauncher launcher = current;
            if (launcher != null && launcher != dead && launcher.process.isAlive()) {
                return launcher;
            }
            if (launcher != null) {
                launcher.process.destroyForcibly();
                Posix.closeQuietly(launcher.socketFd);
            }
            current = start(HelperBinary.path());
            return current;
        }
    }

    private static ResidentLauncher start(Path helper) throws IOException {
        byte[] name = new byte[9];
        RANDOM.nextBytes(name);
        Path socketPath = RuntimeDirectory.sockets().resolve("launcher-" + HexFormat.of().formatHex(name) + ".sock");
        int listening = Posix.listenUnix(socketPath.toString(), Posix.SOCK_SEQPACKET);
        Process process = null;
        try {
            ProcessBuilder builder = new ProcessBuilder(List.of(helper.toString(), socketPath.toString()))
                    .redirectInput(Redirect.from(new File("/dev/null"))).redirectOutput(Redirect.DISCARD)
                    .redirectError(Redirect.DISCARD);
            builder.environment().clear(); // each program's environment travels in its plan, nothing else
            process = builder.start();
            int connected = accept(listening, process, helper);
            try {
                checkHello(connected, helper);
            } catch (IOException e) {
                Posix.closeQuietly(connected);
                throw e;
            }
            return new ResidentLauncher(process, connected, helper);
        } catch (IOException | RuntimeException e) {
            if (process != null) {
                process.destroyForcibly();
            }
            throw e;
        } finally {
            Posix.closeQuietly(listening);
            Files.deleteIfExists(socketPath);
        }
    }

    private static int accept(int listening, Process process, Path helper) throws IOException {
        long deadline = System.nanoTime() + CONNECT_TIMEOUT_MILLIS * 1_000_000L;
        while (!Posix.awaitReadable(listening, 50, "launcher socket")) {
            if (!process.isAlive()) {
                throw new IOException("the native helper " + helper + " exited with code " + process.exitValue()
                        + " before it connected");
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("the native helper " + helper + " did not connect within "
                        + CONNECT_TIMEOUT_MILLIS + " ms");
            }
        }
        return Posix.accept(listening, "launcher socket");
    }

    private static void checkHello(int fd, Path helper) throws IOException {
        byte[] hello = new byte[12];
        int n = Posix.read(fd, hello, 0, hello.length, "greeting of the resident launcher");
        ByteBuffer buffer = ByteBuffer.wrap(hello).order(ByteOrder.nativeOrder());
        int magic = buffer.getInt();
        int version = buffer.getInt();
        if (n != hello.length || magic != Wire.MAGIC || version != Wire.VERSION) {
            throw new IOException("the native helper " + helper + " speaks protocol " + Integer.toHexString(magic)
                    + "/" + version + ", this library " + Integer.toHexString(Wire.MAGIC) + "/" + Wire.VERSION
                    + ": it belongs to another version of isolation-core");
        }
    }
}
