package dev.isolation;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/** Small root filesystems for tests: a static busybox and the directories a sandbox mounts on. */
final class TestRoots {
    static final Path BUSYBOX = Path.of("/bin/busybox");
    private static final List<String> APPLETS = List.of("sh", "ls", "cat", "echo", "touch", "rm", "mkdir", "dd",
            "mount", "hostname", "id", "sleep", "grep", "wc", "head", "test", "readlink", "stat", "env", "printf",
            "true", "false", "find", "sort", "tr", "cut", "df", "umount", "ln", "chmod", "mv", "cp", "seq");

    private TestRoots() {
    }

    /** A root with /bin/busybox and its applets, /etc, and empty /proc, /dev, /tmp. */
    static Path busybox(Path dir) throws IOException {
        Files.createDirectories(dir.resolve("bin"));
        Files.copy(BUSYBOX, dir.resolve("bin/busybox"), StandardCopyOption.COPY_ATTRIBUTES);
        for (String applet : APPLETS) {
            Files.createSymbolicLink(dir.resolve("bin").resolve(applet), Path.of("busybox"));
        }
        for (String sub : List.of("etc", "proc", "dev", "tmp", "sys")) {
            Files.createDirectories(dir.resolve(sub));
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        return dir;
    }
}
