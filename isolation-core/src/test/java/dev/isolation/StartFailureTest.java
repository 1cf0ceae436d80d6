package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.isolation.fs.FilesystemSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** A start that fails throws a message naming the step, path and errno, and leaves no process, mount or file. */
class StartFailureTest {
    private static final Path SOCKETS = Path.of(System.getProperty("java.io.tmpdir"),
            "isolation-" + Sandboxes.run("id", "-u").trim());

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void missingProgram(boolean namespaces) throws Exception {
        assertFailsCleanly(builder(namespaces).command("/no/such/program"), "exec", "/no/such/program",
                "step", "(exec) failed on \"/no/such/program\": error=2, No such file or directory");
        assertFailsCleanly(builder(namespaces).command("no-such-program-anywhere"), "exec", "no-such-program-anywhere",
                "error=2, No such file or directory");
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void programNotExecutable(boolean namespaces, @TempDir Path dir) throws Exception {
        Path script = Files.writeString(dir.resolve("not-executable.sh"), "#!/bin/sh\necho hi\n");
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        SandboxBuilder builder = builder(namespaces);
        if (namespaces) { // the sandbox's /tmp is its own: show it the directory
            builder.filesystem(FilesystemSpec.builder().bindReadOnly(dir, dir.toString()).build());
        }
        assertFailsCleanly(builder.command(script.toString()), "exec", script.toString(),
                "error=13, Permission denied");
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void badWorkingDirectory(boolean namespaces) throws Exception {
        assertFailsCleanly(builder(namespaces).command("/bin/true").directory("/no/such/dir"), "chdir", "/no/such/dir",
                "(in directory \"/no/such/dir\")", "error=2, No such file or directory");
    }

    @Test
    void invalidSettingsAreRejectedBeforeAnythingStarts() {
        assertRejected(() -> Sandbox.builder().command(), "command");
        assertRejected(() -> Sandbox.builder().command(List.of("")), "command[0]");
        assertRejected(() -> Sandbox.builder().command("/bin/echo", "a\0b"), "command[1]");
        assertRejected(() -> Sandbox.builder().build(), "command");
        assertRejected(() -> Sandbox.builder().directory("relative/dir"), "directory");
        assertRejected(() -> Sandbox.builder().directory("/a/../../etc"), "directory");
        assertRejected(() -> Sandbox.builder().utsNamespace("x".repeat(65)), "hostname");
        assertRejected(() -> Sandbox.builder().utsNamespace(""), "hostname");
        assertRejected(() -> Sandbox.builder().command("/bin/true").uidMapping(IdMapping.single(0, 1000)).build(),
                "uidMapping");
        assertRejected(() -> Sandbox.builder().command("/bin/true").userNamespace()
                .uidMapping(new IdMapping(0, 1000, 10)).uidMapping(new IdMapping(5, 2000, 1)).build(), "uidMapping");
        assertRejected(() -> new IdMapping(-1, 0, 1), "insideId");
        assertRejected(() -> new IdMapping(0, 0, 0), "count");
        assertRejected(() -> Sandbox.builder().environment("A=B", "c"), "environment name");
        assertRejected(() -> Sandbox.builder().environment("A", "c\0d"), "environment[A]");
        assertRejected(() -> Sandbox.builder().redirectOutput(ProcessBuilder.Redirect.from(new java.io.File("/x"))),
                "redirectOutput");
    }

    @Test
    void unprivilegedNamespacesWithoutUserNamespaceAreExplained() throws Exception {
        if (Sandboxes.ROOT) {
            return; // as root this works; the rootless lane runs this test for real
        }
        assertThatThrownBy(() -> Sandbox.builder().pidNamespace().command("/bin/true").start())
                .isInstanceOf(SandboxStartException.class)
                .hasMessageContaining("needs CAP_SYS_ADMIN")
                .hasMessageContaining("add userNamespace()");
    }

    private static SandboxBuilder builder(boolean namespaces) {
        return namespaces ? Sandbox.builder().allNamespaces() : Sandbox.builder();
    }

    private static void assertRejected(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String field) {
        assertThatThrownBy(call).isInstanceOf(InvalidSandboxSpecException.class)
                .satisfies(e -> assertThat(((InvalidSandboxSpecException) e).field()).isEqualTo(field))
                .hasMessageStartingWith(field + ": ");
    }

    private static void assertFailsCleanly(SandboxBuilder builder, String step, String path, String... messageParts)
            throws IOException {
        Set<Long> childrenBefore = settled(children());
        List<String> mountsBefore = Files.readAllLines(Path.of("/proc/self/mountinfo"));
        assertThatThrownBy(builder::start)
                .isInstanceOf(SandboxStartException.class)
                .hasMessageStartingWith("Cannot run program \"")
                .hasMessageContainingAll(messageParts)
                .satisfies(e -> {
                    SandboxStartException failure = (SandboxStartException) e;
                    assertThat(failure.step()).isEqualTo(step);
                    assertThat(failure.path()).contains(path);
                    assertThat(failure.errno()).isPositive();
                });
        assertThat(settled(childrenBefore)).as("no process is left, the sandbox helper included")
                .isEqualTo(childrenBefore);
        assertThat(Files.readAllLines(Path.of("/proc/self/mountinfo"))).as("no mount is left").isEqualTo(mountsBefore);
        try (Stream<Path> files = Files.list(SOCKETS)) {
            assertThat(files.filter(f -> f.toString().endsWith(".sock"))).as("no socket file is left").isEmpty();
        }
    }

    /**
     * The processes below this JVM once a helper that has reported is gone too (it exits right after its last
     * report): polls up to 5 s until they are {@code expected}, and returns what they are then.
     */
    private static Set<Long> settled(Set<Long> expected) {
        Set<Long> now = descendants();
        for (int i = 0; i < 500 && !now.equals(expected); i++) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            now = descendants();
        }
        return now;
    }

    private static Set<Long> descendants() {
        return ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).map(ProcessHandle::pid)
                .collect(Collectors.toSet());
    }

    /**
     * Every process below this JVM: the resident launcher (started by the first sandbox of the JVM, and kept) and
     * the sandbox helpers it forks, with all they started.
     */
    private static Set<Long> children() {
        try {
            Sandbox.builder().command("/bin/true").start().waitFor(); // the launcher exists before "before"
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("a plain sandbox cannot start", e);
        }
        return descendants();
    }
}
