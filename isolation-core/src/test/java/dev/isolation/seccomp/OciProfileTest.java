package dev.isolation.seccomp;

import static dev.isolation.seccomp.Programs.ALLOW;
import static dev.isolation.seccomp.Programs.AUDIT_ARCH_I386;
import static dev.isolation.seccomp.Programs.AUDIT_ARCH_X86_64;
import static dev.isolation.seccomp.Programs.EPERM;
import static dev.isolation.seccomp.Programs.errno;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class OciProfileTest {
    /** An allow-list profile written for this test, in the OCI / Docker format. */
    private static final String PROFILE = """
            {
              "defaultAction": "SCMP_ACT_ERRNO",
              "defaultErrnoRet": 1,
              "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64",
                                "SCMP_ARCH_S390X"],
              "syscalls": [
                {
                  "names": ["read", "write", "openat", "close", "exit_group", "futex_wake_someday",
                            "s390_runtime_instr"],
                  "action": "SCMP_ACT_ALLOW",
                  "comment": "everyday calls, and two names these tables do not know"
                },
                {
                  "names": ["socket"],
                  "action": "SCMP_ACT_ALLOW",
                  "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]
                },
                {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 97},
                {
                  "names": ["clone"],
                  "action": "SCMP_ACT_ALLOW",
                  "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]
                },
                {
                  "names": ["kill"],
                  "action": "SCMP_ACT_KILL_PROCESS",
                  "args": [{"index": 1, "value": 18446744073709551615, "op": "SCMP_CMP_EQ"}]
                },
                {
                  "names": ["mmap"],
                  "action": "SCMP_ACT_ALLOW",
                  "args": [
                    {"index": 2, "value": 7, "op": "SCMP_CMP_LT"},
                    {"index": 1, "value": 4294967296, "op": "SCMP_CMP_LE"}
                  ]
                },
                {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
                {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
                {"names": ["getpid"], "action": "SCMP_ACT_LOG", "excludes": {"caps": ["CAP_SYS_PTRACE"]}},
                {"names": ["tkill"], "action": "SCMP_ACT_KILL"},
                {"name": "getppid", "action": "SCMP_ACT_TRAP"}
              ]
            }
            """;

    @Test
    void importsASmallProfile() {
        SeccompPolicy policy = SeccompPolicy.fromOciJson(PROFILE);
        assertThat(policy.defaultAction()).isEqualTo(Action.errno(1));
        assertThat(policy.architectures()).containsExactlyInAnyOrder(Arch.X86_64, Arch.AARCH64);
        assertThat(policy.allowForeignAbi()).isTrue();
        assertThat(policy.skippedNames()).containsExactly("futex_wake_someday", "s390_runtime_instr");
        assertThat(policy.rules()).extracting(Rule::syscall).containsExactly("read", "write", "openat", "close",
                "exit_group", "socket", "socket", "clone", "kill", "mmap", "arch_prctl", "getpid", "tkill", "getppid");
        assertThat(policy.rules().get(7).conditions())
                .containsExactly(ArgCondition.maskedEq(0, 0, 0x7e020000L));
        assertThat(policy.rules().get(8).conditions()).containsExactly(ArgCondition.eq(1, -1L));

        for (Arch arch : Arch.values()) {
            Programs program = new Programs(policy, arch);
            assertThat(program.call("read")).isEqualTo(ALLOW);
            assertThat(program.call("getdents64")).isEqualTo(EPERM);
            assertThat(program.call("socket", 1)).isEqualTo(ALLOW);
            assertThat(program.call("socket", 2)).isEqualTo(errno(97));
            assertThat(program.call("clone", 0x11)).isEqualTo(ALLOW);
            assertThat(program.call("clone", 0x10000000)).as("CLONE_NEWUSER").isEqualTo(EPERM);
            assertThat(program.call("kill", 1, -1L)).isEqualTo(Programs.KILL_PROCESS);
            assertThat(program.call("kill", 1, 0xffffffffL)).isEqualTo(EPERM);
            assertThat(program.call("mmap", 0, 4096, 3)).isEqualTo(ALLOW);
            assertThat(program.call("mmap", 0, 4096, 7)).isEqualTo(EPERM);
            assertThat(program.call("mmap", 0, 0x1_0000_0001L, 3)).isEqualTo(EPERM);
            assertThat(program.call("mount")).as("needs a capability: dropped").isEqualTo(EPERM);
            assertThat(program.call("getpid")).isEqualTo(0x7ffc0000);
            assertThat(program.call("tkill")).as("SCMP_ACT_KILL is kill-thread").isEqualTo(0);
            assertThat(program.call("getppid")).isEqualTo(0x00030000);
        }
        Programs x86 = new Programs(policy, Arch.X86_64);
        assertThat(x86.call("arch_prctl")).isEqualTo(ALLOW);
        assertThat(x86.run(Programs.number(Abi.I386, "read"), AUDIT_ARCH_I386)).isEqualTo(ALLOW);
        assertThat(x86.run(Programs.number(Abi.X32, "write"), AUDIT_ARCH_X86_64)).isEqualTo(ALLOW);
        assertThat(x86.run(Programs.number(Abi.X32, "getdents64"), AUDIT_ARCH_X86_64)).isEqualTo(EPERM);
    }

    @Test
    void syscallsNewerThanTheTablesGetTheProfilesDefaultAction() {
        // the profile says what every syscall it does not list gets; newer ones are not listed either
        for (String[] profile : new String[][] {
                {"\"defaultAction\": \"SCMP_ACT_ALLOW\"", "ALLOW"},
                {"\"defaultAction\": \"SCMP_ACT_ERRNO\"", "ERRNO(1)"},
                {"\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38", "ERRNO(38)"},
                {"\"defaultAction\": \"SCMP_ACT_KILL_PROCESS\"", "KILL_PROCESS"},
                {"\"defaultAction\": \"SCMP_ACT_LOG\"", "LOG"}}) {
            SeccompPolicy policy = SeccompPolicy.fromOciJson("{" + profile[0]
                    + ", \"syscalls\": [{\"names\": [\"keyctl\"], \"action\": \"SCMP_ACT_TRAP\"}]}");
            assertThat(policy.unknownSyscalls()).as(profile[0]).hasToString(profile[1])
                    .isEqualTo(policy.defaultAction());
            for (Arch arch : Arch.values()) {
                Programs program = new Programs(policy, arch);
                assertThat(program.run(arch.nativeAbi().highest() + 1, arch.auditArch())).as("%s %s", arch, profile[0])
                        .isEqualTo(policy.defaultAction().returnValue());
                assertThat(program.call("keyctl")).isEqualTo(Action.TRAP.returnValue());
            }
        }
        // runc's choice for a profile that refuses by default, ENOSYS for newer syscalls, is one call away
        SeccompPolicy enosys = SeccompPolicy.fromOciJson(PROFILE).toBuilder().unknownSyscalls(Action.errno(38)).build();
        Programs x86 = new Programs(enosys, Arch.X86_64);
        assertThat(x86.run(Abi.X86_64.highest() + 1, AUDIT_ARCH_X86_64)).isEqualTo(errno(38));
        assertThat(x86.run(Abi.I386.highest() + 1, AUDIT_ARCH_I386)).isEqualTo(errno(38));
        assertThat(x86.call("getdents64")).isEqualTo(EPERM);
    }

    @Test
    void archMapAndDefaults() {
        SeccompPolicy policy = SeccompPolicy.fromOciJson("""
                {"defaultAction": "SCMP_ACT_ALLOW",
                 "archMap": [{"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
                 "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO"},
                              {"names": ["arch_prctl"], "action": "SCMP_ACT_ERRNO"}]}
                """);
        assertThat(policy.architectures()).containsExactly(Arch.AARCH64);
        assertThat(policy.allowForeignAbi()).isFalse();
        assertThat(policy.skippedNames()).containsExactly("arch_prctl");
        assertThat(policy.rules()).containsExactly(Rule.of("keyctl", Action.errno(1)));

        SeccompPolicy minimal = SeccompPolicy.fromOciJson("{\"defaultAction\": \"SCMP_ACT_KILL_PROCESS\"}");
        assertThat(minimal.architectures()).containsExactlyInAnyOrder(Arch.values());
        assertThat(minimal.defaultAction()).isEqualTo(Action.KILL_PROCESS);
        assertThat(minimal.rules()).isEmpty();
        assertThat(SeccompPolicy.fromOciJson("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38}")
                .defaultAction()).isEqualTo(Action.errno(38));
    }

    @Test
    void whatCannotBeHonouredIsRefusedNamingTheField() {
        assertThatThrownBy(() -> SeccompPolicy.fromOciJson("{\"defaultAction\": \"SCMP_ACT_TRACE\"}"))
                .hasMessageContaining("defaultAction SCMP_ACT_TRACE cannot be honoured");
        assertThatThrownBy(() -> SeccompPolicy.fromOciJson("""
                {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]}
                """)).hasMessageContaining("syscalls[0].action SCMP_ACT_NOTIFY cannot be honoured");
        assertThatThrownBy(() -> SeccompPolicy.fromOciJson("{\"syscalls\": []}"))
                .hasMessage("seccomp profile: defaultAction is missing");
        assertThatThrownBy(() -> SeccompPolicy.fromOciJson("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\":"
                + " [\"SECCOMP_FILTER_FLAG_LOG\"]}")).hasMessageContaining("flags [SECCOMP_FILTER_FLAG_LOG] cannot");
        assertThatThrownBy(() -> SeccompPolicy.fromOciJson("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"deafultAction\":"
                + " 1}")).hasMessageContaining("the profile has an unknown key \"deafultAction\"");
        assertThatThrownBy(() -> SeccompPolicy.fromOciJson("{\"defaultAction\": \"SCMP_ACT_ALLOW\","
                + " \"defaultErrnoRet\": 1}"))
                .hasMessageContaining("defaultErrnoRet is only meaningful with SCMP_ACT_ERRNO");
        assertThatThrownBy(() -> SeccompPolicy.fromOciJson("{\"defaultAction\": \"SCMP_ACT_ERRNO\","
                + " \"defaultErrnoRet\": 0}"))
                .hasMessageContaining("defaultErrnoRet 0 is out of range: it must be 1..4095");
        assertThatThrownBy(() -> SeccompPolicy.fromOciJson("{\"defaultAction\": \"SCMP_ACT_ALLOW\","
                + " \"architectures\": [\"SCMP_ARCH_PPC64LE\"]}"))
                .hasMessageContaining("architectures: none is SCMP_ARCH_X86_64 or SCMP_ARCH_AARCH64");
        assertThatThrownBy(() -> SeccompPolicy.fromOciJson("{\"defaultAction\": \"SCMP_ACT_ALLOW\","
                + " \"architectures\": [\"x86_64\"]}"))
                .hasMessageContaining("architectures[0] \"x86_64\" is not an SCMP_ARCH_* architecture");
        assertThatThrownBy(() -> SeccompPolicy.fromOciJson("""
                {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
                 "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}
                """)).hasMessageContaining("syscalls[0].args[0].index 6 is out of range: it must be 0..5");
        assertThatThrownBy(() -> SeccompPolicy.fromOciJson("""
                {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
                 "args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}]}]}
                """)).hasMessageContaining("syscalls[0].args[0].value -1 is out of range");
        assertThatThrownBy(() -> SeccompPolicy.fromOciJson("""
                {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
                 "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_SOMETIMES"}]}]}
                """)).hasMessageContaining("syscalls[0].args[0].op \"SCMP_CMP_SOMETIMES\" is not an SCMP_CMP_*");
        assertThatThrownBy(() -> SeccompPolicy.fromOciJson("""
                {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
                 "args": [{"index": 0, "value": 1, "valueTwo": 2, "op": "SCMP_CMP_MASKED_EQ"}]}]}
                """)).hasMessageContaining("syscalls[0].args[0]: argument 0: MASKED_EQ value 0x2 has bits outside"
                        + " the mask 0x1");
        assertThatThrownBy(() -> SeccompPolicy.fromOciJson("""
                {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [], "action": "SCMP_ACT_ERRNO"}]}
                """)).hasMessageContaining("syscalls[0] names no syscall");
    }

    @Test
    void malformedJsonIsRefusedWithItsPlace() {
        assertThatThrownBy(() -> SeccompPolicy.fromOciJson("{\"defaultAction\": \"SCMP_ACT_ALLOW\",}"))
                .hasMessageContaining("JSON error at line 1, column 36");
        assertThatThrownBy(() -> SeccompPolicy.fromOciJson("{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n"
                + " \"defaultAction\": \"SCMP_ACT_ALLOW\"}"))
                .hasMessageContaining("line 2, column 2").hasMessageContaining("duplicate object key \"defaultAction\"");
        assertThatThrownBy(() -> SeccompPolicy.fromOciJson("[]")).hasMessage("seccomp profile: the profile is not"
                + " a JSON object");
        assertThatThrownBy(() -> SeccompPolicy.fromOciJson("{\"defaultAction\": \"SCMP_ACT_ERRNO\","
                + " \"defaultErrnoRet\": 1.5}")).hasMessageContaining("defaultErrnoRet is not an integer");
        assertThatThrownBy(() -> SeccompPolicy.fromOciJson("{\"defaultAction\": \"SCMP_ACT_ALLOW\"} x"))
                .hasMessageContaining("text after the JSON value");
        assertThat(SeccompPolicy.fromOciJson("{\"defaultAction\": \"SCMP_\\u0041CT_ALLOW\"}").defaultAction())
                .isEqualTo(Action.ALLOW);
    }
}
