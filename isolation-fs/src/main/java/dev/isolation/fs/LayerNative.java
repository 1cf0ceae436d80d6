package dev.isolation.fs;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The libc calls of this module that NIO lacks, in one place: mknod (whiteouts, fifos), l*xattr (overlay markers),
 * chmod that never follows a symlink, symlink with an exact target, and renameat2 with RENAME_NOREPLACE. Paths go
 * to the kernel as the same bytes the JDK would use ({@code sun.jnu.encoding}). Errors become {@link Failure}s
 * naming the call, path and errno. Needs glibc 2.33 or later, which exports {@code mknod} as a function.
 */
final class LayerNative {
    static final int EPERM = 1;
    static final int EEXIST = 17;
    static final int EXDEV = 18;
    static final int EINVAL = 22;
    static final int ERANGE = 34;
    static final int ENOSYS = 38;
    static final int ENOTEMPTY = 39;
    static final int ENODATA = 61;
    static final int EOPNOTSUPP = 95;

    static final int S_IFMT = 0170000;
    static final int S_IFSOCK = 0140000;
    static final int S_IFLNK = 0120000;
    static final int S_IFREG = 0100000;
    static final int S_IFBLK = 0060000;
    static final int S_IFDIR = 0040000;
    static final int S_IFCHR = 0020000;
    static final int S_IFIFO = 0010000;

    private static final int AT_FDCWD = -100;
    private static final int RENAME_NOREPLACE = 1;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    private static final Charset PATH_CHARSET = pathCharset();

    /** libc, declared with byte-array paths so that no string encoding of JNA's gets in the way. */
    private interface C extends Library {
        C INSTANCE = Native.load(Platform.C_LIBRARY_NAME, C.class);

        int mknod(byte[] path, int mode, long dev) throws LastErrorException;

        int symlink(byte[] target, byte[] linkPath) throws LastErrorException;

        int lsetxattr(byte[] path, byte[] name, byte[] value, long size, int flags) throws LastErrorException;

        long lgetxattr(byte[] path, byte[] name, byte[] value, long size) throws LastErrorException;

        long llistxattr(byte[] path, byte[] list, long size) throws LastErrorException;

        int renameat2(int oldDirFd, byte[] oldPath, int newDirFd, byte[] newPath, int flags)
                throws LastErrorException;

        int fchmodat(int dirFd, byte[] path, int mode, int flags) throws LastErrorException;

        String strerror(int errno);
    }

    /** A failed call, its message naming the call, the path and errno, as the JDK words its process errors. */
    static final class Failure extends IOException {
        private final int errno;

        private Failure(String message, int errno) {
            super(message);
            this.errno = errno;
        }

        int errno() {
            return errno;
        }
    }

    /** What {@link #renameNoReplace} did. */
    enum RenameResult { RENAMED, TARGET_EXISTS, CROSS_DEVICE }

    private LayerNative() {
    }

    /** Creates a device, fifo or socket node with {@code mode} (type and permission bits) and device {@code dev}. */
    static void mknod(Path path, int mode, long dev) throws IOException {
        try {
            C.INSTANCE.mknod(bytes(path), mode, dev);
        } catch (LastErrorException e) {
            throw failure("mknod", path, e);
        }
    }

    /**
     * Sets the permission bits of {@code path} itself, never through a symlink, and without opening it (so also
     * on files and directories whose mode keeps their owner out, where NIO's NOFOLLOW chmod fails with EACCES).
     * Where the C library cannot do it without following (before glibc 2.32, or without /proc), the path is
     * checked not to be a symlink and chmod'ed.
     */
    static void chmod(Path path, int permissions) throws IOException {
        try {
            C.INSTANCE.fchmodat(AT_FDCWD, bytes(path), permissions & 07777, AT_SYMLINK_NOFOLLOW);
            return;
        } catch (LastErrorException e) {
            int errno = e.getErrorCode();
            if (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL) {
                throw failure("chmod " + Integer.toOctalString(permissions & 07777), path, e);
            }
        }
        if (Files.isSymbolicLink(path)) {
            throw new IOException("chmod " + path + " refused: it is a symlink");
        }
        Files.setAttribute(path, "unix:mode", permissions & 07777);
    }

    /** Creates the symlink {@code link} whose target is exactly {@code target} (no normalisation). */
    static void symlink(String target, Path link) throws IOException {
        try {
            C.INSTANCE.symlink(cString(target.getBytes(PATH_CHARSET)), bytes(link));
        } catch (LastErrorException e) {
            throw failure("symlink to '" + target + "' at", link, e);
        }
    }

