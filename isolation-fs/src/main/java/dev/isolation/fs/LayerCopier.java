package dev.isolation.fs;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Copies an overlay upper directory to another filesystem as it is: directories, files (hard links kept as
 * links), symlinks with their exact targets, whiteouts and other special files (mknod with the same type and
 * device), permission bits (all of them: the tree is the caller's own), modification times and the opaque
 * xattrs. Never follows a symlink.
 */
final class LayerCopier {
    private static final List<String> OPAQUE_XATTRS = List.of(OverlayEntries.TRUSTED_OPAQUE,
            OverlayEntries.USER_OPAQUE);

    private final Map<Object, Path> copiedInodes = new HashMap<>();

    private LayerCopier() {
    }

    /** Copies the tree at {@code from} to {@code to}, which must not exist. */
    static void copy(Path from, Path to) throws IOException {
        new LayerCopier().copyEntry(from, to);
    }

    private void copyEntry(Path from, Path to) throws IOException {
        Map<String, Object> attributes = Files.readAttributes(from, "unix:mode,rdev,nlink,ino,dev,lastModifiedTime",
                LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) attributes.get("mode");
        FileTime mtime = (FileTime) attributes.get("lastModifiedTime");
        switch (mode & LayerNative.S_IFMT) {
            case LayerNative.S_IFDIR -> {
                Files.createDirectory(to);
                LayerFiles.chmod(to, 0700);
                LayerFiles.withOwnerAccess(from, mode, 0500, () -> {
                    copyOpaqueXattrs(from, to);
                    try (DirectoryStream<Path> entries = Files.newDirectoryStream(from)) {
                        for (Path entry : entries) {
                            copyEntry(entry, to.resolve(entry.getFileName().toString()));
                        }
                    }
                });
                LayerFiles.setMtime(to, mtime);
                LayerFiles.chmod(to, mode);
            }
            case LayerNative.S_IFREG -> {
                Object inode = List.of(attributes.get("dev"), attributes.get("ino"));
                Path earlier = (Integer) attributes.get("nlink") > 1 ? copiedInodes.get(inode) : null;
                if (earlier != null) {
                    Files.createLink(to, earlier);
                    return;
                }
                LayerFiles.withOwnerAccess(from, mode, 0400,
                        () -> Files.copy(from, to, LinkOption.NOFOLLOW_LINKS, StandardCopyOption.COPY_ATTRIBUTES));
                LayerFiles.setMtime(to, mtime);
                LayerFiles.chmod(to, mode);
                copiedInodes.put(inode, to);
            }
            case LayerNative.S_IFLNK -> Files.createSymbolicLink(to, Files.readSymbolicLink(from));
            default -> LayerNative.mknod(to, mode, (Long) attributes.get("rdev"));
        }
    }

    private static void copyOpaqueXattrs(Path from, Path to) throws IOException {
        for (String name : OPAQUE_XATTRS) {
            byte[] value = LayerNative.lgetxattr(from, name).orElse(null);
            if (value != null) {
                int errno = LayerNative.lsetxattr(to, name, value);
                if (errno != 0 && !(name.startsWith("trusted.") && errno == LayerNative.EPERM)) {
                    throw new IOException("cannot copy the xattr " + name + " of " + from + " to " + to
                            + ": " + LayerNative.describe(errno));
                }
            }
        }
    }
}
