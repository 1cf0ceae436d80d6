package dev.isolation.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.isolation.IdMapping;
import dev.isolation.Namespace;
import dev.isolation.examples.RunOptions.IoDevice;
import dev.isolation.examples.RunOptions.IoRate;
import dev.isolation.examples.RunOptions.Mount;
import dev.isolation.examples.RunOptions.Resources;
import dev.isolation.examples.RunOptions.UserIds;
import dev.isolation.fs.RootMode;
import java.io.File;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
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
        assertThat(options.filesystem()).isFalse();
        assertThat(options.rootDirectory()).isEmpty();
        assertThat(options.image()).isEmpty();
        assertThat(options.rootMode()).isEmpty();
        assertThat(options.readOnlyRoot()).isFalse();
        assertThat(options.mounts()).isEmpty();
        assertThat(options.standardMounts()).isTrue();
        assertThat(options.keepChanges()).isEmpty();
        assertThat(options.commitLayer()).isFalse();
        assertThat(options.printChanges()).isFalse();
        assertThat(options.user()).isEmpty();
        assertThat(options.resources().isEmpty()).isTrue();
        assertThat(options.cgroup()).isFalse();
        assertThat(options.printUsage()).isFalse();
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
    void execsAndTimeLimits() throws UsageException {
        RunOptions options = parse("--exec", "ps", "--exec", "id", "--wall-time", "1500", "--cpu-time", "200", "prog");
        assertThat(options.execs()).containsExactly("ps", "id");
        assertThat(options.wallTimeMillis()).contains(1500L);
        assertThat(options.cpuTimeMillis()).contains(200L);
        assertThatThrownBy(() -> parse("--wall-time", "0", "prog")).isInstanceOf(UsageException.class)
                .hasMessageContaining("not a positive number");
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

        assertThat(RunOptions.optionNames()).hasSize(63);
        for (String name : RunOptions.optionNames()) {
            assertThat(usage).contains(name);
        }
        assertThat(usage).contains("--uid-map INSIDE:OUTSIDE:COUNT", "--setenv NAME VALUE", "--help, -h",
                "125", "--bind SRC DEST", "--ro-bind SRC DEST", "--tmpfs DEST[:SIZE[:MODE]]", "--volume NAME:DEST[:ro]",
                "--user UID[:GID]", "--image PATH", "$XDG_CACHE_HOME/isolation/layers", "~/.cache/isolation/layers",
                "$XDG_DATA_HOME/isolation/volumes", "~/.local/share/isolation/volumes");
    }

    @Test
    void helpListsTheResourceOptionsInTheirOwnSection() {
        String usage = RunOptions.usage();
        int section = usage.indexOf("\nResources:\n");

        assertThat(section).isPositive();
        assertThat(usage.indexOf("\nFilesystem:\n")).isGreaterThan(section);
        String resources = usage.substring(section, usage.indexOf("\nFilesystem:\n"));
        assertThat(resources).contains("--memory SIZE", "--memory-swap SIZE", "--memory-high SIZE", "--cpus N",
                "--cpu-period DURATION-MS", "--cpu-weight N", "--cpuset-cpus LIST", "--cpuset-mems LIST", "--pids N",
                "--io-read-bps MAJ:MIN:RATE", "--io-write-bps MAJ:MIN:RATE", "--io-read-iops MAJ:MIN:N",
                "--io-write-iops MAJ:MIN:N", "--io-weight N", "--cgroup", "--usage", "1..10000");
        assertThat(usage.substring(0, section)).doesNotContain("--memory", "--pids", "--cgroup");
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
        "--stdout", "--stdout-append", "--stderr", "--stderr-append", "--user", "--root", "--image", "--layer-store",
        "--tmpfs", "--proc", "--dev", "--ro-sys", "--volume", "--volume-store", "--keep-changes", "--memory",
        "--memory-swap", "--memory-high", "--cpus", "--cpu-period", "--cpu-weight", "--cpuset-cpus", "--cpuset-mems",
        "--pids", "--io-read-bps", "--io-write-bps", "--io-read-iops", "--io-write-iops", "--io-weight"})
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
                () -> options.uidMappings().add(IdMapping.single(0, 0)),
                () -> options.mounts().add(new Mount.Proc("/proc")));
        for (Runnable mutation : mutations) {
            assertThatThrownBy(mutation::run).isInstanceOf(UnsupportedOperationException.class);
        }
    }

    // --- filesystem ----------------------------------------------------------------------------------------------

    @Test
    void rootTakesAHostDirectoryAsWrittenAndImpliesAMountNamespace() throws UsageException {
        RunOptions options = parse("--root", "rootfs", "prog");

        assertThat(options.rootDirectory()).contains(Path.of("rootfs"));
        assertThat(options.filesystem()).isTrue();
        assertThat(options.namespaces()).containsExactly(Namespace.MOUNT);
        assertThat(options.rootMode()).as("the library's default: an overlay").isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"--read-only-root", "--no-standard-mounts", "--changes", "--overlay"})
    void everyFilesystemFlagImpliesAMountNamespace(String option) throws UsageException {
        RunOptions options = parse(option, "prog");

        assertThat(options.filesystem()).isTrue();
        assertThat(options.namespaces()).containsExactly(Namespace.MOUNT);
    }

    @Test
    void theStoreLocationsAloneAskForNothing() throws UsageException {
        RunOptions options = parse("--layer-store", "layers", "--volume-store", "/v", "prog");

        assertThat(options.filesystem()).isFalse();
        assertThat(options.namespaces()).isEmpty();
        assertThat(options.layerStore()).isEqualTo(Path.of("layers"));
        assertThat(options.volumeStore()).isEqualTo(Path.of("/v"));
    }

    @Test
    void imageMakesTheProgramOptional() throws UsageException {
        RunOptions options = parse("--image", "/images/alpine.tar");

        assertThat(options.image()).contains(Path.of("/images/alpine.tar"));
        assertThat(options.command()).isEmpty();
        assertThat(options.namespaces()).containsExactly(Namespace.MOUNT);
        assertThat(options.filesystem()).as("the image brings its own").isFalse();
        assertThat(parse("--image", "img", "--").command()).isEmpty();
        assertThat(parse("--image", "img", "--", "sh", "-c", "x").command()).containsExactly("sh", "-c", "x");
    }

    @Test
    void imageConflictsWithRoot() {
        assertThatThrownBy(() -> parse("--root", "/r", "--image", "/i", "prog"))
                .isInstanceOf(UsageException.class)
                .hasMessage("--image conflicts with --root: a sandbox has one root")
                .satisfies(e -> assertThat(((UsageException) e).option()).contains("--image"));
    }

    @Test
    void defaultStoresFollowTheXdgBaseDirectories() {
        assertThat(RunOptions.defaultStore(Map.of("XDG_CACHE_HOME", "/xdg/cache"), "/home/u", "XDG_CACHE_HOME",
                ".cache", "layers")).isEqualTo(Path.of("/xdg/cache/isolation/layers"));
        assertThat(RunOptions.defaultStore(Map.of(), "/home/u", "XDG_CACHE_HOME", ".cache", "layers"))
                .isEqualTo(Path.of("/home/u/.cache/isolation/layers"));
        assertThat(RunOptions.defaultStore(Map.of("XDG_DATA_HOME", "relative"), "/home/u", "XDG_DATA_HOME",
                ".local/share", "volumes")).as("a relative XDG directory is ignored")
                .isEqualTo(Path.of("/home/u/.local/share/isolation/volumes"));
        assertThat(RunOptions.defaultStore(Map.of("XDG_DATA_HOME", ""), "/home/u", "XDG_DATA_HOME",
                ".local/share", "volumes")).isEqualTo(Path.of("/home/u/.local/share/isolation/volumes"));
    }

    @Test
    void storesDefaultUnderTheHomeOrXdgDirectories() throws UsageException {
        RunOptions options = parse("prog");
        String home = System.getProperty("user.home");

        assertThat(options.layerStore().toString()).endsWith("/isolation/layers");
        assertThat(options.volumeStore().toString()).endsWith("/isolation/volumes");
        if (System.getenv("XDG_CACHE_HOME") == null) {
            assertThat(options.layerStore()).isEqualTo(Path.of(home, ".cache/isolation/layers"));
        }
    }

    @Test
    void overlayAndCopiedRootChooseTheRootMode() throws UsageException {
        assertThat(parse("--overlay", "prog").rootMode()).contains(RootMode.OVERLAY);
        assertThat(parse("--root", "/r", "--copied-root", "prog").rootMode()).contains(RootMode.COPY);
        assertThat(parse("--overlay", "--overlay", "prog").rootMode()).contains(RootMode.OVERLAY);
    }

    @Test
    void overlayConflictsWithCopiedRoot() {
        assertThatThrownBy(() -> parse("--root", "/r", "--overlay", "--copied-root", "prog"))
                .isInstanceOf(UsageException.class)
                .hasMessageStartingWith("--copied-root conflicts with --overlay");
    }

    @Test
    void copiedRootNeedsARootDirectory() {
        assertThatThrownBy(() -> parse("--copied-root", "prog"))
                .isInstanceOf(UsageException.class)
                .hasMessageStartingWith("--copied-root needs --root");
        assertThatThrownBy(() -> parse("--image", "/i", "--copied-root"))
                .isInstanceOf(UsageException.class)
                .hasMessageStartingWith("--copied-root needs --root")
                .hasMessageContaining("image");
    }

    @Test
    void readOnlyRootAndNoStandardMounts() throws UsageException {
        RunOptions options = parse("--read-only-root", "--no-standard-mounts", "prog");

        assertThat(options.readOnlyRoot()).isTrue();
        assertThat(options.standardMounts()).isFalse();
    }

    @Test
    void mountsKeepTheirCommandLineOrder() throws UsageException {
        RunOptions options = parse("--tmpfs", "/t", "--bind", "src", "/a", "--proc", "/p", "--ro-bind", "/etc",
                "/host-etc", "--volume", "cache:/cache", "--dev", "/d", "--ro-sys", "/s", "--volume", "db:/db:ro",
                "--tmpfs", "/t2:64k:700", "prog");

        assertThat(options.mounts()).containsExactly(
                new Mount.Tmpfs("/t", OptionalLong.empty(), 01777),
                new Mount.Bind(Path.of("src"), "/a", false),
                new Mount.Proc("/p"),
                new Mount.Bind(Path.of("/etc"), "/host-etc", true),
                new Mount.Volume("cache", "/cache", false),
                new Mount.Dev("/d"),
                new Mount.Sys("/s"),
                new Mount.Volume("db", "/db", true),
                new Mount.Tmpfs("/t2", OptionalLong.of(64 * 1024), 0700));
        assertThat(options.mounts()).extracting(Mount::option).containsExactly("--tmpfs", "--bind", "--proc",
                "--ro-bind", "--volume", "--dev", "--ro-sys", "--volume", "--tmpfs");
        assertThat(options.namespaces()).containsExactly(Namespace.MOUNT);
    }

    @Test
    void bindNeedsTwoValuesTakenLiterally() throws UsageException {
        assertThatThrownBy(() -> parse("--ro-bind", "/etc"))
                .isInstanceOf(UsageException.class)
                .hasMessage("option --ro-bind needs 2 values: --ro-bind SRC DEST");
        assertThat(parse("--bind", "-odd", "--", "prog").mounts())
                .containsExactly(new Mount.Bind(Path.of("-odd"), "--", false));
    }

    @Test
    void targetsAndSourcesAreTheLibrarysToJudge() throws UsageException {
        RunOptions options = parse("--bind", "/no/such/source", "relative", "--proc", "p", "prog");

        assertThat(options.mounts()).containsExactly(new Mount.Bind(Path.of("/no/such/source"), "relative", false),
                new Mount.Proc("p"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "/t|-1|1023",
        "/t:|-1|1023",
        "/t:4096|4096|1023",
        "/t:1m|1048576|1023",
        "/t:1M|1048576|1023",
        "/t:10k|10240|1023",
        "/t:2g|2147483648|1023",
        "/t:0|0|1023",
        "/t::700|-1|448",
        "/t:1m:1777|1048576|1023",
        "/t:1m:0|1048576|0",
    })
    void tmpfsSizeAndMode(String value, long size, int mode) throws UsageException {
        Mount.Tmpfs tmpfs = (Mount.Tmpfs) parse("--tmpfs", value, "prog").mounts().get(0);

        assertThat(tmpfs.target()).isEqualTo("/t");
        assertThat(tmpfs.size()).isEqualTo(size < 0 ? OptionalLong.empty() : OptionalLong.of(size));
        assertThat(tmpfs.mode()).isEqualTo(mode);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/t:1x", "/t:-1", "/t:1.5m", "/t:m", "/t: 1", "/t:1kb", "/t:99999999999999999999"})
    void malformedTmpfsSizesAreRejected(String value) {
        assertThatThrownBy(() -> parse("--tmpfs", value, "prog"))
                .isInstanceOf(UsageException.class)
                .hasMessageStartingWith("--tmpfs: \"" + value + "\": size ")
                .hasMessageContaining("k, m or g")
                .satisfies(e -> assertThat(((UsageException) e).option()).contains("--tmpfs"));
    }

    @Test
    void tmpfsSizesThatOverflowAreRejected() {
        assertThatThrownBy(() -> parse("--tmpfs", "/t:9999999999999g", "prog"))
                .isInstanceOf(UsageException.class)
                .hasMessage("--tmpfs: \"/t:9999999999999g\": size \"9999999999999g\" is too large");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/t:1m:8", "/t:1m:rwx", "/t:1m:-1", "/t:1m:1234567"})
    void malformedTmpfsModesAreRejected(String value) {
        assertThatThrownBy(() -> parse("--tmpfs", value, "prog"))
                .isInstanceOf(UsageException.class)
                .hasMessageStartingWith("--tmpfs: \"" + value + "\": mode ")
                .hasMessageEndingWith("is not an octal number");
    }

    @Test
    void tmpfsWithTooManyFieldsIsRejected() {
        assertThatThrownBy(() -> parse("--tmpfs", "/t:1m:755:x", "prog"))
                .isInstanceOf(UsageException.class)
                .hasMessage("--tmpfs: \"/t:1m:755:x\" is not DEST[:SIZE[:MODE]]");
    }

    @ParameterizedTest
    @CsvSource({
        "cache:/data, cache, /data, false",
        "cache:/data:ro, cache, /data, true",
        "cache:/data:rw, cache, /data, false",
        "-bad name:rel, -bad name, rel, false",
    })
    void volumes(String value, String name, String target, boolean readOnly) throws UsageException {
        assertThat(parse("--volume", value, "prog").mounts()).containsExactly(new Mount.Volume(name, target, readOnly));
    }

    @ParameterizedTest
    @ValueSource(strings = {"cache", "cache:/data:x", "cache:/data:ro:1", ""})
    void malformedVolumesAreRejected(String value) {
        assertThatThrownBy(() -> parse("--volume", value, "prog"))
                .isInstanceOf(UsageException.class)
                .hasMessage("--volume: \"" + value + "\" is not NAME:DEST or NAME:DEST:ro");
    }

    @Test
    void keepChangesAndCommitLayerNeedACopyOnWriteRoot() throws UsageException {
        assertThat(parse("--root", "/r", "--keep-changes", "kept", "prog").keepChanges()).contains(Path.of("kept"));
        assertThat(parse("--overlay", "--commit-layer", "prog").commitLayer()).isTrue();
        assertThat(parse("--image", "/i", "--commit-layer").commitLayer()).isTrue();
        for (String[] args : List.of(new String[] {"--keep-changes", "/k", "prog"},
                new String[] {"--commit-layer", "prog"},
                new String[] {"--root", "/r", "--copied-root", "--commit-layer", "prog"})) {
            assertThatThrownBy(() -> parse(args))
                    .isInstanceOf(UsageException.class)
                    .hasMessageEndingWith("needs a copy-on-write root: --root DIR, --image PATH or --overlay");
        }
    }

    @Test
    void keepChangesConflictsWithCommitLayer() {
        assertThatThrownBy(() -> parse("--root", "/r", "--commit-layer", "--keep-changes", "/k", "prog"))
                .isInstanceOf(UsageException.class)
                .hasMessageStartingWith("--keep-changes conflicts with --commit-layer");
    }

    @Test
    void changesMayBeAskedForWithAnyRoot() throws UsageException {
        assertThat(parse("--changes", "prog").printChanges()).isTrue();
        assertThat(parse("--root", "/r", "--changes", "prog").printChanges()).isTrue();
    }

    @ParameterizedTest
    @CsvSource({
        "1000, 1000, 1000",
        "1000:100, 1000, 100",
        "0:0, 0, 0",
        "4294967295, 4294967295, 4294967295",
    })
    void userTakesUidAndOptionalGid(String value, long uid, long gid) throws UsageException {
        RunOptions options = parse("--user", value, "prog");

        assertThat(options.user()).contains(new UserIds(uid, gid));
        assertThat(options.namespaces()).as("ids alone ask for no namespace").isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a", "root", "1:2:3", "-1", "1:", ":1", "1:x"})
    void malformedUsersAreRejected(String value) {
        assertThatThrownBy(() -> parse("--user", value, "prog"))
                .isInstanceOf(UsageException.class)
                .hasMessage("--user: \"" + value + "\" is not UID or UID:GID, decimal numbers");
    }

    @Test
    void usersThatOverflowAreRejected() {
        assertThatThrownBy(() -> parse("--user", "9999999999999999999", "prog"))
                .isInstanceOf(UsageException.class)
                .hasMessage("--user: \"9999999999999999999\" has a number that is too large");
    }

    @ParameterizedTest
    @ValueSource(strings = {"--root", "--image", "--layer-store", "--volume-store", "--keep-changes"})
    void emptyPathsAreRejected(String option) {
        assertThatThrownBy(() -> parse(option, "", "prog"))
                .isInstanceOf(UsageException.class)
                .hasMessage(option + ": the path is empty");
    }

    @Test
    void pathsWithNulAreRejected() {
        assertThatThrownBy(() -> parse("--bind", "a\0b", "/x", "prog"))
                .isInstanceOf(UsageException.class)
                .hasMessageStartingWith("--bind: \"a\0b\" is not a path");
    }

    // --- resources -----------------------------------------------------------------------------------------------

    private static UsageException usageError(String... args) {
        try {
            parse(args);
        } catch (UsageException e) {
            return e;
        }
        throw new AssertionError("parsed: " + List.of(args));
    }

    @Test
    void everyResourceOptionIsCarried() throws UsageException {
        RunOptions options = parse("--memory", "64m", "--memory-swap", "1g", "--memory-high", "48M", "--cpus", "0.5",
                "--cpu-period", "50", "--cpu-weight", "200", "--cpuset-cpus", "0-1,3", "--cpuset-mems", "0",
                "--pids", "32", "--io-read-bps", "8:0:1m", "--io-weight", "10000", "prog");

        Resources resources = options.resources();
        assertThat(resources.memory()).isEqualTo(OptionalLong.of(64L << 20));
        assertThat(resources.memorySwap()).isEqualTo(OptionalLong.of(1L << 30));
        assertThat(resources.memoryHigh()).isEqualTo(OptionalLong.of(48L << 20));
        assertThat(resources.cpus()).isEqualTo(OptionalDouble.of(0.5));
        assertThat(resources.cpuPeriodMillis()).isEqualTo(OptionalLong.of(50));
        assertThat(resources.cpuWeight()).isEqualTo(OptionalInt.of(200));
        assertThat(resources.cpusetCpus()).contains("0-1,3");
        assertThat(resources.cpusetMems()).contains("0");
        assertThat(resources.pids()).isEqualTo(OptionalLong.of(32));
        assertThat(resources.io()).containsExactly(IoDevice.of("8:0").with(IoRate.READ_BPS, 1L << 20));
        assertThat(resources.ioWeight()).isEqualTo(OptionalInt.of(10000));
        assertThat(resources.isEmpty()).isFalse();
        assertThat(options.cgroup()).isTrue();
        assertThat(options.printUsage()).isFalse();
        assertThat(options.namespaces()).as("limits ask for no namespace").isEmpty();
        assertThat(options.command()).containsExactly("prog");
    }

    @ParameterizedTest
    @CsvSource({
        "--memory, 64m", "--memory-swap, 0", "--memory-high, 1g", "--cpus, 1", "--cpu-weight, 1", "--cpuset-cpus, 0",
        "--cpuset-mems, 0", "--pids, 1", "--io-read-bps, 8:0:1", "--io-write-bps, 8:0:1k", "--io-read-iops, 8:0:10",
        "--io-write-iops, 8:0:10", "--io-weight, 1",
    })
    void eachLimitGivesTheProgramACgroup(String option, String value) throws UsageException {
        RunOptions options = parse(option, value, "prog");

        assertThat(options.cgroup()).isTrue();
        assertThat(options.resources().isEmpty()).isFalse();
    }

    @Test
    void cgroupAloneAsksForAGroupWithoutLimits() throws UsageException {
        RunOptions options = parse("--cgroup", "prog");

        assertThat(options.cgroup()).isTrue();
        assertThat(options.resources().isEmpty()).isTrue();
    }

    @Test
    void usageAloneAsksForNoGroup() throws UsageException {
        RunOptions options = parse("--usage", "prog");

        assertThat(options.printUsage()).isTrue();
        assertThat(options.cgroup()).as("--usage needs a cgroup but does not make one").isFalse();
        assertThat(parse("--usage", "--pids", "8", "prog").printUsage()).isTrue();
    }

    @ParameterizedTest
    @CsvSource({
        "0, 0",
        "1, 1",
        "4096, 4096",
        "1k, 1024",
        "1K, 1024",
        "64m, 67108864",
        "64M, 67108864",
        "2g, 2147483648",
        "8G, 8589934592",
        "9223372036854775807, 9223372036854775807",
        "8589934591g, 9223372035781033984",
    })
    void memorySizesTakeBinarySuffixes(String value, long bytes) throws UsageException {
        for (String option : List.of("--memory", "--memory-swap", "--memory-high")) {
            Resources resources = parse(option, value, "prog").resources();
            OptionalLong parsed = switch (option) {
                case "--memory" -> resources.memory();
                case "--memory-swap" -> resources.memorySwap();
                default -> resources.memoryHigh();
            };
            assertThat(parsed).as(option).isEqualTo(OptionalLong.of(bytes));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "m", "1x", "1kb", "1.5g", "-1", "+1", " 1", "1 ", "1t", "0x10", "1e6",
        "99999999999999999999"})
    void malformedSizesAreRejected(String value) {
        for (String option : List.of("--memory", "--memory-swap", "--memory-high")) {
            UsageException e = usageError(option, value, "prog");
            assertThat(e).hasMessage(option + ": \"" + value
                    + "\" is not a number of bytes with an optional k, m or g suffix");
            assertThat(e.option()).contains(option);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"9223372036854775808", "8589934592g", "9007199254740992k"})
    void sizesThatOverflowAreRejected(String value) {
        assertThat(usageError("--memory", value, "prog")).hasMessage("--memory: \"" + value + "\" is too large");
    }

    @Test
    void sizesTheLibraryJudgesAreTakenAsWritten() throws UsageException {
        assertThat(parse("--memory", "1k", "prog").resources().memory()).isEqualTo(OptionalLong.of(1024));
        assertThat(parse("--memory-swap", "1m", "prog").resources().memory()).as("no --memory: the library's call")
                .isEmpty();
    }

    @Test
    void theLastValueOfALimitWins() throws UsageException {
        Resources resources = parse("--memory", "1g", "--memory", "2g", "--pids", "5", "--pids", "6", "--cpus", "2",
                "--cpus", "1", "prog").resources();

        assertThat(resources.memory()).isEqualTo(OptionalLong.of(2L << 30));
        assertThat(resources.pids()).isEqualTo(OptionalLong.of(6));
        assertThat(resources.cpus()).isEqualTo(OptionalDouble.of(1));
    }

    @ParameterizedTest
    @CsvSource({"0.5, 0.5", "2, 2", ".25, 0.25", "1., 1", "0, 0", "0.001, 0.001", "64, 64"})
    void cpusTakeDecimalFractions(String value, double cpus) throws UsageException {
        assertThat(parse("--cpus", value, "prog").resources().cpus()).isEqualTo(OptionalDouble.of(cpus));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-1", "+1", "half", "1e3", "1,5", "NaN", "Infinity", ".", "0x1", "1/2", " 1"})
    void malformedCpusAreRejected(String value) {
        UsageException e = usageError("--cpus", value, "prog");

        assertThat(e).hasMessage("--cpus: \"" + value + "\" is not a number of CPUs such as 0.5 or 2");
        assertThat(e.option()).contains("--cpus");
    }

    @Test
    void cpuPeriodIsInMillisecondsAndNeedsCpus() throws UsageException {
        Resources resources = parse("--cpu-period", "20", "--cpus", "1.5", "prog").resources();
        assertThat(resources.cpuPeriodMillis()).isEqualTo(OptionalLong.of(20));
        assertThat(resources.cpus()).isEqualTo(OptionalDouble.of(1.5));
        assertThat(parse("--cpus", "1", "prog").resources().cpuPeriodMillis()).as("the library's default").isEmpty();

        UsageException e = usageError("--cpu-period", "20", "prog");
        assertThat(e).hasMessage("--cpu-period needs --cpus: it is the period of the quota");
        assertThat(e.option()).contains("--cpu-period");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-1", "1.5", "100ms", "1s", "x"})
    void malformedCpuPeriodsAreRejected(String value) {
        assertThat(usageError("--cpus", "1", "--cpu-period", value, "prog"))
                .hasMessage("--cpu-period: \"" + value + "\" is not a decimal number");
    }

    @ParameterizedTest
    @ValueSource(strings = {"--cpu-weight", "--io-weight"})
    void weightsRangeFrom1To10000(String option) throws UsageException {
        for (int weight : new int[] {1, 100, 10000}) {
            Resources resources = parse(option, String.valueOf(weight), "prog").resources();
            OptionalInt parsed = option.equals("--cpu-weight") ? resources.cpuWeight() : resources.ioWeight();
            assertThat(parsed).isEqualTo(OptionalInt.of(weight));
        }
        for (String outside : List.of("0", "10001", "00000", "4294967297", "99999999999999999999999")) {
            UsageException e = usageError(option, outside, "prog");
            assertThat(e).hasMessage(option + ": \"" + outside + "\" is outside the accepted range 1 to 10000");
            assertThat(e.option()).contains(option);
        }
        for (String malformed : List.of("", "-1", "1.5", "high", "1k")) {
            assertThat(usageError(option, malformed, "prog"))
                    .hasMessage(option + ": \"" + malformed + "\" is not a decimal number");
        }
    }

    @Test
    void pidsTakeADecimalNumber() throws UsageException {
        assertThat(parse("--pids", "32", "prog").resources().pids()).isEqualTo(OptionalLong.of(32));
        assertThat(parse("--pids", "0", "prog").resources().pids()).as("the library's to judge")
                .isEqualTo(OptionalLong.of(0));
        for (String malformed : List.of("", "-1", "1k", "many", "3.0")) {
            assertThat(usageError("--pids", malformed, "prog"))
                    .hasMessage("--pids: \"" + malformed + "\" is not a decimal number")
                    .satisfies(e -> assertThat(e.option()).contains("--pids"));
        }
        assertThat(usageError("--pids", "9223372036854775808", "prog"))
                .hasMessage("--pids: \"9223372036854775808\" is too large");
    }

    @Test
    void cpusetListsAreTakenAsWritten() throws UsageException {
        Resources resources = parse("--cpuset-cpus", "not a list", "--cpuset-mems", "", "prog").resources();

        assertThat(resources.cpusetCpus()).as("the library's to judge").contains("not a list");
        assertThat(resources.cpusetMems()).contains("");
    }

    @ParameterizedTest
    @CsvSource({
        "--io-read-bps, 8:0:1048576, READ_BPS, 1048576",
        "--io-read-bps, 8:0:10m, READ_BPS, 10485760",
        "--io-write-bps, 259:3:2G, WRITE_BPS, 2147483648",
        "--io-write-bps, 8:16:1k, WRITE_BPS, 1024",
        "--io-read-iops, 8:0:100, READ_IOPS, 100",
        "--io-write-iops, 8:0:5000, WRITE_IOPS, 5000",
        "--io-write-iops, 8:0:0, WRITE_IOPS, 0",
    })
    void ioRatesOfOneDevice(String option, String value, IoRate rate, long expected) throws UsageException {
        List<IoDevice> io = parse(option, value, "prog").resources().io();
        String device = value.substring(0, value.lastIndexOf(':'));

        assertThat(io).hasSize(1);
        assertThat(io.get(0).device()).isEqualTo(device);
        assertThat(io.get(0).get(rate)).isEqualTo(OptionalLong.of(expected));
        for (IoRate other : IoRate.values()) {
            if (other != rate) {
                assertThat(io.get(0).get(other)).isEmpty();
            }
        }
    }

    @Test
    void ioOptionsForOneDeviceMergeAndKeepTheOrderOfTheDevices() throws UsageException {
        List<IoDevice> io = parse("--io-write-iops", "8:16:50", "--io-read-bps", "8:0:1m", "--io-write-bps", "8:0:2m",
                "--io-read-iops", "8:16:100", "--io-read-iops", "8:0:300", "--io-read-bps", "8:0:3m", "prog")
                .resources().io();

        assertThat(io).containsExactly(
                new IoDevice("8:16", OptionalLong.empty(), OptionalLong.empty(), OptionalLong.of(100),
                        OptionalLong.of(50)),
                new IoDevice("8:0", OptionalLong.of(3L << 20), OptionalLong.of(2L << 20), OptionalLong.of(300),
                        OptionalLong.empty()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"--io-read-bps", "--io-write-bps", "--io-read-iops", "--io-write-iops"})
    void malformedIoDevicesAreRejected(String option) {
        String form = option.endsWith("-bps") ? "MAJ:MIN:RATE" : "MAJ:MIN:N";
        for (String value : List.of("", "8:0", "8", "/dev/sda:1m", "sda:1m", "8:0:1:2", "a:0:1", "8:b:1", "-8:0:1",
                ":0:1", "8::1", "8:0 1", "8,0:1")) {
            UsageException e = usageError(option, value, "prog");
            assertThat(e).hasMessage(option + ": \"" + value + "\" is not " + form
                    + " (a block device's major and minor numbers, and a rate)");
            assertThat(e.option()).contains(option);
        }
    }

    @Test
    void malformedIoRatesAreRejected() {
        assertThat(usageError("--io-read-bps", "8:0:1x", "prog")).hasMessage("--io-read-bps: \"8:0:1x\": rate \"1x\""
                + " is not a number of bytes with an optional k, m or g suffix");
        assertThat(usageError("--io-write-bps", "8:0:", "prog")).hasMessage("--io-write-bps: \"8:0:\": rate \"\""
                + " is not a number of bytes with an optional k, m or g suffix");
        assertThat(usageError("--io-write-bps", "8:0:8589934592g", "prog"))
                .hasMessage("--io-write-bps: \"8:0:8589934592g\": rate \"8589934592g\" is too large");
        assertThat(usageError("--io-read-iops", "8:0:1k", "prog"))
                .hasMessage("--io-read-iops: \"8:0:1k\": rate \"1k\" is not a decimal number");
        assertThat(usageError("--io-write-iops", "8:0:-5", "prog"))
                .hasMessage("--io-write-iops: \"8:0:-5\": rate \"-5\" is not a decimal number");
        assertThat(usageError("--io-write-iops", "8:0:99999999999999999999", "prog"))
                .hasMessage("--io-write-iops: \"8:0:99999999999999999999\": rate \"99999999999999999999\" is too large");
    }

    @Test
    void theResourcesAreImmutable() throws UsageException {
        Resources resources = parse("--io-read-bps", "8:0:1", "prog").resources();

        assertThatThrownBy(() -> resources.io().add(IoDevice.of("8:1"))).isInstanceOf(UnsupportedOperationException.class);
        assertThat(new Resources(OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(),
                OptionalDouble.empty(), OptionalLong.empty(), OptionalInt.empty(), Optional.empty(), Optional.empty(),
                OptionalLong.empty(), List.of(), OptionalInt.empty()).isEmpty()).isTrue();
    }
}
