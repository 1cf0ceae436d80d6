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
import dev.isolation.cgroups.CgroupMode;
import dev.isolation.cgroups.CgroupTopology;
import dev.isolation.cgroups.ResourceLimits;
import dev.isolation.cgroups.ResourceUsage;
import dev.isolation.fs.Change;
import dev.isolation.fs.ChangesPolicy;
import dev.isolation.fs.FilesystemSpec;
import dev.isolation.fs.MountSpec;
import dev.isolation.fs.RootMode;
import dev.isolation.fs.RootSource;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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
    void theSpecInheritsTheStreamsByDefault() throws Exception {
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
    void theSpecCarriesEveryOption() throws Exception {
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
    void setenvOverridesInheritedVariables() throws Exception {
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
    void settingsTheLibraryRejectsSurfaceFromSpec() throws Exception {
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
        assertThat(Run.describe(new Outcome.OutOfMemory(9))).isEqualTo("killed by the OOM killer (signal 9)");
    }

    // --- filesystem, end to end (as root, and unprivileged with the user namespace of --unshare-all) ---------------

    @TempDir
    Path temp;

    /** A root of a static busybox with a few applets, an /etc with two files, and empty /proc, /dev, /tmp. */
    private Path busyboxRoot(String name) throws IOException {
        Path root = temp.resolve(name);
        Files.createDirectories(root.resolve("bin"));
        Files.copy(Path.of("/bin/busybox"), root.resolve("bin/busybox"), StandardCopyOption.COPY_ATTRIBUTES);
        for (String applet : List.of("sh", "cat", "echo", "ls", "rm", "touch", "id", "pwd", "test")) {
            Files.createSymbolicLink(root.resolve("bin").resolve(applet), Path.of("busybox"));
        }
        for (String dir : List.of("etc", "proc", "dev", "tmp")) {
            Files.createDirectories(root.resolve(dir));
        }
        Files.writeString(root.resolve("etc/existing"), "old\n");
        Files.writeString(root.resolve("etc/doomed"), "doomed\n");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        return root;
    }

    /** Runs the runner with the program's standard output going to a file; returns that output. */
    private String output(int expectedStatus, String... args) throws IOException {
        Path output = temp.resolve("out-" + System.nanoTime());
        List<String> all = new ArrayList<>(List.of("--stdin", "/dev/null", "--stdout", output.toString()));
        all.addAll(List.of(args));
        int status = run(all.toArray(String[]::new));
        assertThat(status).as("exit status; stderr: %s", err()).isEqualTo(expectedStatus);
        return Files.exists(output) ? Files.readString(output) : "";
    }

    @Test
    void aDirectoryRootWithATmpfs() throws IOException {
        Path root = busyboxRoot("root");

        String out = output(0, "--unshare-all", "--root", root.toString(), "--tmpfs", "/scratch:1m", "--",
                "/bin/sh", "-c", "echo hi > /scratch/f && cat /scratch/f");

        assertThat(out).isEqualTo("hi\n");
        assertThat(err()).isEmpty();
        assertThat(root.resolve("scratch")).as("the directory root is only a lower").doesNotExist();
    }

    @Test
    void aRelativeRootIsFoundFromTheCurrentDirectory() throws IOException {
        Path root = busyboxRoot("relative-root");
        Path relative = Path.of("").toAbsolutePath().relativize(root);

        assertThat(output(0, "--unshare-all", "--root", relative.toString(), "--", "/bin/cat", "/etc/existing"))
                .isEqualTo("old\n");
    }

    @Test
    void tmpfsSizeIsEnforced() throws IOException {
        String out = output(0, "--unshare-all", "--root", busyboxRoot("root").toString(), "--tmpfs",
                "/small:8k:700", "--", "/bin/sh", "-c",
                "busybox dd if=/dev/zero of=/small/big bs=1024 count=64 2>/dev/null || echo full;"
                        + " busybox stat -c %a /small");

        assertThat(out).isEqualTo("full\n700\n");
    }

    @Test
    void aReadOnlyBindOnTheHostRoot() throws IOException {
        Path data = Files.createDirectory(temp.resolve("data"));
        Files.writeString(data.resolve("x"), "from the host\n");

        String out = output(0, "--unshare-all", "--ro-bind", data.toString(), "/data", "--",
                "/bin/sh", "-c", "cat /data/x; touch /data/y 2>/dev/null || echo read-only");

        assertThat(out).isEqualTo("from the host\nread-only\n");
        assertThat(data.resolve("y")).doesNotExist();
    }

    @Test
    void aWritableBindWritesThroughAndMountsApplyInOrder() throws IOException {
        Path data = Files.createDirectory(temp.resolve("data"));

        String out = output(0, "--unshare-all", "--root", busyboxRoot("root").toString(),
                "--bind", data.toString(), "/data", "--tmpfs", "/data/hidden", "--", "/bin/sh", "-c",
                "echo through > /data/written && echo gone > /data/hidden/f && cat /data/written");

        assertThat(out).isEqualTo("through\n");
        assertThat(Files.readString(data.resolve("written"))).isEqualTo("through\n");
        assertThat(data.resolve("hidden/f")).as("the tmpfs came after the bind, on top of it").doesNotExist();
    }

    @Test
    void changesAreListedAtExit() throws IOException {
        String out = output(0, "--unshare-all", "--root", busyboxRoot("root").toString(), "--changes", "--",
                "/bin/sh", "-c", "echo new > /etc/added && echo more >> /etc/existing && rm /etc/doomed && echo ok");

        assertThat(out).isEqualTo("ok\n");
        assertThat(err().lines()).contains("A /etc/added", "M /etc/existing", "D /etc/doomed")
                .allMatch(line -> line.matches("[AMD] /.*"));
    }

    @Test
    void changesSaySoWhenTheRootIsNotAnOverlay() throws IOException {
        output(0, "--unshare-all", "--changes", "--", "/bin/true");

        assertThat(err()).isEqualTo("isolation-run: no changes to list: the root is not a copy-on-write overlay"
                + " (--root, --image or --overlay make one)\n");
    }

    @Test
    void aVolumeKeepsItsFilesAcrossRuns() throws IOException {
        Path store = temp.resolve("volumes");
        Path root = busyboxRoot("root");

        output(0, "--unshare-all", "--root", root.toString(), "--volume-store", store.toString(),
                "--volume", "shared:/data", "--", "/bin/sh", "-c", "echo kept > /data/f");
        String out = output(0, "--unshare-all", "--root", root.toString(), "--volume-store", store.toString(),
                "--volume", "shared:/data:ro", "--", "/bin/sh", "-c",
                "cat /data/f; touch /data/g 2>/dev/null || echo ro");

        assertThat(out).isEqualTo("kept\nro\n");
        assertThat(Files.readString(store.resolve("shared/data/f"))).isEqualTo("kept\n");
    }

    @Test
    void keptChangesLandInTheDirectory() throws IOException {
        Path kept = temp.resolve("kept");

        output(0, "--unshare-all", "--root", busyboxRoot("root").toString(), "--keep-changes", kept.toString(), "--",
                "/bin/sh", "-c", "echo note > /etc/note");

        assertThat(Files.readString(kept.resolve("etc/note"))).isEqualTo("note\n");
        assertThat(err()).isEmpty();
    }

    @Test
    void aCommittedLayerIsNamedAndStored() throws IOException {
        Path layers = temp.resolve("layers");

        output(0, "--unshare-all", "--root", busyboxRoot("root").toString(), "--layer-store", layers.toString(),
                "--commit-layer", "--", "/bin/sh", "-c", "echo committed > /etc/note");

        assertThat(err()).matches("isolation-run: committed layer sha256:[0-9a-f]{64}\n");
        String hex = err().trim().substring(err().trim().lastIndexOf(':') + 1);
        assertThat(Files.readString(layers.resolve("sha256").resolve(hex).resolve("etc/note")))
                .isEqualTo("committed\n");
    }

    @Test
    void aCopiedRootIsPrivate() throws IOException {
        Path root = busyboxRoot("root");

        String out = output(0, "--unshare-all", "--root", root.toString(), "--copied-root", "--", "/bin/sh", "-c",
                "echo changed > /etc/existing && cat /etc/existing");

        assertThat(out).isEqualTo("changed\n");
        assertThat(Files.readString(root.resolve("etc/existing"))).isEqualTo("old\n");
    }

    @Test
    void aReadOnlyRootKeepsItsMountsWritable() throws IOException {
        String out = output(0, "--unshare-all", "--root", busyboxRoot("root").toString(), "--read-only-root",
                "--tmpfs", "/scratch", "--", "/bin/sh", "-c",
                "touch /etc/x 2>/dev/null || echo read-only; echo s > /scratch/s && cat /scratch/s");

        assertThat(out).isEqualTo("read-only\ns\n");
    }

    @Test
    void noStandardMountsLeavesTheRootsOwnDirectories() throws IOException {
        Path root = busyboxRoot("root");
        Files.writeString(root.resolve("tmp/marker"), "from the root\n");

        String out = output(0, "--unshare-all", "--root", root.toString(), "--no-standard-mounts", "--proc", "/proc",
                "--", "/bin/sh", "-c", "cat /tmp/marker; ls /dev | busybox wc -l; test -e /proc/self && echo proc");

        assertThat(out).isEqualTo("from the root\n0\nproc\n");
    }

    @Test
    void userSetsTheIdsInside() throws IOException {
        String out = output(0, "--unshare-all", "--user", "1000:1001", "--", "/bin/sh", "-c", "id -u; id -g");

        assertThat(out).isEqualTo("1000\n1001\n");
    }

    @Test
    void anImageIsTheRootAndItsConfigTheDefaults() throws Exception {
        Path image = ociLayout(temp.resolve("image"), busyboxRoot("image-root"),
                "\"Env\":[\"GREETING=from-image\",\"PATH=/bin\"],\"WorkingDir\":\"/etc\","
                        + "\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":[\"echo $GREETING in $(pwd)\"]");
        Path layers = temp.resolve("layers");

        assertThat(output(0, "--unshare-all", "--image", image.toString(), "--layer-store", layers.toString()))
                .isEqualTo("from-image in /etc\n");
        assertThat(output(0, "--unshare-all", "--image", image.toString(), "--layer-store", layers.toString(),
                "--setenv", "GREETING", "set", "--chdir", "/tmp", "--tmpfs", "/scratch", "--changes", "--",
                "/bin/sh", "-c", "echo $GREETING in $(pwd) > /scratch/x; cat /scratch/x; echo a > /etc/added"))
                .isEqualTo("set in /tmp\n");
        assertThat(err().lines()).contains("A /etc/added");
    }

    @Test
    void anImageMayBeATarOfItsLayout() throws Exception {
        Path layout = ociLayout(temp.resolve("image"), busyboxRoot("image-root"),
                "\"Cmd\":[\"/bin/cat\",\"/etc/existing\"]");
        Path tar = temp.resolve("image.tar");
        Process process = new ProcessBuilder("tar", "-C", layout.toString(), "-cf", tar.toString(), ".")
                .redirectErrorStream(true).start();
        process.getInputStream().transferTo(OutputStream.nullOutputStream());
        assertThat(process.waitFor()).isZero();

        assertThat(output(0, "--unshare-all", "--image", tar.toString(), "--layer-store",
                temp.resolve("layers").toString())).isEqualTo("old\n");
    }

    @Test
    void aCommittedLayerFromAnImage() throws Exception {
        Path image = ociLayout(temp.resolve("image"), busyboxRoot("image-root"), "\"Cmd\":[\"/bin/true\"]");
        Path layers = temp.resolve("layers");

        output(0, "--unshare-all", "--image", image.toString(), "--layer-store", layers.toString(), "--commit-layer",
                "--", "/bin/sh", "-c", "echo layered > /etc/note");

        assertThat(err()).startsWith("isolation-run: committed layer sha256:");
    }

    @Test
    void changesThatCannotBeKeptExitWith125() throws IOException {
        int status = run("--unshare-all", "--root", busyboxRoot("root").toString(), "--stdin", "/dev/null",
                "--keep-changes", "/proc/no-such-dir/kept", "--", "/bin/sh", "-c", "exit 0");

        assertThat(status).as("stderr: %s", err()).isEqualTo(125);
        assertThat(err()).startsWith("isolation-run: cannot keep the changes in /proc/no-such-dir/kept: ");
    }

    // --- filesystem settings the library rejects: exit 2, nothing started ----------------------------------------

    private void rejected(String expectedStart, String... args) {
        int status = run(args);

        assertThat(status).as("stderr: %s", err()).isEqualTo(2);
        assertThat(err()).startsWith("isolation-run: invalid setting: " + expectedStart).endsWith("\n")
                .doesNotContain("Try '");
    }

    @Test
    void aTmpfsOfSizeZeroExitsWith2() {
        rejected("--tmpfs: tmpfs size 0 at \"/scratch\" is below one page",
                "--unshare-all", "--tmpfs", "/scratch:0", "--", "/bin/true");
    }

    @Test
    void aTmpfsModeBeyondPermissionsExitsWith2() {
        rejected("--tmpfs: tmpfs mode 10000", "--unshare-all", "--tmpfs", "/scratch:1m:10000", "--", "/bin/true");
    }

    @Test
    void aMissingBindSourceExitsWith2() {
        Path missing = temp.resolve("missing");
        rejected("--bind: bind source \"" + missing + "\" does not exist",
                "--unshare-all", "--bind", missing.toString(), "/x", "--", "/bin/true");
    }

    @Test
    void aRelativeTargetExitsWith2() {
        rejected("--ro-bind: bind target: ", "--unshare-all", "--ro-bind", "/etc", "host-etc", "--", "/bin/true");
        assertThat(err()).contains("host-etc");
    }

    @ParameterizedTest
    @ValueSource(strings = {"--proc", "--dev", "--ro-sys"})
    void relativeTargetsOfSpecialFilesystemsExitWith2(String option) {
        rejected(option + ": ", "--unshare-all", option, "rel", "--", "/bin/true");
    }

    @Test
    void aBadVolumeNameExitsWith2AndCreatesNothing() {
        Path store = temp.resolve("volumes");
        rejected("--volume: invalid volume name \"../x\"",
                "--unshare-all", "--volume-store", store.toString(), "--volume", "../x:/data", "--", "/bin/true");
        assertThat(store).doesNotExist();
    }

    @Test
    void aLaterBadMountCreatesNoVolume() {
        Path store = temp.resolve("volumes");
        rejected("--tmpfs: ", "--unshare-all", "--volume-store", store.toString(), "--volume", "good:/data",
                "--tmpfs", "/t:0", "--", "/bin/true");
        assertThat(store).doesNotExist();
    }

    @Test
    void aRootThatIsNotADirectoryExitsWith2() {
        rejected("--root: root directory ", "--unshare-all", "--root", temp.resolve("none").toString(), "--",
                "/bin/true");
    }

    @Test
    void aKeepDirectoryThatExistsExitsWith2() throws IOException {
        rejected("--keep-changes: \"" + temp + "\" exists already",
                "--unshare-all", "--root", busyboxRoot("root").toString(), "--keep-changes", temp.toString(), "--",
                "/bin/true");
    }

    @Test
    void aMissingImageExitsWith2() {
        rejected("--image: ", "--unshare-all", "--image", temp.resolve("none").toString(), "--layer-store",
                temp.resolve("layers").toString());
        assertThat(err()).contains("does not exist");
    }

    @Test
    void anImageThatCannotBeLoadedExitsWith125() throws IOException {
        Path notAnImage = Files.createDirectory(temp.resolve("not-an-image"));

        int status = run("--unshare-all", "--image", notAnImage.toString(), "--layer-store",
                temp.resolve("layers").toString());

        assertThat(status).isEqualTo(125);
        assertThat(err()).startsWith("isolation-run: cannot load the image " + notAnImage + ": ");
    }

    @Test
    void anImageWithoutACommandNeedsAProgram() throws Exception {
        Path image = ociLayout(temp.resolve("image"), busyboxRoot("image-root"), "\"Env\":[\"A=1\"]");

        rejected("command: is not set, and the image has no Entrypoint or Cmd",
                "--unshare-all", "--image", image.toString(), "--layer-store", temp.resolve("layers").toString());
    }

    @Test
    void aUidOutOfRangeExitsWith2() {
        rejected("user: ", "--unshare-all", "--user", "4294967296", "--", "/bin/true");
    }

    @Test
    void badFilesystemUsageNamesTheOption() {
        int status = run("--tmpfs", "/t:1x", "--", "/bin/true");

        assertThat(status).isEqualTo(2);
        assertThat(err()).startsWith("isolation-run: --tmpfs: \"/t:1x\": size \"1x\" is not a number")
                .endsWith("Try 'isolation-run --help' for more information.\n");
    }

    // --- filesystem options to spec ------------------------------------------------------------------------------

    @Test
    void theSpecCarriesTheFilesystemInCommandLineOrder() throws Exception {
        Path root = busyboxRoot("root");
        Path volumes = temp.resolve("volumes");
        Path kept = temp.resolve("kept");
        SandboxSpec spec = Run.spec(RunOptions.parse("--root", root.toString(), "--read-only-root",
                "--no-standard-mounts", "--tmpfs", "/t:1m:755", "--ro-bind", "/etc", "/host-etc", "--proc", "/proc",
                "--dev", "/dev", "--ro-sys", "/sys", "--volume-store", volumes.toString(), "--volume", "v:/v:ro",
                "--bind", temp.toString(), "/w", "--keep-changes", kept.toString(), "--user", "7", "prog"));

        assertThat(spec.has(Namespace.MOUNT)).isTrue();
        FilesystemSpec filesystem = spec.filesystem().orElseThrow();
        assertThat(filesystem.root()).isEqualTo(RootSource.directory(root));
        assertThat(filesystem.mode()).isEqualTo(RootMode.OVERLAY);
        assertThat(filesystem.readOnly()).isTrue();
        assertThat(filesystem.standardMounts()).isFalse();
        assertThat(filesystem.changes()).isEqualTo(ChangesPolicy.keepIn(kept));
        assertThat(filesystem.effectiveMounts()).hasSize(7);
        assertThat(filesystem.mounts().get(0)).isEqualTo(new MountSpec.Tmpfs("/t", OptionalLong.of(1 << 20), 0755));
        assertThat(filesystem.mounts().get(1)).isEqualTo(new MountSpec.Bind(Path.of("/etc"), "/host-etc", true, true));
        assertThat(filesystem.mounts().get(2)).isEqualTo(new MountSpec.Proc("/proc"));
        assertThat(filesystem.mounts().get(3)).isEqualTo(new MountSpec.Devices("/dev"));
        assertThat(filesystem.mounts().get(4)).isEqualTo(new MountSpec.Sysfs("/sys"));
        MountSpec.VolumeMount volume = (MountSpec.VolumeMount) filesystem.mounts().get(5);
        assertThat(volume.volume().name()).isEqualTo("v");
        assertThat(volume.target()).isEqualTo("/v");
        assertThat(volume.readOnly()).isTrue();
        assertThat(volume.store()).as("the sandbox leases the volume").isNotNull();
        assertThat(volume.volume().directory()).startsWith(volumes.toRealPath());
        assertThat(filesystem.mounts().get(6)).isEqualTo(new MountSpec.Bind(temp, "/w", false, true));
        assertThat(spec.user()).hasValueSatisfying(user -> assertThat(user.uid()).isEqualTo(7));
        assertThat(spec.user()).hasValueSatisfying(user -> assertThat(user.gid()).isEqualTo(7));
    }

    @Test
    void withoutFilesystemOptionsTheSpecHasNone() throws Exception {
        assertThat(Run.spec(RunOptions.parse("--unshare-pid", "prog")).filesystem()).isEmpty();
        FilesystemSpec library = Run.spec(RunOptions.parse("--unshare-mount", "prog")).filesystem().orElseThrow();
        assertThat(library.root()).as("the library's default").isEqualTo(RootSource.host());
        assertThat(library.mode()).isEqualTo(RootMode.BIND);
        assertThat(library.readOnly()).isTrue();
    }

    @Test
    void theHostRootCanBeAnOverlay() throws Exception {
        FilesystemSpec filesystem = Run.spec(RunOptions.parse("--overlay", "--commit-layer", "--layer-store",
                temp.resolve("layers").toString(), "prog")).filesystem().orElseThrow();

        assertThat(filesystem.root()).isEqualTo(RootSource.host());
        assertThat(filesystem.mode()).isEqualTo(RootMode.OVERLAY);
        assertThat(filesystem.readOnly()).isFalse();
        assertThat(filesystem.changes()).isInstanceOf(ChangesPolicy.Commit.class);
    }

    @Test
    void describesChanges() {
        assertThat(Run.describe(new Change("/etc/a", Change.Kind.ADDED))).isEqualTo("A /etc/a");
        assertThat(Run.describe(new Change("/etc/m", Change.Kind.MODIFIED))).isEqualTo("M /etc/m");
        assertThat(Run.describe(new Change("/etc/d", Change.Kind.DELETED))).isEqualTo("D /etc/d");
    }

    /**
     * Writes an OCI image layout holding {@code root} as its one layer (an uncompressed tar made by the system's
     * tar) and a config with {@code configFields}; returns the layout's directory.
     */
    private static Path ociLayout(Path dir, Path root, String configFields) throws Exception {
        Files.createDirectories(dir.resolve("blobs/sha256"));
        Path tar = dir.resolve("layer.tar");
        Process process = new ProcessBuilder("tar", "--format=ustar", "--numeric-owner", "--owner=0", "--group=0",
                "-C", root.toString(), "-cf", tar.toString(), ".").redirectErrorStream(true).start();
        String tarOutput = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0).as("tar: %s", tarOutput)
                .isTrue();
        byte[] layer = Files.readAllBytes(tar);
        Files.delete(tar);
        String layerDigest = blob(dir, layer);
        String architecture = System.getProperty("os.arch").equals("aarch64") ? "arm64" : System.getProperty("os.arch");
        byte[] config = ("{\"architecture\":\"" + architecture + "\",\"os\":\"linux\",\"config\":{" + configFields
                + "},"
                + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + layerDigest + "\"]}}")
                .getBytes(StandardCharsets.UTF_8);
        String configDigest = blob(dir, config);
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\""
                + configDigest + "\",\"size\":" + config.length + "},\"layers\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" + layerDigest + "\",\"size\":"
                + layer.length + "}]}").getBytes(StandardCharsets.UTF_8);
        String manifestDigest = blob(dir, manifest);
        Files.writeString(dir.resolve("index.json"), "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" + manifestDigest + "\",\"size\":"
                + manifest.length + "}]}");
        Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        return dir;
    }

    private static String blob(Path dir, byte[] content) throws Exception {
        String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        Files.write(dir.resolve("blobs/sha256").resolve(hex), content);
        return "sha256:" + hex;
    }

    // --- resources -----------------------------------------------------------------------------------------------

    /** Whether this JVM runs as root: its real uid, not its user name. */
    private static boolean root() {
        return new com.sun.security.auth.module.UnixSystem().getUid() == 0;
    }

    /** Whether this host's cgroups are v2 only (the library's manager is then the v2 one). */
    private static boolean cgroupV2() {
        return CgroupTopology.detect().mode() == CgroupMode.UNIFIED;
    }

    /** A block device of this machine, "major:minor", if it has any. */
    private static Optional<String> someBlockDevice() throws IOException {
        Path devices = Path.of("/sys/dev/block");
        if (!Files.isDirectory(devices)) {
            return Optional.empty();
        }
        try (Stream<Path> entries = Files.list(devices)) {
            return entries.map(entry -> entry.getFileName().toString()).sorted().findFirst();
        }
    }

    @Test
    void aMemoryLimitBelowTheMinimumExitsWith2NamingMemoryMax() {
        int status = run("--memory", "1k", "--", "/bin/true");

        assertThat(status).as("stderr: %s", err()).isEqualTo(2);
        assertThat(err()).isEqualTo("isolation-run: invalid setting: --memory: memoryMax: 1024 is outside the accepted"
                + " range: at least " + ResourceLimits.MIN_MEMORY_BYTES + "\n");
    }

    @Test
    void limitsTheLibraryRejectsExitWith2NamingTheOptionAndTheField() {
        rejected("--memory-swap: memorySwapMax: needs memoryMax", "--memory-swap", "1m", "--", "/bin/true");
        errBytes.reset();
        rejected("--memory-high: memoryHigh: ", "--memory", "8m", "--memory-high", "16m", "--", "/bin/true");
        errBytes.reset();
        rejected("--memory-high: memoryHigh: 1048576 is outside", "--memory-high", "1m", "--", "/bin/true");
        errBytes.reset();
        rejected("--cpus: cpus: ", "--cpus", "0", "--", "/bin/true");
        errBytes.reset();
        rejected("--cpus: cpus: ", "--cpus", "100000", "--", "/bin/true");
        errBytes.reset();
        rejected("--cpu-period: cpuPeriod: ", "--cpus", "1", "--cpu-period", "5000", "--", "/bin/true");
        errBytes.reset();
        rejected("--cpu-period: cpuPeriod: ", "--cpus", "1", "--cpu-period", "0", "--", "/bin/true");
        errBytes.reset();
        rejected("--cpuset-cpus: cpusetCpus: \"first\"", "--cpuset-cpus", "first", "--", "/bin/true");
        errBytes.reset();
        rejected("--cpuset-mems: cpusetMems: ", "--cpuset-mems", "", "--", "/bin/true");
        errBytes.reset();
        rejected("--pids: pidsMax: 0 is outside", "--pids", "0", "--", "/bin/true");
        errBytes.reset();
        rejected("--io-write-bps: ioDevice: \"4000000000:0\"", "--io-write-bps", "4000000000:0:1m", "--",
                "/bin/true");
        errBytes.reset();
        rejected("--io-read-iops: ioDevice: \"999999:999999\" is not a block device of this machine",
                "--io-read-iops", "999999:999999:10", "--", "/bin/true");
    }

    @Test
    void aZeroIoRateExitsWith2NamingItsOption() throws IOException {
        Optional<String> device = someBlockDevice();
        assumeTrue(device.isPresent(), "this machine has a block device");

        rejected("--io-write-iops: ioLimit: 0 for " + device.get(), "--io-read-bps", device.get() + ":1m",
                "--io-write-iops", device.get() + ":0", "--", "/bin/true");
    }

    @Test
    void theSpecCarriesEveryLimit() throws Exception {
        Optional<String> device = someBlockDevice();
        assumeTrue(device.isPresent(), "this machine has a block device");
        String dev = device.get();

        SandboxSpec spec = Run.spec(RunOptions.parse("--memory", "64m", "--memory-swap", "32m", "--memory-high",
                "48m", "--cpus", "1", "--cpu-period", "50", "--cpu-weight", "300", "--cpuset-cpus", "0",
                "--cpuset-mems", "0", "--pids", "32", "--io-read-bps", dev + ":1m", "--io-write-iops", dev + ":20",
                "--io-read-bps", dev + ":2m", "--io-weight", "50", "--", "prog"));

        ResourceLimits limits = spec.limits().orElseThrow();
        assertThat(limits.memoryMax()).isEqualTo(OptionalLong.of(64L << 20));
        assertThat(limits.memorySwapMax()).isEqualTo(OptionalLong.of(32L << 20));
        assertThat(limits.memoryHigh()).isEqualTo(OptionalLong.of(48L << 20));
        assertThat(limits.cpuQuota()).contains(new ResourceLimits.CpuQuota(1, Duration.ofMillis(50)));
        assertThat(limits.cpuWeight()).isEqualTo(OptionalInt.of(300));
        assertThat(limits.cpusetCpus()).contains("0");
        assertThat(limits.cpusetMems()).contains("0");
        assertThat(limits.pidsMax()).isEqualTo(OptionalLong.of(32));
        assertThat(limits.ioLimits()).containsExactly(new ResourceLimits.IoLimit(dev, OptionalLong.of(2L << 20),
                OptionalLong.empty(), OptionalLong.empty(), OptionalLong.of(20)));
        assertThat(limits.ioWeight()).isEqualTo(OptionalInt.of(50));
    }

    @Test
    void theCpuPeriodDefaultsToTheLibrarys() throws Exception {
        ResourceLimits limits = Run.spec(RunOptions.parse("--cpus", "0.5", "prog")).limits().orElseThrow();

        assertThat(limits.cpuQuota()).contains(new ResourceLimits.CpuQuota(0.5, ResourceLimits.DEFAULT_CPU_PERIOD));
    }

    @Test
    void cgroupAloneGivesAGroupWithoutLimitsAndNoOptionNone() throws Exception {
        assertThat(Run.spec(RunOptions.parse("--cgroup", "prog")).limits()).hasValueSatisfying(
                limits -> assertThat(limits.isEmpty()).isTrue());
        assertThat(Run.spec(RunOptions.parse("prog")).limits()).isEmpty();
        assertThat(Run.spec(RunOptions.parse("--usage", "prog")).limits()).isEmpty();
    }

    @Test
    void describesUsage() {
        ResourceUsage usage = new ResourceUsage(4096, OptionalLong.of(2_097_152), 1, Duration.ofMillis(1234),
                Duration.ofNanos(5_000_000), 3, 7, 8192, 512);

        assertThat(Run.describe(usage)).isEqualTo("usage: memory peak 2097152 bytes, cpu user 1.234 s, system 0.005 s,"
                + " pids limit hits 7, oom kills 1, io read 8192 bytes, written 512 bytes");
        assertThat(Run.describe(new ResourceUsage(0, OptionalLong.empty(), 0, Duration.ZERO, Duration.ofSeconds(61),
                0, 0, 0, 0))).isEqualTo("usage: memory peak unknown, cpu user 0.000 s, system 61.000 s,"
                        + " pids limit hits 0, oom kills 0, io read 0 bytes, written 0 bytes");
    }

    @Test
    void usageWithoutACgroupSaysSo() {
        int status = run("--usage", "--stdin", "/dev/null", "--", "/bin/sh", "-c", "exit 4");

        assertThat(status).isEqualTo(4);
        assertThat(err()).isEqualTo("isolation-run: no usage to report: the program had no cgroup of its own"
                + " (any resource limit or --cgroup gives it one)\n");
    }

    private static final String USAGE_LINE = "isolation-run: usage: memory peak ([0-9]+ bytes|unknown), cpu user"
            + " [0-9]+\\.[0-9]{3} s, system [0-9]+\\.[0-9]{3} s, pids limit hits 0, oom kills 0, io read [0-9]+ bytes,"
            + " written [0-9]+ bytes\n";

    @Test
    void aPidsLimitWithUsagePrintsTheUsageLineAtExit() {
        assumeTrue(root() || cgroupV2(), "root on cgroup v1, or any user on cgroup v2");

        int status = run("--unshare-all", "--pids", "32", "--usage", "--outcome", "--stdin", "/dev/null", "--",
                "/bin/sh", "-c", "echo hello > /dev/null; exit 3");

        assertThat(status).as("stderr: %s", err()).isEqualTo(3);
        assertThat(err()).startsWith("isolation-run: exited with code 3\n");
        assertThat(err().substring("isolation-run: exited with code 3\n".length())).matches(USAGE_LINE);
    }

    @Test
    void aPidsLimitWithoutRootOnCgroupV1ExitsWith125ForWantOfDelegation() {
        assumeTrue(!root() && !cgroupV2(), "not root, on cgroup v1");

        int status = run("--unshare-all", "--pids", "32", "--usage", "--stdin", "/dev/null", "--", "/bin/true");

        assertThat(status).as("stderr: %s", err()).isEqualTo(125);
        assertThat(err()).startsWith("isolation-run: ").contains("no delegation").doesNotContain("usage:");
    }

    @Test
    void aProgramBeyondItsMemoryLimitIsKilledByTheOomKiller() throws IOException {
        assumeTrue(root() || cgroupV2(), "root on cgroup v1, or any user on cgroup v2");
        assumeTrue(Files.readAllLines(Path.of("/proc/swaps")).size() <= 1, "no swap: the limit cannot be swapped out");

        int status = run("--unshare-all", "--memory", "16m", "--usage", "--outcome", "--stdin", "/dev/null", "--",
                "/bin/sh", "-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo ${#x}");

        assertThat(status).as("stderr: %s", err()).isEqualTo(128 + 9);
        assertThat(err()).startsWith("isolation-run: killed by the OOM killer (signal 9)\n"
                + "isolation-run: usage: memory peak ").containsPattern("oom kills [1-9]");
    }
}
