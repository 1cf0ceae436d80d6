package dev.isolation.cgroups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The v1 conversions and the parsing of v1 control files, on text and on a fake file tree. That the kernel takes
 * these values is shown by {@link V1CgroupsTest}.
 */
class V1ConversionsTest {

    @Nested
    class Conversions {
        @Test
        void cpuWeightBecomesSharesLinearlyEndToEnd() {
            assertThat(V1Cpu.sharesForWeight(1)).isEqualTo(2);
            assertThat(V1Cpu.sharesForWeight(100)).isEqualTo(2597);
            assertThat(V1Cpu.sharesForWeight(5000)).isEqualTo(131_059);
            assertThat(V1Cpu.sharesForWeight(10_000)).isEqualTo(262_144);
            long previous = 0;
            for (int weight = 1; weight <= 10_000; weight++) {
                long shares = V1Cpu.sharesForWeight(weight);
                assertThat(shares).isGreaterThan(previous).isBetween(2L, 262_144L);
                previous = shares;
            }
        }

        @Test
        void weightsOutsideTheRangeAreRefused() {
            assertThatThrownBy(() -> V1Cpu.sharesForWeight(0)).hasMessageStartingWith("cpuWeight: 0 is outside");
            assertThatThrownBy(() -> V1Blkio.blkioWeight(10_001)).hasMessageStartingWith("ioWeight: 10001 is outside");
        }

        @Test
        void ioWeightBecomesBlkioWeight() {
            assertThat(V1Blkio.blkioWeight(1)).isEqualTo(10);
            assertThat(V1Blkio.blkioWeight(100)).isEqualTo(19);
            assertThat(V1Blkio.blkioWeight(5000)).isEqualTo(504);
            assertThat(V1Blkio.blkioWeight(10_000)).isEqualTo(1000);
        }

        @Test
        void memswIsMemoryPlusSwapOrUnlimitedWhenTheSumOverflows() {
            assertThat(V1Memory.memswLimit(64L << 20, 0)).isEqualTo(Long.toString(64L << 20));
            assertThat(V1Memory.memswLimit(64L << 20, 32L << 20)).isEqualTo(Long.toString(96L << 20));
            assertThat(V1Memory.memswLimit(64L << 20, Long.MAX_VALUE)).isEqualTo("-1");
        }
    }

    @Nested
    class Parsing {
        @Test
        void oomKillsFromOomControlAndZeroOnKernelsWithoutTheLine() {
            assertThat(V1Memory.parseOomKills("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n")).isEqualTo(3);
            assertThat(V1Memory.parseOomKills("oom_kill_disable 0\nunder_oom 0\n")).isZero();
        }

        @Test
        void cpuacctStatCountsUserHzTicks() {
            V1Cpu.Times times = V1Cpu.parseStat("user 250\nsystem 7\n");
            assertThat(times.user()).isEqualTo(Duration.ofMillis(2500));
            assertThat(times.system()).isEqualTo(Duration.ofMillis(70));
            assertThat(V1Cpu.parseStat("")).isEqualTo(V1Cpu.Times.NONE);
        }

        @Test
        void pidsEventsMaxLine() {
            assertThat(V1Pids.parseLimitHits("max 17\n")).isEqualTo(17);
            assertThat(V1Pids.parseLimitHits("")).isZero();
        }

        @Test
        void ioServiceBytesSumsReadAndWriteOverDevices() {
            String text = "7:0 Read 4096\n7:0 Write 0\n7:0 Sync 4096\n7:0 Async 0\n7:0 Discard 0\n7:0 Total 4096\n"
                    + "254:0 Read 1048576\n254:0 Write 8192\n254:0 Sync 1056768\n254:0 Async 0\n"
                    + "254:0 Discard 0\n254:0 Total 1056768\nTotal 1060864\n";
            assertThat(V1Blkio.parseServiceBytes(text)).isEqualTo(new V1Blkio.IoBytes(1_052_672, 8192));
            assertThat(V1Blkio.parseServiceBytes("Total 0\n")).isEqualTo(V1Blkio.IoBytes.NONE);
        }
    }

