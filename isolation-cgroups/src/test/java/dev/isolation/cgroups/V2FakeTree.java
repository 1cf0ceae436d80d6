package dev.isolation.cgroups;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes fake control files into a temporary directory, for the tests that do not need a kernel. */
final class V2FakeTree {
    private V2FakeTree() {
    }

    /** Creates {@code dir/name} holding {@code text}, and the directories above it. */
    static Path file(Path dir, String name, String text) {
        try {
            Files.createDirectories(dir);
            return Files.writeString(dir.resolve(name), text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A fake cgroup directory offering {@code controllers} and with {@code enabled} in its subtree_control. */
    static Path group(Path dir, String controllers, String enabled) {
        file(dir, "cgroup.controllers", controllers + "\n");
        file(dir, "cgroup.subtree_control", enabled.isEmpty() ? "" : enabled + "\n");
        file(dir, "cgroup.procs", "");
        return dir;
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
