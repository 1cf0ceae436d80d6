package dev.isolation;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A file descriptor the program gets besides 0, 1 and 2, opened on the host by the helper before any namespace is
 * made (so a path the sandbox cannot see, or a socket outside its network namespace, can be handed in on purpose).
 * Nothing else of the JVM's reaches the program. Built by {@link SandboxBuilder#passFile} and
 * {@link SandboxBuilder#passUnixSocket}.
 *
 * @param fd     its number in the program, {@value #MIN_FD} to {@value #MAX_FD}
 * @param kind   a file opened, or a Unix stream socket connected
 * @param path   the absolute host path of the file or socket
 * @param access how a file is opened (READ for a socket, which is always both ways)
 */
public record PassedDescriptor(int fd, Kind kind, Path path, Access access) {
    public static final int MIN_FD = 3;
    public static final int MAX_FD = 1023;
    /** sizeof(sun_path) - 1. */
    static final int MAX_SOCKET_PATH_BYTES = 107;

    /** What is opened. */
    public enum Kind { FILE, UNIX_SOCKET }

    /** How a file is opened: WRITE creates or truncates, APPEND creates or appends, READ_WRITE creates (mode 0600). */
    public enum Access {
        READ("r"), WRITE("w"), APPEND("a"), READ_WRITE("rw");

        private final String wireMode;

        Access(String wireMode) {
            this.wireMode = wireMode;
        }

        /** The mode the helper understands. */
        public String wireMode() {
            return wireMode;
        }
    }

    public PassedDescriptor {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(access, "access");
        String field = kind == Kind.FILE ? "passFile" : "passUnixSocket";
        if (fd < MIN_FD || fd > MAX_FD) {
            throw new InvalidSandboxSpecException(field + " fd", fd, "is not between " + MIN_FD + " and " + MAX_FD
                    + " (0, 1 and 2 are the redirects)");
        }
        Objects.requireNonNull(path, field + " path");
        if (!path.isAbsolute() || path.toString().indexOf('\0') >= 0) {
            throw new InvalidSandboxSpecException(field + " path", path.toString(), "must be an absolute host path");
        }
        if (kind == Kind.UNIX_SOCKET && path.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length
                > MAX_SOCKET_PATH_BYTES) {
            throw new InvalidSandboxSpecException(field + " path", path.toString(), "is longer than the "
                    + MAX_SOCKET_PATH_BYTES + " bytes a Unix socket address holds");
        }
    }
}
