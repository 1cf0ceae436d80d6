package dev.isolation.fs;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;

/**
 * Deleting a volume's tree: whatever modes sandboxes left on its directories, without following a symbolic link
 * (a link is deleted, never what it points to), and without recursion or a descriptor per level, so that depth
 * is no limit.
 */
final class VolumeTrees {
    private static final int OWNER_RWX = 0700;

    private VolumeTrees() {
    }

    /** Deletes {@code root} and everything under it; a missing root is fine. */
    static void delete(Path root) throws IOException {
        Deque<Pending> stack = new ArrayDeque<>();
        stack.push(new Pending(root, false));
        while (!stack.isEmpty()) {
            Pending top = stack.pop();
            BasicFileAttributes attributes;
            try {
                attributes = Files.readAttributes(top.path(), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                continue;
            }
            if (attributes.isDirectory() && !top.emptied()) {
                makeOwnerAccessible(top.path());
                stack.push(new Pending(top.path(), true));      // deleted once its entries, pushed above it, are
                try (DirectoryStream<Path> entries = Files.newDirectoryStream(top.path())) {
                    for (Path entry : entries) {
                        stack.push(new Pending(entry, false));
                    }
                } catch (IOException e) {
                    throw new IOException("cannot list " + top.path() + " to delete it: " + e, e);
                }
                continue;
            }
            try {
                Files.deleteIfExists(top.path());
            } catch (IOException e) {
                throw new IOException("cannot delete " + top.path() + ": " + e, e);
            }
        }
    }

    /** Adds u+rwx to the directory {@code dir}, so that its entries can be listed and deleted. */
    private static void makeOwnerAccessible(Path dir) throws IOException {
        Map<String, Object> attributes = Files.readAttributes(dir, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) attributes.get("mode") & 07777;
        if ((mode & OWNER_RWX) != OWNER_RWX) {
            try {
                // chmod(2) follows links, but dir was a directory just now, and no sandbox leases the volume
                Files.setAttribute(dir, "unix:mode", mode | OWNER_RWX);
            } catch (IOException e) {
                throw new IOException("cannot make " + dir + " accessible (mode " + Integer.toOctalString(mode)
                        + " to " + Integer.toOctalString(mode | OWNER_RWX) + ") to delete it: " + e, e);
            }
        }
    }

    private record Pending(Path path, boolean emptied) {
    }
}
