package dev.isolation.launch;

import dev.isolation.CleanupReport;
import dev.isolation.cgroups.CgroupManager;
import dev.isolation.cgroups.StaleGroups;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What JVMs that are gone left, found and removed: the cgroups by {@link SandboxCgroups}, the runtime directories
 * by {@link RuntimeDirectory}, the helper copies by {@link HelperBinary}; each adds what it removed here.
 */
public final class AbandonedResources {
    private final List<String> cgroups = new ArrayList<>();
    private final List<Path> directories = new ArrayList<>();
    private final List<Path> sockets = new ArrayList<>();
    private final List<Path> files = new ArrayList<>();
    private final List<CleanupReport.NotRemoved> notRemoved = new ArrayList<>();

    AbandonedResources() {
    }

    /** Removes everything of JVMs that are gone (the call behind {@link dev.isolation.SandboxCleanup}). */
    public static CleanupReport removeAll() throws IOException {
        AbandonedResources found = new AbandonedResources();
        found.removeCgroups();
        RuntimeDirectory.removeAbandoned(found);
        HelperBinary.removeAbandonedCopies(HelperBinary.cacheDirectory(), found);
        return found.report();
    }

    private void removeCgroups() {
        CgroupManager manager;
        try {
            manager = SandboxCgroups.manager();
        } catch (IOException e) {
            return;     // no usable hierarchy: no group can have been made under the default placement
        }
        try {
            StaleGroups stale = SandboxCgroups.removeStale(manager);
            cgroups.addAll(stale.removed());
            stale.notRemoved().forEach((name, why) -> notRemoved("cgroup " + name, why));
        } catch (IOException e) {
            notRemoved("cgroups of " + manager, String.valueOf(e.getMessage()));
        }
    }

    void directory(Path path) {
        directories.add(path);
    }

    void socket(Path path) {
        sockets.add(path);
    }

    void file(Path path) {
        files.add(path);
    }

    void notRemoved(String what, String why) {
        notRemoved.add(new CleanupReport.NotRemoved(what, why));
    }

    CleanupReport report() {
        return new CleanupReport(cgroups, directories, sockets, files, notRemoved);
    }
}
