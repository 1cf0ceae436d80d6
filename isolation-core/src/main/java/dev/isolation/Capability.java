package dev.isolation;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** Linux capabilities (capabilities(7)), with the kernel's numbers. */
public enum Capability {
    CHOWN(0), DAC_OVERRIDE(1), DAC_READ_SEARCH(2), FOWNER(3), FSETID(4), KILL(5), SETGID(6), SETUID(7), SETPCAP(8),
    LINUX_IMMUTABLE(9), NET_BIND_SERVICE(10), NET_BROADCAST(11), NET_ADMIN(12), NET_RAW(13), IPC_LOCK(14),
    IPC_OWNER(15), SYS_MODULE(16), SYS_RAWIO(17), SYS_CHROOT(18), SYS_PTRACE(19), SYS_PACCT(20), SYS_ADMIN(21),
    SYS_BOOT(22), SYS_NICE(23), SYS_RESOURCE(24), SYS_TIME(25), SYS_TTY_CONFIG(26), MKNOD(27), LEASE(28),
    AUDIT_WRITE(29), AUDIT_CONTROL(30), SETFCAP(31), MAC_OVERRIDE(32), MAC_ADMIN(33), SYSLOG(34), WAKE_ALARM(35),
    BLOCK_SUSPEND(36), AUDIT_READ(37), PERFMON(38), BPF(39), CHECKPOINT_RESTORE(40);

    /**
     * What a program that is root inside its sandbox keeps by default: the set container runtimes give, without
     * the ones that reach the kernel or other sandboxes (SYS_ADMIN, SYS_MODULE, SYS_PTRACE, NET_ADMIN, ...).
     */
    public static final Set<Capability> ROOT_DEFAULT = Set.copyOf(EnumSet.of(CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD,
            NET_RAW, SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL, AUDIT_WRITE));

    private final int number;

    Capability(int number) {
        this.number = number;
    }

    public int number() {
        return number;
    }

    /** By name, with or without the CAP_ prefix, in any case: "CAP_NET_BIND_SERVICE" or "net_bind_service". */
    public static Capability named(String name) {
        String upper = name.toUpperCase(Locale.ROOT);
        String bare = upper.startsWith("CAP_") ? upper.substring(4) : upper;
        for (Capability capability : values()) {
            if (capability.name().equals(bare)) {
                return capability;
            }
        }
        throw new InvalidSandboxSpecException("capability", name, "is not a capability of Linux (capabilities(7))");
    }

    /** The capabilities as a bit mask of their numbers. */
    public static long mask(Set<Capability> capabilities) {
        long mask = 0;
        for (Capability capability : capabilities) {
            mask |= 1L << capability.number;
        }
        return mask;
    }
}
