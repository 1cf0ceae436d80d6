package dev.isolation.cgroups;

import java.io.IOException;
import java.util.Set;

/**
 * Creates cgroups with limits, on cgroup v2 or v1 behind one API. {@link #detect()} picks the version this host
 * uses and a safe parent; {@link CgroupsV2#under} and {@link CgroupsV1#under} take an explicit one.
 */
public interface CgroupManager {

    /**
     * The manager for this host: v2 when the unified hierarchy has controllers (pure v2), else v1 (legacy or
     * hybrid). Fails, naming what is missing, when no usable hierarchy is mounted.
     *
     * <p>What it detects is reused by every {@link #create}: each create only rereads /proc/self/cgroup, and
     * detects again when that changed (this process was moved) or when a create fails on a topology that changed
     * since (a hierarchy unmounted or mounted elsewhere), then tries once more.
     */
    static CgroupManager detect() throws IOException {
        return RevalidatingCgroupManager.forThisProcess();
    }

    CgroupMode mode();

    /** The controllers groups of this manager can use (e.g. memory, cpu, pids, io/blkio, cpuset, freezer). */
    Set<String> controllers();

    /**
     * Creates a new group, labelled as this JVM's, and applies {@code limits}: every limit is applied or this
     * throws, naming the limit, the file and why (including a control with no equivalent on this version).
     * Nothing is left behind when it throws.
     */
    Cgroup create(ResourceLimits limits) throws IOException;

    /**
     * Removes the groups that JVMs which are no longer running left under this manager's parent (killing what is
     * still in them). Tries every one: those it cannot remove are in {@link StaleGroups#notRemoved()}, with why.
     * Groups of live JVMs are not touched.
     *
     * @throws IOException if the parent cannot be listed
     */
    StaleGroups removeStale() throws IOException;
}
