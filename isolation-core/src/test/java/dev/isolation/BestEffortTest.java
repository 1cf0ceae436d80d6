package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A protection the host cannot apply fails the start, unless the caller marked it best-effort: then the sandbox
 * starts without it and says so. The case made here is real: raising a hard rlimit above the caller's needs
 * CAP_SYS_RESOURCE in the initial user namespace, which no process inside a user namespace has, root or not.
 */
class BestEffortTest {
    private static long hostHardLimitOfOpenFiles() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith("Max open files")) {
                return Long.parseLong(line.substring(26).trim().split("\\s+")[1]);
            }
        }
        throw new AssertionError("no open files limit in /proc/self/limits");
    }

    @Test
    void aProtectionThatCannotBeAppliedFailsTheStartByDefault() throws Exception {
        long above = hostHardLimitOfOpenFiles() + 1;
        assertThatThrownBy(() -> Sandbox.builder().allNamespaces().rlimit("nofile", 64, above).command("/bin/true")
                .start()).isInstanceOf(SandboxStartException.class).hasMessageContaining("(rlimit) failed")
                .hasMessageContaining("error=1");
    }

    @Test
    void markedBestEffortItIsSkippedReportedAndTheRestIsStillApplied() throws Exception {
        long hostHard = hostHardLimitOfOpenFiles();
        SandboxProcess process = Sandbox.builder().allNamespaces().rlimit("nofile", 64, hostHard + 1)
                .rlimit("nproc", 500, 600).bestEffort(Protection.RLIMITS).command("/bin/cat").start();
        try {
            AppliedProtections applied = process.protections();
            assertThat(applied.downgraded()).singleElement().satisfies(downgrade -> {
                assertThat(downgrade.protection()).isEqualTo(Protection.RLIMITS);
                assertThat(downgrade.subject()).isEqualTo("nofile");
                assertThat(downgrade.reason()).contains("(rlimit)").contains("error=1");
            });
            assertThat(applied.rlimits()).containsEntry("processes", "500/600").containsEntry("core file size", "0/0");
            assertThat(applied.rlimits().get("open files")).as("the skipped limit is the inherited one")
                    .endsWith("/" + hostHard);
            assertThat(applied.seccompFilters()).isPositive();
        } finally {
            process.getOutputStream().close();
            assertThat(process.waitFor()).isZero();
        }
        assertThat(process.downgrades()).hasSize(1);
    }

    @Test
    void whatCanBeAppliedIsAppliedEvenWhenMarkedBestEffort() throws Exception {
        SandboxBuilder builder = Sandbox.builder().allNamespaces().rlimit("nofile", 64, 64)
                .bestEffort(Protection.values());
        if (Sandboxes.ROOT) {
            builder.memory(64L << 20);
        }
        SandboxProcess process = builder.command("/bin/cat").start();
        try {
            AppliedProtections applied = process.protections();
            assertThat(applied.downgraded()).isEmpty();
            assertThat(applied.seccompFilters()).isPositive();
            assertThat(applied.rlimits()).containsEntry("open files", "64/64");
            if (Sandboxes.ROOT) {
                assertThat(applied.cgroupLimits()).contains("memory");
            }
            assertThat(applied.namespaces()).contains(Namespace.TIME, Namespace.CGROUP);
        } finally {
            process.getOutputStream().close();
            process.waitFor();
        }
    }

    @Test
    void aCgroupTheHostWillNotGiveIsRefusedOrWhenMarkedADowngrade() throws Exception {
        assumeTrue(!Sandboxes.ROOT && Files.isDirectory(Path.of("/sys/fs/cgroup/memory")),
                "needs an unprivileged caller on a cgroup v1 host, which cannot have a cgroup of its own");
        assertThatThrownBy(() -> Sandbox.builder().allNamespaces().memory(64L << 20).command("/bin/true").start())
                .isInstanceOf(SandboxStartException.class).hasMessageContaining("not writable");
        SandboxProcess process = Sandbox.builder().allNamespaces().memory(64L << 20)
                .bestEffort(Protection.CGROUP_LIMITS).command("/bin/true").start();
        assertThat(process.waitFor()).isZero();
        assertThat(process.downgrades()).singleElement().satisfies(downgrade -> {
            assertThat(downgrade.protection()).isEqualTo(Protection.CGROUP_LIMITS);
            assertThat(downgrade.reason()).contains("not writable");
        });
        assertThat(process.resourceUsage()).isEmpty();
    }
}
