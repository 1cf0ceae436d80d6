package dev.isolation.cgroups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * CgroupsV2 on a real kernel. Runs only on a cgroup v2 host as root (here: the VM of .ci/cgroup-v2-lane);
 * skipped elsewhere, unless ISOLATION_REQUIRE_CGROUP_V2=1, which turns the skip into a failure so that a lane
 * meant to run them cannot pass without them.
 *
 * <p>Each program is a shell that waits for a line on stdin before doing anything, so that it is in its group
 * before it allocates, forks or spins. Timings are generous: in the lane the guest is emulated (about 16 times
 * slower than real hardware).
 */
class V2CgroupTest {
    private static final long MIB = 1L << 20;
    private static final Duration PATIENCE = Duration.ofSeconds(60);

    private static CgroupsV2 manager;

    @BeforeAll
    static void onlyOnACgroupV2HostAsRoot() throws IOException {
        CgroupTopology topology = CgroupTopology.detect();
        long uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
        boolean runnable = topology.mode() == CgroupMode.UNIFIED && uid == 0;
        String why = "real cgroup v2 tests need a cgroup v2 host (mode here: " + topology.mode() + ") and root (uid here: "
                + uid + ")";
        if ("1".equals(System.getenv("ISOLATION_REQUIRE_CGROUP_V2"))) {
            assertThat(runnable).as(why + "; ISOLATION_REQUIRE_CGROUP_V2=1 requires them to run").isTrue();
        } else {
            assumeTrue(runnable, why);
        }
        manager = CgroupsV2.forThisProcess(topology);
    }

    @Test
    void jvmInTheRootCgroupGetsTheDedicatedParentWithEveryController() {
        CgroupTopology topology = CgroupTopology.detect();
        Path mount = topology.unifiedMountPoint().orElseThrow();
        assumeTrue(topology.ownUnifiedDirectory().orElseThrow().equals(mount), "the JVM is not in the root cgroup");

        assertThat(manager.parent()).contains(mount.resolve("isolation"));
        assertThat(manager.controllers()).contains("cpuset", "cpu", "io", "memory", "pids", "freezer");
    }

    /** As under systemd's Delegate=yes: the JVM sits in a non-root cgroup of its own, which it may manage. */
    @Test
    void movingTheJvmIntoALeafLetsItsOwnCgroupGiveControllers() throws Exception {
        Path mount = CgroupTopology.detect().unifiedMountPoint().orElseThrow();
        long jvm = ProcessHandle.current().pid();
        try (Cgroup delegated = manager.create(ResourceLimits.none())) {
            Path own = delegated.directories().get(0);
            delegated.addProcess(jvm);
            try {
                CgroupsV2 inOwn = CgroupsV2.movingJvmIntoLeaf(CgroupTopology.detect());

                assertThat(CgroupTopology.detect().ownUnifiedDirectory()).contains(own.resolve("jvm"));
                assertThat(inOwn.parent()).contains(own);
                assertThat(inOwn.controllers()).contains("memory", "pids");
                try (Cgroup limited = inOwn.create(ResourceLimits.builder().memoryMax(64 * MIB).pidsMax(16).build())) {
                    assertThat(limited.directories().get(0).getParent()).isEqualTo(own);
                    assertThat(read(limited.directories().get(0), "memory.max")).isEqualTo("67108864");
                }
            } finally {
                Files.writeString(mount.resolve("cgroup.procs"), Long.toString(jvm)); // back to the root
            }
        }
    }

    @Test
    void limitsAreWrittenInTheKernelsFormat() throws IOException {
        ResourceLimits limits = ResourceLimits.builder().memoryMax(256 * MIB).memoryHigh(128 * MIB).memorySwapMax(0)
                .cpus(0.5, Duration.ofMillis(50)).cpuWeight(200).pidsMax(100).build();
        try (Cgroup group = manager.create(limits)) {
            Path dir = group.directories().get(0);
            assertThat(read(dir, "memory.max")).isEqualTo("268435456");
            assertThat(read(dir, "memory.high")).isEqualTo("134217728");
            assertThat(read(dir, "memory.swap.max")).isEqualTo("0");
            assertThat(read(dir, "memory.oom.group")).isEqualTo("1");
            assertThat(read(dir, "cpu.max")).isEqualTo("25000 50000");
            assertThat(read(dir, "cpu.weight")).isEqualTo("200");
            assertThat(read(dir, "pids.max")).isEqualTo("100");
            assertThat(group.procsFiles()).containsExactly(dir.resolve("cgroup.procs"));
        }
    }

