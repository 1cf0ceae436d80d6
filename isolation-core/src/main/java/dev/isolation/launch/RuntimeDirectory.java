package dev.isolation.launch;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Where the JVM keeps its control sockets and its sandboxes' private directories (overlay upper and work
 * directories): a private directory with a short path (socket paths are limited), {@code $TMPDIR/isolation-<uid>}
 * unless {@code -Disolation.runtime.dir} names another. An overlay's upper directory cannot be on overlayfs itself.
 */
final class RuntimeDirectory {
    static final String PROPERTY = "isolation.runtime.dir";
    private static volatile Path ensured;
    private static volatile Path sandboxes;

    private RuntimeDirectory() {
    }

    static Path base() {
        String configured = System.getProperty(PROPERTY);
        return configured != null ? Path.of(configured)
                : Path.of(System.getProperty("java.io.tmpdir"), "isolation-" + Credentials.effectiveUid());
    }

    /** The parent of the sandboxes' private directories. */
    static Path sandboxes() throws IOException {
        Path dir = sandboxes;
        if (dir == null) {
            dir = PrivateDirectory.ensure(sockets().resolve("sandboxes"));
            sandboxes = dir;
        }
        return dir;
    }

    static Path sockets() throws IOException {
        Path dir = ensured;
        if (dir == null) {
            dir = PrivateDirectory.ensure(base());
            ensured = dir;
        }
        return dir;
    }
}
