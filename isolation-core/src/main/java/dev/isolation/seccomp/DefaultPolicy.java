package dev.isolation.seccomp;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The deny list of {@link SeccompPolicy#defaultPolicy()}: allow by default, refuse what container runtimes refuse
 * a container by default. Each syscall is refused on the ABIs that have it (the i386-only ones matter only when
 * foreign ABIs are allowed).
 *
 * <p>The errno is EPERM, what an unprivileged caller of these syscalls already gets and handles, except for the
 * {@link #ENOSYS_SYSCALLS}: ENOSYS says "this kernel has no such call", which is what their callers check for
 * before falling back (every io_uring user falls back to the classic calls), and what current kernels answer
 * anyway for the obsolete ones (removed, or configured out by default).
 *
 * <p>Syscalls newer than the tables (numbers above the highest of the native table) get ENOSYS as well: a deny
 * list cannot name them, and refusing them as an older kernel would keeps a new kernel's additions (a new way to
 * mount, say) from running unfiltered while programs fall back.
 *
 * <p>Left allowed on purpose: {@code ptrace} (the sandbox's own processes), {@code unshare}, {@code clone} and
 * {@code setns} with namespace flags (nested namespaces are a separate knob), and everything not listed.
 */
final class DefaultPolicy {
    static final int EPERM = 1;
    static final int ENOSYS = 38;

    /** Refused with EPERM, by group: group name to syscalls. (Loops, not streams: this runs on a cold JVM.) */
    static final Map<String, List<String>> EPERM_SYSCALLS = Map.ofEntries(
            Map.entry("kernel keyring", List.of("add_key", "request_key", "keyctl")),
            Map.entry("kernel modules", List.of("init_module", "finit_module", "delete_module")),
            Map.entry("replacing or stopping the kernel", List.of("kexec_load", "kexec_file_load", "reboot")),
            Map.entry("swap", List.of("swapon", "swapoff")),
            Map.entry("kernel programs and tracing", List.of("bpf", "perf_event_open")),
            Map.entry("page-fault handling", List.of("userfaultfd")),
            Map.entry("file handles (reach files outside the sandbox's root)",
                    List.of("open_by_handle_at", "name_to_handle_at")),
            Map.entry("mounting, in every form", List.of("mount", "umount", "umount2", "pivot_root", "move_mount",
                    "open_tree", "fsopen", "fsmount", "fsconfig", "fspick", "mount_setattr")),
            Map.entry("setting the clocks", List.of("clock_settime", "clock_settime64", "clock_adjtime",
                    "clock_adjtime64", "settimeofday", "adjtimex", "stime")),
            Map.entry("process accounting, quotas, the kernel log, the terminal",
                    List.of("acct", "quotactl", "quotactl_fd", "syslog", "vhangup")),
            Map.entry("I/O ports and virtual 8086 mode (x86)", List.of("iopl", "ioperm", "vm86", "vm86old")));

    /** Refused with ENOSYS. */
    static final List<String> ENOSYS_SYSCALLS = List.of(
            "io_uring_setup", "io_uring_enter", "io_uring_register",
            "create_module", "get_kernel_syms", "query_module", "nfsservctl", "_sysctl", "lookup_dcookie",
            "uselib", "ustat", "sysfs");

    /**
     * The personalities a program may set: PER_LINUX (0), PER_LINUX32 (0x8), UNAME26 (0x20000), PER_LINUX32 |
     * UNAME26 (0x20008), and 0xffffffff, which only asks for the current one. Others, such as ADDR_NO_RANDOMIZE
     * (0x40000) or READ_IMPLIES_EXEC (0x400000), weaken the process's defences: EPERM. The kernel reads the
     * argument as an unsigned int, so only its low 32 bits are compared.
     */
    static final List<Long> ALLOWED_PERSONALITIES = List.of(0x0L, 0x8L, 0x20000L, 0x20008L, 0xffffffffL);

    static final SeccompPolicy POLICY = build();

    private DefaultPolicy() {
    }

    private static SeccompPolicy build() {
        SeccompPolicy.Builder builder = SeccompPolicy.builder().defaultAction(Action.ALLOW)
                .unknownSyscalls(Action.errno(ENOSYS));
        Action eperm = Action.errno(EPERM);
        List<String> denied = new ArrayList<>();
        for (List<String> group : EPERM_SYSCALLS.values()) {
            denied.addAll(group);
        }
        Collections.sort(denied);
        for (String name : denied) {
            builder.rule(Rule.of(name, eperm));
        }
        for (long persona : ALLOWED_PERSONALITIES) {
            builder.rule(Rule.of("personality", Action.ALLOW, ArgCondition.maskedEq(0, persona, 0xffffffffL)));
        }
        builder.rule(Rule.of("personality", eperm));
        Action enosys = Action.errno(ENOSYS);
        for (String name : ENOSYS_SYSCALLS) {
            builder.rule(Rule.of(name, enosys));
        }
        return builder.build();
    }
}
