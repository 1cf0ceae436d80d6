package dev.isolation.cgroups;

import java.io.IOException;
import java.util.Objects;
import java.util.Set;

/**
 * The manager {@link CgroupManager#detect()} returns: the topology (mounts, this process's groups) and the manager
 * built on it are worked out once, then reused by every {@link #create}, which only checks that they still hold:
 *
 * <ul>
 *   <li>before each create it reads /proc/self/cgroup (one small read) and compares it with the text the manager
 *       was built from: when this process has been moved to another group, or a hierarchy has gone, the topology
 *       is detected again and a new manager built on it;</li>
 *   <li>when a create fails, the topology is detected again (mountinfo too: a hierarchy unmounted, or mounted
 *       elsewhere, shows only there); if it changed, the create is tried once more on the new manager, else the
 *       failure is the caller's.</li>
 * </ul>
 *
 * Groups made before a change keep their own directories and are removed there.
 */
final class RevalidatingCgroupManager implements CgroupManager {

    /** Where this process's view of the cgroup tree is read: its /proc/self files, or text in tests. */
    interface ProcessView {
        /** The text of /proc/self/cgroup. */
        String membership() throws IOException;

        /** The text of /proc/self/mountinfo. */
        String mountinfo() throws IOException;
    }

    /** Builds the manager for a topology; fails when the topology has no usable hierarchy. */
    interface ManagerFactory {
        CgroupManager managerFor(CgroupTopology topology) throws IOException;
    }

    /** A manager and what it was built from. */
    private record Detected(String membership, CgroupTopology topology, CgroupManager manager) {
    }

    static final ProcessView THIS_PROCESS = new ProcessView() {
        @Override
        public String membership() throws IOException {
            return ControlFiles.read(CgroupTopology.PROC_SELF_CGROUP);
        }

        @Override
        public String mountinfo() throws IOException {
            return ControlFiles.read(CgroupTopology.PROC_SELF_MOUNTINFO);
        }
    };

    private final ProcessView view;
    private final ManagerFactory factory;
    private volatile Detected detected;

    private RevalidatingCgroupManager(ProcessView view, ManagerFactory factory, Detected detected) {
        this.view = view;
        this.factory = factory;
        this.detected = detected;
    }

    /** The manager for this process, detected now. */
    static RevalidatingCgroupManager forThisProcess() throws IOException {
        return of(THIS_PROCESS, RevalidatingCgroupManager::managerFor);
    }

    /** The manager for the process {@code view} describes, with managers built by {@code factory} (tests). */
    static RevalidatingCgroupManager of(ProcessView view, ManagerFactory factory) throws IOException {
        Objects.requireNonNull(view, "view");
        Objects.requireNonNull(factory, "factory");
        String membership = view.membership();
        CgroupTopology topology = topology(view, membership);
        return new RevalidatingCgroupManager(view, factory,
                new Detected(membership, topology, factory.managerFor(topology)));
    }

    /** v2 when the unified hierarchy has controllers (pure v2), else v1 (legacy or hybrid). */
    static CgroupManager managerFor(CgroupTopology topology) throws IOException {
        return switch (topology.mode()) {
            case UNIFIED -> CgroupsV2.forThisProcess(topology);
            case LEGACY, HYBRID -> CgroupsV1.forThisProcess(topology);
            case NONE -> throw new IOException("no cgroup hierarchy is mounted (" + CgroupTopology.PROC_SELF_MOUNTINFO
                    + " has neither cgroup2 nor cgroup): resource limits and metering need one");
        };
    }

    private static CgroupTopology topology(ProcessView view, String membership) throws IOException {
        String mountinfo = view.mountinfo();
        try {
            return CgroupTopology.parse(mountinfo, membership);
        } catch (IllegalArgumentException e) {
            throw new IOException("cannot work out this process's cgroups: " + e.getMessage(), e);
        }
    }

    /** The manager in use now (the last one built). */
    CgroupManager current() {
        return detected.manager();
    }

    @Override
    public CgroupMode mode() {
        return detected.manager().mode();
    }

    @Override
    public Set<String> controllers() {
        return detected.manager().controllers();
    }

    @Override
    public Cgroup create(ResourceLimits limits) throws IOException {
        Objects.requireNonNull(limits, "limits");
        Detected used = upToDate();
        try {
            return used.manager().create(limits);
        } catch (IOException failure) {
            Detected fresh;
            try {
                fresh = redetect(view.membership());
            } catch (IOException | RuntimeException e) {
                failure.addSuppressed(e);
                throw failure;
            }
            if (fresh.manager() == used.manager()) {
                throw failure;          // the topology holds: the failure is not a stale one
            }
            try {
                return fresh.manager().create(limits);
            } catch (IOException again) {
                again.addSuppressed(failure);
                throw again;
            }
        }
    }

    @Override
    public StaleGroups removeStale() throws IOException {
        return upToDate().manager().removeStale();
    }

    /** The manager, rebuilt first if /proc/self/cgroup no longer reads as it did when it was built. */
    private Detected upToDate() throws IOException {
        Detected known = detected;
        String membership = view.membership();
        return membership.equals(known.membership()) ? known : redetect(membership);
    }

    /** Detects the topology again; builds a new manager only when it differs from the known one. */
    private synchronized Detected redetect(String membership) throws IOException {
        CgroupTopology topology = topology(view, membership);
        Detected known = detected;
        Detected now = topology.equals(known.topology())
                ? new Detected(membership, topology, known.manager())
                : new Detected(membership, topology, factory.managerFor(topology));
        detected = now;
        return now;
    }

    @Override
    public String toString() {
        return "RevalidatingCgroupManager[" + detected.manager() + "]";
    }
}
