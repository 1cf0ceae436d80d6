package dev.isolation.cgroups;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * One cgroup v2 controller: which limits it carries and how it writes them into a group's files. Each
 * implementation writes only the limits that are set and leaves every other file at the kernel's default.
 */
interface V2Controller {

    /** The controller's name in cgroup.controllers and cgroup.subtree_control, e.g. "memory". */
    String name();

    /** The names (as in {@link ResourceLimits}) of the limits of {@code limits} this controller applies. */
    List<String> limitsSet(ResourceLimits limits);

    /** Writes the set limits into the group directory {@code group}. */
    void apply(Path group, ResourceLimits limits) throws IOException;
}
