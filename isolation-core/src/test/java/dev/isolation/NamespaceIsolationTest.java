package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** What a program sees of each namespace, on the real kernel. Every test here fails with the namespace off. */
class NamespaceIsolationTest {

    @Test
    void allNamespacesGiveHostnamePidOneParentAndOnlyLoopback() {
        Sandboxes.Result result = Sandboxes.shell(Sandbox.builder().allNamespaces().utsNamespace("box"),
                "hostname; echo pid=$$; grep '^PPid:' /proc/$$/status; "
                        + "ls /proc | grep -c '^[0-9]'; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
        assertThat(result.outcome()).isEqualTo(new Outcome.Exited(0));
        assertThat(result.lines()).hasSize(5);
        assertThat(result.lines().get(0)).isEqualTo("box");
        // the shell: PID 1 is the library's init; 2 went to the mount lock's short-lived map writer
        assertThat(result.lines().get(1)).isIn("pid=2", "pid=3");
        assertThat(result.lines().get(2)).isEqualTo("PPid:\t1");        // ... whose child it is
        // /proc lists init, the shell, ls (and grep, if it started before ls read /proc): nothing of the host
        assertThat(Integer.parseInt(result.lines().get(3))).isBetween(3, 4);
        assertThat(result.lines().get(4)).isEqualTo("lo");              // no network device but loopback
    }

    @Test
    void pidNamespaceProgramIsChildOfInitAndSeesOnlyItsSandbox() {
        Sandboxes.Result result = Sandboxes.shell(
                Sandboxes.withNamespaces(Namespace.PID, Namespace.MOUNT),
                "echo $$; cat /proc/1/cmdline | tr '\\0' ' '; echo; ls -d /proc/[0-9]* | wc -l");
        assertThat(result.lines()).hasSize(3);
        assertThat(result.lines().get(0)).as("2, or 3 after the mount lock's map writer (rootless: user + mount)").isIn("2", "3");
        assertThat(result.lines().get(1)).doesNotContain("systemd").doesNotContain("init ").contains("isolation-helper");
        assertThat(Integer.parseInt(result.lines().get(2).trim())).isBetween(3, 5);
    }

    @Test
    void networkNamespaceHasOnlyLoopbackAndItIsUp() {
        Sandboxes.Result result = Sandboxes.shell(Sandboxes.withNamespaces(Namespace.NETWORK),
                "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; cat /sys/class/net/lo/operstate 2>/dev/null;"
                        + " grep -c . /proc/net/route");
        assertThat(Set.copyOf(Sandboxes.run("sh", "-c", "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '")
                .lines().toList())).as("this test needs a host with a device besides lo").hasSizeGreaterThan(1);
        assertThat(result.lines().get(0)).isEqualTo("lo");
        assertThat(result.lines()).doesNotContain("eth0");
        assertThat(result.lines().get(result.lines().size() - 1)).isEqualTo("1"); // the header only: no routes
    }

    @ParameterizedTest
    @EnumSource(Namespace.class)
    void eachNamespaceAloneDiffersFromTheJvmsAndTheOthersAreShared(Namespace namespace) throws IOException {
        SandboxBuilder builder = Sandboxes.withNamespaces(namespace);
        Set<Namespace> expectedNew = builder.command("/bin/true").build().namespaces();
        StringBuilder script = new StringBuilder();
        for (Namespace each : Namespace.values()) {
            script.append("echo ").append(each.name()).append('=').append("$(readlink /proc/self/ns/")
                    .append(each.procName()).append(");");
        }
        Sandboxes.Result result = Sandboxes.shell(builder, script.toString());
        Map<String, String> inside = new HashMap<>();
        for (String line : result.lines()) {
            inside.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
        }
        for (Namespace each : Namespace.values()) {
            String jvm = Files.readSymbolicLink(Path.of("/proc/self/ns", each.procName())).toString();
            if (expectedNew.contains(each)) {
                assertThat(inside.get(each.name())).as(each + " asked for").isNotEqualTo(jvm).startsWith(each.procName());
            } else {
                assertThat(inside.get(each.name())).as(each + " not asked for").isEqualTo(jvm);
            }
        }
        assertThat(expectedNew).contains(namespace);
    }

    @Test
    void everyNamespaceDiffersWithAllNamespaces() throws IOException {
        StringBuilder script = new StringBuilder();
        for (Namespace each : Namespace.values()) {
            script.append("readlink /proc/self/ns/").append(each.procName()).append(';');
        }
        Sandboxes.Result result = Sandboxes.shell(Sandbox.builder().allNamespaces(), script.toString());
        assertThat(result.lines()).hasSize(Namespace.values().length);
        for (Namespace each : Namespace.values()) {
            String jvm = Files.readSymbolicLink(Path.of("/proc/self/ns", each.procName())).toString();
            assertThat(result.lines().get(each.ordinal())).startsWith(each.procName()).isNotEqualTo(jvm);
        }
        assertThat(EnumSet.allOf(Namespace.class)).hasSize(8);
    }

    @Test
    void userNamespaceIsRootInsideAndTheCallerOutside() throws Exception {
        SandboxProcess process = Sandbox.builder().userNamespace()
                .command("/bin/sh", "-c", "id -u; id -g; cat > /dev/null").start();
        try {
            String hostView = Files.readString(Path.of("/proc", Long.toString(process.pid()), "status"));
            String ownUid = Sandboxes.run("id", "-u").trim();
            assertThat(hostView.lines().filter(l -> l.startsWith("Uid:")).findFirst().orElseThrow())
                    .isEqualTo("Uid:\t" + ownUid + "\t" + ownUid + "\t" + ownUid + "\t" + ownUid);
            byte[] ids = new byte[4];
            int read = 0;
            while (read < 4) {
                read += process.getInputStream().read(ids, read, 4 - read);
            }
            assertThat(new String(ids)).isEqualTo("0\n0\n");
            String uidMap = Files.readString(Path.of("/proc", Long.toString(process.pid()), "uid_map")).trim();
            assertThat(uidMap.split("\\s+")).containsExactly("0", ownUid, "1");
        } finally {
            process.getOutputStream().close();
            assertThat(process.waitFor()).isZero();
        }
    }

    @Test
    void utsNamespaceHostnameDoesNotReachTheHost() {
        String hostBefore = Sandboxes.run("hostname").trim();
        // renaming needs CAP_SYS_ADMIN, which a sandbox does not keep by default
        Sandboxes.Result result = Sandboxes.shell(Sandboxes.withNamespaces(Namespace.UTS).addCapabilities("SYS_ADMIN"),
                "hostname; hostname renamed-inside && hostname");
        assertThat(result.lines()).containsExactly(SandboxBuilder.DEFAULT_HOSTNAME, "renamed-inside");
        assertThat(Sandboxes.run("hostname").trim()).isEqualTo(hostBefore);
    }
}
