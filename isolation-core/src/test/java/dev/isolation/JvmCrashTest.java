package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A JVM killed with SIGKILL takes every process of its sandboxes with it, within a second. */
class JvmCrashTest {

    @ParameterizedTest
    @ValueSource(strings = {"all", "none"})
    void sigkilledJvmLeavesNoProcessOfItsSandbox(String namespaces) throws Exception {
        String marker = Sandboxes.uniqueSleepSeconds();
        Process jvm = ChildJvm.start(CrashVictimMain.class, namespaces, marker);
        BufferedReader out = new BufferedReader(new InputStreamReader(jvm.getInputStream(), StandardCharsets.UTF_8));
        long programPid = Long.parseLong(out.readLine().trim());

        List<Long> sandboxProcesses = new ArrayList<>(awaitSleepers(marker));
        sandboxProcesses.addAll(ancestorsBelow(programPid, jvm.pid()));
        assertThat(sandboxProcesses).as("three sleeps and the helper (and init) run").hasSizeGreaterThanOrEqualTo(4);

        jvm.destroyForcibly(); // SIGKILL: no shutdown hook runs
        long killedAt = System.nanoTime();
        jvm.waitFor();
        while (sandboxProcesses.stream().anyMatch(Sandboxes::isRunning) && System.nanoTime() - killedAt < 1_000_000_000L) {
            Thread.sleep(10);
        }
        assertThat(sandboxProcesses.stream().filter(Sandboxes::isRunning)).as("alive 1 s after the JVM died").isEmpty();
        assertThat(Sandboxes.pidsWithCommandLine("sleep " + marker)).isEmpty();
    }

    private static List<Long> awaitSleepers(String marker) throws InterruptedException {
        List<Long> pids = List.of();
        for (int i = 0; i < 500 && pids.size() < 3; i++) {
            Thread.sleep(10);
            pids = Sandboxes.pidsWithCommandLine("sleep " + marker);
        }
        assertThat(pids).hasSize(3);
        return pids;
    }

    /** The helper and init: the program's ancestors up to, not including, the JVM. */
    private static List<Long> ancestorsBelow(long pid, long jvmPid) throws Exception {
        List<Long> ancestors = new ArrayList<>();
        long current = parentOf(pid);
        while (current > 1 && current != jvmPid) {
            ancestors.add(current);
            current = parentOf(current);
        }
        assertThat(current).isEqualTo(jvmPid);
        return ancestors;
    }

    private static long parentOf(long pid) throws Exception {
        return Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
                .filter(l -> l.startsWith("PPid:")).map(l -> Long.parseLong(l.substring(5).trim())).findFirst()
                .orElseThrow();
    }
}