    /** Sets an extended attribute on {@code path} itself (never on what a symlink points to); returns the errno. */
    static int lsetxattr(Path path, String name, byte[] value) {
        try {
            C.INSTANCE.lsetxattr(bytes(path), cString(name.getBytes(StandardCharsets.US_ASCII)), value,
                    value.length, 0);
            return 0;
        } catch (LastErrorException e) {
            return e.getErrorCode();
        }
    }

    /**
     * Reads an extended attribute of {@code path} itself; empty when it is not set, not visible or unsupported.
     * A value longer than 256 bytes reads as 256 zero bytes.
     */
    static Optional<byte[]> lgetxattr(Path path, String name) throws IOException {
        byte[] value = new byte[256];
        try {
            long size = C.INSTANCE.lgetxattr(bytes(path), cString(name.getBytes(StandardCharsets.US_ASCII)), value,
                    value.length);
            return Optional.of(Arrays.copyOf(value, (int) size));
        } catch (LastErrorException e) {
            int errno = e.getErrorCode();
            if (errno == ENODATA || errno == EOPNOTSUPP) {
                return Optional.empty();
            }
            if (errno == ERANGE) {
                return Optional.of(new byte[value.length]);
            }
            throw failure("lgetxattr " + name + " of", path, e);
        }
    }

    /**
     * The names of the extended attributes of {@code path} itself that the caller may see (no {@code trusted.*}
     * ones without {@code CAP_SYS_ADMIN}); none on a filesystem without them.
     */
    static List<String> llistxattr(Path path) throws IOException {
        for (int size = 1024; ; size *= 4) {
            byte[] list = new byte[size];
            int length;
            try {
                length = (int) C.INSTANCE.llistxattr(bytes(path), list, size);
            } catch (LastErrorException e) {
                if (e.getErrorCode() == EOPNOTSUPP) {
                    return List.of();
                }
                if (e.getErrorCode() != ERANGE || size > (1 << 20)) {
                    throw failure("llistxattr", path, e);
                }
                continue;
            }
            List<String> names = new ArrayList<>();
            for (int start = 0, end; start < length; start = end + 1) {
                for (end = start; list[end] != 0; end++) {
                    // up to the name's NUL
                }
                names.add(new String(list, start, end - start, StandardCharsets.UTF_8));
            }
            return names;
        }
    }

    /**
     * Renames {@code from} to {@code to} unless {@code to} exists (atomically, with renameat2 RENAME_NOREPLACE;
     * on filesystems without it, a check then rename, which can only replace an empty directory).
     */
    static RenameResult renameNoReplace(Path from, Path to) throws IOException {
        try {
            C.INSTANCE.renameat2(AT_FDCWD, bytes(from), AT_FDCWD, bytes(to), RENAME_NOREPLACE);
            return RenameResult.RENAMED;
        } catch (LastErrorException e) {
            int errno = e.getErrorCode();
            if (errno == EEXIST || errno == ENOTEMPTY) {
                return RenameResult.TARGET_EXISTS;
            }
            if (errno == EXDEV) {
                return RenameResult.CROSS_DEVICE;
            }
            if (errno != EINVAL && errno != ENOSYS) {
                throw new Failure("cannot rename " + from + " to " + to + ": " + describe(errno), errno);
            }
        }
        if (Files.exists(to, LinkOption.NOFOLLOW_LINKS)) {
            return RenameResult.TARGET_EXISTS;
        }
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
            return RenameResult.RENAMED;
        } catch (java.nio.file.AtomicMoveNotSupportedException e) {
            return RenameResult.CROSS_DEVICE;
        } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
            return RenameResult.TARGET_EXISTS;
        }
    }

    private static Failure failure(String call, Path path, LastErrorException e) {
        return new Failure(call + " " + path + " failed: " + describe(e.getErrorCode()), e.getErrorCode());
    }

    /** "error=1, Operation not permitted", as the JDK words its process errors. */
    static String describe(int errno) {
        return "error=" + errno + ", " + C.INSTANCE.strerror(errno);
    }

    private static byte[] bytes(Path path) {
        return cString(path.toString().getBytes(PATH_CHARSET));
    }

    private static byte[] cString(byte[] bytes) {
        return Arrays.copyOf(bytes, bytes.length + 1);
    }

    private static Charset pathCharset() {
        String name = System.getProperty("sun.jnu.encoding");
        try {
            return name == null ? StandardCharsets.UTF_8 : Charset.forName(name);
        } catch (RuntimeException e) {
            return StandardCharsets.UTF_8;
        }
    }
}
