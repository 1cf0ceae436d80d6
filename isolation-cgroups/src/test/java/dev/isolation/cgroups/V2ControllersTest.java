package dev.isolation.cgroups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each controller writes exactly its set limits, in the kernel's format, into fake (empty) control files. */
class V2ControllersTest {
    @TempDir
    Path group;

    private void files(String... names) {
        for (String name : names) {
            V2FakeTree.file(group, name, "");
        }
    }

    private String content(String name) {
        return V2FakeTree.read(group.resolve(name));
    }

    @Test
    void memoryWritesMaxSwapHighAndOomGroup() throws IOException {
        files("memory.max", "memory.swap.max", "memory.high", "memory.oom.group");
        ResourceLimits limits = ResourceLimits.builder().memoryMax(64L << 20).memorySwapMax(0)
                .memoryHigh(48L << 20).build();

        new V2Memory().apply(group, limits);

        assertThat(content("memory.max")).isEqualTo("67108864");
        assertThat(content("memory.swap.max")).isEqualTo("0");
        assertThat(content("memory.high")).isEqualTo("50331648");
        assertThat(content("memory.oom.group")).isEqualTo("1");
        assertThat(new V2Memory().limitsSet(limits)).containsExactly("memoryMax", "memorySwapMax", "memoryHigh");
    }

    @Test
    void oomGroupIsSetWithoutAMemoryLimitButNotWhenRefused() throws IOException {
        files("memory.max", "memory.oom.group");
        new V2Memory().apply(group, ResourceLimits.none());
        assertThat(content("memory.oom.group")).isEqualTo("1");
        assertThat(content("memory.max")).isEmpty();

        Files.writeString(group.resolve("memory.oom.group"), "");
        new V2Memory().apply(group, ResourceLimits.builder().oomKillsWholeGroup(false).build());
        assertThat(content("memory.oom.group")).isEmpty();
    }

    @Test
    void swapLimitWithoutSwapAccountingSaysSo() {
        files("memory.max", "memory.oom.group");
        ResourceLimits limits = ResourceLimits.builder().memoryMax(64L << 20).memorySwapMax(0).build();
        assertThatThrownBy(() -> new V2Memory().apply(group, limits))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("memorySwapMax: " + group.resolve("memory.swap.max"))
                .hasMessageContaining("swap");
    }

    @Test
    void missingControlFileNamesLimitFileAndValue() {
        ResourceLimits limits = ResourceLimits.builder().pidsMax(32).build();
        assertThatThrownBy(() -> new V2Pids().apply(group, limits))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("pidsMax: cannot write \"32\" to " + group.resolve("pids.max"));
    }

    @Test
    void cpuWritesQuotaPeriodAndWeight() throws IOException {
        files("cpu.max", "cpu.weight");
        ResourceLimits limits = ResourceLimits.builder().cpus(0.25).cpuWeight(200).build();

        new V2Cpu().apply(group, limits);

        assertThat(content("cpu.max")).isEqualTo("25000 100000");
        assertThat(content("cpu.weight")).isEqualTo("200");
    }

    @Test
    void cpuQuotaWithShortPeriod() throws IOException {
        files("cpu.max");
        new V2Cpu().apply(group, ResourceLimits.builder().cpus(1, Duration.ofMillis(10)).build());
        assertThat(content("cpu.max")).isEqualTo("10000 10000");
    }

    @Test
    void cpusetWritesListsAndPidsTheMaximum() throws IOException {
        files("cpuset.cpus", "cpuset.mems", "pids.max");
        new V2Cpuset().apply(group, ResourceLimits.builder().cpusetCpus("0").cpusetMems("0").build());
        new V2Pids().apply(group, ResourceLimits.builder().pidsMax(32).build());
        assertThat(content("cpuset.cpus")).isEqualTo("0");
        assertThat(content("cpuset.mems")).isEqualTo("0");
        assertThat(content("pids.max")).isEqualTo("32");
    }

    @Test
    void ioMaxLineHasOnlyTheRatesSet() throws IOException {
        String device = blockDevice();
        ResourceLimits.IoLimit limit = new ResourceLimits.IoLimit(device, OptionalLong.of(1_048_576),
                OptionalLong.empty(), OptionalLong.empty(), OptionalLong.of(100));
        assertThat(V2Io.maxLine(limit)).isEqualTo(device + " rbps=1048576 wiops=100");

        files("io.max", "io.weight");
        new V2Io().apply(group, ResourceLimits.builder().ioLimit(limit).ioWeight(300).build());
        assertThat(content("io.max")).isEqualTo(device + " rbps=1048576 wiops=100");
        assertThat(content("io.weight")).isEqualTo("default 300");
    }

    @Test
    void ioWeightWithoutTheFileSaysWhy() {
        ResourceLimits limits = ResourceLimits.builder().ioWeight(300).build();
        assertThatThrownBy(() -> new V2Io().apply(group, limits))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("ioWeight: " + group.resolve("io.weight") + " does not exist")
                .hasMessageContaining("BFQ");
    }

    @Test
    void controllersAreAppliedInTheirFixedOrder() {
        assertThat(CgroupsV2.CONTROLLERS).extracting(V2Controller::name)
                .containsExactly("cpuset", "memory", "cpu", "pids", "io");
    }

    /** A block device of this machine (IoLimit checks /sys/dev/block). */
    private static String blockDevice() throws IOException {
        Path devices = Path.of("/sys/dev/block");
        assumeTrue(Files.isDirectory(devices), "no /sys/dev/block");
        try (Stream<Path> list = Files.list(devices)) {
            List<String> names = list.map(p -> p.getFileName().toString()).sorted().toList();
            assumeTrue(!names.isEmpty(), "no block device on this machine");
            return names.get(0);
        }
    }
}
