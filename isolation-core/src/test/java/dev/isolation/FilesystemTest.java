package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.isolation.fs.ChangeSet;
import dev.isolation.fs.ChangesPolicy;
import dev.isolation.fs.FilesystemSpec;
import dev.isolation.fs.Layer;
import dev.isolation.fs.LayerStore;
import dev.isolation.fs.MountSpec;
import dev.isolation.fs.RootSource;
import dev.isolation.fs.Volume;
import dev.isolation.fs.VolumeStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.OptionalLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Roots, copy-on-write, mounts and volumes on the real kernel, as root and unprivileged. */
class FilesystemTest {
    @TempDir
    Path temp;
    Path lower;

    @BeforeEach
    void busyboxLower() throws IOException {
        lower = TestRoots.busybox(temp.resolve("lower"));
        Files.writeString(lower.resolve("etc/existing"), "old\n");
        Files.writeString(lower.resolve("etc/todelete"), "doomed\n");
    }

    private static SandboxBuilder sandbox(FilesystemSpec filesystem) {
        return Sandboxes.withNamespaces(Namespace.PID, Namespace.MOUNT).filesystem(filesystem);
    }

    private static SandboxProcess finished(SandboxBuilder builder, String script) throws Exception {
        SandboxProcess process = builder.command("/bin/sh", "-c", script).redirectErrorStream(true).start();
        process.getOutputStream().close();
        process.waitFor();
        return process;
    }

    @Test
    void writesToTheRootLeaveTheLowerUntouchedAndAreListed() throws Exception {
        String before = treeHash(lower);
        List<Path> sandboxesBefore = sandboxDirectories();
        Sandboxes.Result result = Sandboxes.shell(sandbox(FilesystemSpec.builder().rootDirectory(lower).build()),
                "echo new > /etc/added && echo more >> /etc/existing && rm /etc/todelete && cat /etc/existing");
        assertThat(result.output()).isEqualTo("old\nmore\n");
        assertThat(treeHash(lower)).as("the lower layer never changes").isEqualTo(before);

        SandboxProcess process = finished(sandbox(FilesystemSpec.builder().rootDirectory(lower).build()),
                "echo new > /etc/added && echo more >> /etc/existing && rm /etc/todelete");
        assertThat(process.exitValue()).isZero();
        ChangeSet changes = process.changes().orElseThrow();
        assertThat(changes.added()).contains("/etc/added");
        assertThat(changes.modified()).contains("/etc/existing");
        assertThat(changes.deleted()).containsExactly("/etc/todelete");
        assertThat(treeHash(lower)).isEqualTo(before);
        assertThat(sandboxDirectories()).as("the private upper and work directories are gone")
                .isEqualTo(sandboxesBefore);
    }

    /**
     * The kernel refuses an overlay over the host root made inside a user namespace (its mounts are locked there); as
     * root the helper makes it before the namespaces, and the sandbox, in its user namespace, gets the host root
     * copy-on-write all the same. Unprivileged, it is refused before anything starts.
     */
    @Test
    void anOverlayOverTheHostRootWorksInAUserNamespace() throws Exception {
        SandboxBuilder builder = Sandbox.builder().allNamespaces()
                .filesystem(FilesystemSpec.builder().overlay().build());
        String marker = "/etc/isolation-overlay-" + ProcessHandle.current().pid();
        if (!Sandboxes.ROOT) {
            assertThatThrownBy(() -> builder.command("/bin/true").start())
                    .isInstanceOf(SandboxStartException.class).hasMessageContaining("overlayfs refuses the host root");
            return;
        }
        String hostUserNamespace = Files.readSymbolicLink(Path.of("/proc/self/ns/user")).toString();
        SandboxProcess process = finished(builder, "echo new > " + marker + " && cat " + marker
                + " && readlink /proc/self/ns/user && head -c 6 /etc/hostname >/dev/null && echo read");
        String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(process.exitValue()).as(output).isZero();
        List<String> lines = output.lines().toList();
        assertThat(lines.get(0)).isEqualTo("new");
        assertThat(lines.get(1)).startsWith("user:[").isNotEqualTo(hostUserNamespace);
        assertThat(lines.get(2)).isEqualTo("read");
        assertThat(Path.of(marker)).as("the host root is untouched").doesNotExist();
        assertThat(process.changes().orElseThrow().added()).contains(marker);
    }

