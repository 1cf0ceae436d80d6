package dev.isolation.cgroups;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * One control group, with its limits applied: on v2 one directory, on v1 one directory in each hierarchy used.
 * Every failing operation throws an {@link IOException} naming the file and the value written.
 */
public interface Cgroup extends AutoCloseable {

    /** The group's name (its last path component, the same in every hierarchy). */
    String name();

    /** The directories of the group, one per hierarchy (v2: exactly one). */
    List<Path> directories();

    /** The files a launcher writes a pid into to put that process in this group before it runs anything. */
    List<Path> procsFiles();

    /**
     * The files through which a single-threaded process that is about to join this group moves itself in, by
     * writing "0" (itself) to each, in this order; empty where a thread cannot move on its own.
     *
     * <p>Why: a pid written to a cgroup.procs file makes the kernel take a global lock (cgroup_threadgroup_rwsem)
     * whose first writer after a pause waits for an RCU grace period (about 5 ms on this project's machine, paid by
     * every start that is not right behind another). A thread moving itself skips that lock. On v1 these are the
     * hierarchies' tasks files. On v2 a thread cannot leave its domain group alone, so this is empty: there, clone3
     * with CLONE_INTO_CGROUP and the group's directory (Linux 5.7+) skips the lock the same way, and
     * {@link #procsFiles()} is the fallback.
     */
    default List<Path> selfJoinFiles() {
        return List.of();
    }

    /**
     * v2: the group's directory, whose descriptor clone3 takes with CLONE_INTO_CGROUP (Linux 5.7+) to start a
     * child inside the group, skipping the wait {@link #selfJoinFiles()} describes; empty on v1, which has no such
     * flag.
     */
    default Optional<Path> cloneIntoDirectory() {
        return Optional.empty();
    }

    /** Moves a process into the group (in every hierarchy). */
    void addProcess(long pid) throws IOException;

    /** The pids now in the group. */
    List<Long> processes() throws IOException;

    ResourceUsage usage() throws IOException;

    /** Stops every process of the group (cgroup.freeze on v2, the freezer on v1) and waits until they are. */
    void freeze() throws IOException;

    void thaw() throws IOException;

    /** SIGKILLs every process of the group at once, double-forked ones included (cgroup.kill, or freeze-kill-thaw). */
    void killAll() throws IOException;

    /**
     * Removes the group once its processes are gone, retrying while the kernel still holds it (bounded); kills
     * what is left first. Removing a removed group does nothing.
     */
    void remove() throws IOException;

    /** Same as {@link #remove()}. */
    @Override
    void close() throws IOException;
}
