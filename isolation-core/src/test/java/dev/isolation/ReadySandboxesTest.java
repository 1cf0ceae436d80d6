package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.isolation.cgroups.ResourceLimits;
import dev.isolation.fs.FilesystemSpec;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Sandboxes set up ahead of their start (SandboxSpec.keepReady): as isolated as a cold start, each used once. */
class ReadySandboxesTest {
    /** Prints the pid namespace's view of the shell, its network namespace, whether /tmp/seen exists, and stdin. */
    private static final String PROBE = "echo pid=$$; echo net=$(readlink /proc/self/ns/net);"
            + " if [ -e /tmp/seen ]; then echo seen; else echo fresh; fi; touch /tmp/seen; cat";

    @Test
    void aReadySandboxHasTheSpecsNamespacesItsOwnStdioAndIsNeverReused() throws Exception {
        SandboxSpec spec = Sandbox.builder().allNamespaces().command("/bin/sh", "-c", PROBE).build();
        String hostNetwork = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
        Set<String> networks = new HashSet<>();
        try (ReadySandboxes ready = spec.keepReady(2)) {
            awaitReady(ready, 2);
            for (int i = 0; i < 4; i++) {
                SandboxProcess process = ready.start();
                process.getOutputStream().write(("input " + i + "\n").getBytes(StandardCharsets.UTF_8));
                process.getOutputStream().close();
                List<String> lines = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                        .lines().toList();
                assertThat(process.waitFor()).isZero();
                assertThat(lines).hasSize(4);
                int pid = Integer.parseInt(lines.get(0).substring("pid=".length()));
                assertThat(pid).as("a pid of the sandbox's own pid namespace, where init is 1").isBetween(2, 9)
                        .isNotEqualTo(process.pid());
                assertThat(lines.get(1)).startsWith("net=net:[").isNotEqualTo("net=" + hostNetwork);
                assertThat(lines.get(2)).as("nothing of an earlier sandbox: each is used once").isEqualTo("fresh");
                assertThat(lines.get(3)).as("the program's stdin is this start's pipe").isEqualTo("input " + i);
                networks.add(lines.get(1));
            }
        }
        assertThat(networks).as("a network namespace of its own each").hasSize(4);
    }

