package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.isolation.cgroups.ResourceLimits;
import dev.isolation.fs.FilesystemSpec;
import dev.isolation.seccomp.Arch;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attacks from inside a default sandbox ({@code allNamespaces()}, nothing else loosened), each of which must fail
 * and leave the host as it was. The suite runs as root and, in the rootless lane, as an unprivileged user.
 * Each attack prints "escaped" only if it worked.
 */
class EscapeBatteryTest {
    @TempDir
    Path temp;

    private static String attack(String script) {
        return Sandboxes.shell(Sandbox.builder().allNamespaces(), script).output();
    }

    @Test
    void remountingTheRootWritableFails() {
        assertThat(attack("mount -o remount,rw / 2>/dev/null && echo escaped; touch /etc/x 2>/dev/null && echo escaped;"
                + " echo done")).isEqualTo("done\n");
        assertThat(Path.of("/etc/x")).doesNotExist();
    }

    @Test
    void remountingAReadOnlyBindWritableFails() throws IOException {
        Path shared = Files.writeString(Files.createDirectory(temp.resolve("shared")).resolve("f"), "x").getParent();
        String output = Sandboxes.shell(Sandbox.builder().allNamespaces().filesystem(FilesystemSpec.builder()
                .bindReadOnly(shared, "/ro").build()), "mount -o remount,rw /ro 2>/dev/null && echo escaped;"
                + " mount -o remount,bind,rw /ro 2>/dev/null && echo escaped; touch /ro/new 2>/dev/null && echo escaped;"
                + " echo done").output();
        assertThat(output).isEqualTo("done\n");
        try (Stream<Path> files = Files.list(shared)) {
            assertThat(files).containsExactly(shared.resolve("f"));
        }
    }

    @Test
    void mountingAFreshProcOrSysfsOverAMaskedPathFails() {
        assertThat(attack("mount -t proc proc /proc/sys 2>/dev/null && echo escaped;"
                + " mount -t sysfs sysfs /sys/firmware 2>/dev/null && echo escaped;"
                + " umount /proc/keys 2>/dev/null && echo escaped; echo done")).isEqualTo("done\n");
    }

    @Test
    void aNestedUserNamespaceCannotBeMadeToRegainCapabilities() {
        assertThat(attack("unshare -U -r true 2>/dev/null && echo escaped;"
                + " unshare -U -r -m true 2>/dev/null && echo escaped; echo done")).isEqualTo("done\n");
        assertThat(Sandboxes.shell(Sandbox.builder().allNamespaces().nestedUserNamespaces(true),
                "unshare -U -r true && echo allowed").output()).as("the knob is what refused it").isEqualTo("allowed\n");
    }

    @Test
    void initCannotBeTracedNorUsedAsAWayOut() {
        String output = attack("cat /proc/1/environ >/dev/null 2>&1 && echo escaped;"
                + " ls /proc/1/root/ >/dev/null 2>&1 && echo escaped; ls /proc/1/cwd/ >/dev/null 2>&1 && echo escaped;"
                + " readlink /proc/1/exe 2>/dev/null | grep -q . && echo escaped;"
                + " readlink /proc/1/fd/* 2>/dev/null | grep -q . && echo escaped; echo done");
        assertThat(output).isEqualTo("done\n");
    }

    @Test
    void hostDevicesAreNotThere() {
        assertThat(attack("ls /dev | grep -E '^(sd|vd|nvme|xvd|mem|kmem|port|loop)' && echo escaped;"
                + " head -c 1 /dev/mem 2>/dev/null && echo escaped; echo done")).isEqualTo("done\n");
    }

    @Test
    void kernelModulesSysrqAndKcoreAreOutOfReach() {
        String output = attack("insmod /nonexistent.ko 2>/dev/null && echo escaped;"
                + " modprobe dummy 2>/dev/null && echo escaped;"
                + " echo h 2>/dev/null > /proc/sysrq-trigger; test -e /proc/kcore && head -c 1 /proc/kcore | grep -q . && echo escaped;"
                + " echo done");
        assertThat(output).isEqualTo("done\n");
    }

    @Test
    void forbiddenSyscallsFailWithTheExpectedErrno() {
        Map<String, Integer> expected = new LinkedHashMap<>();
        for (String name : List.of("keyctl", "bpf", "perf_event_open", "kexec_load", "init_module", "mount")) {
            expected.put(name, 1); // EPERM
        }
        expected.put("io_uring_setup", 38); // ENOSYS: what io_uring users fall back on
        StringBuilder calls = new StringBuilder();
        for (String name : expected.keySet()) {
            calls.append(Arch.current().syscallNumber(name).orElseThrow()).append(',');
        }
        String script = "/usr/bin/python3 -c \"import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                + "for n in [" + calls + "]:\n"
                + "  r = libc.syscall(n, 0, 0, 0, 0, 0)\n"
                + "  print(ctypes.get_errno() if r == -1 else 'succeeded')\n\"";
        List<String> errnos = Sandboxes.shell(Sandbox.builder().allNamespaces(), script).lines();
        assertThat(errnos).containsExactlyElementsOf(expected.values().stream().map(String::valueOf).toList());
        List<String> unfiltered = Sandboxes.shell(Sandbox.builder().allNamespaces().noSeccomp(), script).lines();
        assertThat(unfiltered.get(0)).as("keyctl answers otherwise without the filter").isNotEqualTo("1");
    }

    @Test
    void aHostProcessCannotBeSignalled() throws Exception {
        Process victim = new ProcessBuilder("sleep", "30").start();
        try {
            String output = attack("kill -9 " + victim.pid() + " 2>/dev/null && echo escaped; echo done");
            assertThat(output).isEqualTo("done\n");
            assertThat(victim.isAlive()).isTrue();
        } finally {
            victim.destroyForcibly();
        }
    }

    @Test
    void aSocketOnTheHostsLoopbackIsUnreachable() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String probe = "exec 3<>/dev/tcp/127.0.0.1/" + server.getLocalPort();
            // busybox-free probe: bash's /dev/tcp when bash is there, else nc; "escaped" only on a connection
            String output = attack("(command -v bash >/dev/null && bash -c '" + probe + "' 2>/dev/null && echo escaped)"
                    + " || true; echo done");
            assertThat(output).isEqualTo("done\n");
        }
    }

    @Test
    void theHostsHostnameStaysItsOwn() {
        String before = Sandboxes.run("hostname").trim();
        assertThat(attack("hostname evil 2>/dev/null && echo renamed-inside; echo done")).isEqualTo("done\n");
        assertThat(Sandboxes.run("hostname").trim()).isEqualTo(before);
    }

    @Test
    void forkAndMemoryBombsStayInsideTheirLimits() throws Exception {
        if (!Sandboxes.ROOT && dev.isolation.cgroups.CgroupTopology.detect().mode()
                != dev.isolation.cgroups.CgroupMode.UNIFIED) {
            return; // cgroup v1 has no delegation: LimitsTest checks the refusal
        }
        SandboxResult fork = Sandbox.builder().allNamespaces().pids(32).redirectErrorStream(true)
                .command("/bin/sh", "-c", "bomb() { bomb | bomb & }; bomb; sleep 1").start().waitForResult();
        assertThat(fork.pidsLimitHit()).isTrue();
        SandboxResult memory = Sandbox.builder().allNamespaces().limits(ResourceLimits.builder().memoryMax(32 << 20)
                .build()).command("/bin/dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1").start()
                .waitForResult();
        assertThat(memory.outOfMemory()).isTrue();
    }
}
