package dev.isolation.fs;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Removing trees that sandboxes, volumes and images wrote: never following a symbolic link (a link is deleted,
 * never what it points to), getting into directories whose mode keeps their owner out (also without privileges),
 * and without recursion or a descriptor per level, so that depth is no limit.
 */
public final class FileTrees {
    private FileTrees() {
    }

    /** Deletes {@code root} and everything below it; a missing root is fine, as are entries vanishing meanwhile. */
    public static void deleteRecursively(Path root) throws IOException {
        walk(root, (path, failure) -> {
            throw failure;
        });
    }

    /**
     * Deletes what this process may of {@code root} and everything below it, and says what it could not delete
     * instead of stopping at the first: typically, without privileges, a directory that a sandbox's subordinate
     * user made in an overlay's upper directory (neither its entries can be deleted nor its mode changed). Each
     * such entry is listed once, with why; its ancestors, which then cannot be deleted either, are not listed.
     *
     * @return what is left, empty when {@code root} is gone
     */
    public static List<Undeleted> deleteWhatCan(Path root) {
        List<Undeleted> left = new ArrayList<>();
        try {
            walk(root, (path, failure) -> left.add(new Undeleted(path, String.valueOf(failure.getMessage()))));
        } catch (IOException e) {
            throw new IllegalStateException("a collecting walk does not throw", e);
        }
        return left;
    }

    /** An entry {@link #deleteWhatCan} could not delete, and why. */
    public record Undeleted(Path path, String reason) {
    }

    private interface Failures {
        void failed(Path path, IOException failure) throws IOException;
    }

    private static void walk(Path root, Failures failures) throws IOException {
        Deque<Pending> stack = new ArrayDeque<>();
        Set<Path> kept = new HashSet<>();                   // the ancestors of what could not be deleted
        stack.push(new Pending(root, false));
        while (!stack.isEmpty()) {
            Pending top = stack.pop();
            Path path = top.path();
            if (kept.contains(path)) {
                continue;
            }
            int mode;
            try {
                mode = LayerFiles.mode(path);
            } catch (NoSuchFileException e) {
                continue;
            } catch (IOException e) {
                fail(failures, kept, root, path, new IOException("cannot read the mode of " + path + ": " + e, e));
                continue;
            }
            if ((mode & LayerNative.S_IFMT) == LayerNative.S_IFDIR && !top.emptied()) {
                List<Path> entries = new ArrayList<>();
                try {
                    LayerFiles.makeOwnerAccessible(path);
                    try (DirectoryStream<Path> listing = Files.newDirectoryStream(path)) {
                        listing.forEach(entries::add);
                    }
                } catch (NoSuchFileException e) {
                    continue;
                } catch (IOException e) {
                    fail(failures, kept, root, path, new IOException("cannot list " + path + " to delete it: " + e, e));
                    continue;
                }
                if (!entries.isEmpty() && !Files.isWritable(path)) {
                    fail(failures, kept, root, path, new AccessDeniedException(path.toString(), null, "cannot delete"
                            + " its " + entries.size() + " entries: the directory is not writable by this process"
                            + " (owner uid " + owner(path) + ", mode " + Integer.toOctalString(mode & 07777) + ")"));
                    continue;
                }
                stack.push(new Pending(path, true));        // deleted once its entries, pushed above it, are
                entries.forEach(entry -> stack.push(new Pending(entry, false)));
                continue;
            }
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                fail(failures, kept, root, path, new IOException("cannot delete " + path + ": " + e, e));
            }
        }
    }

    private static void fail(Failures failures, Set<Path> kept, Path root, Path path, IOException failure)
            throws IOException {
        failures.failed(path, failure);
        for (Path ancestor = path.getParent(); ancestor != null && ancestor.startsWith(root);
                ancestor = ancestor.getParent()) {
            kept.add(ancestor);
        }
    }

    private static Object owner(Path path) {
        try {
            return Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private record Pending(Path path, boolean emptied) {
    }
}
