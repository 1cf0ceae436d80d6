package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.isolation.fs.FilesystemSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Capabilities, no_new_privs and rlimits, read back by the sandboxed program from the kernel. */
class HardeningTest {
    @TempDir
    Path temp;

    private static Map<String, String> status(SandboxBuilder builder) {
        Sandboxes.Result result = Sandboxes.shell(builder,
                "grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Uid):' /proc/self/status");
        Map<String, String> fields = new HashMap<>();
        for (String line : result.lines()) {
            fields.put(line.substring(0, line.indexOf(':')), line.substring(line.indexOf(':') + 1).trim());
        }
        return fields;
    }

    private static String hex(long mask) {
        return String.format("%016x", mask);
    }

    @Test
    void rootInsideKeepsOnlyTheContainerDefaultSetInAllFiveSets() {
        Map<String, String> status = status(Sandbox.builder().allNamespaces());
        String expected = hex(Capability.mask(Capability.ROOT_DEFAULT));
        assertThat(status).containsEntry("CapEff", expected).containsEntry("CapPrm", expected)
                .containsEntry("CapBnd", expected).containsEntry("CapAmb", hex(0)).containsEntry("NoNewPrivs", "1");
        assertThat(Long.parseLong(status.get("CapEff"), 16) & (1L << Capability.SYS_ADMIN.number())).isZero();
    }

    @Test
    void aNonRootProgramHasNoCapabilityUnlessOneIsAdded() {
        Map<String, String> none = status(Sandbox.builder().allNamespaces().user(1000, 1000));
        assertThat(none).containsEntry("CapEff", hex(0)).containsEntry("CapPrm", hex(0))
                .containsEntry("CapBnd", hex(0)).containsEntry("CapAmb", hex(0));
        Map<String, String> bind = status(Sandbox.builder().allNamespaces().user(1000, 1000)
                .addCapabilities("CAP_NET_BIND_SERVICE"));
        String netBind = hex(1L << Capability.NET_BIND_SERVICE.number());
        assertThat(bind).containsEntry("CapEff", netBind).containsEntry("CapAmb", netBind)
                .containsEntry("CapBnd", netBind);
    }

    @Test
    void capabilitiesAreAddedAndDroppedByName() {
        Map<String, String> status = status(Sandbox.builder().allNamespaces().addCapabilities("sys_ptrace")
                .dropCapabilities("NET_RAW", "CAP_MKNOD"));
        long effective = Long.parseLong(status.get("CapEff"), 16);
        assertThat(effective & (1L << Capability.SYS_PTRACE.number())).isNotZero();
        assertThat(effective & (1L << Capability.NET_RAW.number())).isZero();
        assertThat(effective & (1L << Capability.MKNOD.number())).isZero();
        assertThatThrownBy(() -> Sandbox.builder().addCapabilities("CAP_TELEPORT"))
                .isInstanceOf(InvalidSandboxSpecException.class).hasMessageContaining("CAP_TELEPORT");
    }

    @Test
    void resourceLimitsAreSetByNameAndCoreDumpsAreOffByDefault() {
        Sandboxes.Result result = Sandboxes.shell(Sandbox.builder().allNamespaces().rlimit("nofile", 64, 128),
                "ulimit -c; ulimit -n; ulimit -Hn");
        assertThat(result.lines()).containsExactly("0", "64", "128");
        assertThatThrownBy(() -> Sandbox.builder().rlimit("fuel", 1, 1)).isInstanceOf(InvalidSandboxSpecException.class)
                .hasMessageContaining("fuel");
        assertThatThrownBy(() -> Sandbox.builder().rlimit("nofile", 10, 5))
                .isInstanceOf(InvalidSandboxSpecException.class).hasMessageContaining("soft limit is above");
    }

    @Test
    void kernelFilesAreMaskedOrReadOnly() {
        // each masked file is checked only where this kernel has it (kcore, sysrq-trigger... are build options)
        StringBuilder script = new StringBuilder();
        List<String> expected = new ArrayList<>();
        for (String file : List.of("/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sysrq-trigger",
                "/proc/kallsyms", "/proc/sched_debug")) {
            if (Files.isRegularFile(Path.of(file))) {
                script.append("echo ").append(file).append("=$(head -c 64 ").append(file).append(" | wc -c);");
                expected.add(file + "=0");
            }
        }
        script.append("echo firmware=$(ls /sys/firmware | wc -l);")
                .append(" echo 1 2>/dev/null > /proc/sys/vm/drop_caches && echo sys-writable || echo sys-read-only;")
                .append(" ls /proc/irq >/dev/null && echo irq-readable");
        expected.addAll(List.of("firmware=0", "sys-read-only", "irq-readable"));
        assertThat(expected).as("this kernel has masked files to check").hasSizeGreaterThan(3);
        Sandboxes.Result result = Sandboxes.shell(Sandbox.builder().allNamespaces().addCapabilities("SYS_ADMIN"),
                script.toString());
        assertThat(result.lines()).containsExactlyElementsOf(expected);
        Sandboxes.Result unprotected = Sandboxes.shell(Sandbox.builder().allNamespaces()
                .filesystem(FilesystemSpec.builder().protectKernelFiles(false).build()),
                "head -c 64 /proc/kallsyms | wc -c"); // readable by anyone, unlike timer_list
        assertThat(unprotected.output()).as("the masks are what made the files empty").isEqualTo("64\n");
    }