    /** Discarded changes live on a tmpfs while the sandbox runs (cheap to mount over); kept ones on the disk. */
    @Test
    void discardedChangesAreKeptOnATmpfsWhileTheSandboxRuns() throws Exception {
        List<Path> before = sandboxDirectories();
        SandboxProcess running = sandbox(FilesystemSpec.builder().rootDirectory(lower).build())
                .command("/bin/sh", "-c", "echo x > /etc/added && read line").start();
        try {
            List<Path> during = sandboxDirectories();
            during.removeAll(before);
            assertThat(during).hasSize(1);
            assertThat(Files.getFileStore(during.get(0)).type()).isEqualTo("tmpfs");
        } finally {
            running.getOutputStream().close();
            running.waitFor();
        }
        assertThat(sandboxDirectories()).isEqualTo(before);
    }

    @Test
    void keptChangesAreSeenByTheNextSandboxStackingThem() throws Exception {
        Path kept = temp.resolve("kept");
        SandboxProcess first = finished(sandbox(FilesystemSpec.builder().rootDirectory(lower)
                .onExit(ChangesPolicy.keepIn(kept)).build()), "echo kept > /etc/note && rm /etc/todelete");
        assertThat(first.filesystemResult().orElseThrow().kept()).contains(kept);
        assertThat(Files.readString(kept.resolve("etc/note"))).isEqualTo("kept\n");

        RootSource stacked = RootSource.layers(List.of(new Layer("base", lower), new Layer("kept", kept)));
        Sandboxes.Result second = Sandboxes.shell(sandbox(FilesystemSpec.builder().root(stacked).build()),
                "cat /etc/note; test -e /etc/todelete && echo still-there || echo deleted");
        assertThat(second.lines()).containsExactly("kept", "deleted");
    }

    @Test
    void committedLayerIsSeenByTheNextSandbox() throws Exception {
        LayerStore store = new LayerStore(temp.resolve("layers"));
        SandboxProcess first = finished(sandbox(FilesystemSpec.builder().rootDirectory(lower)
                .onExit(ChangesPolicy.commitTo(store)).build()), "echo committed > /etc/note");
        Layer layer = first.filesystemResult().orElseThrow().committed().orElseThrow();
        assertThat(store.find(layer.id())).isPresent();

        RootSource stacked = RootSource.layers(List.of(new Layer("base", lower), layer));
        Sandboxes.Result second = Sandboxes.shell(sandbox(FilesystemSpec.builder().root(stacked).build()),
                "cat /etc/note");
        assertThat(second.output()).isEqualTo("committed\n");
    }

    @Test
    void twoSandboxesShareAVolumeWhichOutlivesThem() throws Exception {
        VolumeStore volumes = new VolumeStore(temp.resolve("volumes"));
        FilesystemSpec filesystem = FilesystemSpec.builder().rootDirectory(lower).volume(volumes, "shared", "/data")
                .build();
        Volume volume = volumes.get("shared").orElseThrow();
        SandboxProcess writer = sandbox(filesystem).command("/bin/sh", "-c",
                "echo from-a > /data/a; while ! test -e /data/b; do sleep 0.05; done; cat /data/b").start();
        assertThatThrownBy(() -> volumes.remove("shared")).as("a volume in use is not removed")
                .isInstanceOf(IOException.class).hasMessageContaining("in use");
        Sandboxes.Result reader = Sandboxes.shell(sandbox(filesystem),
                "while ! test -e /data/a; do sleep 0.05; done; cat /data/a; echo from-b > /data/b");
        assertThat(reader.output()).isEqualTo("from-a\n");
        assertThat(new String(writer.getInputStream().readAllBytes())).isEqualTo("from-b\n");
        assertThat(writer.waitFor()).isZero();
        assertThat(volumes.get("shared")).isPresent();
        assertThat(Files.readString(volume.directory().resolve("a"))).isEqualTo("from-a\n");
        assertThat(volumes.list()).extracting(Volume::name).containsExactly("shared");
        volumes.remove("shared"); // no sandbox holds it any more
        assertThat(volumes.list()).isEmpty();
    }

    @Test
    void tmpfsSizeIsEnforced() {
        Sandboxes.Result result = Sandboxes.shell(sandbox(FilesystemSpec.builder().rootDirectory(lower)
                .tmpfs("/small", 64 * 1024, 0755).build()),
                "dd if=/dev/zero of=/small/big bs=1024 count=1024 2>&1; echo rc=$?");
        assertThat(result.output()).contains("No space left on device").contains("rc=1");
    }

