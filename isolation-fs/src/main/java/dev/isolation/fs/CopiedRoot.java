package dev.isolation.fs;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A root without overlayfs: the merged view of the lowers copied into a directory of the sandbox's own, for hosts
 * or filesystems where an overlay cannot be mounted. Whiteouts and opaque directories of the lowers are honoured,
 * so the copy shows exactly what the overlay would.
 *
 * <p>Kept: the tree, regular file contents, symbolic link targets (links are copied, never followed), permission
 * bits including set-id and sticky bits, modification times, and owners when the caller may set them (as root).
 * Not kept: hard links (each becomes a copy of its own), extended attributes other than the JDK's copy of
 * {@code user.*} ones on regular files (so no file capabilities). Device nodes, FIFOs and sockets are recreated,
 * which for devices needs {@code CAP_MKNOD}.
 */
public final class CopiedRoot {
    private CopiedRoot() {
    }

    /**
     * Copies the merged view of {@code lowersTopFirst} (overlayfs order: the first hides the others) into
     * {@code target}, an existing empty directory, which takes the mode and owner of the merged root.
     *
     * @return {@code target}
     * @throws IOException naming the path, if a lower cannot be read or the copy cannot be written
     */
    public static Path materialize(List<Path> lowersTopFirst, Path target) throws IOException {
        Objects.requireNonNull(target, "target");
        OverlayLowers.Node root = OverlayLowers.root(lowersTopFirst);
        if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new NoSuchFileException(target.toString(), null, "copy target is not a directory");
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(target)) {
            Iterator<Path> first = entries.iterator();
            if (first.hasNext()) {
                throw new IOException("copy target " + target + " is not empty: it holds " + first.next());
            }
        }
        copyContent(root, target);
        applyAttributes(root.top().toRealPath(), target);
        return target;
    }

    private static void copyContent(OverlayLowers.Node directory, Path target) throws IOException {
        for (Map.Entry<String, OverlayLowers.Node> child : OverlayLowers.children(directory).entrySet()) {
            OverlayLowers.Node node = child.getValue();
            Path copy = target.resolve(child.getKey());
            if (node.isDirectory()) {
                Files.createDirectory(copy);
                copyContent(node, copy);
                applyAttributes(node.top(), copy);
            } else {
                copyEntry(node.top(), copy);
            }
        }
    }

    private static void copyEntry(Path source, Path copy) throws IOException {
        try {
            Files.copy(source, copy, LinkOption.NOFOLLOW_LINKS, StandardCopyOption.COPY_ATTRIBUTES);
        } catch (IOException e) {
            throw new IOException("cannot copy " + source + " to " + copy + ": " + e, e);
        }
    }

    /**
     * Gives the directory {@code copy} the owner, times and mode of {@code source}, once its content is in place
     * (a read-only directory could not be filled afterwards). A different owner is only set when permitted.
     */
    private static void applyAttributes(Path source, Path copy) throws IOException {
        Map<String, Object> wanted = Files.readAttributes(source, "unix:mode,uid,gid", LinkOption.NOFOLLOW_LINKS);
        Map<String, Object> actual = Files.readAttributes(copy, "unix:uid,gid", LinkOption.NOFOLLOW_LINKS);
        if (!wanted.get("uid").equals(actual.get("uid")) || !wanted.get("gid").equals(actual.get("gid"))) {
            try {
                Files.setAttribute(copy, "unix:uid", wanted.get("uid"), LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(copy, "unix:gid", wanted.get("gid"), LinkOption.NOFOLLOW_LINKS);
            } catch (IOException e) {
                if (Integer.valueOf(0).equals(actual.get("uid"))) {
                    throw new IOException("cannot give " + copy + " the owner " + wanted.get("uid") + ":"
                            + wanted.get("gid") + " of " + source + ": " + e, e);
                }
                // not root: the copy stays the caller's, as with Files.copy(COPY_ATTRIBUTES)
            }
        }
        // times before the mode: setting them opens the directory, which a mode without "r" would forbid
        BasicFileAttributes times = Files.readAttributes(source, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        Files.getFileAttributeView(copy, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                .setTimes(times.lastModifiedTime(), times.lastAccessTime(), null);
        int mode = (Integer) wanted.get("mode") & 07777;
        try {
            Files.setAttribute(copy, "unix:mode", mode, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new IOException("cannot set mode " + Integer.toOctalString(mode) + " of " + source + " on " + copy
                    + ": " + e, e);
        }
    }
}
