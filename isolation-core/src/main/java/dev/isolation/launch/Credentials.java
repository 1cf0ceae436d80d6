package dev.isolation.launch;

import com.sun.jna.platform.linux.LibC;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The JVM's own credentials: effective ids (through JNA) and effective capabilities (from /proc/self/status). */
public final class Credentials {
    public static final int CAP_SETGID = 6;
    public static final int CAP_SETUID = 7;
    public static final int CAP_SETPCAP = 8;
    public static final int CAP_SYS_ADMIN = 21;

    private static final Path STATUS = Path.of("/proc/self/status");

    private Credentials() {
    }

    public static long effectiveUid() {
        return Integer.toUnsignedLong(LibC.INSTANCE.geteuid());
    }

    public static long effectiveGid() {
        return Integer.toUnsignedLong(LibC.INSTANCE.getegid());
    }

    /** Whether the JVM holds {@code capability} in its effective set (in its own user namespace). */
    public static boolean hasCapability(int capability) {
        return (effectiveCapabilities() >>> capability & 1) != 0;
    }

    static long effectiveCapabilities() {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith("CapEff:")) {
                    return Long.parseUnsignedLong(line.substring("CapEff:".length()).trim(), 16);
                }
            }
            throw new IllegalStateException(STATUS + " has no CapEff line");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + STATUS, e);
        }
    }
}
