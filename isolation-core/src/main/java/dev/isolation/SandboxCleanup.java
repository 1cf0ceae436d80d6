package dev.isolation;

import dev.isolation.launch.AbandonedResources;
import java.io.IOException;

/**
 * Removes what the sandboxes of JVMs that are no longer running left on this host, with no daemon: every cgroup,
 * directory and socket the library creates is named after the JVM that made it ({@code isolation-<pid>-<start
 * time>-ns<pid namespace>}, see {@link dev.isolation.cgroups.JvmLabel}), and a JVM of this pid namespace whose pid
 * is free or taken by a process with another start time is gone. What a live JVM made is never touched.
 *
 * <p>This also happens once in every JVM on first use: the runtime directory is cleaned at the first start, the
 * cgroups at the first start with limits, the helper's cache when the helper is first extracted. Call this for the
 * rest: e.g. from a maintenance task, or before measuring what a host holds.
 *
 * <p>Covered: groups under the default placement (a caller-chosen {@link dev.isolation.cgroups.CgroupManager}
 * has its own {@code removeStale()}), the runtime directory this JVM uses ({@code -Disolation.runtime.dir}, else
 * {@code $TMPDIR/isolation-<uid>}), and the helper's cache directory.
 */
public final class SandboxCleanup {
    private SandboxCleanup() {
    }

    /**
     * Removes what JVMs that are gone left: their cgroups (killing what still runs in them), their runtime
     * directories with the sandboxes' private directories and control sockets in them, and half-written helper
     * copies. What cannot be removed is reported, not thrown: a second call removes nothing.
     *
     * @throws IOException if the runtime directory exists but is not this user's private directory, or cannot be
     *                     listed
     */
    public static CleanupReport removeAbandoned() throws IOException {
        return AbandonedResources.removeAll();
    }
}
