package dev.isolation.cgroups;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

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
