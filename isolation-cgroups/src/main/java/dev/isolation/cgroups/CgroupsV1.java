package dev.isolation.cgroups;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Groups on cgroup v1 (legacy and hybrid hosts), where each controller has its own hierarchy: a group is a
 * directory of the same name, {@link JvmLabel#next()}, below a parent in each hierarchy it uses.
 *
 * <p>Every group uses the memory, cpuacct, pids and freezer hierarchies (metering, freezing, killing) and blkio
 * where it is mounted (io metering); the cpu hierarchy only with a CPU quota or weight, the cpuset hierarchy only
 * with a cpuset. They are created, and the limits applied, in the order of {@link #CONTROLLERS}, cpuset first:
 * its cpus and mems must be filled in before a task can join. What each limit becomes is described in
 * {@link V1Memory}, {@link V1Cpu}, {@link V1Cpuset}, {@link V1Pids} and {@link V1Blkio}.
 *
 * <p>v1 has no delegation: its hierarchies are writable by root only (unless an administrator hands a subtree
 * over), and {@link #create} says so when the parent is not writable.
 */
public final class CgroupsV1 implements CgroupManager {
    /** The controllers this backend uses, in the order groups are made and limits applied. */
    static final List<String> CONTROLLERS = List.of("cpuset", "memory", "cpu", "cpuacct", "pids", "blkio", "freezer");

    private final CgroupMode mode;
    /** Controller to parent directory, in {@link #CONTROLLERS} order; co-mounted controllers share a parent. */
    private final Map<String, Path> parents;

    private CgroupsV1(CgroupMode mode, Map<String, Path> parents) {
        this.mode = mode;
        this.parents = Collections.unmodifiableMap(parents);
    }

    /**
     * The manager whose groups live below this process's own group in each v1 hierarchy (never elsewhere: the
     * rest of the hierarchy belongs to others). Fails when no freezer hierarchy holds this process.
     */
    public static CgroupsV1 forThisProcess(CgroupTopology topology) throws IOException {
        Objects.requireNonNull(topology, "topology");
        Map<String, Path> parents = new LinkedHashMap<>();
        for (String controller : CONTROLLERS) {
            topology.ownGroupDirectory(controller).ifPresent(dir -> parents.put(controller, dir));
        }
        if (!parents.containsKey("freezer")) {
            throw new IOException("no cgroup v1 freezer hierarchy holds this process (v1 controllers mounted: "
                    + topology.v1MountPoints().keySet() + "): groups need it to freeze their processes and to kill"
                    + " them all at once");
        }
        return new CgroupsV1(topology.mode(), parents);
    }

    /**
     * The manager whose groups live below the given parent directory of each controller (keys among
     * {@link #CONTROLLERS}; controllers mounted together may share one). The freezer is required. Its
     * {@link #mode()} is {@link CgroupMode#LEGACY}: it uses v1 hierarchies only.
     */
    public static CgroupsV1 under(Map<String, Path> parentPerController) {
        Objects.requireNonNull(parentPerController, "parentPerController");
        for (Map.Entry<String, Path> entry : parentPerController.entrySet()) {
            if (!CONTROLLERS.contains(entry.getKey())) {
                throw new IllegalArgumentException("parentPerController: \"" + entry.getKey()
                        + "\" is not a controller this backend uses " + CONTROLLERS);
            }
            if (entry.getValue() == null || !entry.getValue().isAbsolute()) {
                throw new IllegalArgumentException("parentPerController: the parent of " + entry.getKey()
                        + " must be an absolute path, not " + entry.getValue());
            }
        }
        if (!parentPerController.containsKey("freezer")) {
            throw new IllegalArgumentException("parentPerController: needs a freezer parent (groups are frozen and"
                    + " killed through it)");
        }
        Map<String, Path> parents = new LinkedHashMap<>();
        for (String controller : CONTROLLERS) {
            if (parentPerController.containsKey(controller)) {
                parents.put(controller, parentPerController.get(controller));
            }
        }
        return new CgroupsV1(CgroupMode.LEGACY, parents);
    }

    @Override
    public CgroupMode mode() {
        return mode;
    }

    @Override
    public Set<String> controllers() {
        return parents.keySet();
    }

    /** Controller to the parent directory of this manager's groups. */
    Map<String, Path> parents() {
        return parents;
    }

    /**
     * Creates the group's directories and applies {@code limits}, or throws naming the limit, the file, the value
     * and the kernel's reason, after removing whatever it had created. {@code oomKillsWholeGroup} is ignored: v1
     * has no such control (see {@link V1Memory}).
     */
    @Override
    public Cgroup create(ResourceLimits limits) throws IOException {
        Objects.requireNonNull(limits, "limits");
        List<String> used = hierarchiesFor(limits);
        String name = JvmLabel.next();
        Map<String, Path> created = new LinkedHashMap<>();
        try {
            Map<Path, Path> groupOfParent = new HashMap<>();
            for (String controller : used) {
                Path parent = parents.get(controller);
                Path dir = groupOfParent.get(parent);
                boolean made = dir == null;
                if (made) {
                    dir = parent.resolve(name);
                    makeDirectory(controller, dir);
                    groupOfParent.put(parent, dir);
                }
                created.put(controller, dir);
                if (made) {
                    requireGroupDirectory(controller, dir);
                }
            }
            if (created.containsKey("cpuset")) {
                V1Cpuset.apply(created.get("cpuset"), parents.get("cpuset"), limits);
            }
            if (created.containsKey("memory")) {
                V1Memory.apply(created.get("memory"), limits);
            }
            if (created.containsKey("cpu")) {
                V1Cpu.apply(created.get("cpu"), limits);
            }
            if (created.containsKey("pids")) {
                V1Pids.apply(created.get("pids"), limits);
            }
            if (created.containsKey("blkio")) {
                V1Blkio.apply(created.get("blkio"), limits);
            }
            return new V1Group(name, created);
        } catch (IOException | RuntimeException e) {
            try {
                new V1Group(name, created).remove();
            } catch (IOException | RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /** The hierarchies a group with {@code limits} is made in; throws when a limit's hierarchy is missing. */
    private List<String> hierarchiesFor(ResourceLimits limits) throws IOException {
        requireHierarchy("memory", V1Memory.isUsed(limits), limits.memoryMax().isPresent() ? "memoryMax"
                : limits.memorySwapMax().isPresent() ? "memorySwapMax" : "memoryHigh");
        requireHierarchy("cpu", V1Cpu.isUsed(limits), limits.cpuQuota().isPresent() ? "cpuQuota" : "cpuWeight");
        requireHierarchy("cpuset", V1Cpuset.isUsed(limits),
                limits.cpusetCpus().isPresent() ? "cpusetCpus" : "cpusetMems");
        requireHierarchy("pids", V1Pids.isUsed(limits), "pidsMax");
        requireHierarchy("blkio", V1Blkio.isUsed(limits), limits.ioLimits().isEmpty() ? "ioWeight" : "ioLimit");
        List<String> used = new ArrayList<>();
        for (String controller : parents.keySet()) {
            boolean wanted = switch (controller) {
                case "cpuset" -> V1Cpuset.isUsed(limits);
                case "cpu" -> V1Cpu.isUsed(limits);
                default -> true; // memory, cpuacct, pids, blkio, freezer: metering, freezing, killing
            };
            if (wanted) {
                used.add(controller);
            }
        }
        return used;
    }

    private void requireHierarchy(String controller, boolean needed, String setting) throws IOException {
        if (needed && !parents.containsKey(controller)) {
            throw new IOException(setting + ": no cgroup v1 hierarchy carries the " + controller + " controller"
                    + " here (this manager has " + parents.keySet() + ")");
        }
    }

    private static IOException notWritable(Path parent, String controllers, IOException cause) {
        return new IOException("cgroup v1 hierarchy " + parent + " (" + controllers + ") is not writable by uid "
                + currentUid() + "; cgroup v1 has no delegation: run as root, or use a cgroup v2 host with a"
                + " delegated subtree", cause);
    }

    private static String currentUid() {
        try {
            return String.valueOf(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    /**
     * mkdir of the group's directory in one hierarchy; the parent is not checked beforehand (that would cost every
     * start a stat per hierarchy): the kernel's refusal is turned into the reason instead.
     */
    private static void makeDirectory(String controller, Path dir) throws IOException {
        try {
            Files.createDirectory(dir);
        } catch (AccessDeniedException e) {
            throw notWritable(dir.getParent(), controller, e);
        } catch (NoSuchFileException e) {
            throw new IOException("cannot create the group directory " + dir + ": the cgroup v1 parent group "
                    + dir.getParent() + " (" + controller + ") does not exist", e);
        } catch (FileAlreadyExistsException e) {
            throw new IOException("cannot create the group directory " + dir + ": it exists already", e);
        } catch (IOException e) {
            throw new IOException("cannot create the group directory " + dir + ": " + ControlFiles.reason(e), e);
        }
    }

    /**
     * Checks that the kernel made {@code dir} a group, with its cgroup.procs: a directory without one was made on
     * whatever is left where the hierarchy was mounted (it has been unmounted since this manager was made), and
     * the first limit written or process added there would fail less clearly.
     */
    private static void requireGroupDirectory(String controller, Path dir) throws IOException {
        if (!Files.exists(dir.resolve(V1Group.PROCS), LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("the " + controller + " hierarchy is no longer mounted at " + dir.getParent()
                    + ": the directory " + dir + " made there has no " + V1Group.PROCS + ", so it is not a cgroup");
        }
    }

    /**
     * Removes the groups below this manager's parents whose {@link JvmLabel} names a JVM that is gone, killing
     * what is still in them; a group (not a directory) is one entry of the result.
     */
    @Override
    public StaleGroups removeStale() throws IOException {
        Map<String, Map<String, Path>> stale = new TreeMap<>();
        Map<String, Boolean> gone = new HashMap<>();
        for (Map.Entry<String, Path> entry : parents.entrySet()) {
            Path parent = entry.getValue();
            try (DirectoryStream<Path> children = Files.newDirectoryStream(parent,
                    child -> Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS))) {
                for (Path child : children) {
                    String name = child.getFileName().toString();
                    if (JvmLabel.isLabelled(name) && gone.computeIfAbsent(name, JvmLabel::ownerIsGone)) {
                        stale.computeIfAbsent(name, n -> new LinkedHashMap<>()).put(entry.getKey(), child);
                    }
                }
            } catch (NoSuchFileException e) {
                continue;
            } catch (IOException e) {
                throw new IOException("removeStale: cannot list " + parent + ": " + ControlFiles.reason(e), e);
            }
        }
        List<String> removed = new ArrayList<>();
        Map<String, String> notRemoved = new TreeMap<>();
        for (Map.Entry<String, Map<String, Path>> entry : stale.entrySet()) {
            try {
                new V1Group(entry.getKey(), entry.getValue()).remove();
                removed.add(entry.getKey());
            } catch (IOException e) {
                notRemoved.put(entry.getKey(), e.getMessage());
            }
        }
        return new StaleGroups(removed, notRemoved);
    }

    @Override
    public String toString() {
        return "CgroupsV1[" + mode + ", parents=" + parents + "]";
    }
}
