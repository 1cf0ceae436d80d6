package dev.isolation.launch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.isolation.IdMapping;
import dev.isolation.Namespace;
import dev.isolation.Sandbox;
import dev.isolation.SandboxSpec;
import dev.isolation.fs.FsStep;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The order and content of the plan the helper executes (its encoding: {@link PlanTest}). */
class PlanFactoryTest {

    @Test
    void allNamespacesPlanRunsInTheDeclaredOrder() {
        SandboxSpec spec = Sandbox.builder().allNamespaces().utsNamespace("box").directory("/tmp")
                .command("/bin/echo", "hi").build();
        List<FsStep> filesystem = List.of(new FsStep.MountRoot("/", "/staging", "", 0x5000, ""),
                new FsStep.SetReadOnly("/", true), new FsStep.PivotRoot());
        Plan plan = PlanFactory.forSpec(spec, false, filesystem,
                List.of(java.nio.file.Path.of("/sys/fs/cgroup/memory/g/cgroup.procs")));
        assertThat(plan.ops()).extracting(Op::type).containsExactly(
                OpType.CLONE, OpType.SETGROUPS, OpType.UID_MAP, OpType.GID_MAP, OpType.JOIN_CGROUP, OpType.UNSHARE,
                OpType.HOSTNAME, OpType.SYSCTL, OpType.LOOPBACK_UP, OpType.MOUNT, OpType.ROOT,
                OpType.READONLY_IN_ROOT, OpType.PIVOT_ROOT, OpType.LOCK_MOUNTS, OpType.CAPABILITIES, OpType.RLIMIT,
                OpType.NO_NEW_PRIVS, OpType.CHDIR, OpType.SECCOMP, OpType.EXEC);
        assertThat(plan.step(plan.ops().size() - 2).strings().get(0)).as("the filter, last before exec, in hex")
                .matches("([0-9a-f]{16})+");
        assertThat(plan.step(7).strings()).as("one nested user namespace: the one locking the mounts")
                .containsExactly("/proc/sys/user/max_user_namespaces", "1");
        Op capabilities = plan.step(14);
        assertThat(capabilities.num0()).as("root inside keeps the container default set")
                .isEqualTo(dev.isolation.Capability.mask(dev.isolation.Capability.ROOT_DEFAULT));
        assertThat(capabilities.num1()).as("root needs no ambient capabilities").isZero();
        assertThat(plan.step(15).num0()).as("RLIMIT_CORE").isEqualTo(4);
        assertThat(plan.step(15).strings()).containsExactly("0", "0");
        long allButCgroup = 0;
        for (Namespace namespace : Namespace.values()) {
            allButCgroup |= namespace == Namespace.CGROUP ? 0 : namespace.cloneFlag();
        }
        assertThat(plan.step(0).num0()).as("the cgroup namespace is unshared once in the group")
                .isEqualTo(allButCgroup);
        assertThat(plan.step(1).strings()).containsExactly("deny");
        assertThat(plan.step(4).strings()).containsExactly("/sys/fs/cgroup/memory/g/cgroup.procs");
        assertThat(plan.step(5).num0()).isEqualTo(Namespace.CGROUP.cloneFlag());
        assertThat(plan.step(6).strings()).containsExactly("box");
        assertThat(plan.step(9).strings()).containsExactly("", "/", "", "");
        assertThat(plan.step(9).num0()).isEqualTo(PlanFactory.MS_REC | PlanFactory.MS_PRIVATE);
        assertThat(plan.step(10).strings()).containsExactly("/", "/staging", "", "");
        assertThat(plan.step(11).num0()).as("recursive").isEqualTo(1);
    }

    @Test
    void privilegedCallerKeepsSetgroupsAndGetsItsMapsVerbatim() {
        SandboxSpec spec = Sandbox.builder().userNamespace()
                .uidMapping(new IdMapping(0, 100000, 65536)).gidMapping(new IdMapping(0, 100000, 65536))
                .command("/bin/true").build();
        Plan plan = PlanFactory.forSpec(spec, true);
        assertThat(plan.ops()).extracting(Op::type).containsExactly(OpType.CLONE, OpType.UID_MAP, OpType.GID_MAP,
                OpType.SYSCTL, OpType.CAPABILITIES, OpType.RLIMIT, OpType.NO_NEW_PRIVS, OpType.SECCOMP, OpType.EXEC);
        assertThat(plan.step(3).strings()).as("no mount lock: no nested user namespace at all")
                .containsExactly("/proc/sys/user/max_user_namespaces", "0");
        assertThat(plan.step(1).strings()).containsExactly("0 100000 65536\n");
        assertThat(plan.step(0).num0()).isEqualTo(Namespace.USER.cloneFlag());
    }

