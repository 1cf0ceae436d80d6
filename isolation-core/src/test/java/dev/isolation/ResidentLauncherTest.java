package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Sandboxes are forked by one resident helper process per JVM, not spawned by the JDK one process per start: the
 * JVM keeps a single child for any number of starts; sandboxes outlive that launcher if it dies, and the next start
 * replaces it.
 */
class ResidentLauncherTest {

    @Test
    void manyStartsShareOneLauncherProcess() throws Exception {
        for (int i = 0; i < 5; i++) {
            assertThat(echo("ok-" + i)).isEqualTo("ok-" + i);
        }
        assertThat(launchers()).hasSize(1);
    }

    @Test
    void aSandboxOutlivesItsLauncherAndTheNextStartGetsANewOne() throws Exception {
        echo("warm");
        SandboxProcess running = Sandboxes.withNamespaces(Namespace.PID, Namespace.MOUNT)
                .command("/bin/sh", "-c", "read line; echo got $line").start();
        List<ProcessHandle> before = launchers();
        assertThat(before).hasSize(1);

        before.get(0).destroyForcibly();
        assertThat(before.get(0).onExit().get(10, TimeUnit.SECONDS).isAlive()).isFalse();

        running.getOutputStream().write("line\n".getBytes(StandardCharsets.UTF_8));
        running.getOutputStream().close();
        assertThat(new String(running.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim())
                .isEqualTo("got line");
        assertThat(running.waitFor()).isZero();

        assertThat(echo("after")).isEqualTo("after");
        List<ProcessHandle> after = launchers();
        assertThat(after).hasSize(1);
        assertThat(after.get(0).pid()).isNotEqualTo(before.get(0).pid());
    }

    /** Whether or not the launcher made it ahead: each sandbox's network namespace is its own, new and empty. */
    @Test
    void everySandboxGetsANewEmptyNetworkNamespaceOfItsOwn() throws Exception {
        String host = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/ns/net")).toString();
        String script = "readlink /proc/self/ns/net; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; read x";
        java.util.Set<String> seen = new java.util.HashSet<>();
        List<SandboxProcess> alive = new java.util.ArrayList<>();
        for (int i = 0; i < 6; i++) {
            alive.add(Sandboxes.withNamespaces(Namespace.PID, Namespace.MOUNT, Namespace.NETWORK)
                    .command("/bin/sh", "-c", script).start()); // all alive at once: none can be handed on
        }
        for (SandboxProcess process : alive) {
            process.getOutputStream().write('\n');
            process.getOutputStream().close();
            List<String> lines = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                    .lines().toList();
            assertThat(process.waitFor()).isZero();
            assertThat(lines).as("namespace, then its interfaces").hasSize(2);
            assertThat(lines.get(0)).startsWith("net:[").isNotEqualTo(host);
            assertThat(lines.get(1)).isEqualTo("lo");
            seen.add(lines.get(0));
        }
        assertThat(seen).hasSize(6);
    }

    private static String echo(String word) throws Exception {
        SandboxProcess process = Sandboxes.withNamespaces(Namespace.PID, Namespace.MOUNT, Namespace.NETWORK)
                .command("/bin/echo", word).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(process.waitFor()).isZero();
        return output;
    }

    /** This JVM's direct children that run the native helper: the resident launcher. */
    private static List<ProcessHandle> launchers() {
        return ProcessHandle.current().children().filter(child -> child.isAlive() && child.info().command()
                .map(command -> command.contains("isolation-helper")).orElse(false)).toList();
    }
}
