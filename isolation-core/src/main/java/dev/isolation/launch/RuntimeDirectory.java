package dev.isolation.launch;

import java.io.IOException;
import java.nio.file.Path;

/** Where the JVM keeps its control sockets: a private directory with a short path (socket paths are limited). */
final class RuntimeDirectory {
    private static volatile Path ensured;

    private RuntimeDirectory() {
    }

    static Path base() {
        return Path.of(System.getProperty("java.io.tmpdir"), "isolation-" + Credentials.effectiveUid());
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