    /** A group over a fake tree of control files, one directory per hierarchy. */
    @Nested
    class FakeTree {
        @TempDir
        Path root;

        private V1Group group(String... controllers) throws IOException {
            Map<String, Path> dirs = new java.util.LinkedHashMap<>();
            for (String controller : controllers) {
                dirs.put(controller, Files.createDirectories(root.resolve(controller).resolve("g")));
            }
            return new V1Group("g", dirs);
        }

        private void file(String controller, String name, String text) throws IOException {
            Files.writeString(root.resolve(controller).resolve("g").resolve(name), text);
        }

        @Test
        void usageReadsEveryFile() throws IOException {
            V1Group group = group("memory", "cpuacct", "pids", "blkio", "freezer");
            file("memory", "memory.usage_in_bytes", "1048576\n");
            file("memory", "memory.max_usage_in_bytes", "2097152\n");
            file("memory", "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
            file("cpuacct", "cpuacct.usage_user", "1500000000\n");
            file("cpuacct", "cpuacct.usage_sys", "250000000\n");
            file("cpuacct", "cpuacct.stat", "user 1\nsystem 1\n");
            file("pids", "pids.current", "3\n");
            file("pids", "pids.events", "max 5\n");
            file("blkio", "blkio.throttle.io_service_bytes", "254:0 Read 10\n254:0 Write 20\nTotal 30\n");
            assertThat(group.usage()).isEqualTo(new ResourceUsage(1_048_576, OptionalLong.of(2_097_152), 2,
                    Duration.ofMillis(1500), Duration.ofMillis(250), 3, 5, 10, 20));
        }

        @Test
        void cpuTimeFallsBackToCpuacctStat() throws IOException {
            V1Group group = group("cpuacct", "freezer");
            file("cpuacct", "cpuacct.stat", "user 120\nsystem 30\n");
            ResourceUsage usage = group.usage();
            assertThat(usage.cpuUser()).isEqualTo(Duration.ofMillis(1200));
            assertThat(usage.cpuSystem()).isEqualTo(Duration.ofMillis(300));
        }

        @Test
        void missingFilesAndHierarchiesCountZero() throws IOException {
            V1Group group = group("memory", "cpuacct", "pids", "blkio", "freezer");
            assertThat(group.usage()).isEqualTo(new ResourceUsage(0, OptionalLong.empty(), 0, Duration.ZERO,
                    Duration.ZERO, 0, 0, 0, 0));
            assertThat(group("freezer").usage().memoryPeak()).isEmpty();
        }

        @Test
        void swapWithoutSwapAccountingSaysSo() throws IOException {
            group("memory");
            file("memory", "memory.limit_in_bytes", "");
            ResourceLimits limits = ResourceLimits.builder().memoryMax(64L << 20).memorySwapMax(0).build();
            Path dir = root.resolve("memory").resolve("g");
            assertThatThrownBy(() -> V1Memory.apply(dir, limits))
                    .hasMessage("memorySwapMax: " + dir.resolve("memory.memsw.limit_in_bytes") + " does not exist:"
                            + " swap accounting is off on this kernel (boot it with swapaccount=1)");
        }

        @Test
        void ioWeightUsesBlkioWeightThenBfqAndFailsWithNeither() throws IOException {
            group("blkio");
            Path dir = root.resolve("blkio").resolve("g");
            ResourceLimits limits = ResourceLimits.builder().ioWeight(10_000).build();
            assertThatThrownBy(() -> V1Blkio.apply(dir, limits))
                    .hasMessageStartingWith("ioWeight: neither " + dir.resolve("blkio.weight") + " nor blkio.bfq.weight"
                            + " exists: io weight has no file on this kernel");
            file("blkio", "blkio.bfq.weight", "100\n");
            V1Blkio.apply(dir, limits);
            assertThat(dir.resolve("blkio.bfq.weight")).hasContent("1000");
            file("blkio", "blkio.weight", "500\n");
            V1Blkio.apply(dir, ResourceLimits.builder().ioWeight(1).build());
            assertThat(dir.resolve("blkio.weight")).hasContent("10");
        }
    }
}