    @Test
    void theAppliedProtectionsAreReadBackFromTheKernel() throws Exception {
        SandboxProcess cat = Sandbox.builder().allNamespaces().rlimit("nofile", 100, 200).command("/bin/cat").start();
        try {
            AppliedProtections applied = cat.protections();
            assertThat(applied.namespaces()).containsExactlyInAnyOrder(Namespace.values());
            assertThat(applied.effective()).isEqualTo(Capability.ROOT_DEFAULT);
            assertThat(applied.bounding()).isEqualTo(Capability.ROOT_DEFAULT);
            assertThat(applied.ambient()).isEmpty();
            assertThat(applied.noNewPrivileges()).isTrue();
            assertThat(applied.seccompFilters()).isGreaterThanOrEqualTo(1);
            assertThat(applied.rlimits()).containsEntry("core file size", "0/0").containsEntry("open files", "100/200");
            assertThat(applied.maskedPaths()).contains("/proc/keys", "/proc/sys");
            assertThat(applied.downgraded()).isEmpty();
        } finally {
            cat.getOutputStream().close();
            cat.waitFor();
        }
        SandboxProcess loose = Sandbox.builder().userNamespace().noSeccomp().noNewPrivileges(false)
                .command("/bin/cat").start();
        try {
            AppliedProtections applied = loose.protections();
            assertThat(applied.namespaces()).containsExactly(Namespace.USER);
            assertThat(applied.seccompFilters()).isZero();
            assertThat(applied.noNewPrivileges()).isFalse();
        } finally {
            loose.getOutputStream().close();
            loose.waitFor();
        }
        assertThatThrownBy(loose::protections).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void supplementaryGroupsAreExactlyTheOnesAskedFor() {
        if (Sandboxes.ROOT) {
            Sandboxes.Result result = Sandboxes.shell(Sandbox.builder().pidNamespace().user(1000, 1000)
                    .groups(1001, 1002), "id -u; id -G");
            assertThat(result.lines()).containsExactly("1000", "1000 1001 1002");
        } else {
            assertThatThrownBy(() -> Sandbox.builder().allNamespaces().user(0, 0).groups(0).command("/bin/true")
                    .start()).isInstanceOf(SandboxStartException.class).hasMessageContaining("setgroups");
        }
        assertThatThrownBy(() -> Sandbox.builder().groups(5).command("/bin/true").build())
                .isInstanceOf(InvalidSandboxSpecException.class).hasMessageStartingWith("groups:");
    }

    @Test
    void aSetuidRootBinaryGainsNothing() throws Exception {
        assumeTrue(Sandboxes.ROOT, "making a setuid-root file needs root");
        Path bin = Files.createDirectory(temp.resolve("bin"));
        Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path id = Files.copy(Path.of("/usr/bin/id"), bin.resolve("suid-id"), StandardCopyOption.COPY_ATTRIBUTES);
        Sandboxes.run("chmod", "4755", id.toString());
        assertThat(Sandboxes.run("stat", "-c", "%A %U", id.toString()).trim()).isEqualTo("-rwsr-xr-x root");
        // no user namespace: uid 1000 would really become root through the setuid bit, without no_new_privs
        Sandboxes.Result result = Sandboxes.shell(Sandbox.builder().pidNamespace().user(1000, 1000)
                .filesystem(FilesystemSpec.builder().bindReadOnly(bin, "/suid").build()), "/suid/suid-id -u");
        assertThat(result.output()).isEqualTo("1000\n");
        Sandboxes.Result without = Sandboxes.shell(Sandbox.builder().pidNamespace().user(1000, 1000)
                .noNewPrivileges(false).noSeccomp()
                .filesystem(FilesystemSpec.builder().bindReadOnly(bin, "/suid").build()),
                "/suid/suid-id -u");
        assertThat(without.output()).as("the test would see the escalation without no_new_privs").isEqualTo("0\n");
    }
}
