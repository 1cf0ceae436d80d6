package dev.isolation.launch;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ProcessBuilder.Redirect;

/**
 * The program's stdin, stdout and stderr as {@link ProcessBuilder} redirects make them, without a process of the
 * JDK's: the descriptors handed to the sandbox helper (pipe ends, opened files, the JVM's own for INHERIT) and the
 * JVM's ends of the pipes as streams. The JVM's pipe ends become streams of the JDK's by opening them again through
 * /proc/self/fd while both ends are still held here (a pipe opened by path waits for its other end otherwise).
 */
final class ProgramStdio {
    private static final OutputStream CLOSED_OUTPUT = new OutputStream() {
        @Override
        public void write(int b) throws IOException {
            throw new IOException("Stream closed");
        }
    };

    private final int[] passed = {-1, -1, -1};
    private final boolean[] owned = new boolean[3];
    private OutputStream stdin = CLOSED_OUTPUT;
    private InputStream stdout = InputStream.nullInputStream();
    private InputStream stderr = InputStream.nullInputStream();

    private ProgramStdio() {
    }

    /** A redirect's file that cannot be opened: the message names the file and the reason, as the JDK's does. */
    static final class RedirectFailure extends IOException {
        RedirectFailure(String message) {
            super(message);
        }
    }

    /** What the redirects ask for; on failure nothing stays open. */
    static ProgramStdio of(Redirect input, Redirect output, Redirect error, boolean errorToOutput) throws IOException {
        ProgramStdio stdio = new ProgramStdio();
        try {
            stdio.stdin = stdio.openInput(input);
            stdio.stdout = stdio.openOutput(1, output);
            if (errorToOutput) {
                stdio.passed[2] = stdio.passed[1];
            } else {
                stdio.stderr = stdio.openOutput(2, error);
            }
            return stdio;
        } catch (IOException | RuntimeException e) {
            stdio.closePassed();
            stdio.closeStreams();
            throw e;
        }
    }

    /** /dev/null for all three: an environment's init has no stdio. */
    static ProgramStdio none() throws IOException {
        ProgramStdio stdio = new ProgramStdio();
        stdio.passed[0] = Posix.open("/dev/null", Posix.O_RDWR, "stdio of an environment");
        stdio.owned[0] = true;
        stdio.passed[1] = stdio.passed[0];
        stdio.passed[2] = stdio.passed[0];
        return stdio;
    }

    private OutputStream openInput(Redirect redirect) throws IOException {
        switch (redirect.type()) {
            case PIPE -> {
                int[] pipe = Posix.pipe("stdin of the program");
                passed[0] = pipe[0];
                owned[0] = true;
                try {
                    return new ClosedAtExit(new FileOutputStream("/proc/self/fd/" + pipe[1]));
                } finally {
                    Posix.closeQuietly(pipe[1]);
                }
            }
            case INHERIT -> passed[0] = 0;
            case READ -> {
                passed[0] = openFile(redirect, Posix.O_RDONLY);
                owned[0] = true;
            }
            default -> throw new IllegalArgumentException("redirectInput: " + redirect + " is not an input");
        }
        return CLOSED_OUTPUT;
    }

    private InputStream openOutput(int fd, Redirect redirect) throws IOException {
        switch (redirect.type()) {
            case PIPE -> {
                int[] pipe = Posix.pipe(fd == 1 ? "stdout of the program" : "stderr of the program");
                passed[fd] = pipe[1];
                owned[fd] = true;
                try {
                    return new DrainedAtExit(new FileInputStream("/proc/self/fd/" + pipe[0]));
                } finally {
                    Posix.closeQuietly(pipe[0]);
                }
            }
            case INHERIT -> passed[fd] = fd;
            case WRITE, APPEND -> {
                passed[fd] = openFile(redirect, Posix.O_WRONLY | Posix.O_CREAT
                        | (redirect.type() == Redirect.Type.APPEND ? Posix.O_APPEND : Posix.O_TRUNC));
                owned[fd] = true;
            }
            default -> throw new IllegalArgumentException((fd == 1 ? "redirectOutput: " : "redirectError: ")
                    + redirect + " is not an output");
        }
        return InputStream.nullInputStream();
    }

    private static int openFile(Redirect redirect, int flags) throws IOException {
        String path = redirect.file().getPath();
        try {
            return Posix.open(path, flags, path);
        } catch (Posix.Failure e) {
            throw new RedirectFailure(path + " (" + Posix.errorText(e.errno()) + ")");
        }
    }

    /**
     * Once the sandbox has ended, as the JDK does for its processes: the program's stdin pipe is closed, and what is
     * left in its stdout and stderr pipes is read into memory and the pipes closed, so that a caller who never closes
     * the streams holds no descriptor for a sandbox that is gone (what was unread can still be read).
     */
    void processExited() {
        if (stdin instanceof ClosedAtExit pipe) {
            pipe.processExited();
        }
        for (InputStream output : new InputStream[] {stdout, stderr}) {
            if (output instanceof DrainedAtExit pipe) {
                pipe.processExited();
            }
        }
    }

    /** The stdin pipe's JVM end, closed when the sandbox ends. */
    private static final class ClosedAtExit extends BufferedOutputStream {
        ClosedAtExit(OutputStream pipe) {
            super(pipe);
        }

        synchronized void processExited() {
            try {
                out.close();
            } catch (IOException ignored) {
                // the program is gone: nothing more can reach it
            }
        }
    }

    /** A stdout or stderr pipe's JVM end: when the sandbox ends, what is left moves into memory, the pipe closes. */
    private static final class DrainedAtExit extends BufferedInputStream {
        DrainedAtExit(InputStream pipe) {
            super(pipe);
        }

        synchronized void processExited() {
            InputStream pipe = in;
            if (pipe == null) {
                return; // closed by the caller
            }
            try {
                java.io.ByteArrayOutputStream left = new java.io.ByteArrayOutputStream();
                byte[] chunk = new byte[8192];
                for (int available = pipe.available(); available > 0; available = pipe.available()) {
                    int n = pipe.read(chunk, 0, Math.min(chunk.length, available));
                    if (n < 0) {
                        break;
                    }
                    left.write(chunk, 0, n);
                }
                pipe.close();
                in = new java.io.ByteArrayInputStream(left.toByteArray());
            } catch (IOException ignored) {
                // closed meanwhile: the caller's own close won
            }
        }
    }

    /** The descriptors for the helper's fds 0, 1 and 2. */
    int[] passed() {
        return passed.clone();
    }

    OutputStream stdin() {
        return stdin;
    }

    InputStream stdout() {
        return stdout;
    }

    InputStream stderr() {
        return stderr;
    }

    /** Once the helper has its copies: the JVM keeps only its own ends. */
    void closePassed() {
        for (int i = 0; i < 3; i++) {
            if (owned[i]) {
                Posix.closeQuietly(passed[i]);
                owned[i] = false;
            }
        }
    }

    /** After a failed start: the JVM's ends too. */
    void closeStreams() {
        for (java.io.Closeable stream : new java.io.Closeable[] {stdin, stdout, stderr}) {
            try {
                stream.close();
            } catch (IOException ignored) {
                // a pipe nobody writes or reads any more
            }
        }
    }
}
