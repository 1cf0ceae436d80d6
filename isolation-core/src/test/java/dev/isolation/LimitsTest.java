package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.isolation.cgroups.CgroupManager;
import dev.isolation.cgroups.CgroupMode;
import dev.isolation.cgroups.CgroupTopology;
import dev.isolation.cgroups.ResourceLimits;
import dev.isolation.cgroups.ResourceUsage;
import dev.isolation.fs.FilesystemSpec;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** cgroup limits and metering on the real kernel (v1 here, v2 on a v2 host). */
class LimitsTest {
    private static final long MIB = 1 << 20;
    private static final boolean V1 = CgroupTopology.detect().mode() != CgroupMode.UNIFIED;

    @TempDir
    Path temp;

    /** cgroup v1 has no delegation: unprivileged, a limit is refused with the reason, never ignored. */
    private static void assumeGroupsCanBeCreated() {
        assumeTrue(Sandboxes.ROOT || !V1, "cgroup v1 groups need root (tested below: the refusal)");
    }

    @Test
    void unprivilegedOnV1ALimitIsRefusedWithTheReason() {
        assumeTrue(!Sandboxes.ROOT && V1, "only an unprivileged caller on cgroup v1");
        assertThatThrownBy(() -> Sandbox.builder().allNamespaces().memory(64 * MIB).command("/bin/true").start())
                .isInstanceOf(SandboxStartException.class).hasMessageContaining("no delegation");
    }

    @Test
    void allocatingPastTheMemoryLimitIsAnOomKill() throws Exception {
        assumeGroupsCanBeCreated();
        SandboxProcess process = Sandbox.builder().allNamespaces().memory(64 * MIB)
                .command("/bin/dd", "if=/dev/zero", "of=/dev/null", "bs=100M", "count=1").start();
        assertThat(process.waitForOutcome()).isEqualTo(new Outcome.OutOfMemory(9));
        SandboxResult result = process.waitForResult();
        assertThat(result.outOfMemory()).isTrue();
        assertThat(result.usage().orElseThrow().oomKills()).isGreaterThanOrEqualTo(1);
        assertThat(Runtime.getRuntime().freeMemory()).as("the JVM is untouched").isPositive();
    }

    @Test
    void aMemoryHogExecdIntoAnEnvironmentIsAnOomKillAndTheEnvironmentLivesOn() throws Exception {
        assumeGroupsCanBeCreated();
        // on v2 the OOM killer would otherwise take the whole group (memory.oom.group), init included
        ResourceLimits limits = ResourceLimits.builder().memoryMax(64 * MIB).oomKillsWholeGroup(false).build();
        try (SandboxEnvironment environment = Sandbox.builder().allNamespaces().limits(limits).startEnvironment()) {
            SandboxProcess bystander = environment.exec("sleep", "1000");
            SandboxProcess hog = environment.exec("/bin/dd", "if=/dev/zero", "of=/dev/null", "bs=100M", "count=1");
            SandboxResult result = hog.waitForResult();
            assertThat(result.outcome()).isEqualTo(new Outcome.OutOfMemory(9));
            assertThat(result.usage().orElseThrow().oomKills()).as("the environment's group").isPositive();

            SandboxProcess killed = environment.exec("/bin/sh", "-c", "kill -9 $$");
            assertThat(killed.waitForOutcome()).as("a SIGKILL with no OOM kill meanwhile")
                    .isEqualTo(new Outcome.Signaled(9, false));
            assertThat(environment.exec("/bin/true").waitForOutcome()).isEqualTo(new Outcome.Exited(0));
            assertThat(bystander.isAlive()).isTrue();
        }
    }

    @Test
    void peakMemoryIsReportedWithinTenPercentOfWhatWasAllocated() throws Exception {
        assumeGroupsCanBeCreated();
        SandboxProcess process = Sandbox.builder().allNamespaces().limits(ResourceLimits.none())
                .command("/bin/dd", "if=/dev/zero", "of=/dev/null", "bs=48M", "count=1").start();
        assertThat(process.waitFor()).isZero();
        long peak = process.resourceUsage().orElseThrow().memoryPeak().orElseThrow();
        assertThat(peak).isBetween(48 * MIB, (long) (48 * MIB * 1.1));
    }

