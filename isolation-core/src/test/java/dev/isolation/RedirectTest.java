package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every redirect kind carries data to and from a sandboxed program (here with all namespaces). */
class RedirectTest {
    @TempDir
    Path dir;

    private static SandboxBuilder sandbox(String script) {
        return Sandbox.builder().allNamespaces().command("/bin/sh", "-c", script);
    }

    @Test
    void pipesCarryStdinStdoutAndStderrSeparately() throws Exception {
        SandboxProcess process = sandbox("cat; echo on-stderr >&2").start();
        try (OutputStream in = process.getOutputStream()) {
            in.write("through the pipe\n".getBytes(StandardCharsets.UTF_8));
        }
        assertThat(read(process.getInputStream())).isEqualTo("through the pipe\n");
        assertThat(read(process.getErrorStream())).isEqualTo("on-stderr\n");
        assertThat(process.waitFor()).isZero();
    }

    @Test
    void fileToFileAndAppend() throws Exception {
        Path input = Files.writeString(dir.resolve("in"), "from a file\n");
        Path output = dir.resolve("out");
        Path errors = Files.writeString(dir.resolve("err"), "kept\n");
        SandboxProcess process = sandbox("cat; echo appended >&2")
                .redirectInput(Redirect.from(input.toFile()))
                .redirectOutput(Redirect.to(output.toFile()))
                .redirectError(Redirect.appendTo(errors.toFile())).start();
        assertThat(process.waitFor()).isZero();
        assertThat(Files.readString(output)).isEqualTo("from a file\n");
        assertThat(Files.readString(errors)).isEqualTo("kept\nappended\n");
        assertThat(process.getInputStream().read()).isEqualTo(-1);
    }

    @Test
    void toFileTruncates() throws Exception {
        Path output = Files.writeString(dir.resolve("out"), "old content that is longer\n");
        assertThat(sandbox("echo new").redirectOutput(Redirect.to(output.toFile())).start().waitFor()).isZero();
        assertThat(Files.readString(output)).isEqualTo("new\n");
    }

    @Test
    void discardDropsOutputAndMergeJoinsStderr() throws Exception {
        SandboxProcess discarded = sandbox("echo lost; echo also-lost >&2")
                .redirectOutput(Redirect.DISCARD).redirectError(Redirect.DISCARD).start();
        assertThat(discarded.getInputStream().read()).isEqualTo(-1);
        assertThat(discarded.getErrorStream().read()).isEqualTo(-1);
        assertThat(discarded.waitFor()).isZero();

        SandboxProcess merged = sandbox("echo out; echo err >&2; echo out2").redirectErrorStream(true).start();
        assertThat(read(merged.getInputStream())).isEqualTo("out\nerr\nout2\n");
        assertThat(merged.waitFor()).isZero();
    }

    @Test
    void inheritGivesTheProgramTheJvmsOwnStreams() throws Exception {
        Path input = Files.writeString(dir.resolve("in"), "inherited input\n");
        File out = dir.resolve("out").toFile();
        File err = dir.resolve("err").toFile();
        Process jvm = ChildJvm.builder(InheritIoMain.class)
                .redirectInput(input.toFile()).redirectOutput(out).redirectError(err).start();
        assertThat(jvm.waitFor()).isZero();
        assertThat(Files.readString(out.toPath())).isEqualTo("INHERITED INPUT\n");
        assertThat(Files.readString(err.toPath())).endsWith("to-stderr\n");
    }

    @Test
    void tenMegabytesThroughPipesBothWaysWithoutDeadlock() throws Exception {
        byte[] data = new byte[10 * 1024 * 1024];
        new Random(42).nextBytes(data);
        SandboxProcess process = sandbox("cat").start();
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try (OutputStream in = process.getOutputStream()) {
                for (int offset = 0; offset < data.length; offset += 65536) {
                    in.write(data, offset, Math.min(65536, data.length - offset));
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        byte[] echoed = process.getInputStream().readAllBytes();
        writer.join();
        assertThat(process.waitFor()).isZero();
        assertThat(echoed.length).isEqualTo(data.length);
        assertThat(MessageDigest.getInstance("SHA-256").digest(echoed))
                .isEqualTo(MessageDigest.getInstance("SHA-256").digest(data));
    }

    /** As the JDK does: streams the caller never closes do not keep descriptors once the sandbox has ended. */
    @Test
    void pipesNobodyClosedAreReleasedWhenTheSandboxEndsAndWhatWasLeftCanStillBeRead() throws Exception {
        SandboxProcess first = sandbox("echo left").start();
        first.waitFor();
        long before = openDescriptors();
        for (int i = 0; i < 40; i++) {
            sandbox("echo left; echo also >&2").start().waitFor();
        }
        long after = openDescriptors();
        for (int i = 0; i < 100 && after > before + 2; i++) {   // the last end may still be being handled
            Thread.sleep(10);
            after = openDescriptors();
        }
        assertThat(after).as("descriptors after 40 sandboxes whose streams nobody closed").isLessThanOrEqualTo(before + 2);
        assertThat(read(first.getInputStream())).isEqualTo("left\n");
    }

    private static long openDescriptors() throws IOException {
        try (java.util.stream.Stream<java.nio.file.Path> fds = java.nio.file.Files.list(java.nio.file.Path.of(
                "/proc/self/fd"))) {
            return fds.count();
        }
    }

    @Test
    void aMissingInputFileIsNamedAndNothingStarts() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> sandbox("cat")
                        .redirectInput(Redirect.from(dir.resolve("missing").toFile())).start())
                .isInstanceOf(SandboxStartException.class)
                .hasMessageContaining("cannot open a redirect: " + dir.resolve("missing"))
                .hasMessageNotContaining("isolation-helper");
    }

    private static String read(InputStream in) throws IOException {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
}