    @Test
    void readOnlyBindCannotBeWrittenNorRemountedWritable() throws IOException {
        Path shared = Files.createDirectory(temp.resolve("shared"));
        Files.writeString(shared.resolve("file"), "host\n");
        // root inside a user namespace, with every capability there (real root without one can remount anything)
        SandboxBuilder builder = Sandbox.builder().userNamespace().pidNamespace().filesystem(FilesystemSpec.builder()
                .rootDirectory(lower).bindReadOnly(shared, "/ro").build());
        Sandboxes.Result result = Sandboxes.shell(builder,
                "cat /ro/file; touch /ro/new 2>/dev/null && echo wrote; "
                        + "mount -o remount,rw /ro 2>/dev/null && echo remounted; "
                        + "mount -o remount,bind,rw /ro 2>/dev/null && echo rebound; "
                        + "touch /ro/new 2>/dev/null && echo wrote-after; echo end");
        assertThat(result.lines()).containsExactly("host", "end");
        try (Stream<Path> files = Files.list(shared)) {
            assertThat(files).containsExactly(shared.resolve("file"));
        }
    }

    @Test
    void writableBindWritesThroughToTheHost() throws IOException {
        Path shared = Files.createDirectory(temp.resolve("shared"));
        Sandboxes.Result result = Sandboxes.shell(sandbox(FilesystemSpec.builder().rootDirectory(lower)
                .bind(shared, "/rw").build()), "echo through > /rw/file && echo ok");
        assertThat(result.output()).isEqualTo("ok\n");
        assertThat(Files.readString(shared.resolve("file"))).isEqualTo("through\n");
    }

    @Test
    void devHasOnlyTheMinimalNodesAndProcOnlyTheSandbox() {
        Sandboxes.Result result = Sandboxes.shell(sandbox(FilesystemSpec.builder().rootDirectory(lower).build()),
                "ls /dev | sort | tr '\\n' ' '; echo; ls -d /proc/[0-9]* | wc -l; echo hi > /dev/null && echo null-ok");
        assertThat(result.lines().get(0).trim().split(" ")).containsExactlyInAnyOrder("fd", "full", "null", "ptmx",
                "pts", "random", "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero");
        assertThat(Integer.parseInt(result.lines().get(1).trim())).isBetween(2, 5);
        assertThat(result.lines().get(2)).isEqualTo("null-ok");
    }

    @Test
    void oldRootIsDetachedAndUnreachable() throws IOException {
        Path hostOnly = Files.writeString(temp.resolve("host-only-file"), "secret\n");
        Sandboxes.Result result = Sandboxes.shell(sandbox(FilesystemSpec.builder().rootDirectory(lower).build()),
                "test -e " + hostOnly + " && echo visible; ls /; cat /proc/self/mountinfo | cut -d' ' -f5 | sort -u");
        assertThat(result.output()).doesNotContain("visible").doesNotContain("secret");
        assertThat(result.lines()).doesNotContain("usr", "home", "root");
        assertThat(result.output()).doesNotContain("/usr").doesNotContain(temp.toString());
    }

    @Test
    void readOnlyRootRefusesWritesButItsMountsAreWritable() {
        Sandboxes.Result result = Sandboxes.shell(sandbox(FilesystemSpec.builder().rootDirectory(lower)
                .readOnly(true).build()), "touch /etc/x 2>&1; echo tmp > /tmp/x && cat /tmp/x");
        assertThat(result.output()).contains("Read-only file system").endsWith("tmp\n");
    }

    @Test
    void hostRootIsTheDefaultReadOnlyWithAPrivateTmp() throws IOException {
        Path marker = temp.resolve("written-by-sandbox");
        Sandboxes.Result result = Sandboxes.shell(Sandboxes.withNamespaces(Namespace.PID, Namespace.MOUNT),
                "test -x /usr/bin/env && echo host-root; touch /etc/isolation-test 2>&1 | grep -c 'Read-only';"
                        + " touch " + marker + " 2>/dev/null || echo tmp-is-private; echo x > /tmp/mine && echo tmp-ok");
        assertThat(result.lines()).containsExactly("host-root", "1", "tmp-is-private", "tmp-ok");
        assertThat(Files.exists(Path.of("/etc/isolation-test"))).isFalse();
        assertThat(Files.exists(marker)).isFalse();
    }

