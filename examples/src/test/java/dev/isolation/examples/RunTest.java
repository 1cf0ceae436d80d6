package dev.isolation.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.isolation.IdMapping;
import dev.isolation.InvalidSandboxSpecException;
import dev.isolation.Namespace;
import dev.isolation.Outcome;
import dev.isolation.SandboxBuilder;
import dev.isolation.SandboxSpec;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunTest {
    /** What the runner wrote to its standard error. */
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);
    private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);

    private String err() {
        return errBytes.toString(StandardCharsets.UTF_8);
    }

    private int run(String... args) {
        return Run.run(args, out, err);
    }

    // --- end to end, in this JVM -------------------------------------------------------------------------------

    @Test
    void runsTheProgramInItsOwnUtsNamespaceAndExitsWithItsCode() {
        int status = Run.run(new String[] {"--unshare-all", "--hostname", "box", "--",
            "/bin/sh", "-c", "test \"$(hostname)\" = box && exit 7"}, err);

        assertThat(status).as("stderr: %s", err()).isEqualTo(7);
        assertThat(err()).isEmpty();
    }

    @Test
    void outcomeDescribesAnExit() {
        int status = run("--unshare-all", "--outcome", "--stdin", "/dev/null", "--",
                "/bin/sh", "-c", "exit 3");

        assertThat(status).isEqualTo(3);
        assertThat(err()).isEqualTo("isolation-run: exited with code 3\n");
    }

    @Test
    void aSignalBecomes128PlusItsNumber() {
        int status = run("--unshare-all", "--outcome", "--stdin", "/dev/null", "--",
                "/bin/sh", "-c", "kill -KILL $$");

        assertThat(status).isEqualTo(128 + 9);
        assertThat(err()).isEqualTo("isolation-run: killed by signal 9\n");
    }

    @Test
    void redirectsAndEnvironmentReachTheProgram(@TempDir Path dir) throws IOException {
        Path in = Files.writeString(dir.resolve("in.txt"), "from stdin\n");
        Path output = dir.resolve("out.txt");
        Path log = Files.writeString(dir.resolve("err.log"), "earlier\n");

        int status = run("--unshare-all", "--chdir", "/tmp", "--setenv", "GREETING", "hello",
                "--stdin", in.toString(), "--stdout", output.toString(), "--stderr-append", log.toString(), "--",
                "/bin/sh", "-c", "read line; echo \"$GREETING $line $(pwd) $(id -u)\"; echo oops >&2");

        assertThat(status).as("stderr: %s", err()).isZero();
        assertThat(Files.readString(output)).isEqualTo("hello from stdin /tmp 0\n");
        assertThat(Files.readString(log)).isEqualTo("earlier\noops\n");
    }

    @Test
    void mergeStderrSendsBothStreamsToStdout(@TempDir Path dir) throws IOException {
        Path output = dir.resolve("all.txt");

        int status = run("--merge-stderr", "--stdin", "/dev/null", "--stdout", output.toString(), "--",
                "/bin/sh", "-c", "echo one; echo two >&2");

        assertThat(status).isZero();
        assertThat(Files.readString(output)).isEqualTo("one\ntwo\n");
    }

    @Test
    void aProgramThatCannotBeStartedExitsWith125() {
        int status = run("--unshare-all", "--stdin", "/dev/null", "--", "/no/such/program");

        assertThat(status).isEqualTo(125);
        assertThat(err()).startsWith("isolation-run: Cannot run program \"/no/such/program\"");
    }

    @Test
    void aSettingTheSandboxRejectsExitsWith2() {
        int status = run("--chdir", "relative/dir", "--", "/bin/true");

        assertThat(status).isEqualTo(2);
        assertThat(err()).startsWith("isolation-run: invalid setting: directory: ");
    }

    @Test
    void badUsageExitsWith2NamingTheOption() {
        int status = run("--unshare-all", "--frobnicate", "--", "/bin/true");

        assertThat(status).isEqualTo(2);
        assertThat(err()).isEqualTo("isolation-run: unknown option --frobnicate\n"
                + "Try 'isolation-run --help' for more information.\n");
    }

    @Test
    void helpGoesToStandardOutputAndExits0() {
        int status = run("--help");

        assertThat(status).isZero();
        assertThat(outBytes.toString(StandardCharsets.UTF_8)).startsWith("Usage: ").contains("--unshare-all");
        assertThat(err()).isEmpty();
    }

    // --- from options to spec ----------------------------------------------------------------------------------

    @Test
    void theSpecInheritsTheStreamsByDefault() throws UsageException {
        SandboxSpec spec = Run.spec(RunOptions.parse("/bin/true"));

        assertThat(spec.command()).containsExactly("/bin/true");
        assertThat(spec.namespaces()).isEmpty();
        assertThat(spec.redirectInput()).isEqualTo(Redirect.INHERIT);
        assertThat(spec.redirectOutput()).isEqualTo(Redirect.INHERIT);
        assertThat(spec.redirectError()).isEqualTo(Redirect.INHERIT);
        assertThat(spec.redirectErrorStream()).isFalse();
        assertThat(spec.environment()).containsOnlyKeys("PATH");
    }

    @Test
    void theSpecCarriesEveryOption() throws UsageException {
        SandboxSpec spec = Run.spec(RunOptions.parse("--unshare-all", "--hostname", "box",
                "--uid-map", "0:0:1", "--gid-map", "0:0:1", "--chdir", "/srv", "--setenv", "A", "1",
                "--stdin", "in", "--stdout-append", "out", "--merge-stderr", "--", "prog", "arg"));

        assertThat(spec.command()).containsExactly("prog", "arg");
        assertThat(spec.namespaces()).isEqualTo(EnumSet.allOf(Namespace.class));
        assertThat(spec.hostname()).contains("box");
        assertThat(spec.uidMappings()).containsExactly(IdMapping.single(0, 0));
        assertThat(spec.gidMappings()).containsExactly(IdMapping.single(0, 0));
        assertThat(spec.directory()).contains("/srv");
        assertThat(spec.environment()).contains(Map.entry("A", "1"), Map.entry("PATH", SandboxBuilder.DEFAULT_PATH));
        assertThat(spec.redirectInput()).isEqualTo(Redirect.from(new File("in")));
        assertThat(spec.redirectOutput()).isEqualTo(Redirect.appendTo(new File("out")));
        assertThat(spec.redirectErrorStream()).isTrue();
    }

    @Test
    void setenvOverridesInheritedVariables() throws UsageException {
        assumeTrue(System.getenv("PATH") != null, "the test JVM has a PATH");

        SandboxSpec spec = Run.spec(RunOptions.parse("--inherit-env", "--setenv", "PATH", "/only", "prog"));
        assertThat(spec.environment()).containsEntry("PATH", "/only").containsAllEntriesOf(withoutPath());

        SandboxSpec one = Run.spec(RunOptions.parse("--inherit-env-var", "PATH", "--inherit-env-var",
                "NO_SUCH_VARIABLE_EXPECTED_HERE", "prog"));
        assertThat(one.environment()).containsExactly(Map.entry("PATH", System.getenv("PATH")));
    }

    private static Map<String, String> withoutPath() {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.remove("PATH");
        return env;
    }

    @Test
    void settingsTheLibraryRejectsSurfaceFromSpec() throws UsageException {
        RunOptions options = RunOptions.parse("--hostname", "x".repeat(65), "prog");

        assertThatThrownBy(() -> Run.spec(options))
                .isInstanceOf(InvalidSandboxSpecException.class)
                .satisfies(e -> assertThat(((InvalidSandboxSpecException) e).field()).isEqualTo("hostname"));
    }

    @Test
    void describesOutcomes() {
        assertThat(Run.describe(new Outcome.Exited(0))).isEqualTo("exited with code 0");
        assertThat(Run.describe(new Outcome.Signaled(15, false))).isEqualTo("killed by signal 15");
        assertThat(Run.describe(new Outcome.Signaled(9, true))).isEqualTo("killed by signal 9 (core dumped)");
    }
}
