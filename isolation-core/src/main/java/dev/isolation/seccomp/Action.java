package dev.isolation.seccomp;

import java.util.Objects;

/**
 * What the kernel does with a syscall: the {@code SECCOMP_RET_*} value a seccomp program returns (seccomp(2)).
 * Immutable; equal actions are interchangeable.
 */
public final class Action {
    /** The kinds of action, with their {@code SECCOMP_RET_*} values. */
    public enum Kind {
        /** {@code SECCOMP_RET_ALLOW}: the syscall runs. */
        ALLOW(0x7fff0000),
        /** {@code SECCOMP_RET_ERRNO | errno}: the syscall does not run and fails with the errno. */
        ERRNO(0x00050000),
        /** {@code SECCOMP_RET_KILL_PROCESS} (Linux 4.14): the whole process dies as if by an uncatchable SIGSYS. */
        KILL_PROCESS(0x80000000),
        /** {@code SECCOMP_RET_KILL_THREAD}: only the calling thread dies (SCMP_ACT_KILL in OCI profiles). */
        KILL_THREAD(0x00000000),
        /** {@code SECCOMP_RET_TRAP}: the syscall does not run; the thread gets a SIGSYS it may handle. */
        TRAP(0x00030000),
        /** {@code SECCOMP_RET_LOG} (Linux 4.14): the syscall runs and is logged by the kernel. */
        LOG(0x7ffc0000);

        private final int returnValue;

        Kind(int returnValue) {
            this.returnValue = returnValue;
        }
    }

    /** The largest errno: the kernel turns larger values into 4095 (MAX_ERRNO). */
    public static final int MAX_ERRNO = 4095;

    public static final Action ALLOW = new Action(Kind.ALLOW, 0);
    public static final Action KILL_PROCESS = new Action(Kind.KILL_PROCESS, 0);
    public static final Action KILL_THREAD = new Action(Kind.KILL_THREAD, 0);
    public static final Action TRAP = new Action(Kind.TRAP, 0);
    public static final Action LOG = new Action(Kind.LOG, 0);

    private final Kind kind;
    private final int errno;

    private Action(Kind kind, int errno) {
        this.kind = kind;
        this.errno = errno;
    }

    /**
     * Fail the syscall with this errno, without running it: {@code errno(1)} is EPERM, {@code errno(38)} ENOSYS.
     *
     * @throws IllegalArgumentException unless 1 &lt;= errno &lt;= 4095 (0 would make the call "succeed" without
     *     running, a lie programs do not expect)
     */
    public static Action errno(int errno) {
        if (errno < 1 || errno > MAX_ERRNO) {
            throw new IllegalArgumentException("errno " + errno + " is out of range: it must be 1.." + MAX_ERRNO);
        }
        return new Action(Kind.ERRNO, errno);
    }

    public Kind kind() {
        return kind;
    }

    /** The errno of an {@link Kind#ERRNO} action; 0 for the other kinds. */
    public int errno() {
        return errno;
    }

    /** The value the seccomp program returns for this action. */
    public int returnValue() {
        return kind.returnValue | errno;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Action action && action.kind == kind && action.errno == errno;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, errno);
    }

    /** {@code ALLOW}, {@code ERRNO(1)}, {@code KILL_PROCESS}, ... */
    @Override
    public String toString() {
        return kind == Kind.ERRNO ? "ERRNO(" + errno + ")" : kind.name();
    }
}