    @Test
    void aReadySandboxHasItsLimitsAndItsOverlayRoot() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Sandboxes.ROOT, "v1 groups and an overlay over / need root");
        SandboxSpec spec = Sandbox.builder().allNamespaces().memory(64L << 20).pids(32)
                .filesystem(FilesystemSpec.builder().overlay().build())
                .command("/bin/sh", "-c", "touch /written-in-a-ready-sandbox && cat").build();
        try (ReadySandboxes ready = spec.keepReady(1)) {
            awaitReady(ready, 1);
            SandboxProcess process = ready.start();
            assertThat(process.protections().namespaces()).containsAll(spec.namespaces());
            assertThat(limitOf(process.pid(), "memory", "memory.limit_in_bytes", "memory.max"))
                    .as("the kernel's memory limit of the program's group").isEqualTo("67108864");
            assertThat(limitOf(process.pid(), "pids", "pids.max", "pids.max")).isEqualTo("32");
            process.getOutputStream().close();
            assertThat(process.waitFor()).isZero();
            assertThat(Path.of("/written-in-a-ready-sandbox")).as("written to the overlay, not the host").doesNotExist();
            assertThat(process.resourceUsage()).isPresent();
        }
    }

    @Test
    void theProgramRunsAtNormalPriorityThoughItsSandboxWasSetUpAtTheLowest() throws Exception {
        SandboxSpec spec = Sandbox.builder().allNamespaces().command("/bin/cat").build();
        try (ReadySandboxes ready = spec.keepReady(1)) {
            awaitReady(ready, 1);
            SandboxProcess process = ready.start();
            assertThat(niceOf(process.pid())).as("the program's nice value").isEqualTo(niceOf(ProcessHandle.current()
                    .pid()));
            process.getOutputStream().close();
            assertThat(process.waitFor()).isZero();
        }
    }

    /** The nice value of a process (its main thread), field 19 of /proc/PID/stat. */
    private static int niceOf(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        return Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[16]);
    }

    @Test
    void closeEndsTheSandboxesStillWaitingAndLeavesNothing() throws Exception {
        Sandbox.builder().command("/bin/true").start().waitFor(); // the resident launcher exists before "before"
        Set<Long> before = settled(descendants());
        List<String> mountsBefore = Files.readAllLines(Path.of("/proc/self/mountinfo"));
        Set<Path> directoriesBefore = sandboxDirectories();
        SandboxBuilder builder = Sandbox.builder().allNamespaces().command("/bin/true").redirectOutput(Redirect.DISCARD);
        SandboxSpec spec = (Sandboxes.ROOT ? builder.limits(ResourceLimits.none()) : builder).build();
        ReadySandboxes ready = spec.keepReady(3);
        awaitReady(ready, 3);
        assertThat(descendants()).as("each waits as its helper and its init").hasSizeGreaterThanOrEqualTo(
                before.size() + 6);
        ready.close();
        ready.close();
        assertThat(settled(before)).as("no process is left").isEqualTo(before);
        assertThat(Files.readAllLines(Path.of("/proc/self/mountinfo"))).as("no mount is left").isEqualTo(mountsBefore);
        assertThat(sandboxDirectories()).as("no private directory is left").isEqualTo(directoriesBefore);
        assertThatThrownBy(ready::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    @Test
    void aProgramThatCannotBeExecutedFailsAsAColdStartDoes() throws Exception {
        SandboxSpec spec = Sandbox.builder().allNamespaces().command("/no/such/program").build();
        try (ReadySandboxes ready = spec.keepReady(1)) {
            awaitReady(ready, 1);
            assertThatThrownBy(ready::start).isInstanceOf(SandboxStartException.class)
                    .hasMessageContaining("/no/such/program")
                    .satisfies(e -> assertThat(((SandboxStartException) e).errno()).isEqualTo(2));
        }
    }

    @Test
    void badCountsAndEnvironmentsAreRefusedBeforeAnythingStarts() {
        SandboxSpec spec = Sandbox.builder().command("/bin/true").build();
        assertThatThrownBy(() -> spec.keepReady(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("count: ").hasMessageContaining("was 0");
        assertThatThrownBy(() -> spec.keepReady(ReadySandboxes.MAX_READY + 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("count: ");
        SandboxSpec environment = Sandbox.builder().allNamespaces().build(true);
        assertThatThrownBy(() -> environment.keepReady(1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("command: ");
    }

    /** A limit of the group {@code pid} is in, read from the host's cgroupfs (v1 file, or v2 file). */
    private static String limitOf(long pid, String controller, String v1File, String v2File) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "cgroup"))) {
            String[] fields = line.split(":", 3);
            if (fields[1].isEmpty()) {
                Path v2 = Path.of("/sys/fs/cgroup" + fields[2], v2File);
                if (Files.exists(v2)) {
                    return Files.readString(v2).trim();
                }
            } else if (List.of(fields[1].split(",")).contains(controller)) {
                return Files.readString(Path.of("/sys/fs/cgroup", fields[1], fields[2], v1File)).trim();
            }
        }
        throw new AssertionError("process " + pid + " is in no " + controller + " group");
    }

    private static void awaitReady(ReadySandboxes ready, int count) throws InterruptedException {
        for (int i = 0; i < 1000 && ready.readyCount() < count; i++) {
            Thread.sleep(10);
        }
        assertThat(ready.readyCount()).as("sandboxes set up within 10 s").isEqualTo(count);
    }

    private static Set<Path> sandboxDirectories() throws IOException {
        Set<Path> found = new HashSet<>();
        for (Path base : List.of(Sandboxes.ownRuntimeDirectory(), Sandboxes.ownDiscardedRuntimeDirectory())) {
            if (Files.isDirectory(base)) {
                try (Stream<Path> files = Files.walk(base, 2)) {
                    found.addAll(files.filter(f -> f.getFileName().toString().startsWith("sandbox-")).toList());
                }
            }
        }
        return found;
    }

    /** Polls up to 5 s until the processes below this JVM are {@code expected}; returns what they are then. */
    private static Set<Long> settled(Set<Long> expected) throws InterruptedException {
        Set<Long> now = descendants();
        for (int i = 0; i < 500 && !now.equals(expected); i++) {
            Thread.sleep(10);
            now = descendants();
        }
        return now;
    }

    private static Set<Long> descendants() {
        return ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).map(ProcessHandle::pid)
                .collect(Collectors.toCollection(HashSet::new));
    }
}
