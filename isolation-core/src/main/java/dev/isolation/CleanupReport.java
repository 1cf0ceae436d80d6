package dev.isolation;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What {@link SandboxCleanup#removeAbandoned()} removed of what JVMs that are no longer running left on the host,
 * and what it could not remove.
 *
 * @param cgroups     the names of the groups removed (anything still running in them was killed first)
 * @param directories the runtime directories of those JVMs, and the sandboxes' private directories in them
 *                    (overlay upper and work directories, copied roots)
 * @param sockets     control sockets of those JVMs: bound for a start that the JVM did not live to finish
 * @param files       half-written copies of the native helper in its cache directory
 * @param notRemoved  what is left, with why (e.g. without privileges, directories that a sandbox's subordinate
 *                    user owns); the next call tries again
 */
public record CleanupReport(List<String> cgroups, List<Path> directories, List<Path> sockets, List<Path> files,
        List<NotRemoved> notRemoved) {
    public CleanupReport {
        cgroups = List.copyOf(cgroups);
        directories = List.copyOf(directories);
        sockets = List.copyOf(sockets);
        files = List.copyOf(files);
        notRemoved = List.copyOf(notRemoved);
    }

    /** Whether this call removed nothing (there may still be {@link #notRemoved()} entries). */
    public boolean removedNothing() {
        return cgroups.isEmpty() && directories.isEmpty() && sockets.isEmpty() && files.isEmpty();
    }

    /**
     * Something that could not be removed.
     *
     * @param what   a path, or {@code cgroup <name>}
     * @param reason why, as the kernel or the cgroup code said it
     */
    public record NotRemoved(String what, String reason) {
        public NotRemoved {
            Objects.requireNonNull(what, "what");
            Objects.requireNonNull(reason, "reason");
        }
    }
}
