package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Nothing of the JVM reaches the program unless asked for: environment, file descriptors, working directory. */
class NoLeakTest {

    @Test
    void environmentHoldsOnlyWhatWasSetPlusTheDefaultPath() {
        assertThat(System.getenv()).as("the JVM has an environment to leak").isNotEmpty();
        Sandboxes.Result result = Sandboxes.shell(Sandbox.builder().allNamespaces().environment("GIVEN", "yes"),
                "env | grep -v '^PWD=' | sort");
        assertThat(result.lines()).containsExactly("GIVEN=yes", "PATH=" + SandboxBuilder.DEFAULT_PATH);
    }

    @Test
    void inheritedEnvironmentIsPassedWhenAsked() {
        String name = System.getenv().keySet().iterator().next();
        Sandboxes.Result result = Sandboxes.shell(Sandbox.builder().inheritEnvironment(name),
                "printenv '" + name + "'");
        assertThat(result.output()).isEqualTo(System.getenv(name) + "\n");
    }

    @Test
    void onlyStandardDescriptorsAreOpenInTheProgram() throws Exception {
        for (SandboxBuilder builder : new SandboxBuilder[] {Sandbox.builder(), Sandbox.builder().allNamespaces()}) {
            SandboxProcess cat = builder.command("/bin/cat").start(); // blocks reading its stdin
            try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(cat.pid()), "fd"))) {
                assertThat(fds.map(fd -> fd.getFileName().toString())).containsExactlyInAnyOrder("0", "1", "2");
            } finally {
                cat.getOutputStream().close();
                assertThat(cat.waitFor()).isZero();
            }
        }
    }
}
