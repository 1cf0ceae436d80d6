package dev.isolation.fs;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** File operations of the layer store: private directories, owner-only modes, and deleting trees safely. */
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

    /**
     * Deletes {@code root} and everything below it without following symlinks, getting into directories whose
     * mode keeps their owner out. A missing root is fine.
     */
    static void deleteTree(Path root) throws IOException {
        int mode;
        try {
            mode = mode(root);
        } catch (NoSuchFileException e) {
            return;
        }
        if ((mode & LayerNative.S_IFMT) == LayerNative.S_IFDIR) {
            makeOwnerAccessible(root);
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
                for (Path entry : entries) {
                    deleteTree(entry);
                }
            } catch (NoSuchFileException e) {
                return;
            }
        }
        try {
            Files.deleteIfExists(root);
        } catch (IOException e) {
            throw new IOException("cannot delete " + root + ": " + e.getMessage(), e);
        }
    }
}
