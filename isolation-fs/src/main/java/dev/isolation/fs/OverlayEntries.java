package dev.isolation.fs;

import com.sun.jna.LastErrorException;
import com.sun.jna.NativeLong;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * How overlayfs records changes in its directories, read and written. In an upper directory, and in a lower one
 * stacked above others:
 * <ul>
 *   <li>a deleted path is a <em>whiteout</em>: a character device with device number 0/0 under the deleted name;
 *   <li>a directory that hides whatever the layers below hold at its path is <em>opaque</em>: it carries the
 *       extended attribute {@value #TRUSTED_OPAQUE} (mounts made with {@code CAP_SYS_ADMIN}) or
 *       {@value #USER_OPAQUE} (mounts with the {@code userxattr} option, made in a user namespace) set to
 *       {@code "y"}.
 * </ul>
 * Nothing here follows a symbolic link. Overlay features that are off by default ({@code redirect_dir},
 * {@code metacopy}, data-only layers with {@code xwhiteouts}) are not understood.
 */
public final class OverlayEntries {
    /** The opaque marker of overlays mounted with {@code CAP_SYS_ADMIN}. */
    public static final String TRUSTED_OPAQUE = "trusted.overlay.opaque";
    /** The opaque marker of overlays mounted with {@code userxattr}, as done in a user namespace. */
    public static final String USER_OPAQUE = "user.overlay.opaque";

    static final int S_IFMT = 0170000;
    static final int S_IFDIR = 0040000;
    static final int S_IFCHR = 0020000;

    private static final byte[] OPAQUE_VALUE = "y".getBytes(StandardCharsets.US_ASCII);
    private static final int ERANGE = 34;

    private OverlayEntries() {
    }

    /** Whether {@code path} is a whiteout (a character device 0/0); a missing path is not. */
    public static boolean isWhiteout(Path path) throws IOException {
        Map<String, Object> attributes;
        try {
            attributes = Files.readAttributes(path, "unix:mode,rdev", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return false;
        }
        return isWhiteout((Integer) attributes.get("mode"), (Long) attributes.get("rdev"));
    }

    static boolean isWhiteout(int mode, long rdev) {
        return (mode & S_IFMT) == S_IFCHR && rdev == 0;
    }

    static boolean isDirectory(int mode) {
        return (mode & S_IFMT) == S_IFDIR;
    }

    /**
     * Whether {@code dir} is a directory marked opaque by either attribute. A missing path, a non-directory and a
     * filesystem without extended attributes all answer {@code false}. Readable without privileges: an
     * unprivileged caller cannot see {@code trusted.*} attributes and only the {@code user.*} marker counts then.
     */
    public static boolean isOpaque(Path dir) throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        return hasOpaqueValue(dir, TRUSTED_OPAQUE) || hasOpaqueValue(dir, USER_OPAQUE);
    }

    /** Whether {@code dir} carries {@code attribute} set to "y" (not following a symbolic link). */
    static boolean hasOpaqueValue(Path dir, String attribute) throws IOException {
        byte[] value = new byte[8];
        try {
            long length = OverlayLibC.INSTANCE.lgetxattr(dir.toString(), attribute, value,
                    new NativeLong(value.length)).longValue();
            return length == OPAQUE_VALUE.length && value[0] == OPAQUE_VALUE[0];
        } catch (LastErrorException e) {
            int errno = e.getErrorCode();
            if (errno == OverlayLibC.ENODATA || errno == OverlayLibC.ENOTSUP || errno == ERANGE) {
                return false;   // absent, unsupported, or longer than "y": not the opaque marker
            }
            throw new IOException("cannot read attribute " + attribute + " of " + dir + " (lgetxattr): "
                    + describe(e), e);
        }
    }

    /**
     * The names of the extended attributes of {@code path} the caller may see (no {@code trusted.*} ones without
     * {@code CAP_SYS_ADMIN}); none on a filesystem without them.
     */
    static List<String> attributeNames(Path path) throws IOException {
        for (int size = 1024; ; size *= 4) {
            byte[] list = new byte[size];
            try {
                int length = (int) OverlayLibC.INSTANCE.llistxattr(path.toString(), list, new NativeLong(size))
                        .longValue();
                List<String> names = new ArrayList<>();
                for (int start = 0, end; start < length; start = end + 1) {
                    for (end = start; list[end] != 0; end++) {
                        // up to the name's NUL
                    }
                    names.add(new String(list, start, end - start, StandardCharsets.UTF_8));
                }
                return names;
            } catch (LastErrorException e) {
                if (e.getErrorCode() == OverlayLibC.ENOTSUP) {
                    return List.of();
                }
                if (e.getErrorCode() != ERANGE || size > (1 << 20)) {
                    throw new IOException("cannot list the attributes of " + path + " (llistxattr): " + describe(e), e);
                }
            }
        }
    }

    /**
     * Creates a whiteout at {@code path}: a character device 0/0 with no permission bits, as overlayfs itself
     * does. Linux allows it without privileges since 5.8.
     *
     * @throws FileAlreadyExistsException if something exists at {@code path}
     */
    public static void createWhiteout(Path path) throws IOException {
        try {
            OverlayLibC.INSTANCE.mknod(path.toString(), S_IFCHR, 0L);
        } catch (LastErrorException e) {
            if (e.getErrorCode() == OverlayLibC.EEXIST) {
                throw new FileAlreadyExistsException(path.toString(), null, "cannot create a whiteout there");
            }
            String hint = e.getErrorCode() == OverlayLibC.EPERM
                    ? " (creating a whiteout without CAP_MKNOD needs Linux 5.8 or later)" : "";
            throw new IOException("cannot create whiteout " + path + " (mknod, character device 0/0): "
                    + describe(e) + hint, e);
        }
    }

    /**
     * Marks {@code dir} opaque for both kinds of mounts: sets {@value #TRUSTED_OPAQUE} when the caller may
     * (with {@code CAP_SYS_ADMIN}) and {@value #USER_OPAQUE} when the filesystem supports user attributes.
     *
     * @throws IOException if {@code dir} is not a directory, or if neither attribute could be set
     */
    public static void markOpaque(Path dir) throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("cannot mark " + dir + " opaque: it is not a directory (symbolic links are"
                    + " not followed)");
        }
        LastErrorException trusted = setOpaqueValue(dir, TRUSTED_OPAQUE, OverlayLibC.EPERM, OverlayLibC.ENOTSUP);
        LastErrorException user = setOpaqueValue(dir, USER_OPAQUE, OverlayLibC.ENOTSUP);
        if (trusted != null && user != null) {
            throw new IOException("cannot mark " + dir + " opaque: setting " + TRUSTED_OPAQUE + " failed with "
                    + describe(trusted) + ", setting " + USER_OPAQUE + " failed with " + describe(user)
                    + " (user attributes need a filesystem that supports them, e.g. ext4, xfs, btrfs, or tmpfs"
                    + " since Linux 6.6)", user);
        }
    }

    /** Sets {@code attribute} to "y"; returns the error when its errno is one of {@code tolerated}, else throws. */
    private static LastErrorException setOpaqueValue(Path dir, String attribute, int... tolerated)
            throws IOException {
        try {
            OverlayLibC.INSTANCE.lsetxattr(dir.toString(), attribute, OPAQUE_VALUE,
                    new NativeLong(OPAQUE_VALUE.length), 0);
            return null;
        } catch (LastErrorException e) {
            for (int errno : tolerated) {
                if (e.getErrorCode() == errno) {
                    return e;
                }
            }
            throw new IOException("cannot set attribute " + attribute + "=y on " + dir + " (lsetxattr): "
                    + describe(e), e);
        }
    }

    /** "error=1, Operation not permitted", as the JDK words its process errors. */
    static String describe(LastErrorException e) {
        String message = String.valueOf(e.getMessage()).replaceFirst("^\\[\\d+\\] ", "");
        return "error=" + e.getErrorCode() + ", " + message;
    }
}
