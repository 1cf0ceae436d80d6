package dev.isolation.launch;

import dev.isolation.cgroups.Cgroup;
import dev.isolation.cgroups.CgroupManager;
import dev.isolation.cgroups.ResourceLimits;
import dev.isolation.cgroups.StaleGroups;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The JVM's cgroup manager, detected once (it rechecks cheaply at each create that what it detected still holds,
 * see {@link CgroupManager#detect()}). The first group it creates is preceded by removing the groups that JVMs
 * which are no longer running left behind (crash-safe cleanup without a daemon); other starts do not wait for that.
 */
final class SandboxCgroups {
    private static final AtomicBoolean STALE_REMOVED = new AtomicBoolean();
    private static volatile CgroupManager manager;

    private SandboxCgroups() {
    }

    static Cgroup create(ResourceLimits limits) throws IOException {
        CgroupManager current = manager();
        if (STALE_REMOVED.compareAndSet(false, true)) {
            removeStaleOnFirstUse(current);
        }
        return current.create(limits);
    }

    /** Removes the groups of JVMs that are gone, now. */
    static StaleGroups removeStale(CgroupManager current) throws IOException {
        STALE_REMOVED.set(true);
        return current.removeStale();
    }

    static CgroupManager manager() throws IOException {
        CgroupManager current = manager;
        if (current == null) {
            synchronized (SandboxCgroups.class) {
                current = manager;
                if (current == null) {
                    current = CgroupManager.detect();
                    manager = current;
                }
            }
        }
        return current;
    }

    private static void removeStaleOnFirstUse(CgroupManager current) {
        // a group that cannot be removed now must not stop every sandbox; the next JVM tries again
        try {
            StaleGroups stale = current.removeStale();
            if (!stale.notRemoved().isEmpty()) {
                warn("could not remove " + stale.notRemoved().size() + " cgroup(s) left by JVMs that are gone: "
                        + stale.notRemoved());
            }
        } catch (IOException e) {
            warn("could not look for cgroups left by JVMs that are gone: " + e.getMessage());
        }
    }

    private static void warn(String message) {
        System.getLogger(SandboxCgroups.class.getName()).log(System.Logger.Level.WARNING, message);
    }
}
