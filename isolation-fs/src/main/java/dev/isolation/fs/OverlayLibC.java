package dev.isolation.fs;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;

/**
 * The few libc calls overlay conventions need that the JDK does not offer: creating a character device (a
 * whiteout) and reading or setting an extended attribute without following a symbolic link. Each throws
 * {@link LastErrorException} carrying {@code errno} when the call returns -1. Needs glibc 2.33 or later, which
 * exports {@code mknod} as a function.
 */
interface OverlayLibC extends Library {
    OverlayLibC INSTANCE = Native.load("c", OverlayLibC.class);

    /** No such attribute (xattr(7)); {@code ENOATTR} is the same number. */
    int ENODATA = 61;
    /** The filesystem does not support extended attributes, or not this namespace of them. */
    int ENOTSUP = 95;
    /** Not permitted, e.g. setting a {@code trusted.*} attribute without {@code CAP_SYS_ADMIN}. */
    int EPERM = 1;
    /** The path already exists. */
    int EEXIST = 17;

    /** mknod(2): {@code int mknod(const char *pathname, mode_t mode, dev_t dev)}. */
    int mknod(String path, int mode, long dev) throws LastErrorException;

    /**
     * lgetxattr(2): {@code ssize_t lgetxattr(const char *path, const char *name, void *value, size_t size)};
     * returns the value's length.
     */
    NativeLong lgetxattr(String path, String name, byte[] value, NativeLong size) throws LastErrorException;

    /**
     * lsetxattr(2): {@code int lsetxattr(const char *path, const char *name, const void *value, size_t size,
     * int flags)}.
     */
    int lsetxattr(String path, String name, byte[] value, NativeLong size, int flags) throws LastErrorException;

    /**
     * llistxattr(2): {@code ssize_t llistxattr(const char *path, char *list, size_t size)}; the names the caller
     * may see, each ending with a NUL byte; returns their total length.
     */
    NativeLong llistxattr(String path, byte[] list, NativeLong size) throws LastErrorException;
}
