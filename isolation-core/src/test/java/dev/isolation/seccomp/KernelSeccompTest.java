package dev.isolation.seccomp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * The real kernel's verdict: each test installs a compiled program on a fresh thread of this JVM (a filter
 * installed with prctl and without TSYNC binds only the calling thread and its future children), makes raw
 * syscalls there, and checks what comes back. Only non-killing actions are exercised here; the interpreter tests
 * cover the rest.
 */
@EnabledOnOs(OS.LINUX)
class KernelSeccompTest {
    private static final int PR_SET_SECCOMP = 22;
    private static final int PR_SET_NO_NEW_PRIVS = 38;
    private static final int SECCOMP_MODE_FILTER = 2;
    private static final int EPERM = 1;
    private static final int ENOSYS = 38;

    private interface C extends Library {
        int prctl(int option, long arg2, Pointer arg3, long arg4, long arg5);

        long syscall(long number, long a0, long a1, long a2, long a3, long a4, long a5);
    }

    private static final C LIBC = Native.load("c", C.class);

    /** What a raw syscall returned: its value, or -1 and errno. */
    private record Result(long value, int errno) {
        static Result ok(long value) {
            return new Result(value, 0);
        }

        static Result error(int errno) {
            return new Result(-1, errno);
        }
    }

    private interface Calls {
        void run(List<String> failures);
    }

    private static Arch arch() {
        Arch arch;
        try {
            arch = Arch.current();
        } catch (UnsupportedOperationException e) {
            assumeTrue(false, e.getMessage());
            return null;
        }
        return arch;
    }

    private static Result call(Arch arch, String syscall, long... args) {
        return call(arch.syscallNumber(syscall).orElseThrow(), args);
    }

    private static Result call(long number, long... args) {
        long[] a = java.util.Arrays.copyOf(args, 6);
        long value = LIBC.syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
        return value == -1 ? Result.error(Native.getLastError()) : Result.ok(value);
    }

    private static void expect(List<String> failures, String what, Result actual, Result expected) {
        boolean same = expected.errno != 0 ? actual.equals(expected) : actual.errno == 0;
        if (!same) {
            failures.add(what + ": got " + actual + ", expected " + (expected.errno != 0 ? expected : "success"));
        }
    }

