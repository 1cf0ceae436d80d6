package dev.isolation.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.isolation.IdMapping;
import dev.isolation.Namespace;
import java.io.File;
import java.lang.ProcessBuilder.Redirect;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RunOptionsTest {

    private static RunOptions parse(String... args) throws UsageException {
        return RunOptions.parse(args);
    }

    @Test
    void defaultsInheritStreamsAndAskForNothing() throws UsageException {
        RunOptions options = parse("--", "/bin/true");

        assertThat(options.help()).isFalse();
        assertThat(options.command()).containsExactly("/bin/true");
        assertThat(options.namespaces()).isEmpty();
        assertThat(options.hostname()).isEmpty();
        assertThat(options.uidMappings()).isEmpty();
        assertThat(options.gidMappings()).isEmpty();
        assertThat(options.directory()).isEmpty();
        assertThat(options.inheritEnvironment()).isFalse();
        assertThat(options.inheritedVariables()).isEmpty();
        assertThat(options.environment()).isEmpty();
        assertThat(options.stdin()).isEqualTo(Redirect.INHERIT);
        assertThat(options.stdout()).isEqualTo(Redirect.INHERIT);
        assertThat(options.stderr()).isEqualTo(Redirect.INHERIT);
        assertThat(options.mergeStderr()).isFalse();
        assertThat(options.printOutcome()).isFalse();
    }

    @Test
    void everythingAfterTheSeparatorBelongsToTheProgram() throws UsageException {
        RunOptions options = parse("--outcome", "--", "/bin/sh", "-c", "echo", "--unshare-all", "--");

        assertThat(options.command()).containsExactly("/bin/sh", "-c", "echo", "--unshare-all", "--");
        assertThat(options.namespaces()).isEmpty();
        assertThat(options.printOutcome()).isTrue();
    }

    @Test
    void theFirstNonOptionStartsTheProgramWithoutSeparator() throws UsageException {
        RunOptions options = parse("--unshare-pid", "ls", "-l", "--hostname", "x");

        assertThat(options.command()).containsExactly("ls", "-l", "--hostname", "x");
        assertThat(options.namespaces()).containsExactly(Namespace.PID);
        assertThat(options.hostname()).isEmpty();
    }

    @Test
    void unshareAllAsksForEveryNamespace() throws UsageException {
        assertThat(parse("--unshare-all", "prog").namespaces()).isEqualTo(EnumSet.allOf(Namespace.class));
    }

    @ParameterizedTest
    @CsvSource({
        "--unshare-user, USER",
        "--unshare-pid, PID",
        "--unshare-mount, MOUNT",
        "--unshare-uts, UTS",
        "--unshare-ipc, IPC",
        "--unshare-net, NETWORK",
        "--unshare-cgroup, CGROUP",
        "--unshare-time, TIME",
    })
    void eachUnshareOptionAsksForItsNamespace(String option, Namespace namespace) throws UsageException {
        assertThat(parse(option, "prog").namespaces()).containsExactly(namespace);
    }

    @Test
    void unshareOptionsAddUp() throws UsageException {
        assertThat(parse("--unshare-net", "--unshare-user", "--unshare-net", "prog").namespaces())
                .containsExactlyInAnyOrder(Namespace.NETWORK, Namespace.USER);
    }

    @Test
    void hostnameImpliesUts() throws UsageException {
        RunOptions options = parse("--hostname", "box", "prog");

        assertThat(options.hostname()).contains("box");
        assertThat(options.namespaces()).containsExactly(Namespace.UTS);
    }

    @Test
    void theLastHostnameWins() throws UsageException {
        assertThat(parse("--hostname", "a", "--hostname", "b", "prog").hostname()).contains("b");
    }

    @Test
    void valuesAreTakenLiterallyEvenWhenTheyLookLikeOptions() throws UsageException {
        RunOptions options = parse("--setenv", "X", "--", "--chdir", "/", "prog");

        assertThat(options.environment()).containsExactly(Map.entry("X", "--"));
        assertThat(options.directory()).contains("/");
        assertThat(options.command()).containsExactly("prog");
    }

    @Test
    void uidAndGidMapsAreRepeatableAndKeepTheirOrder() throws UsageException {
        RunOptions options = parse("--unshare-user", "--uid-map", "0:1000:1", "--uid-map", "1:100000:65536",
                "--gid-map", "0:1000:1", "prog");

        assertThat(options.uidMappings()).containsExactly(new IdMapping(0, 1000, 1), new IdMapping(1, 100000, 65536));
        assertThat(options.gidMappings()).containsExactly(new IdMapping(0, 1000, 1));
    }

    @Test
    void mapsAreAcceptedWithUnshareAll() throws UsageException {
        assertThat(parse("--gid-map", "0:0:1", "--unshare-all", "prog").gidMappings())
                .containsExactly(IdMapping.single(0, 0));
    }

    @ParameterizedTest
    @ValueSource(strings = {"--uid-map", "--gid-map"})
    void mapsNeedAUserNamespace(String option) {
        assertThatThrownBy(() -> parse("--unshare-pid", option, "0:0:1", "prog"))
                .isInstanceOf(UsageException.class)
                .hasMessage(option + " needs --unshare-user or --unshare-all")
                .satisfies(e -> assertThat(((UsageException) e).option()).contains(option));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "0", "0:0", "0:0:1:1", "a:0:1", "0:-1:1", "+0:0:1", "0: 0:1", "0:0:",
        "::", "0x10:0:1"})
    void malformedMapsAreRejectedNamingTheOption(String map) {
        assertThatThrownBy(() -> parse("--unshare-user", "--uid-map", map, "prog"))
                .isInstanceOf(UsageException.class)
                .hasMessageStartingWith("--uid-map: \"" + map + "\" is not a mapping")
                .hasMessageContaining("INSIDE:OUTSIDE:COUNT");
    }

    @Test
    void mapsOutOfRangeAreRejectedNamingTheOption() {
        assertThatThrownBy(() -> parse("--unshare-user", "--gid-map", "0:0:0", "prog"))
                .isInstanceOf(UsageException.class)
                .hasMessageStartingWith("--gid-map: \"0:0:0\": count");
        assertThatThrownBy(() -> parse("--unshare-user", "--uid-map", "4294967295:0:1", "prog"))
                .hasMessageStartingWith("--uid-map: \"4294967295:0:1\": insideId");
        assertThatThrownBy(() -> parse("--unshare-user", "--uid-map", "99999999999999999999:0:1", "prog"))
                .hasMessageStartingWith("--uid-map: ");
    }

    @Test
    void chdirSetsTheWorkingDirectory() throws UsageException {
        assertThat(parse("--chdir", "/tmp", "prog").directory()).contains("/tmp");
    }

    @Test
    void setenvIsRepeatableAndTheLastValueOfANameWins() throws UsageException {
        RunOptions options = parse("--setenv", "A", "1", "--setenv", "B", "", "--setenv", "A", "3", "prog");

        assertThat(options.environment()).containsExactly(Map.entry("A", "3"), Map.entry("B", ""));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "A=B"})
    void setenvRejectsNamesThatCannotBeVariables(String name) {
        assertThatThrownBy(() -> parse("--setenv", name, "v", "prog"))
                .isInstanceOf(UsageException.class)
                .hasMessageStartingWith("--setenv: \"" + name + "\" is not a variable name");
    }

    @Test
    void inheritEnvAndInheritEnvVar() throws UsageException {
        RunOptions options = parse("--inherit-env", "--inherit-env-var", "HOME", "--inherit-env-var", "TERM",
                "prog");

        assertThat(options.inheritEnvironment()).isTrue();
        assertThat(options.inheritedVariables()).containsExactly("HOME", "TERM");
    }

    @Test
    void streamRedirections() throws UsageException {
        RunOptions options = parse("--stdin", "in.txt", "--stdout", "out.txt", "--stderr", "err.txt", "prog");

        assertThat(options.stdin()).isEqualTo(Redirect.from(new File("in.txt")));
        assertThat(options.stdout()).isEqualTo(Redirect.to(new File("out.txt")));
        assertThat(options.stderr()).isEqualTo(Redirect.to(new File("err.txt")));
    }

    @Test
    void appendingRedirections() throws UsageException {
        RunOptions options = parse("--stdout-append", "out.log", "--stderr-append", "err.log", "prog");

        assertThat(options.stdout()).isEqualTo(Redirect.appendTo(new File("out.log")));
        assertThat(options.stderr()).isEqualTo(Redirect.appendTo(new File("err.log")));
    }

    @Test
    void theLastRedirectionOfAStreamWins() throws UsageException {
        assertThat(parse("--stdout", "a", "--stdout-append", "b", "prog").stdout())
                .isEqualTo(Redirect.appendTo(new File("b")));
    }

    @Test
    void anEmptyFileNameIsRejected() {
        assertThatThrownBy(() -> parse("--stdout", "", "prog"))
                .isInstanceOf(UsageException.class)
                .hasMessage("--stdout: the file name is empty");
    }

    @Test
    void mergeStderr() throws UsageException {
        RunOptions options = parse("--merge-stderr", "--stdout", "all.log", "prog");

        assertThat(options.mergeStderr()).isTrue();
        assertThat(options.stdout()).isEqualTo(Redirect.to(new File("all.log")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"--stderr", "--stderr-append"})
    void mergeStderrConflictsWithAStderrFile(String option) {
        assertThatThrownBy(() -> parse("--merge-stderr", option, "e.log", "prog"))
                .isInstanceOf(UsageException.class)
                .hasMessageStartingWith("--merge-stderr conflicts with " + option);
    }

    @Test
    void outcome() throws UsageException {
        assertThat(parse("--outcome", "prog").printOutcome()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"--help", "-h"})
    void helpNeedsNoProgramAndStopsParsing(String option) throws UsageException {
        RunOptions options = parse("--unshare-pid", option, "--no-such-option");

        assertThat(options.help()).isTrue();
        assertThat(options.command()).isEmpty();
    }

    @Test
    void helpListsEveryOption() {
        String usage = RunOptions.usage();

        assertThat(RunOptions.optionNames()).hasSize(25);
        for (String name : RunOptions.optionNames()) {
            assertThat(usage).contains(name);
        }
        assertThat(usage).contains("--uid-map INSIDE:OUTSIDE:COUNT", "--setenv NAME VALUE", "--help, -h",
                "125");
    }

    @ParameterizedTest
    @ValueSource(strings = {"--unshare", "--bogus", "-x", "--hostname=box", "--HELP"})
    void unknownOptionsAreNamed(String option) {
        assertThatThrownBy(() -> parse("--unshare-all", option, "prog"))
                .isInstanceOf(UsageException.class)
                .hasMessage("unknown option " + option)
                .satisfies(e -> assertThat(((UsageException) e).option()).contains(option));
    }

    @ParameterizedTest
    @ValueSource(strings = {"--hostname", "--uid-map", "--gid-map", "--chdir", "--inherit-env-var", "--stdin",
        "--stdout", "--stdout-append", "--stderr", "--stderr-append"})
    void aMissingValueIsNamed(String option) {
        assertThatThrownBy(() -> parse("--unshare-user", option))
                .isInstanceOf(UsageException.class)
                .hasMessageStartingWith("option " + option + " needs a value: " + option + " ")
                .satisfies(e -> assertThat(((UsageException) e).option()).contains(option));
    }

    @Test
    void setenvNeedsTwoValues() {
        assertThatThrownBy(() -> parse("--setenv", "NAME"))
                .isInstanceOf(UsageException.class)
                .hasMessage("option --setenv needs 2 values: --setenv NAME VALUE");
    }

    @Test
    void aProgramIsRequired() {
        assertThatThrownBy(() -> parse("--unshare-all", "--"))
                .isInstanceOf(UsageException.class)
                .hasMessage("no program given after --");
        assertThatThrownBy(() -> parse("--unshare-all"))
                .isInstanceOf(UsageException.class)
                .hasMessage("no program given");
        assertThatThrownBy(RunOptions::parse)
                .isInstanceOf(UsageException.class)
                .hasMessage("no program given");
    }

    @Test
    void theParsedOptionsAreImmutable() throws UsageException {
        String[] args = {"--setenv", "A", "1", "--inherit-env-var", "B", "prog", "arg"};
        RunOptions options = RunOptions.parse(args);
        args[6] = "changed";

        assertThat(options.command()).containsExactly("prog", "arg");
        List<Runnable> mutations = List.of(
                () -> options.command().add("x"),
                () -> options.namespaces().add(Namespace.PID),
                () -> options.environment().put("C", "3"),
                () -> options.inheritedVariables().add("D"),
                () -> options.uidMappings().add(IdMapping.single(0, 0)));
        for (Runnable mutation : mutations) {
            assertThatThrownBy(mutation::run).isInstanceOf(UnsupportedOperationException.class);
        }
    }
}
