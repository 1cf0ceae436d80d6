package dev.isolation.launch;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Platform;

/**
 * The calling thread's effective ids and capabilities, which are what the helper it spawns starts with. Each is one
 * system call through a JNA direct mapping: about a microsecond, where parsing /proc/self/status takes tens. Nothing
 * is cached, because a JVM can change its credentials while it runs (setuid, capset through JNA).
 */
final class ThreadCredentials {
    /** capget(2): 64-bit capability sets, passed as two {@code struct __user_cap_data_struct}. */
    private static final int LINUX_CAPABILITY_VERSION_3 = 0x20080522;
    /** The u32 fields of one {@code __user_cap_data_struct}: effective, permitted, inheritable. */
    private static final int DATA_FIELDS = 3;

    static {
        Native.register(ThreadCredentials.class, Platform.C_LIBRARY_NAME);
    }

    private ThreadCredentials() {
    }

    private static native int geteuid();

    private static native int getegid();

    /** {@code header}: version, pid (0: the calling thread); {@code data}: two structs of three u32 sets. */
    private static native int capget(int[] header, int[] data) throws LastErrorException;

    static long effectiveUid() {
        return Integer.toUnsignedLong(geteuid());
    }

    static long effectiveGid() {
        return Integer.toUnsignedLong(getegid());
    }

    /** Whether the calling thread holds {@code capability} in its effective set (in its own user namespace). */
    static boolean hasCapability(int capability) {
        return (effectiveCapabilities() >>> capability & 1) != 0;
    }

    static long effectiveCapabilities() {
        int[] data = new int[2 * DATA_FIELDS];
        try {
            capget(new int[] {LINUX_CAPABILITY_VERSION_3, 0}, data);
        } catch (LastErrorException e) {
            // a kernel refusing version 3 (before 2.6.26) is older than anything else here supports
            throw new IllegalStateException("capget(2) failed: " + e.getMessage(), e);
        }
        return Integer.toUnsignedLong(data[0]) | Integer.toUnsignedLong(data[DATA_FIELDS]) << 32;
    }
}