    @Test
    void aForkBombIsContainedByThePidsLimitAndTheHitIsReported() throws Exception {
        assumeGroupsCanBeCreated();
        SandboxProcess process = Sandbox.builder().allNamespaces().pids(32).redirectErrorStream(true)
                .command("/bin/sh", "-c", "i=0; while [ $i -lt 100 ]; do sleep 2 & i=$((i+1)); done; wait").start();
        process.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        process.waitFor();
        SandboxResult result = process.waitForResult();
        assertThat(result.pidsLimitHit()).as("the result says the pids limit stopped a fork").isTrue();
        assertThat(result.usage().orElseThrow().pidsCurrent()).isLessThanOrEqualTo(32);
    }

    @Test
    void aQuarterOfACpuIsAboutAQuarterOfACpu() throws Exception {
        assumeGroupsCanBeCreated();
        SandboxProcess process = Sandbox.builder().allNamespaces().cpus(0.25)
                .command("/bin/sh", "-c", "while :; do :; done").start();
        long begin = System.nanoTime();
        Thread.sleep(3000);
        ResourceUsage usage = process.resourceUsage().orElseThrow();
        double wall = (System.nanoTime() - begin) / 1e9;
        process.destroyForcibly().waitFor();
        double share = (usage.cpuUser().toNanos() + usage.cpuSystem().toNanos()) / 1e9 / wall;
        assertThat(share).as("CPU share of a busy loop limited to 0.25").isBetween(0.15, 0.40);
    }

