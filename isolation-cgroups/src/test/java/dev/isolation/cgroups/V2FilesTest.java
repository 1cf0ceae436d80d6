package dev.isolation.cgroups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The v2 file formats and the usage read from them, on fake files (no kernel needed). */
class V2FilesTest {
    @TempDir
    Path dir;

    @Test
    void flatKeyedFilesParse() throws IOException {
        Path stat = V2FakeTree.file(dir, "cpu.stat", "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n"
                + "nr_periods 0\nnr_throttled 0\nthrottled_usec 0\n");
        assertThat(V2Files.flatKeyed(stat, V2Files.read(stat)))
                .contains(entry("usage_usec", 1_500_000L), entry("user_usec", 1_000_000L),
                        entry("system_usec", 500_000L));
        assertThat(V2Files.flatKeyedValue(stat, "nr_bursts")).isZero();
        assertThat(V2Files.flatKeyedValue(dir.resolve("absent"), "anything")).isZero();
    }

    @Test
    void malformedFlatKeyedLineNamesFileAndLine() {
        Path events = V2FakeTree.file(dir, "memory.events", "oom 1\noom_kill\n");
        assertThatThrownBy(() -> V2Files.flatKeyedValue(events, "oom"))
                .isInstanceOf(IOException.class)
                .hasMessageContaining(events.toString())
                .hasMessageContaining("\"oom_kill\"");
    }

    @Test
    void nestedKeyedIoStatParses() throws IOException {
        Path stat = V2FakeTree.file(dir, "io.stat",
                "8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n"
                        + "8:0 rbytes=90430464 wbytes=299008000 rios=8950 wios=1252 dbytes=50331648 dios=3021\n");
        assertThat(V2Files.nestedKeyed(stat, V2Files.read(stat)).get("8:0"))
                .contains(entry("rbytes", 90_430_464L), entry("dios", 3021L));
        assertThat(V2Io.readWrittenBytes(dir)).containsExactly(1_459_200L + 90_430_464L, 314_773_504L + 299_008_000L);
    }

    @Test
    void maxMeansNoLimit() throws IOException {
        assertThat(V2Files.readLongIfPresent(V2FakeTree.file(dir, "pids.max", "max\n")))
                .isEqualTo(OptionalLong.of(Long.MAX_VALUE));
    }

    @Test
    void usageReadsEveryFile() throws IOException {
        V2FakeTree.file(dir, "memory.current", "1048576\n");
        V2FakeTree.file(dir, "memory.peak", "52428800\n");
        V2FakeTree.file(dir, "memory.events", "low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 1\n");
        V2FakeTree.file(dir, "cpu.stat", "usage_usec 3000\nuser_usec 2000\nsystem_usec 1000\n");
        V2FakeTree.file(dir, "pids.current", "7\n");
        V2FakeTree.file(dir, "pids.events", "max 3\n");
        V2FakeTree.file(dir, "io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n");

        ResourceUsage usage = new V2Group(dir).usage();

        assertThat(usage).isEqualTo(new ResourceUsage(1_048_576, OptionalLong.of(52_428_800), 2,
                Duration.ofMillis(2), Duration.ofMillis(1), 7, 3, 10, 20));
    }

    @Test
    void usageWithoutControllersIsZeroAndPeakEmpty() throws IOException {
        V2FakeTree.file(dir, "cpu.stat", "usage_usec 10\nuser_usec 6\nsystem_usec 4\n");

        ResourceUsage usage = new V2Group(dir).usage();

        assertThat(usage.memoryCurrent()).isZero();
        assertThat(usage.memoryPeak()).isEmpty();
        assertThat(usage.cpuUser()).isEqualTo(Duration.ofNanos(6000));
        assertThat(usage.pidsCurrent()).isZero();
        assertThat(usage.ioReadBytes()).isZero();
    }

    @Test
    void emptyMemoryPeakIsEmpty() throws IOException {
        V2FakeTree.file(dir, "memory.peak", "");
        assertThat(V2Memory.peak(dir)).isEmpty();
    }

    @Test
    void cgroupEventsTellPopulatedAndFrozen() throws IOException {
        V2FakeTree.file(dir, "cgroup.events", "populated 1\nfrozen 0\n");
        V2Group group = new V2Group(dir);
        assertThat(group.isPopulated()).isTrue();
        assertThat(group.isFrozen()).isFalse();

        Files.writeString(dir.resolve("cgroup.events"), "populated 0\nfrozen 1\n");
        assertThat(group.isPopulated()).isFalse();
        assertThat(group.isFrozen()).isTrue();
    }

    @Test
    void processesAreDistinct() throws IOException {
        // cgroup.procs may list a pid twice when it moved out and back during the read
        V2FakeTree.file(dir, "cgroup.procs", "12\n13\n12\n");
        assertThat(new V2Group(dir).processes()).containsExactly(12L, 13L);
        assertThat(new V2Group(dir).procsFiles()).containsExactly(dir.resolve("cgroup.procs"));
    }
}
