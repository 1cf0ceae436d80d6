package dev.isolation.seccomp;

/** Helpers to run compiled programs in the {@link BpfInterpreter}. */
final class Programs {
    static final int AUDIT_ARCH_X86_64 = 0xc000003e;
    static final int AUDIT_ARCH_I386 = 0x40000003;
    static final int AUDIT_ARCH_AARCH64 = 0xc00000b7;
    static final int AUDIT_ARCH_ARM = 0x40000028;
    static final int X32_BIT = 0x40000000;

    static final int ALLOW = 0x7fff0000;
    static final int KILL_PROCESS = 0x80000000;
    static final int EPERM = 0x00050000 | 1;
    static final int ENOSYS = 0x00050000 | 38;

    private final BpfInterpreter interpreter;
    private final Arch arch;

    Programs(SeccompPolicy policy, Arch arch) {
        this.arch = arch;
        this.interpreter = new BpfInterpreter(SeccompCompiler.compile(policy, arch).bytes());
    }

    static int errno(int errno) {
        return 0x00050000 | errno;
    }

    /** The native ABI's number of the syscall. */
    int nr(String syscall) {
        return arch.syscallNumber(syscall).orElseThrow(() -> new AssertionError(syscall + " not on " + arch));
    }

    /** A native call of the syscall. */
    int call(String syscall, long... args) {
        return run(nr(syscall), arch.auditArch(), args);
    }

    int run(int nr, int auditArch, long... args) {
        return interpreter.run(new BpfInterpreter.SeccompData(nr, auditArch, 0x401000L, args));
    }

    BpfInterpreter interpreter() {
        return interpreter;
    }

    static int number(Abi abi, String syscall) {
        return abi.number(syscall).orElseThrow(() -> new AssertionError(syscall + " not in " + abi));
    }
}