    /** Installs the program on a new thread, runs the calls there, and reports what differed. */
    private static void onFilteredThread(SeccompProgram program, Calls calls) throws InterruptedException {
        List<String> failures = new ArrayList<>();
        AtomicReference<String> skip = new AtomicReference<>();
        AtomicReference<Throwable> crash = new AtomicReference<>();
        Thread thread = new Thread(() -> {
            try {
                if (LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, Pointer.NULL, 0, 0) != 0) {
                    skip.set("PR_SET_NO_NEW_PRIVS failed: errno " + Native.getLastError());
                    return;
                }
                byte[] bytes = program.bytes();
                Memory filter = new Memory(bytes.length);
                filter.write(0, bytes, 0, bytes.length);
                Memory fprog = new Memory(16);                       // struct sock_fprog
                fprog.clear();
                fprog.setShort(0, (short) program.instructions());  // unsigned short len
                fprog.setPointer(Native.POINTER_SIZE, filter);       // struct sock_filter *filter
                if (LIBC.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, fprog, 0, 0) != 0) {
                    int errno = Native.getLastError();
                    if (errno == 22) {
                        skip.set("this kernel has no seccomp filters (EINVAL)");
                    } else {
                        failures.add("the kernel refused the program: errno " + errno + "\n" + program.disassemble());
                    }
                    return;
                }
                calls.run(failures);
            } catch (Throwable t) {
                crash.set(t);
            }
        }, "seccomp-test");
        thread.start();
        thread.join();
        assumeTrue(skip.get() == null, skip.get());
        assertThat(crash.get()).isNull();
        assertThat(failures).isEmpty();
    }

    @Test
    void theKernelAcceptsTheDefaultPolicyAndAnswersAsItSays() throws InterruptedException {
        Arch arch = arch();
        SeccompProgram program = SeccompCompiler.compile(SeccompPolicy.defaultPolicy(), arch);
        onFilteredThread(program, failures -> {
            expect(failures, "getpid", call(arch, "getpid"), Result.ok(0));
            expect(failures, "keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING)",
                    call(arch, "keyctl", 0, -3, 0), Result.error(EPERM));
            expect(failures, "mount", call(arch, "mount", 0, 0, 0, 0, 0), Result.error(EPERM));
            expect(failures, "bpf", call(arch, "bpf", 0, 0, 0), Result.error(EPERM));
            expect(failures, "io_uring_setup", call(arch, "io_uring_setup", 1, 0), Result.error(ENOSYS));
            expect(failures, "personality(0xffffffff)", call(arch, "personality", 0xffffffffL), Result.ok(0));
            expect(failures, "personality(ADDR_NO_RANDOMIZE)", call(arch, "personality", 0x40000),
                    Result.error(EPERM));
            expect(failures, "clock_settime", call(arch, "clock_settime", 0, 0), Result.error(EPERM));
        });
    }

    /**
     * A number above the tables' highest: this kernel has no such syscall either and answers ENOSYS itself, so the
     * filter's own answer shows with an errno the kernel never gives; the default policy's ENOSYS is checked
     * alongside, and last the kernel's own answer without the check.
     */
    @Test
    void theFilterAnswersSyscallsNewerThanTheTablesBeforeTheKernel() throws InterruptedException {
        Arch arch = arch();
        int newer = arch.nativeAbi().highest() + 1;
        int unknownErrno = 1003;
        SeccompPolicy policy = SeccompPolicy.builder().defaultAction(Action.ALLOW)
                .unknownSyscalls(Action.errno(unknownErrno)).rule(Rule.of("getppid", Action.errno(1004))).build();
        onFilteredThread(SeccompCompiler.compile(policy, arch), failures -> {
            expect(failures, "syscall " + newer, call(newer), Result.error(unknownErrno));
            expect(failures, "syscall " + (newer + 1000), call(newer + 1000), Result.error(unknownErrno));
            expect(failures, "getpid", call(arch, "getpid"), Result.ok(0));
            expect(failures, "getppid", call(arch, "getppid"), Result.error(1004));
        });
        onFilteredThread(SeccompCompiler.compile(SeccompPolicy.defaultPolicy(), arch), failures -> {
            expect(failures, "syscall " + newer, call(newer), Result.error(ENOSYS));
            expect(failures, "getpid", call(arch, "getpid"), Result.ok(0));
        });
        AtomicReference<Result> unchecked = new AtomicReference<>();
        SeccompPolicy open = policy.toBuilder().unknownSyscalls(Action.ALLOW).build();
        onFilteredThread(SeccompCompiler.compile(open, arch), failures -> unchecked.set(call(newer)));
        assumeTrue(Result.error(ENOSYS).equals(unchecked.get()), "this kernel answers syscall " + newer + " with "
                + unchecked.get() + ": it has syscalls newer than the tables (kernel headers " + Arch.headersVersion()
                + "); regenerate them");
    }

    @Test
    void theKernelComparesBothHalvesOfAnArgumentAsCompiled() throws InterruptedException {
        Arch arch = arch();
        SeccompPolicy policy = SeccompPolicy.builder().defaultAction(Action.ALLOW)
                .rule(Rule.of("getpid", Action.errno(1000), ArgCondition.eq(0, 0x1_0000_0005L)))
                .rule(Rule.of("getppid", Action.errno(1001), ArgCondition.gt(1, 0x2_0000_0000L)))
                .rule(Rule.of("getuid", Action.errno(1002), ArgCondition.maskedEq(2, 0x10_0000_0000L,
                        0xf0_0000_0000L)))
                .build();
        onFilteredThread(SeccompCompiler.compile(policy, arch), failures -> {
            expect(failures, "getpid(0x100000005)", call(arch, "getpid", 0x1_0000_0005L), Result.error(1000));
            expect(failures, "getpid(5)", call(arch, "getpid", 5), Result.ok(0));
            expect(failures, "getpid(0x200000005)", call(arch, "getpid", 0x2_0000_0005L), Result.ok(0));
            expect(failures, "getppid(_, 0x200000001)", call(arch, "getppid", 0, 0x2_0000_0001L),
                    Result.error(1001));
            expect(failures, "getppid(_, 0x1ffffffff)", call(arch, "getppid", 0, 0x1_ffff_ffffL), Result.ok(0));
            expect(failures, "getuid(_, _, 0x1f00000000)", call(arch, "getuid", 0, 0, 0x1f_0000_0000L),
                    Result.error(1002));
            expect(failures, "getuid(_, _, 0x2000000000)", call(arch, "getuid", 0, 0, 0x20_0000_0000L),
                    Result.ok(0));
        });
    }

    @Test
    void theKernelFollowsTheLongJumpsOfThreeHundredRules() throws InterruptedException {
        Arch arch = arch();
        long magic = 0x5eccade_00000000L;
        String[] syscalls = {"getppid", "getuid", "getgid"};
        SeccompPolicy.Builder builder = SeccompPolicy.builder().defaultAction(Action.ALLOW);
        for (int i = 0; i < 300; i++) {
            builder.rule(Rule.of(syscalls[i % 3], Action.errno(1 + i), ArgCondition.eq(0, magic + i)));
        }
        SeccompProgram program = SeccompCompiler.compile(builder.build(), arch);
        assertThat(program.disassemble()).contains(": ja ");
        onFilteredThread(program, failures -> {
            for (int i = 0; i < 300; i++) {
                expect(failures, syscalls[i % 3] + "(magic + " + i + ")", call(arch, syscalls[i % 3], magic + i),
                        Result.error(1 + i));
            }
            expect(failures, "getuid(magic + 1000)", call(arch, "getuid", magic + 1000), Result.ok(0));
        });
    }
}