    @Test
    void ioWeightIsWrittenOrRefusedNamingIoWeight() throws IOException {
        ResourceLimits limits = ResourceLimits.builder().ioWeight(300).build();
        try (Cgroup group = manager.create(limits)) {
            assertThat(read(group.directories().get(0), "io.weight")).isEqualTo("default 300");
        } catch (IOException e) {
            assertThat(e).hasMessageStartingWith("ioWeight: ").hasMessageContaining("io.weight");
        }
    }

    @Test
    void memoryLimitOomKillsAnAllocationAboveIt() throws Exception {
        ResourceLimits limits = ResourceLimits.builder().memoryMax(64 * MIB).memorySwapMax(0).build();
        try (Cgroup group = manager.create(limits)) {
            Process dd = startIn(group, "exec dd if=/dev/zero of=/dev/null bs=100M count=1");
            assertThat(dd.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(dd.exitValue()).as("dd's exit value (128 + SIGKILL)").isEqualTo(137);
            assertThat(group.usage().oomKills()).isGreaterThanOrEqualTo(1);
        }
    }

    /**
     * dd with bs=48M holds one 48 MiB buffer, which reading /dev/zero touches entirely. The peak must cover it and
     * stay within 10% above it plus 2 MiB for the shell, dd itself, page tables and kernel objects.
     */
    @Test
    void memoryPeakMatchesAKnownAllocation() throws Exception {
        try (Cgroup group = manager.create(ResourceLimits.none())) {
            Process dd = startIn(group, "exec dd if=/dev/zero of=/dev/null bs=48M count=1");
            assertThat(dd.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(dd.exitValue()).isZero();
            ResourceUsage usage = group.usage();
            assumeTrue(usage.memoryPeak().isPresent(), "no memory.peak before Linux 5.19");
            long peak = usage.memoryPeak().getAsLong();
            System.out.printf("V2CgroupTest: memory.peak %.2f MiB for a 48 MiB allocation%n", peak / (double) MIB);
            assertThat(peak).isBetween(48 * MIB, (long) (48 * MIB * 1.1) + 2 * MIB);
            assertThat(usage.cpuUser().plus(usage.cpuSystem())).isPositive();
        }
    }

    @Test
    void pidsLimitRefusesForksAndCountsThem() throws Exception {
        try (Cgroup group = manager.create(ResourceLimits.builder().pidsMax(32).build())) {
            startIn(group, "i=0; while [ $i -lt 40 ]; do sleep 600 & i=$((i+1)); done; wait");
            await("a fork refused by pids.max", () -> group.usage().pidsLimitHits() >= 1);
            ResourceUsage usage = group.usage();
            assertThat(usage.pidsCurrent()).isBetween(1L, 32L);
            assertThat(group.processes()).hasSizeLessThanOrEqualTo(32);
        }
    }

    /**
     * A busy loop under a quota of 0.25 CPU, measured by the group's cpu.stat usage against the wall clock over 3 s:
     * between 0.15 and 0.40 (unlimited, it would take a whole CPU).
     */
    @Test
    void cpuQuotaHoldsABusyLoopToAQuarterCpu() throws Exception {
        try (Cgroup group = manager.create(ResourceLimits.builder().cpus(0.25).build())) {
            startIn(group, "while :; do :; done");
            V2Group v2 = (V2Group) group;
            await("the loop to run", () -> v2.cpuTime().toMillis() > 20);
            long cpu0 = v2.cpuTime().toNanos();
            long wall0 = System.nanoTime();
            Thread.sleep(3000);
            long cpu1 = v2.cpuTime().toNanos();
            long wall1 = System.nanoTime();
            double fraction = (cpu1 - cpu0) / (double) (wall1 - wall0);
            System.out.printf("V2CgroupTest: busy loop under cpus(0.25) got %.3f CPU over %.2f s%n", fraction,
                    (wall1 - wall0) / 1e9);
            assertThat(fraction).isBetween(0.15, 0.40);
        }
    }

    @Test
    void freezeStopsTheGroupAndThawResumesIt() throws Exception {
        try (Cgroup group = manager.create(ResourceLimits.none())) {
            Process loop = startIn(group, "while :; do :; done");
            V2Group v2 = (V2Group) group;
            await("the loop to run", () -> v2.cpuTime().toMillis() > 20);

            group.freeze();
            assertThat(v2.isFrozen()).isTrue();
            long frozenAt = v2.cpuTime().toNanos();
            Thread.sleep(500);
            assertThat(v2.cpuTime().toNanos()).as("CPU time while frozen").isEqualTo(frozenAt);
            assertThat(loop.isAlive()).isTrue();

            group.thaw();
            assertThat(v2.isFrozen()).isFalse();
            await("the loop to run again", () -> v2.cpuTime().toNanos() > frozenAt + 20_000_000L);
        }
    }

    @Test
    void killAllReachesADoubleForkedGrandchild() throws Exception {
        try (Cgroup group = manager.create(ResourceLimits.none())) {
            Process shell = startDoubleFork(group);
            group.killAll();
            assertGone(group, shell);
        }
    }

    @Test
    void freezeKillThawReachesADoubleForkedGrandchild() throws Exception {
        try (Cgroup group = manager.create(ResourceLimits.none())) {
            Process shell = startDoubleFork(group);
            ((V2Group) group).killByFreezing(); // what killAll does before Linux 5.14 (no cgroup.kill)
            assertGone(group, shell);
        }
    }

    @Test
    void removeLeavesNothingAndIsIdempotent() throws Exception {
        Cgroup group = manager.create(ResourceLimits.builder().memoryMax(64 * MIB).pidsMax(16).build());
        Path dir = group.directories().get(0);
        Process sleeper = startIn(group, "exec sleep 600");
        assertThat(group.processes()).containsExactly(sleeper.pid());

        group.remove();

        assertThat(dir).doesNotExist();
        assertThat(sleeper.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
        group.remove();
        group.close();
        assertThatThrownBy(group::processes).isInstanceOf(IOException.class).hasMessageContaining(dir.toString());
    }

    @Test
    void removeTakesTheChildGroupsAProgramMadeAndKillsWhatIsInThem() throws Exception {
        Cgroup group = manager.create(ResourceLimits.builder().pidsMax(16).build());
        Path dir = group.directories().get(0);
        Path child = Files.createDirectory(dir.resolve("child"));
        Process sleeper = new ProcessBuilder("sleep", "600").start();
        Files.writeString(child.resolve("cgroup.procs"), Long.toString(sleeper.pid()));

        group.remove();

        assertThat(dir).doesNotExist();
        assertThat(sleeper.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void anEmptyGroupIsRemovedAtOnce() throws Exception {
        Cgroup group = manager.create(ResourceLimits.builder().memoryMax(64 * MIB).pidsMax(16).build());
        assertThat(group.selfJoinFiles()).as("a thread cannot move alone between v2 domain groups").isEmpty();
        assertThat(group.cloneIntoDirectory()).contains(group.directories().get(0));
        Process done = startIn(group, "exit 0");
        assertThat(done.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
        await("the group to be empty", () -> !((V2Group) group).isPopulated());

        group.remove();

        assertThat(group.directories().get(0)).doesNotExist();
        group.remove();
    }

    @Test
    void removeKillsAFrozenGroup() throws Exception {
        Cgroup group = manager.create(ResourceLimits.none());
        Process sleeper = startIn(group, "exec sleep 600");
        group.freeze();

        group.remove();

        assertThat(group.directories().get(0)).doesNotExist();
        assertThat(sleeper.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void removeStaleRemovesTheGroupOfADeadJvmOnly() throws Exception {
        Process exited = new ProcessBuilder("/bin/true").start();
        assertThat(exited.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
        Path stale = manager.parent().orElseThrow().resolve(JvmLabel.of(exited.pid(), 1) + "-1");
        Files.createDirectory(stale);
        Process orphan = new ProcessBuilder("sleep", "600").start();
        Files.writeString(stale.resolve("cgroup.procs"), Long.toString(orphan.pid()));

        try (Cgroup live = manager.create(ResourceLimits.none())) {
            assertThat(manager.removeStale().removed()).contains(stale.getFileName().toString());

            assertThat(stale).doesNotExist();
            assertThat(orphan.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(live.directories().get(0)).isDirectory();
        }
    }

    @Test
    void cpusetPinsTheGroupToOneCpu() throws Exception {
        try (Cgroup group = manager.create(ResourceLimits.builder().cpusetCpus("0").build())) {
            Process sleeper = startIn(group, "exec sleep 600");
            Path dir = group.directories().get(0);
            assertThat(read(dir, "cpuset.cpus")).isEqualTo("0");
            assertThat(read(dir, "cpuset.cpus.effective")).isEqualTo("0");
            assertThat(Files.readAllLines(Path.of("/proc", Long.toString(sleeper.pid()), "status")))
                    .contains("Cpus_allowed_list:\t0");
        }
    }

    @Test
    void cpusetOutsideTheParentsCpusIsRefusedWithTheAllowedList() {
        ResourceLimits limits = ResourceLimits.builder().cpusetCpus("1000").build();
        assertThatThrownBy(() -> manager.create(limits))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("cpusetCpus: cannot write \"1000\" to ")
                .hasMessageContaining("the parent allows");
    }

    /**
     * With memory.oom.group (the default), exceeding the limit ends every process of the group: a holder of 40 MiB
     * (dd blocked writing into a pipe nobody reads, beside a sleep) and a second 40 MiB allocation.
     */
    @Test
    void oomGroupKillsEveryProcessOfTheGroup() throws Exception {
        ResourceLimits limits = ResourceLimits.builder().memoryMax(64 * MIB).memorySwapMax(0).build();
        try (Cgroup group = manager.create(limits)) {
            Process holder = startIn(group, "dd if=/dev/zero bs=40M count=1 2>/dev/null | sleep 600");
            await("the holder to hold 40 MiB", () -> group.usage().memoryCurrent() >= 40 * MIB);
            Process hog = startIn(group, "exec dd if=/dev/zero of=/dev/null bs=40M count=1");

            assertThat(hog.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(holder.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS)).as("the holder's shell").isTrue();
            await("every process of the group to be gone", () -> group.processes().isEmpty());
            assertThat(group.usage().oomKills()).isGreaterThanOrEqualTo(2);
        }
    }

    /** Starts {@code script} in a shell that waits for a line on stdin, moves it into {@code group}, releases it. */
    private static Process startIn(Cgroup group, String script) throws IOException {
        Process process = new ProcessBuilder("/bin/sh", "-c", "read go; " + script)
                .redirectOutput(Redirect.DISCARD)
                .redirectError(Redirect.DISCARD)
                .start();
        try {
            group.addProcess(process.pid());
        } catch (IOException e) {
            process.destroyForcibly();
            throw e;
        }
        try (OutputStream stdin = process.getOutputStream()) {
            stdin.write('\n');
        }
        return process;
    }

    /** A shell whose subshell starts a sleep and exits: the sleep is no descendant of the shell any more. */
    private static Process startDoubleFork(Cgroup group) throws Exception {
        Process shell = startIn(group, "(sleep 600 &); exec sleep 600");
        await("the shell and its orphaned grandchild", () -> group.processes().size() == 2);
        return shell;
    }

    private static void assertGone(Cgroup group, Process shell) throws Exception {
        assertThat(group.processes()).isEmpty();
        assertThat(((V2Group) group).isPopulated()).isFalse();
        assertThat(shell.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
    }

    private static String read(Path dir, String file) throws IOException {
        return Files.readString(dir.resolve(file)).strip();
    }

    private static void await(String what, Callable<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!condition.call()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + PATIENCE.toSeconds() + " s waiting for " + what);
            }
            Thread.sleep(20);
        }
    }
}
