package dev.isolation.cgroups;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * Cgroup v2 (the unified hierarchy): each group is one directory under a parent chosen once.
 *
 * <p><b>Where groups go.</b> {@link #forThisProcess} never moves the JVM. v2 lets no group but the root both
 * hold processes and give its children controllers, and the JVM's own group holds the JVM; so:
 * <ul>
 *   <li>a JVM in the root group: groups go in {@code <mount>/isolation}, with cpuset, cpu, io, memory and pids
 *       enabled in the root's and in its cgroup.subtree_control;</li>
 *   <li>elsewhere, when the group above the JVM's is writable: in {@code <that group>/isolation}, with the
 *       controllers that group has or can get;</li>
 *   <li>else inside the JVM's own group with no controller: metering CPU time, freezing and killing work, and
 *       creating a group with any limit fails, naming the missing delegation;</li>
 *   <li>else (nothing writable) every create fails, saying so.</li>
 * </ul>
 * {@link #under(Path)} takes the parent explicitly; {@link #movingJvmIntoLeaf} moves the JVM into a leaf of
 * its own (delegated) cgroup and makes groups beside it.
 *
 * <p><b>Limits.</b> Applied in a fixed order: cpuset, memory, cpu, pids, io. A limit whose controller the parent
 * cannot give fails before anything is made, naming the limit, the controller and why. memory.oom.group is set
 * to 1 whenever {@link ResourceLimits#oomKillsWholeGroup()} (the default) and the group has the memory
 * controller, with or without a memory limit, so that any OOM kill ends the whole group.
 */
public final class CgroupsV2 implements CgroupManager {
    /** The controllers in the order their limits are applied. */
    static final List<V2Controller> CONTROLLERS =
            List.of(new V2Cpuset(), new V2Memory(), new V2Cpu(), new V2Pids(), new V2Io());

    /** The leaf {@link #movingJvmIntoLeaf} moves the JVM into. */
    static final String JVM_LEAF = "jvm";

    private final V2Parent parent;

    private CgroupsV2(V2Parent parent) {
        this.parent = parent;
    }

    /**
     * The manager for this JVM, placed as the class comment says: creates the dedicated {@code isolation} group
     * and enables controllers now, but never moves the JVM. Fails only when there is no cgroup2 mount or this
     * process has no group in it; a parent that cannot be used makes {@link #create} fail with the reason.
     */
    public static CgroupsV2 forThisProcess(CgroupTopology topology) throws IOException {
        return forProcess(mount(topology), ownGroup(topology), Files::isWritable, currentUid());
    }

    /**
     * For a JVM whose own cgroup is delegated to it (systemd's {@code Delegate=yes}): moves the JVM (all its
     * threads) into the leaf {@code <own>/jvm}, enables the controllers in its own cgroup and makes groups there,
     * beside the leaf. This is the one way here that moves the JVM, so it is asked for by name. Processes other
     * than the JVM left in its cgroup (e.g. a wrapper shell) keep the controllers from being enabled; limits then
     * fail naming that. A JVM in the root cgroup is not moved: this is then {@link #forThisProcess}.
     */
    public static CgroupsV2 movingJvmIntoLeaf(CgroupTopology topology) throws IOException {
        Path mount = mount(topology);
        Path own = ownGroup(topology);
        if (own.equals(mount)) {
            return forProcess(mount, own, Files::isWritable, currentUid());
        }
        Path leaf = own.resolve(JVM_LEAF);
        try {
            Files.createDirectory(leaf);
        } catch (FileAlreadyExistsException e) {
            // a leaf made before: reuse it
        } catch (IOException e) {
            throw new IOException("cannot create the JVM's leaf cgroup " + leaf + ": " + V2Files.reason(e)
                    + " (is the JVM's cgroup delegated to uid " + currentUid() + "?)", e);
        }
        new V2Group(leaf).addProcess(ProcessHandle.current().pid());
        return under(own);
    }

    private static Path mount(CgroupTopology topology) throws IOException {
        return topology.unifiedMountPoint().orElseThrow(() -> new IOException(
                "no cgroup2 mount in " + CgroupTopology.PROC_SELF_MOUNTINFO + ": cgroup v2 is not available"));
    }

    private static Path ownGroup(CgroupTopology topology) throws IOException {
        return topology.ownUnifiedDirectory().orElseThrow(() -> new IOException("this process's cgroup v2 group ("
                + topology.unifiedPath().map(p -> "\"0::" + p + "\"").orElse("no \"0::\" line") + " in "
                + CgroupTopology.PROC_SELF_CGROUP + ") is not visible under the cgroup2 mount "
                + topology.unifiedMountPoint().orElseThrow() + ": pass a parent with CgroupsV2.under(path)"));
    }

    /** {@link #forThisProcess} with the JVM's group, the writability test and the uid given (tests). */
    static CgroupsV2 forProcess(Path mount, Path own, Predicate<Path> writable, long uid) {
        return new CgroupsV2(V2Parent.forProcess(mount, own, writable, uid));
    }

    /**
     * Groups in {@code parent}, a writable cgroup v2 directory that holds no process itself (unless it is the
     * root). Every controller the parent is offered is enabled in its cgroup.subtree_control when possible; a
     * limit needing one that is not fails at {@link #create} with the reason.
     */
    public static CgroupsV2 under(Path parent) throws IOException {
        return new CgroupsV2(V2Parent.under(parent, Files::isWritable, currentUid()));
    }

    /** The directory new groups are made in; empty when none can be (then {@link #create} says why). */
    public Optional<Path> parent() {
        return parent.directory();
    }

    @Override
    public CgroupMode mode() {
        return CgroupMode.UNIFIED;
    }

    /**
     * The controllers enabled for the groups (of cpuset, cpu, io, memory, pids), plus "freezer" when the kernel
     * has cgroup.freeze (Linux 5.2+), which v2 has in every group rather than as a controller.
     */
    @Override
    public Set<String> controllers() {
        Set<String> controllers = new LinkedHashSet<>(parent.enabled());
        parent.directory().ifPresent(dir -> {
            // the root has no cgroup.freeze (nor cgroup.type); every other group has it from Linux 5.2 on
            if (Files.exists(dir.resolve(V2Group.FREEZE)) || !Files.exists(dir.resolve("cgroup.type"))) {
                controllers.add("freezer");
            }
        });
        return Collections.unmodifiableSet(controllers);
    }

    @Override
    public Cgroup create(ResourceLimits limits) throws IOException {
        if (parent.directory().isEmpty()) {
            throw new IOException("cannot create a cgroup: " + parent.unusable());
        }
        Path dir = parent.directory().get();
        for (V2Controller controller : CONTROLLERS) {
            List<String> set = controller.limitsSet(limits);
            if (!set.isEmpty() && !parent.enabled().contains(controller.name())) {
                throw new IOException(set.get(0) + ": the " + controller.name() + " controller is not enabled in "
                        + dir.resolve(V2Parent.SUBTREE_CONTROL) + " and cannot be: "
                        + parent.whyMissing(controller.name()));
            }
        }
        Path groupDir = dir.resolve(JvmLabel.next());
        try {
            Files.createDirectory(groupDir);
        } catch (IOException e) {
            throw new IOException("cannot create the cgroup " + groupDir + ": " + V2Files.reason(e), e);
        }
        V2Group group = new V2Group(groupDir);
        try {
            for (V2Controller controller : CONTROLLERS) {
                controller.apply(groupDir, limits);
            }
        } catch (IOException | RuntimeException e) {
            try {
                group.remove();
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        return group;
    }

    /** Kills and removes the labelled groups under {@link #parent()} whose JVM is gone. */
    @Override
    public StaleGroups removeStale() throws IOException {
        List<String> removed = new ArrayList<>();
        Map<String, String> notRemoved = new TreeMap<>();
        if (parent.directory().isEmpty()) {
            return new StaleGroups(removed, notRemoved);
        }
        Path dir = parent.directory().get();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS) && JvmLabel.ownerIsGone(name)) {
                    try {
                        new V2Group(entry).remove();
                        removed.add(name);
                    } catch (IOException e) {
                        notRemoved.put(name, e.getMessage());
                    }
                }
            }
        } catch (IOException e) {
            throw new IOException("cannot list " + dir + " for stale groups: " + V2Files.reason(e), e);
        }
        return new StaleGroups(removed, notRemoved);
    }

    @Override
    public String toString() {
        return "CgroupsV2[" + parent + "]";
    }

    /** The effective uid, from the owner of /proc/self (proc(5)); -1 when unknown. */
    private static long currentUid() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