    @Test
    void pauseStopsProgressAndResumeContinuesIt() throws Exception {
        assumeGroupsCanBeCreated();
        Path shared = Files.createDirectory(temp.resolve("shared"));
        Files.setPosixFilePermissions(temp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        Path counter = shared.resolve("counter");
        SandboxProcess process = Sandbox.builder().allNamespaces().limits(ResourceLimits.none())
                .filesystem(FilesystemSpec.builder().bind(shared, "/shared").build())
                .command("/bin/sh", "-c", "while :; do echo tick >> /shared/counter; done").start();
        try {
            while (!Files.exists(counter) || Files.size(counter) == 0) {
                Thread.sleep(10);
            }
            process.pause();
            long frozen = Files.size(counter);
            Thread.sleep(300);
            assertThat(Files.size(counter)).as("no progress while paused").isEqualTo(frozen);
            process.resume();
            Thread.sleep(300);
            assertThat(Files.size(counter)).as("progress after resume").isGreaterThan(frozen);
        } finally {
            process.destroyForcibly().waitFor();
        }
    }

    @Test
    void destroyForciblyKillsADoubleForkedGrandchildAndTheGroupIsRemoved() throws Exception {
        assumeGroupsCanBeCreated();
        String marker = Sandboxes.uniqueSleepSeconds();
        List<Path> groupsBefore = ownGroups();
        SandboxProcess process = Sandbox.builder().limits(ResourceLimits.none()) // no pid namespace: only the cgroup
                .command("/bin/sh", "-c", "(setsid sleep " + marker + " &); echo ready; exec sleep " + marker).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream()));
        assertThat(out.readLine()).isEqualTo("ready");
        assertThat(ownGroups()).hasSize(groupsBefore.size() + 1);
        process.destroyForcibly().waitFor();
        assertThat(Sandboxes.pidsWithCommandLine("sleep " + marker)).isEmpty();
        assertThat(dev.isolation.cgroups.CgroupRemover.shared().flush(java.time.Duration.ofSeconds(10))).isTrue();
        assertThat(ownGroups()).as("the group is removed when the sandbox ends").isEqualTo(groupsBefore);
    }

    @Test
    void withACgroupNamespaceTheGroupIsTheProgramsRoot() throws Exception {
        assumeGroupsCanBeCreated();
        Sandboxes.Result result = Sandboxes.shell(Sandbox.builder().allNamespaces().limits(ResourceLimits.none()),
                "cut -d: -f3 /proc/self/cgroup | sort -u");
        assertThat(result.lines()).containsExactly("/");
    }

    @Test
    void groupsOfAKilledJvmAreRemovedByTheNextCleanup() throws Exception {
        assumeGroupsCanBeCreated();
        Process jvm = ChildJvm.start(LimitedSandboxMain.class);
        BufferedReader out = new BufferedReader(new InputStreamReader(jvm.getInputStream()));
        assertThat(out.readLine()).isEqualTo("started");
        List<Path> orphans = groupsOf(jvm.pid());
        assertThat(orphans).isNotEmpty();
        jvm.destroyForcibly().waitFor();
        Thread.sleep(200); // the helper sees the JVM gone and kills the sandbox; nobody removes its group
        assertThat(orphans.stream().filter(Files::exists)).isNotEmpty();
        CgroupManager manager = CgroupManager.detect();
        assertThat(manager.removeStale().removed()).containsAll(orphans.stream()
                .map(group -> group.getFileName().toString()).distinct().toList());
        assertThat(orphans.stream().filter(Files::exists)).isEmpty();
        assertThat(manager.removeStale().removed()).as("a second cleanup finds nothing").isEmpty();
    }

    @Test
    void aCallerChosenManagerPlacesTheGroup() throws Exception {
        assumeGroupsCanBeCreated();
        List<Path> before = ownGroups();
        SandboxProcess process = Sandbox.builder().allNamespaces().limits(ResourceLimits.none())
                .cgroupManager(CgroupManager.detect()).command("/bin/sh", "-c", "read line").start();
        assertThat(ownGroups()).hasSize(before.size() + 1);
        process.getOutputStream().close();
        process.result().join(); // the final usage is read, and the removal queued, once the outcome is out
        assertThat(dev.isolation.cgroups.CgroupRemover.shared().flush(java.time.Duration.ofSeconds(10)))
                .as("the group is removed off the exit path").isTrue();
        assertThat(ownGroups()).isEqualTo(before);
        assertThatThrownBy(() -> Sandbox.builder().cgroupManager(CgroupManager.detect()).command("/bin/true").build())
                .isInstanceOf(InvalidSandboxSpecException.class).hasMessageStartingWith("cgroupManager:");
    }

    @Test
    void badLimitsAreRejectedNamingTheFieldAndRange() {
        assertRejected(() -> Sandbox.builder().memory(1024), "memoryMax", "at least");
        assertRejected(() -> Sandbox.builder().cpus(0), "cpus", "more than 0");
        assertRejected(() -> Sandbox.builder().cpus(-1), "cpus", "more than 0");
        assertRejected(() -> Sandbox.builder().cpus(1000), "cpus", "at most");
        assertRejected(() -> Sandbox.builder().pids(0), "pidsMax", "at least 1");
        assertThatThrownBy(() -> ResourceLimits.builder().cpuWeight(0)).hasMessageStartingWith("cpuWeight:")
                .hasMessageContaining("1 to 10000");
        assertThatThrownBy(() -> new ResourceLimits.IoLimit("999:999", java.util.OptionalLong.of(1),
                java.util.OptionalLong.empty(), java.util.OptionalLong.empty(), java.util.OptionalLong.empty()))
                .hasMessageStartingWith("ioDevice:").hasMessageContaining("999:999");
    }

    private static void assertRejected(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String field,
            String range) {
        assertThatThrownBy(call).isInstanceOf(InvalidSandboxSpecException.class)
                .satisfies(e -> assertThat(((InvalidSandboxSpecException) e).field()).isEqualTo(field))
                .hasMessageContaining(range);
    }

    private static List<Path> ownGroups() throws IOException {
        return groupsOf(ProcessHandle.current().pid());
    }

    /** The groups labelled by JVM {@code pid} near this JVM's own memory (v1) or unified (v2) cgroup. */
    private static List<Path> groupsOf(long pid) throws IOException {
        CgroupTopology topology = CgroupTopology.detect();
        Path parent = V1 ? topology.ownGroupDirectory("memory").orElseThrow()
                : topology.ownUnifiedDirectory().orElseThrow();
        List<Path> groups = new java.util.ArrayList<>();
        for (Path dir : List.of(parent, parent.getParent(), parent.resolve("isolation"),
                parent.getParent().resolve("isolation"))) {
            if (Files.isDirectory(dir)) {
                try (Stream<Path> entries = Files.list(dir)) {
                    entries.filter(p -> p.getFileName().toString().startsWith("isolation-" + pid + "-"))
                            .forEach(groups::add);
                }
            }
        }
        return groups.stream().sorted().toList();
    }
}
