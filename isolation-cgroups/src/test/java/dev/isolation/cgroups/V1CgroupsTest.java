package dev.isolation.cgroups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link CgroupsV1} on the real kernel, in groups below this JVM's own group of each v1 hierarchy (never
 * elsewhere). Skipped on a host without v1 hierarchies; skipped where they are not writable (not root), except
 * {@link #withoutWriteAccessCreateSaysV1HasNoDelegation()}, which runs only then.
 *
 * <p>Every program starts blocked on "read go", is added to the group, and only then released: what it does is
 * all inside the group.
 */
class V1CgroupsTest {
    private static final long MIB = 1L << 20;

    @TempDir
    Path tmp;

    private CgroupsV1 manager;
    private boolean writable;
    private final List<Cgroup> groups = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();
    private final List<Path> strayDirectories = new ArrayList<>();

    @BeforeEach
    void detect() throws IOException {
        CgroupTopology topology = CgroupTopology.detect();
        assumeThat(topology.mode()).as("a host with cgroup v1 hierarchies").isIn(CgroupMode.LEGACY, CgroupMode.HYBRID);
        assumeThat(topology.ownGroupDirectory("freezer")).as("a v1 freezer hierarchy").isPresent();
        assumeThat(topology.ownGroupDirectory("memory")).as("a v1 memory hierarchy").isPresent();
        manager = CgroupsV1.forThisProcess(topology);
        writable = Files.isWritable(manager.parents().get("memory"));
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (Process process : processes) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
        Exception failure = null;
        for (Cgroup group : groups) {
            try {
                group.remove();
            } catch (IOException e) {
                failure = e;
            }
        }
        for (Path dir : strayDirectories) {
            Files.deleteIfExists(dir);
        }
        if (failure != null) {
            throw failure;
        }
    }

    private Cgroup create(ResourceLimits limits) throws IOException {
        assumeThat(writable).as("the v1 hierarchies are writable (root)").isTrue();
        Cgroup group = manager.create(limits);
        groups.add(group);
        return group;
    }

    /** Starts {@code script} blocked on a line of input; {@link #release} lets it run. */
    private Process startBlocked(String script) throws IOException {
        Process process = new ProcessBuilder("/bin/sh", "-c", "read go; " + script)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        processes.add(process);
        return process;
    }

    private static void release(Process process) throws IOException {
        try (OutputStream in = process.getOutputStream()) {
            in.write("go\n".getBytes(StandardCharsets.US_ASCII));
        }
    }

    private Process startIn(Cgroup group, String script) throws IOException {
        Process process = startBlocked(script);
        group.addProcess(process.pid());
        release(process);
        return process;
    }

    private static void await(String what, Duration patience, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + patience.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("still not " + what + " after " + patience.toMillis() + " ms");
            }
            Thread.sleep(10);
        }
    }

    private static ResourceUsage usage(Cgroup group) {
        try {
            return group.usage();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static List<Long> processesOf(Cgroup group) {
        try {
            return group.processes();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static String read(Path file) throws IOException {
        return Files.readString(file).trim();
    }

    private static Path dir(Cgroup group, String controller) {
        return ((V1Group) group).directory(controller).orElseThrow();
    }

    /** Labelled directories of this JVM below the manager's parents. */
    private Set<Path> ownLabelledDirectories() throws IOException {
        String prefix = "isolation-" + ProcessHandle.current().pid() + "-";
        Set<Path> found = new HashSet<>();
        for (Path parent : new LinkedHashSet<>(manager.parents().values())) {
            try (DirectoryStream<Path> children = Files.newDirectoryStream(parent, prefix + "*")) {
                children.forEach(found::add);
            }
        }
        return found;
    }

    @Test
    void withoutWriteAccessCreateSaysV1HasNoDelegation() {
        assumeThat(writable).as("the v1 hierarchies are not writable (not root)").isFalse();
        assertThatThrownBy(() -> manager.create(ResourceLimits.builder().memoryMax(64 * MIB).build()))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("is not writable by uid")
                .hasMessageContaining("cgroup v1 has no delegation: run as root, or use a cgroup v2 host with a"
                        + " delegated subtree");
    }

    @Test
    void aProcessJoinsEveryHierarchyAndTheMemoryLimitIsApplied() throws Exception {
        Cgroup group = create(ResourceLimits.builder().memoryMax(64 * MIB).build());
        assertThat(group.directories()).allMatch(Files::isDirectory)
                .allMatch(dir -> dir.getFileName().toString().equals(group.name()));
        assertThat(group.directories().stream().map(Path::getParent))
                .containsAll(List.of(manager.parents().get("memory"), manager.parents().get("freezer")));
        assertThat(read(dir(group, "memory").resolve("memory.limit_in_bytes"))).isEqualTo(Long.toString(64 * MIB));

        Process process = startIn(group, "exec tail -f /dev/null");
        assertThat(group.processes()).containsExactly(process.pid());
        String membership = Files.readString(Path.of("/proc", Long.toString(process.pid()), "cgroup"));
        for (String controller : List.of("memory", "cpuacct", "pids", "freezer")) {
            assertThat(membership).containsPattern("(?m)^[0-9]+:([a-z,]*,)?" + controller + "(,[a-z,]*)?:.*/"
                    + group.name() + "$");
        }
        assertThat(group.procsFiles()).hasSize(group.directories().size())
                .allMatch(file -> file.getFileName().toString().equals("cgroup.procs"));
    }

    @Test
    void aProcessWritingZeroToTheSelfJoinFilesMovesItselfIntoEveryHierarchy() throws Exception {
        Cgroup group = create(ResourceLimits.builder().memoryMax(64 * MIB).pidsMax(8).cpus(1).build());
        assertThat(group.selfJoinFiles()).hasSize(group.directories().size())
                .allMatch(file -> file.getFileName().toString().equals("tasks"));
        assertThat(group.cloneIntoDirectory()).as("v1 has no CLONE_INTO_CGROUP").isEmpty();
        StringBuilder moves = new StringBuilder();
        for (Path tasks : group.selfJoinFiles()) {
            moves.append("echo 0 > ").append(tasks).append(" && ");
        }
        // the shell (single-threaded) moves itself, then becomes sleep: its children would be born inside
        Process process = startBlocked(moves + "exec sleep 1000");
        release(process);
        await("in the group", Duration.ofSeconds(5), () -> processesOf(group).contains(process.pid()));
        String membership = Files.readString(Path.of("/proc", Long.toString(process.pid()), "cgroup"));
        for (String controller : List.of("memory", "cpu", "cpuacct", "pids", "freezer")) {
            assertThat(membership).containsPattern("(?m)^[0-9]+:([a-z,]*,)?" + controller + "(,[a-z,]*)?:.*/"
                    + group.name() + "$");
        }
    }

    @Test
    void allocatingBeyondTheLimitIsOomKilledAndCounted() throws Exception {
        Cgroup group = create(ResourceLimits.builder().memoryMax(64 * MIB).build());
        // dd allocates its 100 MiB block and fills it: beyond the 64 MiB limit (this host has no swap).
        Process process = startIn(group, "exec dd if=/dev/zero of=/dev/null bs=100M count=1");
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).isEqualTo(128 + 9);
        assertThat(group.usage().oomKills()).isGreaterThanOrEqualTo(1);
    }

    /**
     * dd's 48 MiB block is the allocation; the peak also holds dd's own pages, page tables and kernel memory.
     * Tolerance: at least 48 MiB, at most 48 MiB + 10% + 4 MiB.
     */
    @Test
    void thePeakMatchesAKnownAllocation() throws Exception {
        Cgroup group = create(ResourceLimits.none());
        Process process = startIn(group, "exec dd if=/dev/zero of=/dev/null bs=48M count=1");
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).isZero();
        long peak = group.usage().memoryPeak().orElseThrow();
        System.out.printf("v1 memory peak for a 48 MiB allocation: %d bytes = %.2f MiB (%.3f x)%n", peak,
                (double) peak / MIB, (double) peak / (48 * MIB));
        assertThat(peak).isBetween(48 * MIB, 48 * MIB * 11 / 10 + 4 * MIB);
    }

    @Test
    void thePidsLimitHoldsAForkLoopAndKillAllEndsIt() throws Exception {
        Cgroup group = create(ResourceLimits.builder().pidsMax(32).build());
        assertThat(read(dir(group, "pids").resolve("pids.max"))).isEqualTo("32");
        startIn(group, "for i in $(seq 100); do sleep 5 & done; wait");
        await("refused a fork", Duration.ofSeconds(5), () -> usage(group).pidsLimitHits() > 0);
        ResourceUsage usage = group.usage();
        System.out.printf("v1 pids: %d forks refused, %d tasks%n", usage.pidsLimitHits(), usage.pidsCurrent());
        assertThat(usage.pidsCurrent()).isBetween(1L, 32L);

        group.killAll();
        assertThat(group.processes()).isEmpty();
        await("without tasks", Duration.ofSeconds(5), () -> usage(group).pidsCurrent() == 0);
    }

    @Test
    void aQuarterCpuQuotaHoldsABusyLoop() throws Exception {
        Cgroup group = create(ResourceLimits.builder().cpus(0.25).build());
        assertThat(read(dir(group, "cpu").resolve("cpu.cfs_period_us"))).isEqualTo("100000");
        assertThat(read(dir(group, "cpu").resolve("cpu.cfs_quota_us"))).isEqualTo("25000");
        startIn(group, "while :; do :; done");
        Thread.sleep(200);
        ResourceUsage before = group.usage();
        long start = System.nanoTime();
        Thread.sleep(3000);
        ResourceUsage after = group.usage();
        long wall = System.nanoTime() - start;
        long cpu = after.cpuUser().plus(after.cpuSystem()).minus(before.cpuUser()).minus(before.cpuSystem()).toNanos();
        double fraction = (double) cpu / wall;
        System.out.printf("v1 cpu quota 0.25: busy loop got %.3f of a CPU over %.2f s%n", fraction, wall / 1e9);
        assertThat(fraction).isBetween(0.15, 0.40);
    }

    @Test
    void freezingStopsProgressAndThawingResumesIt() throws Exception {
        Cgroup group = create(ResourceLimits.none());
        Path counter = tmp.resolve("counter");
        startIn(group, "i=0; while :; do i=$((i+1)); echo $i > " + counter + "; done");
        await("counting", Duration.ofSeconds(5), () -> count(counter) > 10);

        group.freeze();
        assertThat(read(dir(group, "freezer").resolve("freezer.state"))).isEqualTo("FROZEN");
        String frozen = Files.readString(counter);
        Thread.sleep(300);
        assertThat(Files.readString(counter)).isEqualTo(frozen);

        group.thaw();
        long at = frozen.isBlank() ? 0 : Long.parseLong(frozen.trim());
        await("counting again", Duration.ofSeconds(5), () -> count(counter) > at);
    }

    private static long count(Path counter) {
        try {
            String text = Files.readString(counter).trim();
            return text.isEmpty() ? -1 : Long.parseLong(text);
        } catch (IOException e) {
            return -1;
        }
    }

    @Test
    void killAllReachesADoubleForkedProcessInItsOwnSession() throws Exception {
        Cgroup group = create(ResourceLimits.none());
        Process shell = startIn(group, "(setsid sleep 1000 &); sleep 1000");
        // sh, its sleep, and the setsid sleep in a session of its own whose parent has exited (the second session
        // can be there before sh has forked its own sleep: wait for both)
        await("a second session and three processes", Duration.ofSeconds(5),
                () -> processesOf(group).size() >= 3
                        && processesOf(group).stream().map(V1CgroupsTest::session).distinct().count() >= 2);
        List<Long> pids = group.processes();
        assertThat(pids).hasSizeGreaterThanOrEqualTo(3);

        group.killAll();
        assertThat(group.processes()).isEmpty();
        assertThat(shell.waitFor(5, TimeUnit.SECONDS)).isTrue();
        await("all gone", Duration.ofSeconds(5), () -> pids.stream().allMatch(V1CgroupsTest::goneOrZombie));
    }

    private static long session(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[3]);
        } catch (IOException e) {
            return -1;
        }
    }

    private static boolean goneOrZombie(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (IOException e) {
            return true;
        }
    }

    @Test
    void removeKillsWhatIsLeftLeavesNoDirectoryAndIsIdempotent() throws Exception {
        Cgroup group = create(ResourceLimits.builder().memoryMax(64 * MIB).cpus(0.5).pidsMax(100).build());
        Process process = startIn(group, "exec sleep 1000");
        group.remove();
        assertThat(group.directories()).noneMatch(Files::exists);
        assertThat(process.waitFor(5, TimeUnit.SECONDS)).isTrue();
        group.remove();
        group.close();
        assertThat(group.processes()).isEmpty();
    }

    @Test
    void removeTakesTheChildGroupsAProgramMadeAndKillsWhatIsInThem() throws Exception {
        Cgroup group = create(ResourceLimits.builder().memoryMax(64 * MIB).build());
        Process process = startBlocked("exec sleep 1000");
        for (Path dir : group.directories()) {
            Path child = Files.createDirectory(dir.resolve("child"));
            Files.writeString(child.resolve("cgroup.procs"), Long.toString(process.pid()));
        }
        release(process);

        group.remove();

        assertThat(group.directories()).noneMatch(Files::exists);
        assertThat(process.waitFor(5, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void anEmptyGroupIsRemovedAtOnceAndAgainIsANoOp() throws Exception {
        Cgroup group = create(ResourceLimits.builder().memoryMax(64 * MIB).pidsMax(8).cpus(1).build());
        Process process = startIn(group, "exit 0");
        assertThat(process.waitFor(5, TimeUnit.SECONDS)).isTrue();
        await("empty", Duration.ofSeconds(5), () -> processesOf(group).isEmpty());

        group.remove();

        assertThat(group.directories()).noneMatch(Files::exists);
        group.remove();
    }

    @Test
    void aHierarchyUnmountedSinceTheManagerWasMadeFailsTheCreateAndLeavesNothing() throws IOException {
        Path plain = Files.createDirectory(tmp.resolve("freezer-mount-point"));
        CgroupsV1 stale = CgroupsV1.under(java.util.Map.of("freezer", plain));
        assertThatThrownBy(() -> stale.create(ResourceLimits.none()))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("the freezer hierarchy is no longer mounted at " + plain + ": the directory "
                        + plain + "/isolation-")
                .hasMessageEndingWith(" has no cgroup.procs, so it is not a cgroup");
        try (var left = Files.list(plain)) {
            assertThat(left).isEmpty();
        }
    }

    @Test
    void theRemoverRemovesInTheBackgroundAndFlushWaitsForIt() throws Exception {
        Cgroup first = create(ResourceLimits.builder().memoryMax(64 * MIB).build());
        Cgroup second = create(ResourceLimits.none());
        Process left = startIn(second, "exec sleep 1000");
        try (CgroupRemover remover = new CgroupRemover("test-remover")) {
            var firstRemoved = remover.submit(first);
            var secondRemoved = remover.submit(second);
            assertThat(remover.flush(Duration.ofSeconds(30))).isTrue();
            assertThat(firstRemoved).isCompleted();
            assertThat(secondRemoved).isCompleted();
            assertThat(remover.pending()).isZero();
        }
        assertThat(first.directories()).noneMatch(Files::exists);
        assertThat(second.directories()).noneMatch(Files::exists);
        assertThat(left.waitFor(5, TimeUnit.SECONDS)).as("what was left in it is killed").isTrue();
    }

    @Test
    void everyLimitIsWrittenToItsFile() throws Exception {
        String device;
        try (var devices = Files.list(Path.of("/sys/dev/block"))) {
            device = devices.map(p -> p.getFileName().toString()).sorted().findFirst().orElseThrow();
        }
        boolean memsw = Files.exists(manager.parents().get("memory").resolve("memory.memsw.limit_in_bytes"));
        ResourceLimits.Builder builder = ResourceLimits.builder()
                .memoryMax(64 * MIB)
                .memoryHigh(48 * MIB)
                .cpus(0.5, Duration.ofMillis(50))
                .cpuWeight(100)
                .cpusetCpus("0")
                .pidsMax(64);
        if (memsw) {
            builder.memorySwapMax(16 * MIB);
        }
        Path blkioParent = manager.parents().get("blkio");
        boolean ioApplied = blkioParent != null;
        if (ioApplied) {
            builder.ioWeight(100).ioLimit(new ResourceLimits.IoLimit(device, OptionalLong.of(MIB),
                    OptionalLong.of(2 * MIB), OptionalLong.of(100), OptionalLong.of(200)));
        }
        Cgroup group;
        try {
            group = create(builder.build());
        } catch (IOException e) {
            // a kernel whose I/O schedulers have no weight: the message says so, and the rest is shown without it
            assertThat(e).hasMessageContaining("io weight has no file on this kernel");
            group = create(ResourceLimits.builder().memoryMax(64 * MIB).memoryHigh(48 * MIB)
                    .cpus(0.5, Duration.ofMillis(50)).cpuWeight(100).cpusetCpus("0").pidsMax(64).build());
            ioApplied = false;
        }
        Path memory = dir(group, "memory");
        assertThat(read(memory.resolve("memory.limit_in_bytes"))).isEqualTo(Long.toString(64 * MIB));
        assertThat(read(memory.resolve("memory.soft_limit_in_bytes"))).isEqualTo(Long.toString(48 * MIB));
        if (memsw) {
            assertThat(read(memory.resolve("memory.memsw.limit_in_bytes"))).isEqualTo(Long.toString(80 * MIB));
        }
        Path cpu = dir(group, "cpu");
        assertThat(read(cpu.resolve("cpu.cfs_period_us"))).isEqualTo("50000");
        assertThat(read(cpu.resolve("cpu.cfs_quota_us"))).isEqualTo("25000");
        assertThat(read(cpu.resolve("cpu.shares"))).isEqualTo("2597");
        Path cpuset = dir(group, "cpuset");
        assertThat(read(cpuset.resolve("cpuset.cpus"))).isEqualTo("0");
        assertThat(read(cpuset.resolve("cpuset.mems")))
                .isEqualTo(read(manager.parents().get("cpuset").resolve("cpuset.mems")));
        assertThat(read(dir(group, "pids").resolve("pids.max"))).isEqualTo("64");
        if (ioApplied) {
            Path blkio = dir(group, "blkio");
            assertThat(read(blkio.resolve("blkio.throttle.read_bps_device"))).isEqualTo(device + " " + MIB);
            assertThat(read(blkio.resolve("blkio.throttle.write_bps_device"))).isEqualTo(device + " " + 2 * MIB);
            assertThat(read(blkio.resolve("blkio.throttle.read_iops_device"))).isEqualTo(device + " 100");
            assertThat(read(blkio.resolve("blkio.throttle.write_iops_device"))).isEqualTo(device + " 200");
            assertThat(read(V1Blkio.weightFile(blkio).orElseThrow())).endsWith("19"); // "19" or "default 19"
        }
        // the cpuset is filled in: a process can join
        Process process = startIn(group, "exec sleep 1000");
        assertThat(group.processes()).containsExactly(process.pid());
    }

    @Test
    void aRefusedLimitFailsNamingItAndLeavesNothingBehind() throws Exception {
        assumeThat(writable).as("the v1 hierarchies are writable (root)").isTrue();
        assumeThat(Runtime.getRuntime().availableProcessors()).isLessThan(64);
        Set<Path> before = ownLabelledDirectories();
        assertThatThrownBy(() -> create(ResourceLimits.builder().memoryMax(64 * MIB).cpusetCpus("63").build()))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("cpusetCpus: cannot write \"63\" to " + manager.parents().get("cpuset"))
                .hasMessageContaining("cpuset.cpus: ")
                .hasMessageEndingWith("(the parent " + manager.parents().get("cpuset") + " allows \""
                        + read(manager.parents().get("cpuset").resolve("cpuset.cpus")) + "\")");
        assertThat(ownLabelledDirectories()).isEqualTo(before);
    }

    @Test
    void removeStaleRemovesGroupsOfDeadJvmsAndKillsTheirProcesses() throws Exception {
        Cgroup live = create(ResourceLimits.none());
        long deadPid = 999_999;
        while (ProcessHandle.of(deadPid).isPresent()) {
            deadPid--;
        }
        String name = JvmLabel.of(deadPid, 1) + "-1";
        assertThat(JvmLabel.isLabelled(name)).isTrue();
        List<Path> stale = new ArrayList<>();
        for (Path parent : new LinkedHashSet<>(manager.parents().values())) {
            Path dir = Files.createDirectory(parent.resolve(name));
            strayDirectories.add(dir);
            stale.add(dir);
        }
        Path cpuset = manager.parents().get("cpuset");
        if (cpuset != null) {
            Files.writeString(cpuset.resolve(name).resolve("cpuset.cpus"), read(cpuset.resolve("cpuset.cpus")));
            Files.writeString(cpuset.resolve(name).resolve("cpuset.mems"), read(cpuset.resolve("cpuset.mems")));
        }
        Process orphan = startBlocked("exec sleep 1000");
        for (Path dir : stale) {
            Files.writeString(dir.resolve("cgroup.procs"), Long.toString(orphan.pid()));
        }
        release(orphan);

        assertThat(manager.removeStale().removed()).contains(name);
        assertThat(stale).noneMatch(Files::exists);
        assertThat(orphan.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(live.directories()).allMatch(Files::isDirectory);
        assertThat(manager.removeStale().removed()).isEmpty();
    }

    /** Direct I/O goes to the block layer in the writer's group (buffered writes would be the flusher's). */
    @Test
    void directIoIsMetered() throws Exception {
        long dev = ((Number) Files.getAttribute(tmp, "unix:dev")).longValue();
        long major = ((dev >> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
        assumeThat(major).as("the temporary directory is on a block device").isNotZero();
        long minor = (dev & 0xff) | ((dev >> 12) & ~0xffL);
        // Recent kernels count v1 blkio bytes only on devices with a throttle rule: give one far above any disk.
        Cgroup group = create(ResourceLimits.builder().ioLimit(new ResourceLimits.IoLimit(major + ":" + minor,
                OptionalLong.of(1L << 40), OptionalLong.of(1L << 40), OptionalLong.empty(), OptionalLong.empty()))
                .build());
        assumeThat(((V1Group) group).directory("blkio")).isPresent();
        Path file = tmp.resolve("direct");
        Process process = startIn(group, "dd if=/dev/zero of=" + file + " bs=1M count=4 oflag=direct"
                + " && exec dd if=" + file + " of=/dev/null bs=1M iflag=direct");
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).isZero();
        ResourceUsage usage = group.usage();
        assertThat(usage.ioReadBytes()).isGreaterThanOrEqualTo(4 * MIB);
        assertThat(usage.ioWriteBytes()).isGreaterThanOrEqualTo(4 * MIB);
    }
}
