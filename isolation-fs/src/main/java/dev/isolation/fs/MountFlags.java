package dev.isolation.fs;

/** The mount(2) flags the steps use. */
public final class MountFlags {
    public static final long RDONLY = 0x1;
    public static final long NOSUID = 0x2;
    public static final long NODEV = 0x4;
    public static final long NOEXEC = 0x8;
    public static final long BIND = 0x1000;
    public static final long REC = 0x4000;

    private MountFlags() {
    }
}
