package dev.isolation.launch;

/**
 * The operations the native helper knows, with the numbers of the wire protocol (helper.h, enum op_type).
 * Which process runs an operation is fixed by its type; the plan's order is the order within each process.
 */
public enum OpType {
    CLONE(1, "namespaces"),
    UID_MAP(2, "uid_map"),
    GID_MAP(3, "gid_map"),
    SETGROUPS(4, "setgroups"),
    HOSTNAME(5, "hostname"),
    LOOPBACK_UP(6, "loopback"),
    MOUNT(7, "mount"),
    CHDIR(8, "chdir"),
    EXEC(9, "exec"),
    ROOT(10, "root"),
    MOUNT_IN_ROOT(11, "mount"),
    MKDIR_IN_ROOT(12, "mkdir"),
    SYMLINK_IN_ROOT(13, "symlink"),
    READONLY_IN_ROOT(14, "read-only"),
    PIVOT_ROOT(15, "pivot_root"),
    LOCK_MOUNTS(16, "lock-mounts"),
    IDENTITY(17, "identity"),
    JOIN_CGROUP(18, "cgroup"),
    UNSHARE(19, "unshare"),
    CAPABILITIES(20, "capabilities"),
    RLIMIT(21, "rlimit"),
    NO_NEW_PRIVS(22, "no_new_privs"),
    SECCOMP(23, "seccomp"),
    REBIND_IN_ROOT(24, "bind"),
    SYSCTL(25, "sysctl"),
    PASS_FD(26, "pass-fd"),
    JOIN_NAMESPACES(27, "join");

    private final int wireCode;
    private final String stepName;

    OpType(int wireCode, String stepName) {
        this.wireCode = wireCode;
        this.stepName = stepName;
    }

    int wireCode() {
        return wireCode;
    }

    /** The name of the step in error messages. */
    public String stepName() {
        return stepName;
    }
}
