package dev.isolation.launch;

import dev.isolation.cgroups.Cgroup;
import dev.isolation.cgroups.CgroupManager;
import dev.isolation.cgroups.ResourceLimits;
import java.io.IOException;

/**
 * The JVM's cgroup manager, detected once. The first time it is used, it removes the groups that JVMs which are
 * no longer running left behind (crash-safe cleanup without a daemon).
 */
final class SandboxCgroups {
    private static volatile CgroupManager manager;

    private SandboxCgroups() {
    }

    static Cgroup create(ResourceLimits limits) throws IOException {
        return manager().create(limits);
    }

    private static CgroupManager manager() throws IOException {
        CgroupManager current = manager;
        if (current == null) {
            synchronized (SandboxCgroups.class) {
                current = manager;
                if (current == null) {
                    current = CgroupManager.detect();
                    try {
                        current.removeStale();
                    } catch (IOException e) {
                        // a group that cannot be removed now must not stop every sandbox; the next JVM tries again
                        System.getLogger(SandboxCgroups.class.getName()).log(System.Logger.Level.WARNING,
                                "could not remove every cgroup left by JVMs that are gone: " + e.getMessage());
                    }
                    manager = current;
                }
            }
        }
        return current;
    }
}
