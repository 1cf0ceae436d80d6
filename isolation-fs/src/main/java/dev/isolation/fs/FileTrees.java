package dev.isolation.fs;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;

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
        Deque<Pending> stack = new ArrayDeque<>();
        stack.push(new Pending(root, false));
        while (!stack.isEmpty()) {
            Pending top = stack.pop();
            int mode;
            try {
                mode = LayerFiles.mode(top.path());
            } catch (NoSuchFileException e) {
                continue;
            }
            if ((mode & LayerNative.S_IFMT) == LayerNative.S_IFDIR && !top.emptied()) {
                LayerFiles.makeOwnerAccessible(top.path());
                stack.push(new Pending(top.path(), true));      // deleted once its entries, pushed above it, are
                try (DirectoryStream<Path> entries = Files.newDirectoryStream(top.path())) {
                    for (Path entry : entries) {
                        stack.push(new Pending(entry, false));
                    }
                } catch (NoSuchFileException e) {
                    continue;
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

    private record Pending(Path path, boolean emptied) {
    }
}
