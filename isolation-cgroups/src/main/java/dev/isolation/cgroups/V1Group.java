package dev.isolation.cgroups;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;

/**
 * A cgroup v1 group: one directory of the same name in each hierarchy it uses (controllers mounted together share
 * one). Its processes are listed, frozen and killed through the freezer hierarchy, which every group made by
 * {@link CgroupsV1} has; groups created below it (by a program inside) are frozen, killed and removed with it.
 */
final class V1Group implements Cgroup {
    static final Duration FREEZE_PATIENCE = Duration.ofSeconds(5);
    static final Duration KILL_PATIENCE = Duration.ofSeconds(5);
    static final Duration REMOVE_PATIENCE = Duration.ofSeconds(2);
    static final String PROCS = "cgroup.procs";
    static final String TASKS = "tasks";

    private final String name;
    /** Controller to directory, in {@link CgroupsV1#CONTROLLERS} order. */
    private final Map<String, Path> directoryPerController;
    private final List<Path> directories;
    private boolean removed;

    V1Group(String name, Map<String, Path> directoryPerController) {
        this.name = name;
        this.directoryPerController = Collections.unmodifiableMap(new LinkedHashMap<>(directoryPerController));
        this.directories = List.copyOf(new LinkedHashSet<>(directoryPerController.values()));
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public List<Path> directories() {
        return directories;
    }

    /** The group's directory in the hierarchy of {@code controller}, if it uses that hierarchy. */
    Optional<Path> directory(String controller) {
        return Optional.ofNullable(directoryPerController.get(controller));
    }

    @Override
    public List<Path> procsFiles() {
        return fileInEachDirectory(PROCS);
    }

    /** Each hierarchy's tasks file, cpuset first: "0" written there moves the writing thread alone. */
    @Override
    public List<Path> selfJoinFiles() {
        return fileInEachDirectory(TASKS);
    }

    private List<Path> fileInEachDirectory(String name) {
        List<Path> files = new ArrayList<>();
        for (Path dir : directories) {
            files.add(dir.resolve(name));
        }
        return files;
    }

    /**
     * Writes {@code pid} to cgroup.procs in each hierarchy, cpuset first. When one write fails the process may
     * already be in the hierarchies before it: the caller should kill it.
     */
    @Override
    public void addProcess(long pid) throws IOException {
        if (pid < 1) {
            throw new IllegalArgumentException("pid: " + pid + " is not a process id");
        }
        for (Path file : procsFiles()) {
            V1Files.write("addProcess", file, Long.toString(pid));
        }
    }

    /** The pids in the freezer hierarchy's cgroup.procs (every hierarchy holds the same ones), ascending. */
    @Override
    public List<Long> processes() throws IOException {
        Optional<Path> dir = directory("freezer").or(() -> directories.stream().findFirst());
        return dir.isEmpty() ? List.of() : List.copyOf(new TreeSet<>(ControlFiles.readPids(dir.get())));
    }

    /** Reads the usage files; a file this kernel or group lacks counts as 0 (the memory peak as empty). */
    @Override
    public ResourceUsage usage() throws IOException {
        Optional<Path> memory = directory("memory");
        Optional<Path> cpuacct = directory("cpuacct");
        Optional<Path> pids = directory("pids");
        Optional<Path> blkio = directory("blkio");
        V1Cpu.Times cpu = cpuacct.isPresent() ? V1Cpu.times(cpuacct.get()) : V1Cpu.Times.NONE;
        V1Blkio.IoBytes io = blkio.isPresent() ? V1Blkio.bytes(blkio.get()) : V1Blkio.IoBytes.NONE;
        return new ResourceUsage(
                memory.isPresent() ? V1Memory.current(memory.get()) : 0,
                memory.isPresent() ? V1Memory.peak(memory.get()) : OptionalLong.empty(),
                memory.isPresent() ? V1Memory.oomKills(memory.get()) : 0,
                cpu.user(),
                cpu.system(),
                pids.isPresent() ? V1Pids.current(pids.get()) : 0,
                pids.isPresent() ? V1Pids.limitHits(pids.get()) : 0,
                io.read(),
                io.write());
    }

    @Override
    public void freeze() throws IOException {
        V1Freezer.freeze(freezerDirectory(), FREEZE_PATIENCE);
    }

    @Override
    public void thaw() throws IOException {
        V1Freezer.thaw(freezerDirectory());
    }

    private Path freezerDirectory() throws IOException {
        return directory("freezer").orElseThrow(
                () -> new IOException("group " + name + " has no directory in the freezer hierarchy"));
    }

    /**
     * Freezes the group (so that nothing forks meanwhile), SIGKILLs every process in it and the groups below it,
     * thaws it so that the signals are delivered, and waits until cgroup.procs is empty everywhere, killing again
     * what appears (bounded by {@link #KILL_PATIENCE}). Without a freezer directory (a stale group made only in
     * part) it only kills and waits.
     */
    @Override
    public void killAll() throws IOException {
        Backoff backoff = Backoff.within(KILL_PATIENCE, Duration.ofMillis(20));
        Optional<Path> freezer = directory("freezer").filter(Files::isDirectory);
        IOException freezeFailure = null;
        if (freezer.isPresent()) {
            try {
                V1Freezer.freeze(freezer.get(), FREEZE_PATIENCE);
            } catch (IOException e) {
                freezeFailure = e; // kill what can be killed all the same
            }
        }
        try {
            kill(pidsOfSubtree());
        } finally {
            if (freezer.isPresent()) {
                // a group below may have frozen itself: thaw all, or the killed tasks never get to exit
                for (Path dir : subtreeDeepestFirst(freezer.get())) {
                    V1Freezer.thaw(dir);
                }
            }
        }
        for (Set<Long> left = pidsOfSubtree(); !left.isEmpty(); left = pidsOfSubtree()) {
            if (backoff.expired()) {
                IOException e = new IOException("killAll: processes " + left + " are still in group " + name
                        + " (" + directories + ") " + KILL_PATIENCE.toMillis() + " ms after SIGKILL");
                if (freezeFailure != null) {
                    e.addSuppressed(freezeFailure);
                }
                throw e;
            }
            backoff.pause();
            kill(left);
        }
    }

    private static void kill(Iterable<Long> pids) throws IOException {
        long self = ProcessHandle.current().pid();
        for (long pid : pids) {
            if (pid == self) {
                throw new IOException("killAll: this JVM (pid " + pid + ") is in the group: refusing to kill it");
            }
            // SIGKILL (ProcessHandle checks the start time first, so a pid reused meanwhile is spared)
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    /** Every pid in the group's directories and the groups below them. */
    private TreeSet<Long> pidsOfSubtree() throws IOException {
        TreeSet<Long> pids = new TreeSet<>();
        for (Path dir : directories) {
            for (Path group : subtreeDeepestFirst(dir)) {
                pids.addAll(ControlFiles.readPids(group));
            }
        }
        return pids;
    }

    /** {@code dir} and the group directories below it, children before parents; none if {@code dir} is gone. */
    private static List<Path> subtreeDeepestFirst(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        collectDeepestFirst(dir, out);
        return out;
    }

    private static void collectDeepestFirst(Path dir, List<Path> out) throws IOException {
        Optional<List<Path>> children = ControlFiles.childGroups(dir);
        if (children.isEmpty()) {
            return;
        }
        for (Path child : children.get()) {
            collectDeepestFirst(child, out);
        }
        out.add(dir);
    }

    /**
     * Removes the group's directories: at once when the group is empty (its processes have exited and it has no
     * child group), the usual case at a sandbox's end; otherwise kills what is left, then removes the directories
     * (groups below first) with rmdir, retrying while the kernel reports them busy. Does nothing the second time.
     */
    @Override
    public synchronized void remove() throws IOException {
        if (removed) {
            return;
        }
        if (!removeEmptyDirectories()) {
            try {
                removeDirectories();
            } catch (IOException e) {
                if (directories.stream().anyMatch(Files::exists)) {
                    throw e;
                }
                // removed meanwhile by someone else, e.g. the removeStale of another JVM
            }
        }
        removed = true;
    }

    /**
     * One rmdir per directory, which the kernel grants only to a group without processes or child groups: false
     * at the first refusal, leaving the rest to {@link #removeDirectories()}. The freezer directory goes last, so
     * that whatever is left can still be frozen before it is killed.
     */
    private boolean removeEmptyDirectories() {
        for (Path dir : removalOrder()) {
            if (!ControlFiles.removeIfEmpty(dir)) {
                return false;
            }
        }
        return true;
    }

    /** The directories in the reverse of their creation order, the freezer's last. */
    private List<Path> removalOrder() {
        List<Path> order = new ArrayList<>(directories);
        Collections.reverse(order);
        directory("freezer").ifPresent(freezer -> {
            order.remove(freezer);
            order.add(freezer);
        });
        return order;
    }

    private void removeDirectories() throws IOException {
        if (!pidsOfSubtree().isEmpty()) {
            killAll();
        }
        IOException failure = null;
        for (Path dir : removalOrder()) {
            for (Path group : subtreeDeepestFirst(dir)) {
                try {
                    ControlFiles.removeDirectory(group, REMOVE_PATIENCE);
                } catch (IOException e) {
                    if (failure == null) {
                        failure = new IOException("remove: group " + name + ": " + e.getMessage(), e);
                    } else {
                        failure.addSuppressed(e);
                    }
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void close() throws IOException {
        remove();
    }

    @Override
    public String toString() {
        return "V1Group[" + name + ", " + directoryPerController + "]";
    }
}
