package dev.isolation.seccomp;

import static dev.isolation.seccomp.Programs.ALLOW;
import static dev.isolation.seccomp.Programs.AUDIT_ARCH_AARCH64;
import static dev.isolation.seccomp.Programs.AUDIT_ARCH_ARM;
import static dev.isolation.seccomp.Programs.AUDIT_ARCH_I386;
import static dev.isolation.seccomp.Programs.AUDIT_ARCH_X86_64;
import static dev.isolation.seccomp.Programs.ENOSYS;
import static dev.isolation.seccomp.Programs.EPERM;
import static dev.isolation.seccomp.Programs.KILL_PROCESS;
import static dev.isolation.seccomp.Programs.X32_BIT;
import static dev.isolation.seccomp.Programs.errno;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SeccompCompilerTest {
    private static final SeccompPolicy DEFAULT = SeccompPolicy.defaultPolicy();

    @ParameterizedTest
    @EnumSource(Arch.class)
    void defaultPolicyDeniesWhatRuntimesDenyWithTheRightErrno(Arch arch) {
        Programs program = new Programs(DEFAULT, arch);
        assertThat(program.call("keyctl")).isEqualTo(EPERM);
        assertThat(program.call("add_key")).isEqualTo(EPERM);
        assertThat(program.call("bpf")).isEqualTo(EPERM);
        assertThat(program.call("mount")).isEqualTo(EPERM);
        assertThat(program.call("umount2")).isEqualTo(EPERM);
        assertThat(program.call("pivot_root")).isEqualTo(EPERM);
        assertThat(program.call("fsopen")).isEqualTo(EPERM);
        assertThat(program.call("mount_setattr")).isEqualTo(EPERM);
        assertThat(program.call("finit_module")).isEqualTo(EPERM);
        assertThat(program.call("kexec_file_load")).isEqualTo(EPERM);
        assertThat(program.call("clock_settime")).isEqualTo(EPERM);
        assertThat(program.call("open_by_handle_at")).isEqualTo(EPERM);
        assertThat(program.call("io_uring_setup")).isEqualTo(ENOSYS);
        assertThat(program.call("io_uring_enter")).isEqualTo(ENOSYS);
        assertThat(program.call("io_uring_register")).isEqualTo(ENOSYS);
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void defaultPolicyAllowsEverydayCalls(Arch arch) {
        Programs program = new Programs(DEFAULT, arch);
        for (String syscall : List.of("read", "write", "openat", "close", "mmap", "execve", "clone", "clone3",
                "unshare", "setns", "ptrace", "exit_group", "futex", "epoll_pwait", "getdents64", "prctl")) {
            assertThat(program.call(syscall)).as(syscall).isEqualTo(ALLOW);
        }
    }

    @Test
    void defaultPolicyAnswersEverySyscallOfBothTablesAsItsListSays() {
        for (Arch arch : Arch.values()) {
            Programs program = new Programs(DEFAULT, arch);
            for (String syscall : arch.syscallNames()) {
                int expected = DEFAULT.decide(syscall).returnValue();
                if (!syscall.equals("personality")) {
                    assertThat(program.call(syscall, 0x40000)).as(arch + " " + syscall).isEqualTo(expected);
                }
            }
        }
    }

    @Test
    void x86SpecificDeniesAreThereOnlyOnX86() {
        Programs x86 = new Programs(DEFAULT, Arch.X86_64);
        assertThat(x86.call("iopl")).isEqualTo(EPERM);
        assertThat(x86.call("ioperm")).isEqualTo(EPERM);
        assertThat(x86.call("_sysctl")).isEqualTo(ENOSYS);
        assertThat(x86.call("create_module")).isEqualTo(ENOSYS);
        assertThat(x86.call("arch_prctl")).isEqualTo(ALLOW);
        assertThat(Arch.AARCH64.syscallNumber("iopl")).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void personalityAllowsOnlyTheHarmlessValues(Arch arch) {
        Programs program = new Programs(DEFAULT, arch);
        for (long allowed : new long[] {0, 8, 0x20000, 0x20008, 0xffffffffL}) {
            assertThat(program.call("personality", allowed)).as("personality(0x%x)", allowed).isEqualTo(ALLOW);
        }
        // The kernel reads an unsigned int: garbage or sign extension in the high half does not matter.
        assertThat(program.call("personality", 0xffffffff_ffffffffL)).isEqualTo(ALLOW);
        assertThat(program.call("personality", 0x12345678_00000008L)).isEqualTo(ALLOW);
        for (long denied : new long[] {0x40000, 0x400000, 0x0800000, 0x1, 0x20001, 0xfffffffeL}) {
            assertThat(program.call("personality", denied)).as("personality(0x%x)", denied).isEqualTo(EPERM);
        }
    }

    @Test
    void anotherArchitectureIsKilled() {
        Programs x86 = new Programs(DEFAULT, Arch.X86_64);
        assertThat(x86.run(0, AUDIT_ARCH_I386)).isEqualTo(KILL_PROCESS);
        assertThat(x86.run(0, AUDIT_ARCH_AARCH64)).isEqualTo(KILL_PROCESS);
        assertThat(x86.run(0, 0)).isEqualTo(KILL_PROCESS);
        Programs arm = new Programs(DEFAULT, Arch.AARCH64);
        assertThat(arm.run(63, AUDIT_ARCH_ARM)).isEqualTo(KILL_PROCESS);
        assertThat(arm.run(63, AUDIT_ARCH_X86_64)).isEqualTo(KILL_PROCESS);
        // aarch64 has no foreign ABI to let in: AArch32 stays out even when foreign ABIs are allowed
        Programs armForeign = new Programs(DEFAULT.toBuilder().allowForeignAbi(true).build(), Arch.AARCH64);
        assertThat(armForeign.run(3, AUDIT_ARCH_ARM)).isEqualTo(KILL_PROCESS);
    }

    @Test
    void x32CallsAreKilledUnlessForeignAbisAreAllowed() {
        Programs program = new Programs(DEFAULT, Arch.X86_64);
        assertThat(program.run(X32_BIT, AUDIT_ARCH_X86_64)).as("x32 read").isEqualTo(KILL_PROCESS);
        assertThat(program.run(Programs.number(Abi.X32, "keyctl"), AUDIT_ARCH_X86_64)).isEqualTo(KILL_PROCESS);
        assertThat(program.run(-1, AUDIT_ARCH_X86_64)).isEqualTo(KILL_PROCESS);
        // the native number of read with the x32 bit is the x32 read
        assertThat(Programs.number(Abi.X32, "read")).isEqualTo(X32_BIT);
    }

    @Test
    void foreignAbisWhenAllowedGoThroughTheSameRulesByTheirOwnNumbers() {
        Programs program = new Programs(DEFAULT.toBuilder().allowForeignAbi(true).build(), Arch.X86_64);
        assertThat(program.run(Programs.number(Abi.I386, "read"), AUDIT_ARCH_I386)).isEqualTo(ALLOW);
        assertThat(Programs.number(Abi.I386, "mount")).isEqualTo(21);
        assertThat(program.run(21, AUDIT_ARCH_I386)).as("i386 mount").isEqualTo(EPERM);
        assertThat(program.run(Programs.number(Abi.I386, "umount"), AUDIT_ARCH_I386)).isEqualTo(EPERM);
        assertThat(program.run(Programs.number(Abi.I386, "stime"), AUDIT_ARCH_I386)).isEqualTo(EPERM);
        assertThat(program.run(Programs.number(Abi.I386, "clock_settime64"), AUDIT_ARCH_I386)).isEqualTo(EPERM);
        assertThat(program.run(Programs.number(Abi.I386, "vm86"), AUDIT_ARCH_I386)).isEqualTo(EPERM);
        assertThat(program.run(Programs.number(Abi.I386, "io_uring_setup"), AUDIT_ARCH_I386)).isEqualTo(ENOSYS);
        assertThat(program.run(Programs.number(Abi.I386, "personality"), AUDIT_ARCH_I386, 0x40000))
                .isEqualTo(EPERM);
        assertThat(program.run(Programs.number(Abi.I386, "personality"), AUDIT_ARCH_I386, 8)).isEqualTo(ALLOW);
        assertThat(program.run(Programs.number(Abi.X32, "keyctl"), AUDIT_ARCH_X86_64)).isEqualTo(EPERM);
        assertThat(program.run(Programs.number(Abi.X32, "write"), AUDIT_ARCH_X86_64)).isEqualTo(ALLOW);
        // i386's 21 is mount, x86_64's 21 is access: each ABI by its own table
        assertThat(program.run(21, AUDIT_ARCH_X86_64)).as("x86_64 access").isEqualTo(ALLOW);
        assertThat(program.run(0, AUDIT_ARCH_AARCH64)).isEqualTo(KILL_PROCESS);
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void syscallsNewerThanTheTablesGetEnosysUnderTheDefaultPolicy(Arch arch) {
        Programs program = new Programs(DEFAULT, arch);
        int highest = arch.nativeAbi().highest();
        String newest = newestSyscall(arch.nativeAbi());
        assertThat(program.call(newest)).as("%s, the highest number of the table", newest)
                .isEqualTo(DEFAULT.decide(newest).returnValue());
        for (int newer : new int[] {highest + 1, highest + 2, highest + 100, 0x3fffffff}) {
            assertThat(program.run(newer, arch.auditArch())).as("%s syscall %d", arch, newer).isEqualTo(ENOSYS);
        }
        if (arch == Arch.AARCH64) {
            assertThat(program.run(0xfffffffe, arch.auditArch())).isEqualTo(ENOSYS);
            assertThat(program.run(-1, arch.auditArch())).as("-1: a tracer skipped the syscall").isEqualTo(ALLOW);
        } else {
            // x32's own numbers on the x86_64 ABI: x86_64 has no syscall 512..547, and this kernel answers ENOSYS
            assertThat(program.run(512, arch.auditArch())).isEqualTo(ENOSYS);
            assertThat(program.run(highest + 1 + X32_BIT, arch.auditArch())).as("x32").isEqualTo(KILL_PROCESS);
        }
    }

    @Test
    void theCheckForNewerSyscallsComesRightAfterTheArchitectureAndX32Checks() {
        List<String> x86 = SeccompCompiler.compile(DEFAULT, Arch.X86_64).disassemble().lines().toList();
        assertThat(x86.subList(0, 4)).containsExactly("0: ld [4]", "1: jeq 0xc000003e jt 3 jf 2",
                "2: ret 0x80000000", "3: ld [0]");
        assertThat(x86.get(4)).as("to the x32 section").startsWith("4: jge 0x40000000 jt ").endsWith(" jf 5");
        assertThat(x86.subList(5, 7)).containsExactly(String.format("5: jgt 0x%08x jt 6 jf 7",
                Abi.X86_64.highest()), "6: ret 0x00050026");
        // aarch64 reaches -1 here (x86_64's goes to the x32 check): a tracer's skip keeps the default action
        assertThat(SeccompCompiler.compile(DEFAULT, Arch.AARCH64).disassemble()).startsWith(String.format("""
                0: ld [4]
                1: jeq 0xc00000b7 jt 3 jf 2
                2: ret 0x80000000
                3: ld [0]
                4: jgt 0x%08x jt 5 jf 7
                5: jeq 0xffffffff jt 7 jf 6
                6: ret 0x00050026
                7: jge""", Abi.AARCH64.highest()));
    }

    @Test
    void foreignAbisJudgeNewerSyscallsByTheirOwnTables() {
        Programs program = new Programs(DEFAULT.toBuilder().allowForeignAbi(true).build(), Arch.X86_64);
        int i386 = Abi.I386.highest();
        assertThat(program.run(i386, AUDIT_ARCH_I386)).as("i386 " + newestSyscall(Abi.I386))
                .isEqualTo(DEFAULT.decide(newestSyscall(Abi.I386)).returnValue());
        assertThat(program.run(i386 + 1, AUDIT_ARCH_I386)).isEqualTo(ENOSYS);
        assertThat(program.run(0x7fffffff, AUDIT_ARCH_I386)).isEqualTo(ENOSYS);
        assertThat(program.run(-1, AUDIT_ARCH_I386)).as("-1: a tracer skipped the syscall").isEqualTo(ALLOW);

        // x32: the shared syscalls end below 512, its own run from 512 to the highest; newer ones are added to
        // the shared range, so the gap between the two is newer than the tables too
        int shared = Abi.X32.highestShared();
        int own = Abi.X32.ownFirst().orElseThrow();
        assertThat(own).isEqualTo(X32_BIT + 512);
        assertThat(shared).isLessThan(own);
        assertThat(program.run(shared, AUDIT_ARCH_X86_64)).isEqualTo(ALLOW);
        assertThat(program.run(shared + 1, AUDIT_ARCH_X86_64)).isEqualTo(ENOSYS);
        assertThat(program.run(own - 1, AUDIT_ARCH_X86_64)).isEqualTo(ENOSYS);
        for (var entry : Abi.X32.table().entrySet()) {
            if (entry.getValue() >= own) {
                assertThat(program.run(entry.getValue(), AUDIT_ARCH_X86_64)).as("x32's own " + entry.getKey())
                        .isEqualTo(DEFAULT.decide(entry.getKey(), 0x40000).returnValue());
            }
        }
        assertThat(program.run(Programs.number(Abi.X32, "rt_sigaction"), AUDIT_ARCH_X86_64)).isEqualTo(ALLOW);
        assertThat(program.run(Programs.number(Abi.X32, "kexec_load"), AUDIT_ARCH_X86_64)).isEqualTo(EPERM);
        assertThat(program.run(Abi.X32.highest() + 1, AUDIT_ARCH_X86_64)).isEqualTo(ENOSYS);
        assertThat(program.run(0xfffffffe, AUDIT_ARCH_X86_64)).isEqualTo(ENOSYS);
        assertThat(program.run(-1, AUDIT_ARCH_X86_64)).as("-1: a tracer skipped the syscall").isEqualTo(ALLOW);
        // and the native ABI by its own table still
        assertThat(program.run(Abi.X86_64.highest() + 1, AUDIT_ARCH_X86_64)).isEqualTo(ENOSYS);
    }

    @Test
    void whatNewerSyscallsGetIsTheirPolicySetting() {
        for (Arch arch : Arch.values()) {
            int newer = arch.nativeAbi().highest() + 1;
            SeccompPolicy denyList = SeccompPolicy.builder().defaultAction(Action.ALLOW)
                    .rule(Rule.of("mount", Action.errno(1))).build();
            assertThat(new Programs(denyList, arch).run(newer, arch.auditArch())).as("the builder's default")
                    .isEqualTo(ENOSYS);
            Programs kill = new Programs(denyList.toBuilder().unknownSyscalls(Action.KILL_PROCESS).build(), arch);
            assertThat(kill.run(newer, arch.auditArch())).isEqualTo(KILL_PROCESS);
            assertThat(kill.call("mount")).isEqualTo(EPERM);
            assertThat(kill.call("getpid")).isEqualTo(ALLOW);

            // the default action for them too: no check at all, the program is the one without it
            SeccompPolicy open = denyList.toBuilder().unknownSyscalls(Action.ALLOW).build();
            assertThat(new Programs(open, arch).run(newer, arch.auditArch())).isEqualTo(ALLOW);
            assertThat(SeccompCompiler.compile(open, arch).disassemble())
                    .doesNotContain(String.format("jgt 0x%08x", arch.nativeAbi().highest()));
            assertThat(SeccompCompiler.compile(open, arch).instructions())
                    .isEqualTo(SeccompCompiler.compile(denyList, arch).instructions() - (arch == Arch.X86_64 ? 2 : 3));
            SeccompPolicy allowList = SeccompPolicy.builder().defaultAction(Action.errno(1))
                    .unknownSyscalls(Action.errno(1)).rule(Rule.of("read", Action.ALLOW)).build();
            assertThat(new Programs(allowList, arch).run(newer, arch.auditArch())).isEqualTo(EPERM);
        }
    }

    /** The name of the syscall with the table's highest number. */
    private static String newestSyscall(Abi abi) {
        for (var entry : abi.table().entrySet()) {
            if (entry.getValue() == abi.highest()) {
                return entry.getKey();
            }
        }
        throw new AssertionError("no syscall numbered " + abi.highest() + " in " + abi);
    }

    @Test
    void argumentConditionsCompareBothHalvesOf64BitValues() {
        long value = 0x00000001_00000005L;
        SeccompPolicy policy = SeccompPolicy.builder().defaultAction(Action.ALLOW)
                .rule(Rule.of("getpid", Action.errno(10), ArgCondition.eq(0, value)))
                .rule(Rule.of("getppid", Action.errno(11), ArgCondition.ne(1, value)))
                .rule(Rule.of("getuid", Action.errno(12), ArgCondition.gt(2, value)))
                .rule(Rule.of("getgid", Action.errno(13), ArgCondition.ge(3, value)))
                .rule(Rule.of("geteuid", Action.errno(14), ArgCondition.lt(4, value)))
                .rule(Rule.of("getegid", Action.errno(15), ArgCondition.le(5, value)))
                .rule(Rule.of("gettid", Action.errno(16), ArgCondition.maskedEq(0, 0x00000100_00000010L,
                        0x0000ff00_000000f0L)))
                .build();
        for (Arch arch : Arch.values()) {
            Programs program = new Programs(policy, arch);
            String[] syscalls = {"getpid", "getppid", "getuid", "getgid", "geteuid", "getegid"};
            long[] probes = {value, value - 1, value + 1, 5, 0x00000002_00000005L, 0x00000001_00000000L,
                    0x00000000_ffffffffL, 0x00000001_ffffffffL, 0, -1L, 0x80000000_00000005L};
            for (int s = 0; s < syscalls.length; s++) {
                for (long probe : probes) {
                    long[] args = new long[6];
                    args[s == 0 ? 0 : s] = probe;
                    int expected = policy.decide(syscalls[s], args).returnValue();
                    assertThat(program.call(syscalls[s], args)).as("%s %s(arg%d = 0x%x)", arch, syscalls[s], s, probe)
                            .isEqualTo(expected);
                }
            }
            assertThat(program.call("getpid", value)).isEqualTo(errno(10));
            assertThat(program.call("getpid", 5)).as("only the low half equal").isEqualTo(ALLOW);
            assertThat(program.call("getpid", 0x00000002_00000005L)).as("only the low half equal").isEqualTo(ALLOW);
            assertThat(program.call("getuid", 0, 0, 0x00000002_00000000L)).as("high half bigger").isEqualTo(errno(12));
            assertThat(program.call("getuid", 0, 0, 0x00000001_00000004L)).isEqualTo(ALLOW);
            assertThat(program.call("geteuid", 0, 0, 0, 0, 0x00000000_ffffffffL)).as("low half bigger, high smaller")
                    .isEqualTo(errno(14));
            assertThat(program.call("gettid", 0x1234_0100_abcd_0010L)).isEqualTo(errno(16));
            assertThat(program.call("gettid", 0x1234_0200_abcd_0010L)).isEqualTo(ALLOW);
            assertThat(program.call("gettid", 0x1234_0100_abcd_0020L)).isEqualTo(ALLOW);
        }
    }

    @Test
    void severalConditionsMustAllHoldAndTheFirstMatchingRuleDecides() {
        SeccompPolicy policy = SeccompPolicy.builder().defaultAction(Action.errno(1))
                .rule(Rule.of("socket", Action.ALLOW, ArgCondition.eq(0, 1), ArgCondition.le(1, 2)))
                .rule(Rule.of("socket", Action.errno(97), ArgCondition.ge(0, 2), ArgCondition.le(0, 10)))
                .rule(Rule.of("socket", Action.KILL_THREAD))
                .rule(Rule.of("socket", Action.ALLOW))
                .rule(Rule.of("read", Action.ALLOW))
                .build();
        Programs program = new Programs(policy, Arch.X86_64);
        assertThat(program.call("socket", 1, 1)).isEqualTo(ALLOW);
        assertThat(program.call("socket", 1, 3)).isEqualTo(0);
        assertThat(program.call("socket", 10, 3)).isEqualTo(errno(97));
        assertThat(program.call("socket", 11)).isEqualTo(0);
        assertThat(program.call("read")).isEqualTo(ALLOW);
        assertThat(program.call("write")).isEqualTo(errno(1));
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void threeHundredRulesStillJumpCorrectly(Arch arch) {
        List<String> names = new ArrayList<>(arch.syscallNames()).subList(0, 100);
        SeccompPolicy.Builder spread = SeccompPolicy.builder().defaultAction(Action.ALLOW);
        SeccompPolicy.Builder deep = SeccompPolicy.builder().defaultAction(Action.ALLOW);
        for (int i = 0; i < 300; i++) {
            spread.rule(Rule.of(names.get(i % 100), Action.errno(1 + i), ArgCondition.eq(0, 0x1_0000_0000L + i)));
            deep.rule(Rule.of(names.get(i % 3), Action.errno(1 + i), ArgCondition.eq(0, 0x1_0000_0000L + i)));
        }
        for (SeccompPolicy policy : List.of(spread.build(), deep.build())) {
            Programs program = new Programs(policy, arch);
            assertThat(program.interpreter().instructions()).isGreaterThan(1500);
            assertThat(program.interpreter().hasLongJumps()).as("needed ja for far targets").isTrue();
            for (Rule rule : policy.rules()) {
                long arg = rule.conditions().get(0).value();
                assertThat(program.call(rule.syscall(), arg)).as(rule.toString())
                        .isEqualTo(rule.action().returnValue());
                assertThat(program.call(rule.syscall(), arg + 1000)).isEqualTo(ALLOW);
            }
            assertThat(program.call(new ArrayList<>(arch.syscallNames()).get(200))).isEqualTo(ALLOW);
        }
    }

    @Test
    void theSearchIsShortForTheDefaultPolicy() {
        Programs program = new Programs(DEFAULT, Arch.X86_64);
        int worst = 0;
        for (String syscall : Arch.X86_64.syscallNames()) {
            program.call(syscall);
            worst = Math.max(worst, program.interpreter().executed);
        }
        assertThat(worst).as("instructions run for the slowest syscall").isLessThan(25);
    }

    @Test
    void randomPoliciesAgreeWithTheirRules() {
        Random random = new Random(42);
        for (int round = 0; round < 40; round++) {
            Arch arch = Arch.values()[round % 2];
            List<String> names = new ArrayList<>(arch.syscallNames());
            List<String> chosen = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                chosen.add(names.get(random.nextInt(names.size())));
            }
            Action[] actions = {Action.ALLOW, Action.errno(1), Action.errno(38), Action.KILL_PROCESS, Action.LOG,
                    Action.TRAP, Action.KILL_THREAD};
            SeccompPolicy.Builder builder = SeccompPolicy.builder()
                    .defaultAction(actions[random.nextInt(actions.length)]);
            List<Long> interesting = new ArrayList<>();
            for (int r = 0; r < 60; r++) {
                List<ArgCondition> conditions = new ArrayList<>();
                for (int c = random.nextInt(4); c > 0; c--) {
                    long value = randomValue(random);
                    interesting.add(value);
                    ArgCondition.Op op = ArgCondition.Op.values()[random.nextInt(ArgCondition.Op.values().length)];
                    if (op == ArgCondition.Op.MASKED_EQ) {
                        long mask = randomValue(random);
                        conditions.add(ArgCondition.maskedEq(random.nextInt(6), value & mask, mask));
                    } else {
                        conditions.add(new ArgCondition(random.nextInt(6), op, value));
                    }
                }
                builder.rule(new Rule(chosen.get(random.nextInt(chosen.size())),
                        actions[random.nextInt(actions.length)], conditions));
            }
            SeccompPolicy policy = builder.build();
            Programs program = new Programs(policy, arch);
            for (int call = 0; call < 3000; call++) {
                String syscall = random.nextInt(10) == 0 ? names.get(random.nextInt(names.size()))
                        : chosen.get(random.nextInt(chosen.size()));
                long[] args = new long[6];
                for (int a = 0; a < 6; a++) {
                    long base = interesting.get(random.nextInt(interesting.size()));
                    args[a] = switch (random.nextInt(6)) {
                        case 0 -> base;
                        case 1 -> base + 1;
                        case 2 -> base - 1;
                        case 3 -> base ^ (1L << random.nextInt(64));
                        case 4 -> (base & 0xffffffff00000000L) | (random.nextInt() & 0xffffffffL);
                        default -> randomValue(random);
                    };
                }
                assertThat(program.call(syscall, args)).as("%s %s%s", arch, syscall, java.util.Arrays.toString(args))
                        .isEqualTo(policy.decide(syscall, args).returnValue());
            }
        }
    }

    private static long randomValue(Random random) {
        return switch (random.nextInt(5)) {
            case 0 -> random.nextInt(16);
            case 1 -> random.nextLong();
            case 2 -> 0xffffffffL - random.nextInt(3);
            case 3 -> (long) random.nextInt(4) << 32 | random.nextInt(4);
            default -> -1L - random.nextInt(3);
        };
    }

    @Test
    void programsBeyond4096InstructionsAreRefusedClearly() {
        SeccompPolicy.Builder builder = SeccompPolicy.builder().defaultAction(Action.ALLOW);
        for (int i = 0; i < 1000; i++) {
            builder.rule(Rule.of("ioctl", Action.errno(1), ArgCondition.eq(1, 0x5400 + i)));
        }
        SeccompPolicy policy = builder.build();
        assertThatThrownBy(() -> SeccompCompiler.compile(policy, Arch.X86_64))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("x86_64")
                .hasMessageContaining("more than the kernel's limit of 4096")
                .hasMessageContaining("1000 rules");
    }

    @Test
    void anArchOutsideThePolicyIsRefused() {
        SeccompPolicy policy = SeccompPolicy.builder().defaultAction(Action.ALLOW).architectures(Arch.AARCH64)
                .build();
        assertThatThrownBy(() -> SeccompCompiler.compile(policy, Arch.X86_64))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("arch x86_64 is not one of the policy's architectures");
    }

    @Test
    void bytesAreSockFiltersInLittleEndian() {
        // the smallest program: every syscall, newer ones too, gets EPERM
        SeccompPolicy policy = SeccompPolicy.builder().defaultAction(Action.errno(1)).unknownSyscalls(Action.errno(1))
                .build();
        SeccompProgram program = SeccompCompiler.compile(policy, Arch.AARCH64);
        ByteBuffer in = ByteBuffer.wrap(program.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        // ld [4] (arch)
        assertThat(in.getShort()).isEqualTo((short) 0x20);
        assertThat(in.get()).isEqualTo((byte) 0);
        assertThat(in.get()).isEqualTo((byte) 0);
        assertThat(in.getInt()).isEqualTo(4);
        // jeq AUDIT_ARCH_AARCH64, jt 1, jf 0
        assertThat(in.getShort()).isEqualTo((short) 0x15);
        assertThat(in.get()).isEqualTo((byte) 1);
        assertThat(in.get()).isEqualTo((byte) 0);
        assertThat(in.getInt()).isEqualTo(0xc00000b7);
        assertThat(program.disassemble()).isEqualTo("""
                0: ld [4]
                1: jeq 0xc00000b7 jt 3 jf 2
                2: ret 0x80000000
                3: ld [0]
                4: ret 0x00050001
                """);
        assertThat(program.instructions()).isEqualTo(5);
        assertThat(program).isEqualTo(SeccompCompiler.compile(policy.toBuilder().build(), Arch.AARCH64));
        byte[] copy = program.bytes();
        copy[0] = 0x7f;
        assertThat(program.bytes()[0]).isEqualTo((byte) 0x20);
    }

    @Test
    void compileOfTheDefaultPolicyTakes() {
        for (Arch arch : Arch.values()) {
            int warmup = 200;
            for (int i = 0; i < warmup; i++) {
                SeccompCompiler.compile(DEFAULT, arch);
            }
            int runs = 1000;
            long[] nanos = new long[runs];
            SeccompProgram program = null;
            for (int i = 0; i < runs; i++) {
                long start = System.nanoTime();
                program = SeccompCompiler.compile(DEFAULT, arch);
                nanos[i] = System.nanoTime() - start;
            }
            java.util.Arrays.sort(nanos);
            long first = System.nanoTime();
            SeccompCompiler.compile(DEFAULT.toBuilder().allowForeignAbi(true).build(), arch);
            long foreignNanos = System.nanoTime() - first;
            System.out.printf("seccomp: compile(defaultPolicy, %s): %d instructions (%d bytes); median %.1f us,"
                    + " p99 %.1f us over %d runs after %d warm-up; with foreign ABIs (first run) %.1f us%n",
                    arch, program.instructions(), program.bytes().length, nanos[runs / 2] / 1e3,
                    nanos[runs * 99 / 100] / 1e3, runs, warmup, foreignNanos / 1e3);
        }
    }
}
