package dev.isolation.cgroups;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Labels name their JVM by pid and start time; a JVM is gone when its pid is free, reused, or a zombie. */
class JvmLabelTest {

    @Test
    void thisJvmsLabelsAreLabelsOfALiveJvm() {
        long pid = ProcessHandle.current().pid();
        assertThat(JvmLabel.thisJvm()).isEqualTo(JvmLabel.of(pid, JvmLabel.startTime(pid).orElseThrow()))
                .matches("isolation-" + pid + "-[0-9]+-ns[0-9]+");
        String first = JvmLabel.next();
        String second = JvmLabel.next();
        assertThat(first).startsWith(JvmLabel.thisJvm() + "-").isNotEqualTo(second);
        for (String label : new String[] {JvmLabel.thisJvm(), first, second}) {
            assertThat(JvmLabel.isLabelled(label)).as(label).isTrue();
            assertThat(JvmLabel.ownerIsGone(label)).as(label).isFalse();
        }
    }

    @Test
    void aFreePidOrAnotherStartTimeMeansTheJvmIsGone() throws Exception {
        Process exited = new ProcessBuilder("/bin/true").start();
        exited.waitFor();
        assertThat(JvmLabel.ownerIsGone(JvmLabel.of(exited.pid(), 1))).isTrue();
        assertThat(JvmLabel.ownerIsGone(JvmLabel.of(exited.pid(), 1) + "-7")).isTrue();

        long pid = ProcessHandle.current().pid();
        long started = JvmLabel.startTime(pid).orElseThrow();
        assertThat(JvmLabel.ownerIsGone(JvmLabel.of(pid, started + 1) + "-1"))
                .as("a recycled pid is not the JVM that died").isTrue();
        assertThat(JvmLabel.ownerIsGone(JvmLabel.of(pid, 0)))
                .as("an unknown start time with a live pid: in doubt, alive").isFalse();
    }

    @Test
    void aZombieIsGone() throws Exception {
        // the background subshell ends after its parent has become sleep, which never reaps it
        Process parent = new ProcessBuilder("/bin/sh", "-c", "(/bin/sleep 0.3) & echo $!; exec /bin/sleep 30").start();
        try {
            long zombie = Long.parseLong(new BufferedReader(new InputStreamReader(parent.getInputStream(),
                    StandardCharsets.UTF_8)).readLine().trim());
            Path stat = Path.of("/proc", Long.toString(zombie), "stat");
            for (int i = 0; i < 500 && !Files.readString(stat).contains(") Z "); i++) {
                Thread.sleep(10);
            }
            assertThat(Files.readString(stat)).as("a zombie, not yet reaped").contains(") Z ");
            long started = JvmLabel.startTime(zombie).orElseThrow();
            assertThat(JvmLabel.ownerIsGone(JvmLabel.of(zombie, started))).isTrue();
        } finally {
            parent.destroyForcibly().waitFor();
        }
    }

    @Test
    void aLabelOfAnotherPidNamespaceIsNeverGone() throws Exception {
        Process exited = new ProcessBuilder("/bin/true").start();
        exited.waitFor();
        String ours = JvmLabel.of(exited.pid(), 1);
        String otherNamespace = ours.replaceFirst("-ns[0-9]+$", "-ns1");
        assertThat(JvmLabel.isLabelled(otherNamespace)).isTrue();
        assertThat(JvmLabel.ownerIsGone(ours)).isTrue();
        assertThat(JvmLabel.ownerIsGone(otherNamespace)).as("its pid means another process here").isFalse();
        assertThat(JvmLabel.ownerIsGone(otherNamespace + "-3")).isFalse();
    }

    @Test
    void otherNamesAreNotLabelsAndNeverGone() {
        for (String name : new String[] {"isolation-1", "isolation-a-1", "isolation-1-2", "isolation-1-2-3",
                "isolation-1-2-ns3-4-5", "sandbox-1-2-ns3", "x"}) {
            assertThat(JvmLabel.isLabelled(name)).as(name).isFalse();
            assertThat(JvmLabel.ownerIsGone(name)).as(name).isFalse();
        }
    }
}
