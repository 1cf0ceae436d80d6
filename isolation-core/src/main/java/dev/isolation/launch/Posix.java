package dev.isolation.launch;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/**
 * The libc calls the launcher needs and the JDK does not offer: socket pairs, pipes, Unix sockets that carry
 * descriptors (sendmsg with SCM_RIGHTS), raw descriptor I/O and epoll. Bound by JNA's direct mapping (no proxy, no
 * reflection per call). Every failure becomes an {@link IOException} naming the call, what it was for and errno.
 * The structures are laid out for 64-bit Linux, the only platform the helper is built for.
 */
final class Posix {
    static final int AF_UNIX = 1;
    static final int SOCK_STREAM = 1;
    static final int SOCK_SEQPACKET = 5;
    static final int SOCK_CLOEXEC = 02000000;
    static final int O_RDONLY = 0;
    static final int O_WRONLY = 1;
    static final int O_RDWR = 2;
    static final int O_CREAT = 0100;
    static final int O_TRUNC = 01000;
    static final int O_APPEND = 02000;
    static final int O_CLOEXEC = 02000000;
    static final int MSG_NOSIGNAL = 0x4000;
    static final int EINTR = 4;
    static final int EAGAIN = 11;
    static final int EPOLLIN = 0x1;
    static final int EPOLLERR = 0x8;
    static final int EPOLLHUP = 0x10;
    static final int EPOLL_CTL_ADD = 1;
    static final int EPOLL_CTL_DEL = 2;
    static final int EPOLL_CLOEXEC = 02000000;
    static final int POLLIN = 0x1;

    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int MSGHDR_SIZE = 56;
    private static final Charset PATH_CHARSET = pathCharset();
    /** x86-64 packs struct epoll_event into 12 bytes; the other 64-bit ABIs align its data to 8 (16 bytes). */
    static final int EPOLL_EVENT_SIZE = Platform.isIntel() ? 12 : 16;
    private static final int EPOLL_DATA_OFFSET = Platform.isIntel() ? 4 : 8;

