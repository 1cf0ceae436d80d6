package dev.isolation.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * File operations of the layer store: private directories, modes and times set without following symlinks, and
 * owner access to entries made unreadable. Deleting trees is {@link FileTrees#deleteRecursively}.
 */
final class LayerFiles {
    private LayerFiles() {
    }

    /** Creates {@code directory} (and missing parents) and makes it 0700 when this call created it. */
    static void createPrivateDirectory(Path directory) throws IOException {
        if (Files.isDirectory(directory)) {
            return;
        }
        Files.createDirectories(directory.getParent());
        try {
            Files.createDirectory(directory, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (java.nio.file.FileAlreadyExistsException e) {
            if (!Files.isDirectory(directory)) {
                throw new IOException("cannot use " + directory + " as a directory: it exists and is not one", e);
            }
            return;
        }
        chmod(directory, 0700);
    }

    /** The mode bits (type and permissions) of {@code path} itself. */
    static int mode(Path path) throws IOException {
        return (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    }

    /** Sets the permission bits of {@code path} itself (never through a symlink). */
    static void chmod(Path path, int permissions) throws IOException {
        LayerNative.chmod(path, permissions);
    }

    /** Adds owner read, write and search to a directory so that its entries can be listed, added and removed. */
    static void makeOwnerAccessible(Path directory) throws IOException {
        int mode = mode(directory);
        if ((mode & 0700) != 0700) {
            chmod(directory, mode | 0700);
        }
    }

    /** Something done to an entry while its owner can read (and search) it. */
    interface Access {
        void run() throws IOException;
    }

    /**
     * Runs {@code access} with {@code bits} added to the owner's permissions of {@code path}, whose mode is
     * {@code mode} (a file or directory its owner made unreadable), then restores that mode. Reading content,
     * listing a directory and reading user xattrs all need them.
     */
    static void withOwnerAccess(Path path, int mode, int bits, Access access) throws IOException {
        boolean opened = (mode & bits) != bits;
        if (opened) {
            chmod(path, mode | bits);
        }
        try {
            access.run();
        } finally {
            if (opened) {
                chmod(path, mode);
            }
        }
    }

    /** Sets the modification time of {@code path} itself (never through a symlink). */
    static void setMtime(Path path, FileTime mtime) throws IOException {
        Files.getFileAttributeView(path, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                .setTimes(mtime, null, null);
    }
}
