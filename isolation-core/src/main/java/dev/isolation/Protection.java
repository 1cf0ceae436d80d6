package dev.isolation;

/**
 * Protections a caller may mark best-effort ({@link SandboxBuilder#bestEffort(Protection...)}): if the host cannot
 * apply one, the sandbox starts without it and reports it in {@link SandboxProcess#downgrades()} and
 * {@link AppliedProtections#downgraded()}. Unmarked, a protection that cannot be applied fails the start.
 * Protections whose failure would leave the sandbox with more privilege than asked (dropping capabilities,
 * no_new_privs, the namespaces that isolate, the mounts) are never best-effort.
 */
public enum Protection {
    /** The seccomp filter (e.g. a kernel built without seccomp filters). */
    SECCOMP,
    /** Each resource limit (rlimit) on its own (e.g. a hard limit above the caller's, which needs CAP_SYS_RESOURCE). */
    RLIMITS,
    /** The sandbox's cgroup and its limits (e.g. a controller the host does not delegate). */
    CGROUP_LIMITS,
    /** Locking the mounts' flags with a nested user namespace (e.g. the host caps user namespaces). */
    MOUNT_LOCK,
    /** Forbidding user namespaces inside (user.max_user_namespaces = 0 in the sandbox's user namespace). */
    NESTED_USER_NAMESPACE_LIMIT,
    /** The time namespace (Linux 5.6 and later). */
    TIME_NAMESPACE,
    /** The cgroup namespace (Linux 4.6 and later). */
    CGROUP_NAMESPACE
}
