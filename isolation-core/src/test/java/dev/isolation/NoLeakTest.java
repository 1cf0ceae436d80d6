package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
            try {
                // right after exec the dynamic loader holds a library open for a moment; a leaked descriptor stays
                List<String> open = List.of();
                for (int i = 0; i < 200 && !open.equals(List.of("0", "1", "2")); i++) {
                    Thread.sleep(10);
                    try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(cat.pid()), "fd"))) {
                        open = fds.map(fd -> fd.getFileName().toString()).sorted().toList();
                    }
                }
                assertThat(open).containsExactly("0", "1", "2");
            } finally {
                cat.getOutputStream().close();
                assertThat(cat.waitFor()).isZero();
            }
        }
    }
}
