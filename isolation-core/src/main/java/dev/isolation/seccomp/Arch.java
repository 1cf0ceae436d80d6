package dev.isolation.seccomp;

import java.nio.ByteOrder;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.Set;

/**
 * A machine a seccomp program is compiled for. Its program checks {@code seccomp_data.arch} first, so a program
 * only ever judges the syscall numbers of the ABIs it was compiled for.
 *
 * <p>Syscall names and numbers come from the kernel's UAPI headers (see {@link #headersVersion()}), through the
 * generator {@code isolation-core/src/main/seccomp-tables/generate_tables.py}.
 */
public enum Arch {
    /**
     * x86_64. Its foreign ABIs are i386 (a 32-bit program, or {@code int 0x80} from a 64-bit one: another
     * {@code arch}) and x32 (the same {@code arch}, with bit 30 set in the syscall number).
     */
    X86_64("x86_64", Abi.X86_64, List.of(Abi.X32, Abi.I386)),
    /**
     * aarch64 (little-endian), whose syscalls are the kernel's generic table. The 32-bit compat ABI (AArch32,
     * {@code AUDIT_ARCH_ARM}) has no table here, so its calls are always refused by the architecture check.
     */
    AARCH64("aarch64", Abi.AARCH64, List.of());

    private final String label;
    private final Abi nativeAbi;
    private final List<Abi> foreignAbis;

    Arch(String label, Abi nativeAbi, List<Abi> foreignAbis) {
        this.label = label;
        this.nativeAbi = nativeAbi;
        this.foreignAbis = foreignAbis;
    }

    /** The machine this JVM runs on, from {@code os.arch}. */
    public static Arch current() {
        return fromOsArch(System.getProperty("os.arch", ""));
    }

    /**
     * The arch for a value of {@code os.arch}: {@code amd64} or {@code x86_64}, {@code aarch64} or {@code arm64}.
     *
     * @throws UnsupportedOperationException for any other machine
     */
    public static Arch fromOsArch(String osArch) {
        return switch (osArch.toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64" -> X86_64;
            case "aarch64", "arm64" -> AARCH64;
            default -> throw new UnsupportedOperationException("seccomp: os.arch \"" + osArch
                    + "\" is not supported: programs are compiled for x86_64 (amd64) and aarch64 only");
        };
    }

    /** {@code AUDIT_ARCH_X86_64} (0xc000003e) or {@code AUDIT_ARCH_AARCH64} (0xc00000b7). */
    public int auditArch() {
        return nativeAbi.auditArch();
    }

    /** The byte order of {@code struct sock_filter} and {@code seccomp_data} on this machine. */
    public ByteOrder byteOrder() {
        return ByteOrder.LITTLE_ENDIAN;
    }

    /** The syscall's number in this machine's native ABI; empty when the native ABI has no such syscall. */
    public OptionalInt syscallNumber(String syscall) {
        return nativeAbi.number(syscall);
    }

    /** The names of the native ABI's syscalls. */
    public Set<String> syscallNames() {
        return nativeAbi.table().keySet();
    }

    /** The version of the kernel headers the syscall tables were generated from. */
    public static String headersVersion() {
        return SyscallTables.HEADERS_VERSION;
    }

    Abi nativeAbi() {
        return nativeAbi;
    }

    List<Abi> foreignAbis() {
        return foreignAbis;
    }

    /** Whether any ABI of this machine, native or foreign, has the syscall. */
    boolean knows(String syscall) {
        if (nativeAbi.has(syscall)) {
            return true;
        }
        for (Abi abi : foreignAbis) {
            if (abi.has(syscall)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return label;
    }
}
