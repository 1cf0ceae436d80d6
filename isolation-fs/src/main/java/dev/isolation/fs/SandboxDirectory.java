package dev.isolation.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The host directory private to one sandbox: the staging mount point of its root, and the overlay's upper and
 * work directories (or the copy of a copied root). Created under a parent only the caller can enter.
 */
public record SandboxDirectory(Path path) {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Creates a fresh directory under {@code parent} with {@code root}, {@code upper} and {@code work} in it. */
    public static SandboxDirectory create(Path parent) throws IOException {
        byte[] id = new byte[8];
        RANDOM.nextBytes(id);
        Path path = parent.resolve("sandbox-" + HexFormat.of().formatHex(id));
        Files.createDirectory(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        SandboxDirectory directory = new SandboxDirectory(path);
        for (Path sub : new Path[] {directory.staging(), directory.upper(), directory.work()}) {
            Files.createDirectory(sub, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        }
        return directory;
    }

    public Path staging() {
        return path.resolve("root");
    }

    public Path upper() {
        return path.resolve("upper");
    }

    public Path work() {
        return path.resolve("work");
    }

    public Path copy() {
        return path.resolve("copy");
    }
}
