package dev.isolation.launch;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The JVM's end of the control socket to one sandbox helper (a descriptor of a socket pair whose other end the
 * resident launcher handed to the helper it forked). The helper reports on it (started, failed, exited) and obeys
 * commands; when the JVM dies the kernel closes it, and the helper kills the sandbox. Reads are done by one thread
 * at a time (the starting thread, then the exit watcher); commands may come from any thread, and never go to a
 * descriptor number that was closed and reused.
 */
final class ControlChannel implements AutoCloseable {
    private static final int MAX_TEXT = 64 * 1024;

    private final Object lock = new Object();
    private int fd;

    ControlChannel(int fd) {
        this.fd = fd;
    }

    /** The descriptor, for the exit watcher's epoll set; -1 once closed. */
    int fd() {
        synchronized (lock) {
            return fd;
        }
    }

    /**
     * Reads the helper's greeting and returns its pid (0 when the launcher could not fork it: a failure report
     * follows); refuses a helper of another protocol.
     */
    long readHello(String helperPath) throws IOException {
        ByteBuffer hello = read(12);
        int magic = hello.getInt();
        int version = hello.getInt();
        if (magic != Wire.MAGIC || version != Wire.VERSION) {
            throw new IOException("the native helper " + helperPath + " speaks protocol " + Integer.toHexString(magic)
                    + "/" + version + ", this library " + Integer.toHexString(Wire.MAGIC) + "/" + Wire.VERSION
                    + ": it belongs to another version of isolation-core");
        }
        return Integer.toUnsignedLong(hello.getInt());
    }

    void send(byte[] bytes) throws IOException {
        synchronized (lock) {
            if (fd < 0) {
                throw new EOFException("the control socket of the sandbox helper is closed");
            }
            Posix.sendAll(fd, bytes, "control socket of a sandbox helper");
        }
    }

    void sendCommand(int command) throws IOException {
        send(ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(command).array());
    }

    /** A command with descriptors attached (SCM_RIGHTS); the caller keeps, and closes, its own. */
    void sendCommand(int command, int[] fds) throws IOException {
        synchronized (lock) {
            if (fd < 0) {
                throw new EOFException("the control socket of the sandbox helper is closed");
            }
            Posix.sendWithDescriptors(fd, ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(command)
                    .array(), fds, "control socket of a sandbox helper");
        }
    }

    Report readReport() throws IOException {
        ByteBuffer header = read(24);
        int type = header.getInt();
        int value = header.getInt();
        int step = header.getInt();
        int errno = header.getInt();
        int detailLength = header.getInt();
        int errnoTextLength = header.getInt();
        if (detailLength < 0 || detailLength > MAX_TEXT || errnoTextLength < 0 || errnoTextLength > MAX_TEXT) {
            throw new IOException("malformed report from the native helper");
        }
        String detail = text(detailLength);
        String errnoText = text(errnoTextLength);
        return new Report(type, value, step, errno, detail, errnoText);
    }

    /** Reads until the helper closes its end: it has exited (or is exiting) then. */
    void awaitClosed() {
        byte[] rest = new byte[256];
        try {
            while (Posix.read(readableFd(), rest, 0, rest.length, "control socket of a sandbox helper") > 0) {
                // a report nobody asked for: the end is what is waited for
            }
        } catch (IOException ignored) {
            // closed already, or reset: gone either way
        }
    }

    private String text(int length) throws IOException {
        return length == 0 ? "" : new String(read(length).array(), StandardCharsets.UTF_8);
    }

    private ByteBuffer read(int length) throws IOException {
        byte[] bytes = new byte[length];
        int done = 0;
        while (done < length) {
            int n = Posix.read(readableFd(), bytes, done, length - done, "control socket of a sandbox helper");
            if (n == 0) {
                throw new EOFException("the native helper closed its control socket");
            }
            done += n;
        }
        return ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder());
    }

    private int readableFd() throws EOFException {
        int current = fd();
        if (current < 0) {
            throw new EOFException("the control socket of the sandbox helper is closed");
        }
        return current;
    }

    @Override
    public void close() {
        synchronized (lock) {
            Posix.closeQuietly(fd);
            fd = -1;
        }
    }

    /** One message from the helper. */
    record Report(int type, int value, int step, int errno, String detail, String errnoText) {
    }
}
