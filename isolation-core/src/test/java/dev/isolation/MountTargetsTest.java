package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.isolation.fs.FilesystemSpec;
import dev.isolation.fs.MountSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the helper makes missing mount targets inside the root: missing parents several levels deep, a file target, a
 * minimal /dev below a missing directory, and dangling symlinks on the way, followed inside the root only.
 */
class MountTargetsTest {
    @TempDir
    Path temp;
    Path lower;
    Path victim;

    @BeforeEach
    void busyboxLowerWithDanglingLinksToTheHost() throws IOException {
        lower = TestRoots.busybox(temp.resolve("lower"));
        victim = Files.createDirectory(temp.resolve("victim"));
        // dangling inside the root: absolute ones name a host directory, the relative one climbs above the root
        Files.createSymbolicLink(lower.resolve("absolute"), victim.resolve("made"));
        Files.createSymbolicLink(lower.resolve("relative"), Path.of("../../../../../.." + victim + "/rel"));
        Files.createSymbolicLink(lower.resolve("chained"), Path.of("absolute/deeper"));
    }

    private static SandboxBuilder sandbox(FilesystemSpec filesystem) {
        return Sandboxes.withNamespaces(Namespace.PID, Namespace.MOUNT).filesystem(filesystem);
    }

    @Test
    void missingParentsAndFilesAreMadeInsideTheRoot() throws IOException {
        Path file = Files.writeString(temp.resolve("file"), "content\n");
        Sandboxes.Result result = Sandboxes.shell(sandbox(FilesystemSpec.builder().rootDirectory(lower)
                .bindReadOnly(file, "/a/b/c/file")
                .mount(new MountSpec.Tmpfs("/x/y/z", OptionalLong.of(1 << 20), 0700))
                .mount(new MountSpec.Devices("/n/dev"))
                .build()),
                "cat /a/b/c/file; stat -c %a /x/y/z; grep -c ' /x/y/z ' /proc/self/mountinfo;"
                        + " ls /n/dev | sort | tr '\\n' ' '; echo; echo hi > /n/dev/null && echo null-ok");
        assertThat(result.lines()).containsExactly("content", "700", "1",
                "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero ", "null-ok");
    }

    @Test
    void danglingSymlinksOnTheWayAreFollowedInsideTheRootOnly() throws IOException {
        Sandboxes.Result result = Sandboxes.shell(sandbox(FilesystemSpec.builder().rootDirectory(lower)
                .mount(new MountSpec.Tmpfs("/absolute/sub", OptionalLong.of(1 << 20), 0755))
                .mount(new MountSpec.Tmpfs("/relative/sub", OptionalLong.of(1 << 20), 0755))
                .mount(new MountSpec.Tmpfs("/chained/sub", OptionalLong.of(1 << 20), 0755))
                .build()),
                "for d in /absolute/sub /relative/sub /chained/sub; do echo x > $d/f && echo ok; done;"
                        + " test -d " + victim + "/made/sub && echo made-inside;"
                        + " test -d " + victim + "/rel/sub && echo rel-inside");
        assertThat(result.lines()).containsExactly("ok", "ok", "ok", "made-inside", "rel-inside");
        try (Stream<Path> files = Files.list(victim)) {
            assertThat(files).as("nothing was created in the host directory").isEmpty();
        }
    }
}
