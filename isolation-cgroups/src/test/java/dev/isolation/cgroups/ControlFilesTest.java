package dev.isolation.cgroups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ControlFiles} on ordinary files: the kernel's own refusals are covered by the V1 real-kernel tests. */
class ControlFilesTest {
    @TempDir
    Path dir;

    @Test
    void writesTheValueInPlaceOfWhatWasThere() throws IOException {
        Path file = Files.writeString(dir.resolve("pids.max"), "max\n");
        ControlFiles.write(file, "32");
        assertThat(ControlFiles.read(file)).isEqualTo("32");
    }

    @Test
    void aMissingFileIsNotCreatedAndTheMessageNamesFileAndValue() {
        Path file = dir.resolve("memory.memsw.limit_in_bytes");
        assertThatThrownBy(() -> ControlFiles.write(file, "42"))
                .isInstanceOf(IOException.class)
                .hasMessage("cannot write \"42\" to " + file + ": it does not exist");
        assertThat(file).doesNotExist();
    }

    @Test
    void aRefusedWriteCarriesTheKernelsReason() {
        assertThatThrownBy(() -> ControlFiles.write(dir, "1"))
                .hasMessageStartingWith("cannot write \"1\" to " + dir + ": ")
                .hasMessageContaining("Is a directory");
    }

    @Test
    void readsWhatExistsAndReportsWhatDoesNot() throws IOException {
        Path file = Files.writeString(dir.resolve("pids.current"), "7\n");
        assertThat(ControlFiles.readLongIfExists(file)).hasValue(7);
        assertThat(ControlFiles.readIfExists(dir.resolve("none"))).isEmpty();
        assertThat(ControlFiles.readLongIfExists(dir.resolve("none"))).isEmpty();
        assertThatThrownBy(() -> ControlFiles.read(dir.resolve("none")))
                .hasMessage("cannot read " + dir.resolve("none") + ": it does not exist");
    }

    @Test
    void aFileWithoutANumberIsNamed() throws IOException {
        Path file = Files.writeString(dir.resolve("memory.usage_in_bytes"), "lots\n");
        assertThatThrownBy(() -> ControlFiles.readLongIfExists(file))
                .hasMessage(file + " does not hold a number: \"lots\"");
    }

    @Test
    void keyedValuesTakeKeyValueLinesAndSkipTheRest() {
        Map<String, Long> values = ControlFiles.keyedValues("oom_kill_disable 0\nunder_oom 1\n"
                + "some avg10=0.00 total=3\nnot-a-number x\n\n  oom_kill 4  \n");
        assertThat(values).containsOnly(Map.entry("oom_kill_disable", 0L), Map.entry("under_oom", 1L),
                Map.entry("oom_kill", 4L));
    }

    @Test
    void pidsComeFromCgroupProcsAndAGoneGroupHasNone() throws IOException {
        Files.writeString(dir.resolve("cgroup.procs"), "12\n345\n");
        assertThat(ControlFiles.readPids(dir)).containsExactly(12L, 345L);
        assertThat(ControlFiles.readPids(dir.resolve("gone"))).isEmpty();
    }

    @Test
    void removesAnEmptyDirectoryAndAcceptsAMissingOne() throws IOException {
        Path group = Files.createDirectory(dir.resolve("g"));
        ControlFiles.removeDirectory(group, Duration.ofMillis(100));
        assertThat(group).doesNotExist();
        ControlFiles.removeDirectory(group, Duration.ofMillis(100));
    }

    @Test
    void givesUpOnABusyDirectoryAfterItsPatienceAndNeverDeletesFiles() throws IOException {
        Path group = Files.createDirectory(dir.resolve("g"));
        Files.writeString(group.resolve("cgroup.procs"), "");
        long start = System.nanoTime();
        assertThatThrownBy(() -> ControlFiles.removeDirectory(group, Duration.ofMillis(100)))
                .hasMessageStartingWith("cannot remove the group directory " + group + " after 100 ms: ");
        assertThat(Duration.ofNanos(System.nanoTime() - start))
                .isBetween(Duration.ofMillis(100), Duration.ofSeconds(2));
        assertThat(group.resolve("cgroup.procs")).exists();
    }

    @Test
    void readsAFileLongerThanItsBufferWhole() throws IOException {
        StringBuilder pids = new StringBuilder();
        for (int pid = 100_000; pid < 103_000; pid++) {
            pids.append(pid).append('\n');
        }
        Path file = Files.writeString(dir.resolve("cgroup.procs"), pids);
        assertThat(ControlFiles.read(file)).isEqualTo(pids.toString());
        assertThat(ControlFiles.readPids(dir)).hasSize(3000).startsWith(100_000L).endsWith(102_999L);
        assertThat(ControlFiles.read(Files.writeString(dir.resolve("short"), "7\n"))).isEqualTo("7\n");
    }

    @Test
    void removeIfEmptyRemovesAnEmptyDirectoryAndLeavesAFullOne() throws IOException {
        Path empty = Files.createDirectory(dir.resolve("empty"));
        Path full = Files.createDirectory(dir.resolve("full"));
        Files.writeString(full.resolve("cgroup.procs"), "12\n");

        assertThat(ControlFiles.removeIfEmpty(empty)).isTrue();
        assertThat(ControlFiles.removeIfEmpty(empty)).as("gone already").isTrue();
        assertThat(ControlFiles.removeIfEmpty(full)).isFalse();
        assertThat(empty).doesNotExist();
        assertThat(full.resolve("cgroup.procs")).hasContent("12");
    }

    @Test
    void childGroupsAreTheSubdirectoriesOnlyAndNoneForAGoneGroup() throws IOException {
        Path group = Files.createDirectory(dir.resolve("g"));
        Files.writeString(group.resolve("cgroup.procs"), "");
        assertThat(ControlFiles.childGroups(group)).contains(List.of());

        Path child = Files.createDirectory(group.resolve("child"));
        Files.createDirectory(child.resolve("grandchild"));
        assertThat(ControlFiles.childGroups(group)).contains(List.of(child));
        assertThat(ControlFiles.childGroups(dir.resolve("gone"))).isEmpty();
    }
}
