package dev.isolation.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.isolation.fs.FsStep.Create;
import dev.isolation.fs.FsStep.MountInside;
import dev.isolation.fs.FsStep.MountRoot;
import dev.isolation.fs.FsStep.SetReadOnly;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MountCompilerTest {
    private static final MountCompiler.Namespaces ROOTLESS = new MountCompiler.Namespaces(true, true, true);
    private static final MountCompiler.Namespaces PRIVILEGED = new MountCompiler.Namespaces(false, true, false);

    @TempDir
    Path temp;

    @Test
    void defaultHostRootIsTheHostsRootBoundOnceAndReadOnlyBeforeTheStandardMountsThenPivot() {
        SandboxDirectory directory = new SandboxDirectory(temp);
        List<FsStep> steps = MountCompiler.compile(FilesystemSpec.hostReadOnly(), directory, ROOTLESS);
        assertThat(steps.subList(0, 2)).as("every standard target exists on the host: nothing to create")
                .containsExactly(new MountRoot("/", directory.staging().toString(), "", MountFlags.BIND | MountFlags.REC,
                        ""), new SetReadOnly("/", true));
        assertThat(steps).as("read-only from the start: no second read-only step, nothing created")
                .doesNotContain(new SetReadOnly("/", false))
                .noneMatch(step -> step instanceof FsStep.MakeDirectory || step instanceof FsStep.MakeSymlink
                        && !((FsStep.MakeSymlink) step).path().startsWith("/dev/"));
        assertThat(steps).contains(new MountInside("proc", "/proc", "proc",
                MountFlags.NOSUID | MountFlags.NODEV | MountFlags.NOEXEC, "", Create.DIRECTORY));
        assertThat(steps).contains(new MountInside("/dev/null", "/dev/null", "", MountFlags.BIND, "", Create.FILE));
        assertThat(steps).contains(new MountInside("tmpfs", "/tmp", "tmpfs", MountFlags.NOSUID | MountFlags.NODEV,
                "mode=1777", Create.DIRECTORY));
        assertThat(steps.get(steps.size() - 1)).isInstanceOf(FsStep.PivotRoot.class);
    }

    @Test
    void anOverlayOverTheHostRootInAUserNamespaceIsMadeByAPrivilegedHelperWithoutUserXattrs() {
        SandboxDirectory directory = new SandboxDirectory(temp);
        FilesystemSpec overlay = FilesystemSpec.builder().overlay().build();
        MountRoot byHelper = (MountRoot) MountCompiler.compile(overlay, directory,
                new MountCompiler.Namespaces(true, true, true, true)).get(0);
        assertThat(byHelper.madeByHelper()).isTrue();
        assertThat(byHelper.data()).startsWith("lowerdir=/,").doesNotContain("userxattr");
        MountRoot inside = (MountRoot) MountCompiler.compile(overlay, directory, ROOTLESS).get(0);
        assertThat(inside.madeByHelper()).as("unprivileged: only inside the user namespace").isFalse();
        assertThat(inside.data()).contains(",userxattr");
        MountRoot noUserNamespace = (MountRoot) MountCompiler.compile(overlay, directory,
                new MountCompiler.Namespaces(false, true, true, true)).get(0);
        assertThat(noUserNamespace.madeByHelper()).as("without a user namespace the sandbox mounts it").isFalse();
    }

    @Test
    void hostRootWithATargetTheHostLacksIsATmpfsOfReadOnlyBindsWithStandardMountsThenPivot() throws Exception {
        SandboxDirectory directory = new SandboxDirectory(temp);
        Path data = Files.createDirectory(temp.resolve("data"));
        FilesystemSpec spec = FilesystemSpec.builder().bindReadOnly(data, "/no-such-top-level-directory/data").build();
        List<FsStep> steps = MountCompiler.compile(spec, directory, ROOTLESS);
        assertThat(steps.get(0)).isEqualTo(new MountRoot("tmpfs", directory.staging().toString(), "tmpfs",
                MountFlags.NOSUID | MountFlags.NODEV, "mode=0755"));
        assertThat(steps).contains(new MountInside("/etc", "/etc", "", MountFlags.BIND | MountFlags.REC, "",
                Create.DIRECTORY), new SetReadOnly("/etc", true));
        assertThat(steps).as("replaced by the standard mounts, so only created")
                .contains(new FsStep.MakeDirectory("/proc", 0755), new FsStep.MakeDirectory("/tmp", 0755))
                .doesNotContain(new MountInside("/tmp", "/tmp", "", MountFlags.BIND | MountFlags.REC, "",
                        Create.DIRECTORY));
        for (Path entry : Files.list(Path.of("/")).filter(Files::isSymbolicLink).toList()) {
            assertThat(steps).contains(new FsStep.MakeSymlink(Files.readSymbolicLink(entry).toString(),
                    "/" + entry.getFileName()));
        }
        assertThat(steps).contains(new MountInside(data.toString(), "/no-such-top-level-directory/data", "",
                MountFlags.BIND | MountFlags.REC, "", Create.DIRECTORY));
        assertThat(steps.get(steps.size() - 2)).as("the tmpfs root is read-only at the end")
                .isEqualTo(new SetReadOnly("/", false));
        assertThat(steps.get(steps.size() - 1)).isInstanceOf(FsStep.PivotRoot.class);
    }

    @Test
    void aTargetInsideAnEarlierMountOrThatExistsOnTheHostKeepsTheHostRootBoundOnce() throws Exception {
        Path data = Files.createDirectory(temp.resolve("data"));
        Path file = Files.writeString(temp.resolve("file"), "x");
        FilesystemSpec spec = FilesystemSpec.builder().bindReadOnly(data, "/tmp/new/data").bind(data, "/etc")
                .bindReadOnly(file, "/etc/hostname-for-the-test-only").build();
        assertThat(MountCompiler.compile(spec, new SandboxDirectory(temp), ROOTLESS).get(0))
                .as("/tmp/new is created in the sandbox's /tmp, the file inside the bind at /etc")
                .isEqualTo(new MountRoot("/", new SandboxDirectory(temp).staging().toString(), "", MountFlags.BIND | MountFlags.REC, ""));
        FilesystemSpec fileOntoDirectory = FilesystemSpec.builder().bindReadOnly(file, "/etc").build();
        assertThat(((MountRoot) MountCompiler.compile(fileOntoDirectory, new SandboxDirectory(temp), ROOTLESS).get(0))
                .fsType()).as("a file bound where the host has a directory: the tmpfs root").isEqualTo("tmpfs");
    }

    @Test
    void directoryRootIsAVolatileOverlayWithPrivateUpperAndUserxattrInAUserNamespace() throws Exception {
        Path lower = Files.createDirectory(temp.resolve("low,er:dir"));
        SandboxDirectory directory = new SandboxDirectory(temp.resolve("sandbox"));
        FilesystemSpec spec = FilesystemSpec.builder().rootDirectory(lower).standardMounts(false).build();
        MountRoot root = (MountRoot) MountCompiler.compile(spec, directory, ROOTLESS).get(0);
        assertThat(root.fsType()).isEqualTo("overlay");
        assertThat(root.data()).isEqualTo("lowerdir=" + temp + "/low\\,er\\:dir,upperdir=" + directory.upper()
                + ",workdir=" + directory.work() + ",userxattr,volatile");
        MountRoot privileged = (MountRoot) MountCompiler.compile(spec, directory, PRIVILEGED).get(0);
        assertThat(privileged.data()).doesNotContain("userxattr");
        MountRoot kept = (MountRoot) MountCompiler.compile(FilesystemSpec.builder().rootDirectory(lower)
                .onExit(ChangesPolicy.keepIn(temp.resolve("kept"))).build(), directory, PRIVILEGED).get(0);
        assertThat(kept.data()).as("changes kept: synced when the overlay goes away").doesNotContain("volatile");
    }

    @Test
    void layersAreStackedTopFirstAndMountsKeepTheirOrder() throws Exception {
        Path a = Files.createDirectory(temp.resolve("a"));
        Path b = Files.createDirectory(temp.resolve("b"));
        Path shared = Files.createDirectory(temp.resolve("shared"));
        FilesystemSpec spec = FilesystemSpec.builder()
                .root(RootSource.layers(List.of(new Layer("sha256:a", a), new Layer("sha256:b", b))))
                .standardMounts(false).protectKernelFiles(false).bindReadOnly(shared, "/data")
                .tmpfs("/scratch", 1 << 20, 0700).readOnly(true).build();
        List<FsStep> steps = MountCompiler.compile(spec, new SandboxDirectory(temp.resolve("s")), PRIVILEGED);
        assertThat(((MountRoot) steps.get(0)).data()).startsWith("lowerdir=" + b + ":" + a + ",");
        assertThat(steps.subList(1, steps.size())).containsExactly(
                new MountInside(shared.toString(), "/data", "", MountFlags.BIND | MountFlags.REC, "", Create.DIRECTORY),
                new SetReadOnly("/data", true),
                new MountInside("tmpfs", "/scratch", "tmpfs", MountFlags.NOSUID | MountFlags.NODEV,
                        "mode=700,size=1048576", Create.DIRECTORY),
                new SetReadOnly("/", false),
                new FsStep.PivotRoot());
    }

    @Test
    void kernelFilesAreMaskedAndWriteProtectedAfterTheMounts() {
        List<FsStep> steps = MountCompiler.compile(FilesystemSpec.hostReadOnly(), new SandboxDirectory(temp), ROOTLESS);
        assertThat(steps).contains(new FsStep.RebindInside("/proc/sys"), new SetReadOnly("/proc/sys", true, true));
        assertThat(steps).filteredOn(s -> s instanceof MountInside m && m.target().equals("/proc/keys"))
                .containsExactly(new MountInside("/dev/null", "/proc/keys", "", MountFlags.BIND, "",
                        Create.SKIP_IF_MISSING));
        int proc = steps.indexOf(new MountInside("proc", "/proc", "proc",
                MountFlags.NOSUID | MountFlags.NODEV | MountFlags.NOEXEC, "", Create.DIRECTORY));
        assertThat(steps.indexOf(new FsStep.RebindInside("/proc/sys"))).isGreaterThan(proc);
        assertThat(MountCompiler.compile(FilesystemSpec.builder().protectKernelFiles(false).build(),
                new SandboxDirectory(temp), ROOTLESS)).doesNotContain(new FsStep.RebindInside("/proc/sys"));
    }

    @Test
    void withoutAPidNamespaceProcIsTheHostsBoundAndSysfsReadOnly() {
        FilesystemSpec spec = FilesystemSpec.builder().standardMounts(false)
                .mount(new MountSpec.Proc("/proc")).mount(new MountSpec.Sysfs("/sys")).build();
        List<FsStep> steps = MountCompiler.compile(spec, new SandboxDirectory(temp),
                new MountCompiler.Namespaces(false, false, false));
        assertThat(steps).contains(new MountInside("/proc", "/proc", "", MountFlags.BIND | MountFlags.REC, "",
                Create.DIRECTORY), new MountInside("/sys", "/sys", "", MountFlags.BIND | MountFlags.REC, "",
                Create.DIRECTORY), new SetReadOnly("/sys", true));
    }

    @Test
    void aCallersMountReplacesTheStandardOneAtTheSameTarget() {
        FilesystemSpec spec = FilesystemSpec.builder().tmpfs("/tmp", 1 << 20, 01777).build();
        assertThat(spec.effectiveMounts()).extracting(MountSpec::target).containsExactly("/proc", "/dev", "/tmp");
        assertThat(spec.effectiveMounts().get(2)).isEqualTo(spec.mounts().get(0));
    }

    @Test
    void conflictingSettingsAreRejected() throws Exception {
        assertThatThrownBy(() -> FilesystemSpec.builder().readOnly(false).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("readOnly:");
        assertThatThrownBy(() -> FilesystemSpec.builder().onExit(ChangesPolicy.keepIn(temp.resolve("k"))).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("onExit:");
        Path lower = Files.createDirectory(temp.resolve("l"));
        assertThatThrownBy(() -> FilesystemSpec.builder().rootDirectory(lower).onExit(ChangesPolicy.keepIn(temp))
                .build()).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("already exists");
        assertThatThrownBy(() -> RootSource.directory(temp.resolve("missing")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("missing");
    }
}
