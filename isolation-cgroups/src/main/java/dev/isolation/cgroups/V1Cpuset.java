package dev.isolation.cgroups;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The v1 cpuset controller: cpuset.cpus and cpuset.mems. A v1 cpuset group starts with both empty and refuses
 * tasks until both are filled in (ENOSPC), so a value the limits do not set is copied from the parent group
 * (its cpuset.cpus, or cpuset.effective_cpus when that is empty; the same for mems).
 */
final class V1Cpuset {
    static final String CPUS = "cpuset.cpus";
    static final String MEMS = "cpuset.mems";
    static final String EFFECTIVE_CPUS = "cpuset.effective_cpus";
    static final String EFFECTIVE_MEMS = "cpuset.effective_mems";

    private V1Cpuset() {
    }

    static boolean isUsed(ResourceLimits limits) {
        return limits.cpusetCpus().isPresent() || limits.cpusetMems().isPresent();
    }

    /** Fills in the cpus and mems of the new group {@code dir}, whose parent group is {@code parent}. */
    static void apply(Path dir, Path parent, ResourceLimits limits) throws IOException {
        set("cpusetCpus", dir, parent, CPUS, EFFECTIVE_CPUS, limits.cpusetCpus());
        set("cpusetMems", dir, parent, MEMS, EFFECTIVE_MEMS, limits.cpusetMems());
    }

    private static void set(String setting, Path dir, Path parent, String file, String effective,
            Optional<String> wanted) throws IOException {
        String allowed = inherited(parent, file, effective);
        if (wanted.isPresent()) {
            V1Files.write(setting, dir.resolve(file), wanted.get(),
                    "the parent " + parent + " allows \"" + allowed + "\"");
        } else {
            V1Files.write(setting, dir.resolve(file), allowed, "copied from the parent " + parent);
        }
    }

    /** The parent's own list, or its effective one when its own is empty. */
    private static String inherited(Path parent, String file, String effective) throws IOException {
        String own = ControlFiles.read(parent.resolve(file)).trim();
        if (!own.isEmpty()) {
            return own;
        }
        return ControlFiles.readIfExists(parent.resolve(effective)).orElse("").trim();
    }
}