    static {
        if (Native.POINTER_SIZE != 8 || !Platform.isLinux()) {
            throw new ExceptionInInitializerError("the launcher needs 64-bit Linux");
        }
        Native.register(Posix.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    private Posix() {
    }

    private static native int socket(int domain, int type, int protocol) throws LastErrorException;

    private static native int bind(int fd, byte[] address, int length) throws LastErrorException;

    private static native int listen(int fd, int backlog) throws LastErrorException;

    private static native int accept4(int fd, Pointer address, Pointer length, int flags) throws LastErrorException;

    private static native int socketpair(int domain, int type, int protocol, int[] fds) throws LastErrorException;

    private static native int pipe2(int[] fds, int flags) throws LastErrorException;

    private static native long sendmsg(int fd, Pointer message, int flags) throws LastErrorException;

    private static native long read(int fd, byte[] buffer, long count) throws LastErrorException;

    private static native long send(int fd, byte[] buffer, long count, int flags) throws LastErrorException;

    private static native int close(int fd) throws LastErrorException;

    private static native int open(byte[] path, int flags, int mode) throws LastErrorException;

    private static native int poll(Pointer fds, long count, int timeoutMillis) throws LastErrorException;

    private static native int epoll_create1(int flags) throws LastErrorException;

    private static native int epoll_ctl(int epollFd, int operation, int fd, Pointer event) throws LastErrorException;

    private static native int epoll_wait(int epollFd, Pointer events, int max, int timeoutMillis)
            throws LastErrorException;

    private static native String strerror(int errno);

    private static native int gettid();

    private static native int setpriority(int which, int who, int priority) throws LastErrorException;

    /** The C library's text for {@code errno}. */
    static String errorText(int errno) {
        return strerror(errno);
    }

    /** A failed call: the message names the call, its object and errno, as the JDK words its errors. */
    static final class Failure extends IOException {
        private final int errno;

        Failure(String call, String what, LastErrorException e) {
            super(call + " (" + what + "): " + strerror(e.getErrorCode()) + " (errno " + e.getErrorCode() + ")");
            this.errno = e.getErrorCode();
        }

        int errno() {
            return errno;
        }
    }

    static int[] socketPair(int type, String what) throws Failure {
        int[] fds = new int[2];
        try {
            socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds);
            return fds;
        } catch (LastErrorException e) {
            throw new Failure("socketpair", what, e);
        }
    }

    /** A close-on-exec pipe: {read end, write end}. */
    static int[] pipe(String what) throws Failure {
        int[] fds = new int[2];
        try {
            pipe2(fds, O_CLOEXEC);
            return fds;
        } catch (LastErrorException e) {
            throw new Failure("pipe2", what, e);
        }
    }

    /** A listening, close-on-exec Unix socket of {@code type} bound to {@code path}. */
    static int listenUnix(String path, int type) throws Failure {
        byte[] name = path.getBytes(PATH_CHARSET);
        if (name.length >= 108) {
            throw new Failure("bind", path, new LastErrorException(36)); // ENAMETOOLONG
        }
        byte[] address = new byte[2 + name.length + 1];
        address[0] = (byte) AF_UNIX; // sun_family, little-endian on every 64-bit Linux the helper is built for
        System.arraycopy(name, 0, address, 2, name.length);
        int fd = -1;
        try {
            fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
            bind(fd, address, address.length);
            listen(fd, 1);
            return fd;
        } catch (LastErrorException e) {
            closeQuietly(fd);
            throw new Failure(fd < 0 ? "socket" : "bind", path, e);
        }
    }

    static int accept(int listeningFd, String what) throws Failure {
        try {
            return accept4(listeningFd, null, null, SOCK_CLOEXEC);
        } catch (LastErrorException e) {
            throw new Failure("accept4", what, e);
        }
    }

    /** Opens {@code path} close-on-exec, as the JDK opens a redirect's file. */
    static int open(String path, int flags, String what) throws Failure {
        byte[] bytes = path.getBytes(PATH_CHARSET);
        byte[] terminated = new byte[bytes.length + 1];
        System.arraycopy(bytes, 0, terminated, 0, bytes.length);
        try {
            return open(terminated, flags | O_CLOEXEC, 0666);
        } catch (LastErrorException e) {
            throw new Failure("open", what, e);
        }
    }

    /** Sends {@code data} with {@code fds} attached (SCM_RIGHTS) in one message. */
    static void sendWithDescriptors(int socketFd, byte[] data, int[] fds, String what) throws Failure {
        int controlLength = 16 + 4 * fds.length; // CMSG_LEN
        int controlSpace = (controlLength + 7) & ~7; // CMSG_SPACE
        try (Memory memory = new Memory(MSGHDR_SIZE + 16 + data.length + controlSpace)) {
            memory.clear();
            Pointer iov = memory.share(MSGHDR_SIZE);
            Pointer payload = memory.share(MSGHDR_SIZE + 16);
            Pointer control = memory.share(MSGHDR_SIZE + 16 + data.length);
            payload.write(0, data, 0, data.length);
            iov.setPointer(0, payload);
            iov.setLong(8, data.length);
            control.setLong(0, controlLength);
            control.setInt(8, SOL_SOCKET);
            control.setInt(12, SCM_RIGHTS);
            control.write(16, fds, 0, fds.length);
            memory.setPointer(16, iov);        // msg_iov
            memory.setLong(24, 1);             // msg_iovlen
            memory.setPointer(32, control);    // msg_control
            memory.setLong(40, controlSpace);  // msg_controllen
            while (true) {
                try {
                    sendmsg(socketFd, memory, MSG_NOSIGNAL);
                    return;
                } catch (LastErrorException e) {
                    if (e.getErrorCode() != EINTR) {
                        throw new Failure("sendmsg", what, e);
                    }
                }
            }
        }
    }

    /** Reads up to {@code length} bytes into {@code buffer} at {@code offset}; returns 0 at EOF. */
    static int read(int fd, byte[] buffer, int offset, int length, String what) throws Failure {
        byte[] target = offset == 0 ? buffer : new byte[length];
        while (true) {
            try {
                int n = (int) read(fd, target, length);
                if (target != buffer && n > 0) {
                    System.arraycopy(target, 0, buffer, offset, n);
                }
                return n;
            } catch (LastErrorException e) {
                if (e.getErrorCode() != EINTR) {
                    throw new Failure("read", what, e);
                }
            }
        }
    }

    /** Writes all of {@code data} to a socket, without SIGPIPE if the other end is gone. */
    static void sendAll(int fd, byte[] data, String what) throws Failure {
        int done = 0;
        while (done < data.length) {
            byte[] rest = done == 0 ? data : java.util.Arrays.copyOfRange(data, done, data.length);
            try {
                done += (int) send(fd, rest, rest.length, MSG_NOSIGNAL);
            } catch (LastErrorException e) {
                if (e.getErrorCode() != EINTR) {
                    throw new Failure("send", what, e);
                }
            }
        }
    }

    /** Waits up to {@code timeoutMillis} for {@code fd} to become readable (or hung up); false on timeout. */
    static boolean awaitReadable(int fd, int timeoutMillis, String what) throws Failure {
        try (Memory pollFd = new Memory(8)) {
            pollFd.setInt(0, fd);
            pollFd.setShort(4, (short) POLLIN);
            pollFd.setShort(6, (short) 0);
            while (true) {
                try {
                    return poll(pollFd, 1, timeoutMillis) > 0;
                } catch (LastErrorException e) {
                    if (e.getErrorCode() != EINTR) {
                        throw new Failure("poll", what, e);
                    }
                }
            }
        }
    }

    /**
     * Gives the calling thread the lowest priority (nice 19; on Linux a thread's nice value is its own): for work
     * that should only take CPUs that would idle. Returns false if the kernel refused.
     */
    static boolean lowerThisThreadsPriority() {
        try {
            setpriority(0 /* PRIO_PROCESS: with a thread id, that thread */, gettid(), 19);
            return true;
        } catch (LastErrorException e) {
            return false;
        }
    }

    static void closeQuietly(int fd) {
        if (fd >= 0) {
            try {
                close(fd);
            } catch (LastErrorException ignored) {
                // EINTR or EIO on close: the descriptor is released either way on Linux
            }
        }
    }

    static int epollCreate() throws Failure {
        try {
            return epoll_create1(EPOLL_CLOEXEC);
        } catch (LastErrorException e) {
            throw new Failure("epoll_create1", "exit watcher", e);
        }
    }

    /** Watches {@code fd} for input or hang-up; {@code token} comes back with its events. */
    static void epollAdd(int epollFd, int fd, long token) throws Failure {
        try (Memory event = new Memory(EPOLL_EVENT_SIZE)) {
            event.clear();
            event.setInt(0, EPOLLIN);
            event.setLong(EPOLL_DATA_OFFSET, token);
            epoll_ctl(epollFd, EPOLL_CTL_ADD, fd, event);
        } catch (LastErrorException e) {
            throw new Failure("epoll_ctl", "watching descriptor " + fd, e);
        }
    }

    static void epollRemove(int epollFd, int fd) {
        try {
            epoll_ctl(epollFd, EPOLL_CTL_DEL, fd, null);
        } catch (LastErrorException ignored) {
            // not watched (any more): nothing to undo
        }
    }

    /** Waits for events; returns the tokens of the ready descriptors, into {@code tokens}, and how many. */
    static int epollWait(int epollFd, Memory events, long[] tokens) throws Failure {
        while (true) {
            try {
                int ready = epoll_wait(epollFd, events, tokens.length, -1);
                for (int i = 0; i < ready; i++) {
                    tokens[i] = events.getLong((long) i * EPOLL_EVENT_SIZE + EPOLL_DATA_OFFSET);
                }
                return ready;
            } catch (LastErrorException e) {
                if (e.getErrorCode() != EINTR) {
                    throw new Failure("epoll_wait", "exit watcher", e);
                }
            }
        }
    }

    private static Charset pathCharset() {
        String name = System.getProperty("sun.jnu.encoding");
        try {
            return name == null ? StandardCharsets.UTF_8 : Charset.forName(name);
        } catch (IllegalArgumentException e) {
            return StandardCharsets.UTF_8;
        }
    }
}