    @Test
    void mountsOnTheHostRootNeedNoWriteToIt() throws IOException {
        Path shared = Files.writeString(Files.createDirectory(temp.resolve("shared")).resolve("file"), "x\n").getParent();
        String target = "/isolation-test-target-" + ProcessHandle.current().pid();
        Sandboxes.Result result = Sandboxes.shell(Sandboxes.withNamespaces(Namespace.PID, Namespace.MOUNT)
                .filesystem(FilesystemSpec.builder().bindReadOnly(shared, target).build()),
                "cat " + target + "/file; ls /usr/bin/env; touch /new-top-level 2>&1 | grep -c Read-only");
        assertThat(result.lines()).containsExactly("x", "/usr/bin/env", "1");
        assertThat(Path.of(target)).as("nothing was created on the host's root").doesNotExist();
    }

    @Test
    void copiedRootIsPrivateToo() throws IOException {
        String before = treeHash(lower);
        Sandboxes.Result result = Sandboxes.shell(sandbox(FilesystemSpec.builder().rootDirectory(lower)
                .copiedRoot().build()), "echo changed > /etc/existing && cat /etc/existing");
        assertThat(result.output()).isEqualTo("changed\n");
        assertThat(treeHash(lower)).isEqualTo(before);
    }

    @Test
    void symlinksInTheRootCannotRedirectMountsOntoTheHost() throws IOException {
        Path victim = Files.createDirectory(temp.resolve("victim"));
        Files.createSymbolicLink(lower.resolve("evil"), victim);                               // absolute, to the host
        Files.createSymbolicLink(lower.resolve("evil2"), Path.of("../../../../../../" + victim)); // climbing
        Sandboxes.Result result = Sandboxes.shell(sandbox(FilesystemSpec.builder().rootDirectory(lower)
                .mount(new MountSpec.Tmpfs("/evil/sub", OptionalLong.of(1 << 20), 0755))
                .mount(new MountSpec.Tmpfs("/evil2/sub2", OptionalLong.of(1 << 20), 0755))
                .bind(victim, "/victim-bound")
                .build()), "echo inside > /evil/sub/f && echo inside > /evil2/sub2/f && ls /victim-bound | wc -l");
        assertThat(result.output()).isEqualTo("0\n");
        try (Stream<Path> files = Files.list(victim)) {
            assertThat(files).as("nothing was mounted or created in the host directory").isEmpty();
        }
    }

    @Test
    void invalidMountsAreRejectedNamingFieldAndPath() {
        assertThatThrownBy(() -> FilesystemSpec.builder().bind(temp.resolve("missing"), "/x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bind source")
                .hasMessageContaining(temp.resolve("missing").toString());
        assertThatThrownBy(() -> FilesystemSpec.builder().bind(lower, "relative/target"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bind target")
                .hasMessageContaining("relative/target");
        assertThatThrownBy(() -> FilesystemSpec.builder().tmpfs("/t", 0, 0755))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tmpfs size 0")
                .hasMessageContaining("/t");
        assertThatThrownBy(() -> FilesystemSpec.builder().bind(lower, "/a/../../etc"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("..");
    }

    /** The sandboxes' private directories, in both of this JVM's runtime directories (disk and tmpfs). */
    private List<Path> sandboxDirectories() throws IOException {
        List<Path> directories = new java.util.ArrayList<>();
        for (Path parent : List.of(Sandboxes.ownRuntimeDirectory(), Sandboxes.ownDiscardedRuntimeDirectory())) {
            if (Files.isDirectory(parent)) {    // not before a sandbox of its kind has started in this JVM
                try (Stream<Path> entries = Files.list(parent)) {
                    entries.filter(Files::isDirectory).forEach(directories::add);
                }
            }
        }
        return directories.stream().sorted().collect(Collectors.toList());
    }

    /** A hash over every path, type, mode and content of a tree, never following symlinks. */
    static String treeHash(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (Path path : paths.sorted().toList()) {
                digest.update(root.relativize(path).toString().getBytes());
                if (Files.isSymbolicLink(path)) {
                    digest.update(Files.readSymbolicLink(path).toString().getBytes());
                } else if (Files.isRegularFile(path)) {
                    digest.update(Files.readAllBytes(path));
                }
                digest.update(Files.getAttribute(path, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS).toString()
                        .getBytes());
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
