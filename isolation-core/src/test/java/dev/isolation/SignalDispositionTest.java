package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/** A program starts with every signal at its default, whatever the JVM ignores (a JVM under nohup ignores SIGHUP). */
class SignalDispositionTest {

    @Test
    void aSignalTheJvmIgnoresIsAtItsDefaultInTheProgram() throws IOException {
        Signal hangup = new Signal("HUP");
        SignalHandler previous = Signal.handle(hangup, SignalHandler.SIG_IGN);
        try {
            assertThat(ignoredMask(Files.readString(Path.of("/proc/self/status"))) & 1).as("this JVM ignores SIGHUP now")
                    .isEqualTo(1L);
            for (SandboxBuilder builder : List.of(Sandbox.builder(), Sandboxes.withNamespaces(Namespace.PID),
                    Sandboxes.withNamespaces(Namespace.PID, Namespace.MOUNT))) {
                Sandboxes.Result result = Sandboxes.shell(builder, "exec cat /proc/self/status");
                assertThat(ignoredMask(result.output())).as("signals the program ignores").isZero();
            }
        } finally {
            Signal.handle(hangup, previous);
        }
    }

    /** SigIgn of a /proc/PID/status text; bit n - 1 is signal n. */
    private static long ignoredMask(String status) {
        String line = status.lines().filter(l -> l.startsWith("SigIgn:")).findFirst().orElseThrow();
        return Long.parseUnsignedLong(line.substring("SigIgn:".length()).trim(), 16);
    }
}
