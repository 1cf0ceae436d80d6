package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Descriptors handed to the program on purpose: exactly those, at their numbers, held by nothing else. */
class PassedDescriptorTest {
    @TempDir
    Path temp;

    @Test
    void aPassedFileIsReadableAtItsNumberThoughItsPathIsNotVisibleInside() throws Exception {
        Path secret = Files.writeString(temp.resolve("input.txt"), "handed in\n");
        Sandboxes.Result result = Sandboxes.shell(Sandbox.builder().allNamespaces()
                .passFile(5, secret, PassedDescriptor.Access.READ),
                "cat <&5; test -e '" + secret + "' && echo path-visible || echo path-hidden");
        assertThat(result.lines()).containsExactly("handed in", "path-hidden");
    }

    @Test
    void descriptorsAtTheNumbersTheHelperUsesItselfArriveIntact() throws Exception {
        SandboxBuilder builder = Sandbox.builder().allNamespaces();
        StringBuilder script = new StringBuilder();
        for (int fd = 3; fd <= 9; fd++) {
            builder.passFile(fd, Files.writeString(temp.resolve("f" + fd), "content " + fd + "\n"),
                    PassedDescriptor.Access.READ);
            script.append("cat <&").append(fd).append("; ");
        }
        Sandboxes.Result result = Sandboxes.shell(builder, script.toString());
        assertThat(result.lines()).containsExactly("content 3", "content 4", "content 5", "content 6", "content 7",
                "content 8", "content 9");
    }

    @Test
    void writeTruncatesAndAppendAppendsOnTheHost() throws Exception {
        Path log = Files.writeString(temp.resolve("log"), "old\n");
        Path fresh = temp.resolve("fresh");
        Sandboxes.Result result = Sandboxes.shell(Sandbox.builder().allNamespaces()
                .passFile(7, log, PassedDescriptor.Access.APPEND).passFile(8, fresh, PassedDescriptor.Access.WRITE),
                "echo appended >&7; echo written >&8");
        assertThat(result.outcome()).isEqualTo(new Outcome.Exited(0));
        assertThat(Files.readString(log)).isEqualTo("old\nappended\n");
        assertThat(Files.readString(fresh)).isEqualTo("written\n");
    }

    @Test
    void onlyTheStandardAndThePassedDescriptorsAreOpenInTheProgram() throws Exception {
        Path file = Files.writeString(temp.resolve("x"), "x");
        SandboxProcess cat = Sandbox.builder().allNamespaces().passFile(9, file, PassedDescriptor.Access.READ)
                .command("/bin/cat").start();
        try {
            List<String> open = List.of();
            for (int i = 0; i < 200 && !open.equals(List.of("0", "1", "2", "9")); i++) {
                Thread.sleep(10);
                try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(cat.pid()), "fd"))) {
                    open = fds.map(fd -> fd.getFileName().toString()).sorted().toList();
                }
            }
            assertThat(open).containsExactly("0", "1", "2", "9");
        } finally {
            cat.getOutputStream().close();
            cat.waitFor();
        }
    }

    @Test
    void aUnixSocketOfTheJvmReachesTheProgramThroughItsNetworkNamespaceAndOnlyItHoldsIt() throws Exception {
        Path socket = temp.resolve("s.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            // it writes, closes its descriptor, and lives on: EOF proves neither the helper nor init holds a copy
            SandboxProcess program = Sandbox.builder().allNamespaces().passUnixSocket(6, socket)
                    .command("/bin/sh", "-c", "read question <&6; echo \"answer to $question\" >&6; exec 6>&-;"
                            + " sleep 10").start();
            try (SocketChannel connection = server.accept()) {
                connection.write(StandardCharsets.UTF_8.encode("ping\n"));
                InputStream in = Channels.newInputStream(connection);
                assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("answer to ping\n");
                assertThat(program.isAlive()).isTrue();
            } finally {
                program.destroyForcibly();
                program.waitFor();
            }
        }
    }

    @Test
    void badDescriptorsAreRejectedBeforeAnythingStarts() {
        Path file = temp.resolve("f");
        assertThatThrownBy(() -> Sandbox.builder().passFile(2, file, PassedDescriptor.Access.READ))
                .isInstanceOf(InvalidSandboxSpecException.class).hasMessageStartingWith("passFile fd");
        assertThatThrownBy(() -> Sandbox.builder().passFile(4, Path.of("relative"), PassedDescriptor.Access.READ))
                .isInstanceOf(InvalidSandboxSpecException.class).hasMessageStartingWith("passFile path");
        assertThatThrownBy(() -> Sandbox.builder().passFile(4, file, PassedDescriptor.Access.READ)
                .passUnixSocket(4, file)).isInstanceOf(InvalidSandboxSpecException.class)
                .hasMessageContaining("already passed");
        assertThatThrownBy(() -> Sandbox.builder().passUnixSocket(4, Path.of("/" + "s".repeat(120))))
                .isInstanceOf(InvalidSandboxSpecException.class).hasMessageContaining("107 bytes");
    }

    @Test
    void aFileThatCannotBeOpenedFailsTheStartNamingIt() {
        Path missing = temp.resolve("missing");
        assertThatThrownBy(() -> Sandbox.builder().allNamespaces().passFile(4, missing, PassedDescriptor.Access.READ)
                .command("/bin/true").start()).isInstanceOf(SandboxStartException.class)
                .hasMessageContaining("(pass-fd) failed on \"" + missing + "\": error=2");
    }
}