    @Test
    void noNamespacesIsAPlainForkAndExec() {
        Plan plan = PlanFactory.forSpec(Sandbox.builder().command("ls", "-l").environment("A", "1").build(), false);
        assertThat(plan.ops()).extracting(Op::type).filteredOn(t -> t != OpType.CAPABILITIES)
                .containsExactly(OpType.CLONE, OpType.RLIMIT, OpType.NO_NEW_PRIVS, OpType.SECCOMP, OpType.EXEC);
        assertThat(plan.step(0).num0()).isZero();
        Op exec = plan.step(plan.ops().size() - 1);
        assertThat(exec.num0()).isEqualTo(2);
        assertThat(exec.num1()).isEqualTo(2);
        assertThat(exec.strings()).containsExactly("ls", SandboxBuilderDefaults.PATH, "ls", "-l", "A=1",
                "PATH=" + SandboxBuilderDefaults.PATH);
    }

    @Test
    void aNonRootProgramKeepsItsCapabilitiesThroughTheAmbientSet() {
        SandboxSpec spec = Sandbox.builder().userNamespace().user(1000, 1000).addCapabilities("net_bind_service")
                .noNewPrivileges(false).noSeccomp().rlimit("nofile", 64, 128).command("/bin/true").build();
        Plan plan = PlanFactory.forSpec(spec, false);
        Op capabilities = plan.ops().stream().filter(op -> op.type() == OpType.CAPABILITIES).findFirst().orElseThrow();
        assertThat(capabilities.num0()).isEqualTo(1L << 10).isEqualTo(capabilities.num1());
        assertThat(plan.ops()).extracting(Op::type).doesNotContain(OpType.NO_NEW_PRIVS);
        assertThat(plan.ops()).filteredOn(op -> op.type() == OpType.RLIMIT).extracting(Op::strings)
                .containsExactly(List.of("0", "0"), List.of("64", "128"));
    }

    @Test
    void aSpecStartedAgainGetsTheSamePlanWhileWhatTheStartDecidesStillChanges() {
        SandboxSpec spec = Sandbox.builder().userNamespace().namespace(Namespace.MOUNT).utsNamespace("box")
                .environment("A", "1")
                .command("/bin/true").build();
        List<FsStep> root = List.of(new FsStep.MountRoot("/", "/staging-1", "", 0x5000, ""), new FsStep.PivotRoot());
        Plan first = PlanFactory.forSpec(spec, false, root, List.of());
        assertThat(PlanFactory.forSpec(spec, false, root, List.of())).isEqualTo(first);

        Plan keepingSetgroups = PlanFactory.forSpec(spec, true, root, List.of());
        assertThat(keepingSetgroups.ops()).extracting(Op::type).doesNotContain(OpType.SETGROUPS);
        assertThat(first.ops()).extracting(Op::type).contains(OpType.SETGROUPS);
        Plan otherRoot = PlanFactory.forSpec(spec, false,
                List.of(new FsStep.MountRoot("/", "/staging-2", "", 0x5000, ""), new FsStep.PivotRoot()),
                List.of(java.nio.file.Path.of("/sys/fs/cgroup/pids/g/cgroup.procs")));
        assertThat(otherRoot.ops()).filteredOn(op -> op.type() == OpType.ROOT).singleElement()
                .satisfies(op -> assertThat(op.strings()).contains("/staging-2"));
        assertThat(otherRoot.ops()).extracting(Op::type).contains(OpType.JOIN_CGROUP);

        SandboxSpec derived = spec.toBuilder().environment("A", "2").utsNamespace("other").build();
        Plan derivedPlan = PlanFactory.forSpec(derived, false, root, List.of());
        assertThat(derivedPlan.ops()).filteredOn(op -> op.type() == OpType.EXEC).singleElement()
                .satisfies(exec -> assertThat(exec.strings()).contains("A=2").doesNotContain("A=1"));
        assertThat(derivedPlan.ops()).filteredOn(op -> op.type() == OpType.HOSTNAME).singleElement()
                .satisfies(hostname -> assertThat(hostname.strings()).containsExactly("other"));
    }
    void aPlanMustStartWithCloneAndEndWithExec() {
        assertThatThrownBy(() -> new Plan(List.of(Op.of(OpType.HOSTNAME, "x", "x"))))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** The default PATH, as the public builder documents it. */
    private static final class SandboxBuilderDefaults {
        static final String PATH = dev.isolation.SandboxBuilder.DEFAULT_PATH;
    }
}
