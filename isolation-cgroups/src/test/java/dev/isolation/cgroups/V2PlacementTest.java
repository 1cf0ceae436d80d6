package dev.isolation.cgroups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where CgroupsV2 makes groups and what it says when it cannot, on a fake hierarchy (no kernel needed). */
class V2PlacementTest {
    @TempDir
    Path mount;

    @Test
    void jvmInTheRootGetsADedicatedGroupWithEveryController() {
        V2FakeTree.group(mount, "cpuset cpu io memory hugetlb pids rdma misc", "");
        V2FakeTree.group(mount.resolve("isolation"), "cpuset cpu io memory pids", "");

        CgroupsV2 manager = CgroupsV2.forProcess(mount, mount, dir -> true, 0);

        assertThat(manager.parent()).contains(mount.resolve("isolation"));
        assertThat(manager.controllers()).contains("cpuset", "cpu", "io", "memory", "pids");
        assertThat(manager.mode()).isEqualTo(CgroupMode.UNIFIED);
    }

    @Test
    void jvmElsewhereUsesADedicatedGroupBesideItsOwn() throws IOException {
        Path slice = V2FakeTree.group(mount.resolve("user.slice"), "cpu memory pids", "cpu memory pids");
        Path own = V2FakeTree.group(slice.resolve("app.scope"), "cpu memory pids", "");
        V2FakeTree.group(slice.resolve("isolation"), "cpu memory pids", "");

        CgroupsV2 manager = CgroupsV2.forProcess(mount, own, dir -> true, 1000);

        assertThat(manager.parent()).contains(slice.resolve("isolation"));
        assertThat(manager.controllers()).contains("cpu", "memory", "pids").doesNotContain("cpuset", "io");
        assertThatThrownBy(() -> manager.create(ResourceLimits.builder().cpusetCpus("0").build()))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("cpusetCpus: the cpuset controller is not enabled in "
                        + slice.resolve("isolation/cgroup.subtree_control") + " and cannot be: "
                        + slice.resolve("cgroup.controllers") + " does not offer it");
        assertThat(subdirectories(slice.resolve("isolation"))).isEmpty();
    }

    @Test
    void unwritableParentLeavesMeteringOnlyAndLimitsNameTheMissingDelegation() throws IOException {
        Path slice = V2FakeTree.group(mount.resolve("user.slice"), "cpu memory pids", "cpu memory pids");
        Path own = V2FakeTree.group(slice.resolve("app.scope"), "cpu memory pids", "");

        CgroupsV2 manager = CgroupsV2.forProcess(mount, own, own::equals, 1000);

        assertThat(manager.parent()).contains(own);
        assertThat(manager.controllers()).doesNotContain("cpu", "memory", "pids");
        assertThatThrownBy(() -> manager.create(ResourceLimits.builder().memoryMax(64L << 20).build()))
                .isInstanceOf(IOException.class)
                .hasMessage("memoryMax: the memory controller is not enabled in " + own.resolve("cgroup.subtree_control")
                        + " and cannot be: the JVM's cgroup /user.slice/app.scope holds processes, so its children"
                        + " cannot get controllers (cgroup v2 no-internal-processes rule), and its parent " + slice
                        + " is not writable by uid 1000: run the JVM in a delegated cgroup (systemd-run --user -p"
                        + " Delegate=yes ...) and use CgroupsV2.movingJvmIntoLeaf, or pass a parent with"
                        + " CgroupsV2.under(path)");

        try (Cgroup metering = manager.create(ResourceLimits.none())) {
            assertThat(metering.directories()).containsExactly(own.resolve(metering.name()));
            assertThat(JvmLabel.isLabelled(metering.name())).isTrue();
        }
        assertThat(subdirectories(own)).isEmpty();
    }

    @Test
    void nothingWritableMeansNoGroupAtAll() {
        Path slice = V2FakeTree.group(mount.resolve("user.slice"), "cpu memory pids", "cpu memory pids");
        Path own = V2FakeTree.group(slice.resolve("app.scope"), "cpu memory pids", "");

        CgroupsV2 manager = CgroupsV2.forProcess(mount, own, dir -> false, 1000);

        assertThat(manager.parent()).isEmpty();
        assertThatThrownBy(() -> manager.create(ResourceLimits.none()))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("is not writable by uid 1000")
                .hasMessageContaining("CgroupsV2.under(path)")
                .hasMessageEndingWith("the JVM's own cgroup is not writable either");
    }

    @Test
    void aFailedLimitLeavesNothingBehind() throws IOException {
        Path parent = V2FakeTree.group(mount.resolve("parent"), "memory pids", "memory pids");
        CgroupsV2 manager = CgroupsV2.under(parent);

        // the fake group directory has no memory.max: the write fails after mkdir, and the directory goes again
        assertThatThrownBy(() -> manager.create(ResourceLimits.builder().memoryMax(64L << 20).build()))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("memoryMax: cannot write \"67108864\" to " + parent)
                .hasMessageEndingWith("memory.max: it does not exist");
        assertThat(subdirectories(parent)).isEmpty();
    }

    @Test
    void underRefusesADirectoryThatIsNoCgroup() throws IOException {
        Path plain = Files.createDirectories(mount.resolve("plain"));
        assertThatThrownBy(() -> CgroupsV2.under(plain))
                .isInstanceOf(IOException.class)
                .hasMessage(plain + " is not a cgroup v2 directory (it has no cgroup.controllers)");
    }

    @Test
    void removeStaleTakesOnlyGroupsOfDeadJvms() throws IOException {
        Path parent = V2FakeTree.group(mount.resolve("parent"), "memory", "memory");
        Path dead = Files.createDirectory(parent.resolve(JvmLabel.of(999999999, 12345) + "-1")); // above any pid_max
        Path live = Files.createDirectory(parent.resolve(JvmLabel.next()));
        Path foreign = Files.createDirectory(parent.resolve("someone-else"));

        assertThat(CgroupsV2.under(parent).removeStale().removed()).containsExactly(dead.getFileName().toString());

        assertThat(dead).doesNotExist();
        assertThat(live).isDirectory();
        assertThat(foreign).isDirectory();
    }

    private static List<Path> subdirectories(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(Files::isDirectory).toList();
        }
    }
}
