package dev.isolation.fs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.stream.IntStream;

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

    private static final byte[] OPAQUE_VALUE = "y".getBytes(StandardCharsets.US_ASCII);

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
        return (mode & LayerNative.S_IFMT) == LayerNative.S_IFCHR && rdev == 0;
    }

    static boolean isDirectory(int mode) {
        return (mode & LayerNative.S_IFMT) == LayerNative.S_IFDIR;
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
        Optional<byte[]> value = LayerNative.lgetxattr(dir, attribute);
        return value.isPresent() && Arrays.equals(value.get(), OPAQUE_VALUE);
    }

    /**
     * Creates a whiteout at {@code path}: a character device 0/0 with no permission bits, as overlayfs itself
     * does. Linux allows it without privileges since 5.8.
     *
     * @throws FileAlreadyExistsException if something exists at {@code path}
     */
    public static void createWhiteout(Path path) throws IOException {
        try {
            LayerNative.mknod(path, LayerNative.S_IFCHR, 0L);
        } catch (LayerNative.Failure e) {
            if (e.errno() == LayerNative.EEXIST) {
                throw new FileAlreadyExistsException(path.toString(), null, "cannot create a whiteout there");
            }
            String hint = e.errno() == LayerNative.EPERM
                    ? " (creating a whiteout without CAP_MKNOD needs Linux 5.8 or later)" : "";
            throw new IOException("cannot create whiteout " + path + " (mknod, character device 0/0): "
                    + LayerNative.describe(e.errno()) + hint, e);
        }
    }

    /**
     * Marks {@code dir} opaque for both kinds of mounts: sets {@value #TRUSTED_OPAQUE} when the caller may
     * (with {@code CAP_SYS_ADMIN}) and {@value #USER_OPAQUE} when the filesystem supports user attributes.
     *
     * @throws IOException if {@code dir} is not a directory, or if neither attribute could be set
     */
    public static void markOpaque(Path dir) throws IOException {
        markOpaque(dir, true);
    }

    /**
     * {@link #markOpaque(Path)}, where {@code required} false lets a directory stay unmarked when neither attribute
     * can be set (no privilege for the one, no support for the other).
     */
    static void markOpaque(Path dir, boolean required) throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("cannot mark " + dir + " opaque: it is not a directory (symbolic links are"
                    + " not followed)");
        }
        int trusted = setOpaqueValue(dir, TRUSTED_OPAQUE, LayerNative.EPERM, LayerNative.EOPNOTSUPP);
        int user = setOpaqueValue(dir, USER_OPAQUE, LayerNative.EOPNOTSUPP);
        if (required && trusted != 0 && user != 0) {
            throw new IOException("cannot mark " + dir + " opaque: setting " + TRUSTED_OPAQUE + " failed with "
                    + LayerNative.describe(trusted) + ", setting " + USER_OPAQUE + " failed with "
                    + LayerNative.describe(user) + " (user attributes need a filesystem that supports them, e.g."
                    + " ext4, xfs, btrfs, or tmpfs since Linux 6.6)");
        }
    }

    /** Sets {@code attribute} to "y"; returns 0, or the errno when it is one of {@code tolerated}, else throws. */
    private static int setOpaqueValue(Path dir, String attribute, int... tolerated) throws IOException {
        int errno = LayerNative.lsetxattr(dir, attribute, OPAQUE_VALUE);
        if (errno != 0 && IntStream.of(tolerated).noneMatch(t -> t == errno)) {
            throw new IOException("cannot set attribute " + attribute + "=y on " + dir + " (lsetxattr): "
                    + LayerNative.describe(errno));
        }
        return errno;
    }
}
