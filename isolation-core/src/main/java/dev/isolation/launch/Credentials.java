package dev.isolation.launch;

/**
 * The JVM's own credentials, as the thread that starts a sandbox has them: effective ids and capabilities, each one
 * system call ({@link ThreadCredentials}).
 */
public final class Credentials {
    public static final int CAP_SETGID = 6;
    public static final int CAP_SETUID = 7;
    public static final int CAP_SETPCAP = 8;
    public static final int CAP_SYS_ADMIN = 21;

    private Credentials() {
    }

    public static long effectiveUid() {
        return ThreadCredentials.effectiveUid();
    }

    public static long effectiveGid() {
        return ThreadCredentials.effectiveGid();
    }

    /** Whether the calling thread holds {@code capability} in its effective set (in its own user namespace). */
    public static boolean hasCapability(int capability) {
        return ThreadCredentials.hasCapability(capability);
    }
}
