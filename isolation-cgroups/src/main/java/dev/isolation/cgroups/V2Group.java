package dev.isolation.cgroups;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * One cgroup v2 group: a directory of the unified hierarchy. Waits on the kernel (freezing, emptying, removal)
 * are bounded by {@link #WAIT_LIMIT}.
 */
final class V2Group implements Cgroup {
    static final String PROCS = "cgroup.procs";
    static final String EVENTS = "cgroup.events";
    static final String FREEZE = "cgroup.freeze";
    static final String KILL = "cgroup.kill";

    /** How long freeze, killAll and remove wait for the kernel before they give up. */
    static final Duration WAIT_LIMIT = Duration.ofSeconds(10);
    /** The longest pause between two polls of the kernel's state. */
    static final Duration MAX_PAUSE = Duration.ofMillis(50);

    private final Path directory;

    V2Group(Path directory) {
        this.directory = directory;
    }

    @Override
    public String name() {
        return directory.getFileName().toString();
    }

    @Override
    public List<Path> directories() {
        return List.of(directory);
    }

    @Override
    public List<Path> procsFiles() {
        return List.of(directory.resolve(PROCS));
    }

    /** None: on v2 a thread cannot move on its own out of its domain group (use CLONE_INTO_CGROUP instead). */
    @Override
    public List<Path> selfJoinFiles() {
        return List.of();
    }

    @Override
    public Optional<Path> cloneIntoDirectory() {
        return Optional.of(directory);
    }

    @Override
    public void addProcess(long pid) throws IOException {
        Path procs = directory.resolve(PROCS);
        try {
            V2Files.write(procs, Long.toString(pid), "addProcess");
        } catch (IOException e) {
            String reason = V2Files.reason(e);
            String hint = "";
            if (reason.contains("No such process")) {
                hint = " (process " + pid + " does not exist)";
            } else if (reason.contains("Permission denied") || reason.contains("permission denied")
                    || reason.contains("Operation not permitted")) {
                hint = " (moving a process needs write access to the cgroup.procs of the closest common ancestor of"
                        + " its current group and this one)";
            }
            throw new IOException(e.getMessage() + hint, e.getCause());
        }
    }

    @Override
    public List<Long> processes() throws IOException {
        Set<Long> pids = new LinkedHashSet<>();
        Path procs = directory.resolve(PROCS);
        for (String line : V2Files.read(procs).split("\n")) {
            if (!line.isBlank()) {
                try {
                    pids.add(Long.parseLong(line.strip()));
                } catch (NumberFormatException e) {
                    throw new IOException("malformed line in " + procs + ": \"" + line + "\"", e);
                }
            }
        }
        return List.copyOf(pids);
    }

    @Override
    public ResourceUsage usage() throws IOException {
        V2Cpu.Times cpu = V2Cpu.times(directory);
        long[] io = V2Io.readWrittenBytes(directory);
        return new ResourceUsage(V2Memory.current(directory), V2Memory.peak(directory), V2Memory.oomKills(directory),
                cpu.user(), cpu.system(), V2Pids.current(directory), V2Pids.limitHits(directory), io[0], io[1]);
    }

    /** Total CPU time of the group (usage_usec of cpu.stat). */
    Duration cpuTime() throws IOException {
        return V2Cpu.times(directory).total();
    }

    @Override
    public void freeze() throws IOException {
        Path freeze = directory.resolve(FREEZE);
        if (!Files.exists(freeze)) {
            throw new IOException("freeze: " + freeze + " does not exist: freezing a v2 group needs Linux 5.2 or"
                    + " later");
        }
        V2Files.write(freeze, "1", "freeze");
        awaitEvent("frozen", 1, "freeze");
    }

    @Override
    public void thaw() throws IOException {
        V2Files.write(directory.resolve(FREEZE), "0", "thaw");
        awaitEvent("frozen", 0, "thaw");
    }

    @Override
    public void killAll() throws IOException {
        Path kill = directory.resolve(KILL);
        if (Files.exists(kill)) {
            V2Files.write(kill, "1", "killAll");
            awaitEvent("populated", 0, "killAll");
        } else {
            killByFreezing();
        }
    }

    /**
     * killAll before Linux 5.14 (no cgroup.kill): freezes the group so that nothing forks, SIGKILLs each of its
     * processes (a fatal signal reaches a frozen process), thaws it and waits until it is empty. Before Linux 5.2
     * (no cgroup.freeze either) it kills in rounds until nothing is left to kill.
     */
    void killByFreezing() throws IOException {
        boolean canFreeze = Files.exists(directory.resolve(FREEZE));
        if (canFreeze) {
            freeze();
        }
        Backoff betweenRounds = Backoff.within(Duration.ofSeconds(1), Duration.ofMillis(10));
        try {
            for (int round = 0; round < (canFreeze ? 3 : 100); round++) {
                List<Long> pids = processes();
                if (pids.isEmpty()) {
                    break;
                }
                for (long pid : pids) {
                    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                }
                if (!canFreeze) {
                    betweenRounds.pause();
                }
            }
        } finally {
            if (canFreeze) {
                thaw();
            }
        }
        awaitEvent("populated", 0, "killAll");
    }

    /**
     * Removes the group: at once with one rmdir when it is empty (its processes have exited and it has no child
     * group), the usual case at a sandbox's end; otherwise kills what is left and removes the groups a program made
     * inside it, deepest first. Removing a removed group does nothing.
     */
    @Override
    public void remove() throws IOException {
        if (ControlFiles.removeIfEmpty(directory) || !Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (isPopulated()) {
            killAll();
        }
        removeTree(directory);
    }

    @Override
    public void close() throws IOException {
        remove();
    }

    /** Removes {@code dir} and the groups a sandboxed program may have made inside it, deepest first. */
    private static void removeTree(Path dir) throws IOException {
        Optional<List<Path>> children = ControlFiles.childGroups(dir);
        if (children.isEmpty()) {
            return;
        }
        for (Path child : children.get()) {
            removeTree(child);
        }
        rmdir(dir);
    }

    /** rmdir, retried while the kernel answers EBUSY (processes still exiting), bounded. */
    private static void rmdir(Path dir) throws IOException {
        try {
            ControlFiles.removeDirectory(dir, WAIT_LIMIT);
        } catch (IOException e) {
            List<Long> left = ControlFiles.readPids(dir);
            throw new IOException(e.getMessage() + (left.isEmpty() ? "" : "; processes still in it: " + left), e);
        }
    }

    /** Whether the group or a descendant has a live process ("populated 1" in cgroup.events). */
    boolean isPopulated() throws IOException {
        return event("populated").orElse(0L) != 0;
    }

    /** Whether the group is frozen ("frozen 1" in cgroup.events). */
    boolean isFrozen() throws IOException {
        return event("frozen").orElse(0L) != 0;
    }

    private Optional<Long> event(String key) throws IOException {
        Path events = directory.resolve(EVENTS);
        Optional<String> text = V2Files.readIfPresent(events);
        if (text.isEmpty()) {
            return Optional.empty();
        }
        return Optional.ofNullable(V2Files.flatKeyed(events, text.get()).get(key));
    }

    /** Polls cgroup.events until {@code key} has {@code value}, at most {@link #WAIT_LIMIT}. */
    private void awaitEvent(String key, long value, String operation) throws IOException {
        Backoff backoff = Backoff.within(WAIT_LIMIT, MAX_PAUSE);
        while (true) {
            Optional<Long> now = event(key);
            if (now.isEmpty() && !Files.isDirectory(directory)) {
                return; // the group is gone: nothing left to wait for
            }
            if (now.isPresent() && now.get() == value) {
                return;
            }
            if (backoff.expired()) {
                String state = V2Files.readIfPresent(directory.resolve(EVENTS)).orElse("(absent)");
                throw new IOException(operation + ": " + directory.resolve(EVENTS) + " did not report \"" + key + " "
                        + value + "\" within " + WAIT_LIMIT.toSeconds() + " s; it reads \""
                        + state.replace('\n', ',') + "\"; processes: " + processes());
            }
            backoff.pause();
        }
    }

    @Override
    public String toString() {
        return "V2Group[" + directory + "]";
    }
}
