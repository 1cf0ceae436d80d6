package dev.isolation.seccomp;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * One syscall ABI as the kernel's seccomp sees it: the {@code arch} it reports in {@code seccomp_data} and the
 * numbers its calls carry, from {@link SyscallTables}. An {@link Arch} has one native ABI and may have foreign ones
 * (x86_64: i386 and x32).
 */
enum Abi {
    X86_64("x86_64", SyscallTables.AUDIT_ARCH_X86_64, SyscallTables.X86_64, 0),
    /**
     * x32 reports AUDIT_ARCH_X86_64 too; its numbers carry {@link SyscallTables#X32_SYSCALL_BIT}. Its own syscalls,
     * the x32 forms of calls whose x86_64 arguments differ, are numbered from 512 up; those it shares with x86_64
     * are numbered below 512, where the kernel adds new ones.
     */
    X32("x32", SyscallTables.AUDIT_ARCH_X86_64, SyscallTables.X32, SyscallTables.X32_SYSCALL_BIT + 512),
    I386("i386", SyscallTables.AUDIT_ARCH_I386, SyscallTables.I386, 0),
    AARCH64("aarch64", SyscallTables.AUDIT_ARCH_AARCH64, SyscallTables.AARCH64, 0);

    private final String label;
    private final int auditArch;
    private final Map<String, Integer> numbers;
    private final int ownFirst;
    private final int highest;
    private final int highestShared;

    /** {@code ownFirst}: the first number of the ABI's own block above the shared syscalls; 0 when it has none. */
    Abi(String label, int auditArch, String table, int ownFirst) {
        this.label = label;
        this.auditArch = auditArch;
        this.ownFirst = ownFirst;
        // "name number\n" lines, read by hand: this runs once, usually on a cold JVM.
        Map<String, Integer> parsed = new LinkedHashMap<>(1024);
        int start = 0;
        int length = table.length();
        while (start < length) {
            int space = table.indexOf(' ', start);
            int end = table.indexOf('\n', space);
            if (end < 0) {
                end = length;
            }
            int number = 0;
            for (int i = space + 1; i < end; i++) {
                number = number * 10 + (table.charAt(i) - '0');
            }
            parsed.put(table.substring(start, space), number);
            start = end + 1;
        }
        this.numbers = Collections.unmodifiableMap(parsed);
        int top = 0;
        int topShared = 0;
        for (int number : parsed.values()) {
            top = Integer.compareUnsigned(number, top) > 0 ? number : top;
            if (ownFirst == 0 || Integer.compareUnsigned(number, ownFirst) < 0) {
                topShared = Integer.compareUnsigned(number, topShared) > 0 ? number : topShared;
            }
        }
        this.highest = top;
        this.highestShared = topShared;
    }

    String label() {
        return label;
    }

    /** The AUDIT_ARCH_* value in {@code seccomp_data.arch} for calls of this ABI. */
    int auditArch() {
        return auditArch;
    }

    /** The number of the syscall in this ABI, as {@code seccomp_data.nr} shows it; empty when it has none. */
    OptionalInt number(String syscall) {
        Integer number = numbers.get(syscall);
        return number == null ? OptionalInt.empty() : OptionalInt.of(number);
    }

    boolean has(String syscall) {
        return numbers.containsKey(syscall);
    }

    /** The highest number of the table (unsigned): a number above it belongs to a syscall newer than the table. */
    int highest() {
        return highest;
    }

    /**
     * The first number of the ABI's own block of syscalls above those it shares (x32: the x32 bit + 512); empty
     * when it has none.
     */
    OptionalInt ownFirst() {
        return ownFirst == 0 ? OptionalInt.empty() : OptionalInt.of(ownFirst);
    }

    /**
     * The highest number of the syscalls it shares, after which the kernel adds new ones: with an own block (x32)
     * the highest below it, so that the numbers between the two are newer than the table too; else
     * {@link #highest()}.
     */
    int highestShared() {
        return highestShared;
    }

    /** Every syscall of the table, name to number, in the order of the numbers. */
    Map<String, Integer> table() {
        return numbers;
    }

    @Override
    public String toString() {
        return label;
    }
}
