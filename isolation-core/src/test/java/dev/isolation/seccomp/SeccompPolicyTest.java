package dev.isolation.seccomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SeccompPolicyTest {
    @Test
    void unknownSyscallNamesAreRejectedNamingTheSyscall() {
        SeccompPolicy.Builder builder = SeccompPolicy.builder().defaultAction(Action.ALLOW);
        assertThatThrownBy(() -> builder.rule(Rule.of("frobnicate", Action.errno(1))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("syscall \"frobnicate\" is not in the syscall tables of x86_64 (x86_64, x32,"
                        + " i386) or aarch64 (kernel headers ");
        assertThatThrownBy(() -> Rule.of("Mount", Action.ALLOW))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("syscall \"Mount\": not a syscall name");
    }

    @Test
    void namesAreCheckedAgainstTheTablesOfTheArchitectures() {
        assertThatThrownBy(() -> SeccompPolicy.builder().architectures(Arch.AARCH64).rule(Rule.of("iopl",
                Action.ALLOW)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("syscall \"iopl\" is not in the syscall tables of aarch64");
        // known to x86_64 only: fine while both are targets, refused once the architectures narrow
        SeccompPolicy.Builder builder = SeccompPolicy.builder().defaultAction(Action.ALLOW)
                .rule(Rule.of("iopl", Action.errno(1)));
        builder.architectures(Arch.AARCH64);
        assertThatThrownBy(builder::build)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("\"iopl\"");
        // i386-only syscalls belong to x86_64's tables (they apply when foreign ABIs are allowed)
        assertThat(SeccompPolicy.builder().architectures(Arch.X86_64).defaultAction(Action.ALLOW)
                .rule(Rule.of("stime", Action.errno(1))).build().rules()).hasSize(1);
    }

    @Test
    void aDefaultActionIsRequired() {
        assertThatThrownBy(() -> SeccompPolicy.builder().build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("defaultAction is not set");
        assertThatThrownBy(() -> SeccompPolicy.builder().defaultAction(null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("defaultAction == null");
    }

    @Test
    void unknownSyscallsIsASettingOfItsOwn() {
        SeccompPolicy denyList = SeccompPolicy.builder().defaultAction(Action.ALLOW).build();
        assertThat(denyList.unknownSyscalls()).as("the builder's default: ENOSYS").isEqualTo(Action.errno(38));
        SeccompPolicy allowList = SeccompPolicy.builder().defaultAction(Action.KILL_PROCESS).build();
        assertThat(allowList.unknownSyscalls()).isEqualTo(Action.errno(38));
        SeccompPolicy open = denyList.toBuilder().unknownSyscalls(Action.ALLOW).build();
        assertThat(open.unknownSyscalls()).isEqualTo(Action.ALLOW);
        assertThat(open).isNotEqualTo(denyList);
        assertThat(open.toBuilder().build()).isEqualTo(open).hasSameHashCodeAs(open);
        // changing the default action leaves it as it was set
        assertThat(open.toBuilder().defaultAction(Action.errno(1)).build().unknownSyscalls()).isEqualTo(Action.ALLOW);
        assertThat(denyList.toString()).isEqualTo("SeccompPolicy[default ALLOW, syscalls newer than the tables"
                + " ERRNO(38), 0 rules, architectures [x86_64, aarch64]]");
        assertThatThrownBy(() -> SeccompPolicy.builder().unknownSyscalls(null)).hasMessage("unknownSyscalls == null");
    }

    @Test
    void badValuesAreRejectedNamingTheField() {
        assertThatThrownBy(() -> Action.errno(0)).hasMessage("errno 0 is out of range: it must be 1..4095");
        assertThatThrownBy(() -> Action.errno(4096)).hasMessage("errno 4096 is out of range: it must be 1..4095");
        assertThatThrownBy(() -> ArgCondition.eq(6, 0))
                .hasMessage("argument index 6 is out of range: it must be 0..5");
        assertThatThrownBy(() -> new ArgCondition(1, ArgCondition.Op.EQ, 1, 0xff))
                .hasMessageContaining("argument 1: a mask (0xff) is only meaningful with MASKED_EQ, not EQ");
        assertThatThrownBy(() -> ArgCondition.maskedEq(0, 0x100, 0xff))
                .hasMessageContaining("argument 0: MASKED_EQ value 0x100 has bits outside the mask 0xff");
        assertThatThrownBy(() -> new ArgCondition(0, null, 1)).hasMessage("argument 0: op == null");
        List<ArgCondition> seven = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            seven.add(ArgCondition.eq(i % 6, i));
        }
        assertThatThrownBy(() -> new Rule("ioctl", Action.ALLOW, seven))
                .hasMessage("rule for syscall \"ioctl\": 7 argument conditions, at most 6");
        assertThatThrownBy(() -> Rule.of("ioctl", null))
                .hasMessage("rule for syscall \"ioctl\": action == null");
        assertThatThrownBy(() -> Rule.of("ioctl", Action.ALLOW, (ArgCondition) null))
                .hasMessage("rule for syscall \"ioctl\": a condition is null");
        assertThatThrownBy(() -> SeccompPolicy.builder().architectures())
                .hasMessage("architectures is empty: name at least one");
        assertThatThrownBy(() -> SeccompPolicy.builder().rule(null)).hasMessage("rule == null");
    }

    @Test
    void valuesAreImmutableAndComparable() {
        List<ArgCondition> conditions = new ArrayList<>(List.of(ArgCondition.eq(0, 1)));
        Rule rule = new Rule("socket", Action.errno(97), conditions);
        conditions.add(ArgCondition.eq(1, 2));
        assertThat(rule.conditions()).hasSize(1);
        assertThat(rule).isEqualTo(Rule.of("socket", Action.errno(97), ArgCondition.eq(0, 1)));
        assertThat(rule.toString()).isEqualTo("socket if arg0 == 0x1 -> ERRNO(97)");
        assertThat(Action.errno(1)).isEqualTo(Action.errno(1)).isNotEqualTo(Action.errno(2));
        assertThat(Action.errno(38).returnValue()).isEqualTo(0x00050026);
        assertThat(Action.ALLOW.returnValue()).isEqualTo(0x7fff0000);
        assertThat(Action.KILL_PROCESS.returnValue()).isEqualTo(0x80000000);
        assertThat(Action.KILL_THREAD.returnValue()).isEqualTo(0);
        assertThat(Action.LOG.returnValue()).isEqualTo(0x7ffc0000);
        assertThat(Action.TRAP.returnValue()).isEqualTo(0x00030000);

        SeccompPolicy policy = SeccompPolicy.defaultPolicy();
        assertThatThrownBy(() -> policy.rules().add(rule)).isInstanceOf(UnsupportedOperationException.class);
        assertThat(policy.toBuilder().build()).isEqualTo(policy);
        SeccompPolicy more = policy.toBuilder().rule(rule).build();
        assertThat(more.rules()).hasSize(policy.rules().size() + 1).endsWith(rule);
        assertThat(policy.rules()).doesNotContain(rule);
    }

    @Test
    void theDefaultPolicyHasTheDocumentedShape() {
        SeccompPolicy policy = SeccompPolicy.defaultPolicy();
        assertThat(policy.defaultAction()).isEqualTo(Action.ALLOW);
        assertThat(policy.unknownSyscalls()).isEqualTo(Action.errno(38));
        assertThat(policy.allowForeignAbi()).isFalse();
        assertThat(policy.architectures()).containsExactlyInAnyOrder(Arch.values());
        assertThat(policy.skippedNames()).isEmpty();
        for (String syscall : List.of("add_key", "request_key", "keyctl", "init_module", "finit_module",
                "delete_module", "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff", "bpf",
                "perf_event_open", "userfaultfd", "open_by_handle_at", "name_to_handle_at", "mount", "umount2",
                "pivot_root", "move_mount", "open_tree", "fsopen", "fsmount", "fsconfig", "fspick", "mount_setattr",
                "clock_settime", "clock_adjtime", "settimeofday", "adjtimex", "stime", "acct", "quotactl", "syslog",
                "vhangup", "iopl", "ioperm")) {
            assertThat(policy.decide(syscall)).as(syscall).isEqualTo(Action.errno(1));
        }
        for (String syscall : List.of("io_uring_setup", "io_uring_enter", "io_uring_register", "nfsservctl",
                "uselib", "ustat", "sysfs", "_sysctl", "create_module", "get_kernel_syms", "query_module",
                "lookup_dcookie")) {
            assertThat(policy.decide(syscall)).as(syscall).isEqualTo(Action.errno(38));
        }
        for (String syscall : List.of("unshare", "clone", "clone3", "ptrace", "setns", "read")) {
            assertThat(policy.decide(syscall, 0x10000000)).as(syscall).isEqualTo(Action.ALLOW);
        }
        assertThat(policy.decide("personality", 0x40000)).isEqualTo(Action.errno(1));
        assertThat(policy.decide("personality", 0xffffffffL)).isEqualTo(Action.ALLOW);
        // every rule names a syscall some table has
        Set<String> names = new java.util.HashSet<>();
        policy.rules().forEach(rule -> names.add(rule.syscall()));
        assertThat(names).allSatisfy(name -> assertThat(SeccompPolicy.known(name, Set.of(Arch.values()))).isTrue());
    }

    @Test
    void archCurrentFollowsOsArch() {
        assertThat(Arch.fromOsArch("amd64")).isEqualTo(Arch.X86_64);
        assertThat(Arch.fromOsArch("aarch64")).isEqualTo(Arch.AARCH64);
        assertThatThrownBy(() -> Arch.fromOsArch("ppc64le"))
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("os.arch \"ppc64le\" is not supported");
        assertThat(Arch.X86_64.auditArch()).isEqualTo(0xc000003e);
        assertThat(Arch.AARCH64.auditArch()).isEqualTo(0xc00000b7);
    }
}
