package dev.isolation.cgroups;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The memory controller: memory.max, memory.swap.max, memory.high, memory.oom.group; memory.current,
 * memory.peak and the oom_kill count of memory.events.
 *
 * <p>memory.oom.group is set to 1 whenever {@link ResourceLimits#oomKillsWholeGroup()} holds (the default) and
 * the group has the memory controller, with or without a memory limit: an OOM kill, whether caused by the
 * group's own limit, an ancestor's or the whole machine, then ends every process of the group at once instead of
 * leaving a sandbox with one process missing.
 */
final class V2Memory implements V2Controller {
    static final String MAX = "memory.max";
    static final String SWAP_MAX = "memory.swap.max";
    static final String HIGH = "memory.high";
    static final String OOM_GROUP = "memory.oom.group";
    static final String CURRENT = "memory.current";
    static final String PEAK = "memory.peak";
    static final String EVENTS = "memory.events";

    @Override
    public String name() {
        return "memory";
    }

    @Override
    public List<String> limitsSet(ResourceLimits limits) {
        List<String> set = new ArrayList<>();
        limits.memoryMax().ifPresent(v -> set.add("memoryMax"));
        limits.memorySwapMax().ifPresent(v -> set.add("memorySwapMax"));
        limits.memoryHigh().ifPresent(v -> set.add("memoryHigh"));
        return set;
    }

    @Override
    public void apply(Path group, ResourceLimits limits) throws IOException {
        if (limits.memoryMax().isPresent()) {
            V2Files.write(group.resolve(MAX), Long.toString(limits.memoryMax().getAsLong()), "memoryMax");
        }
        if (limits.memorySwapMax().isPresent()) {
            Path swap = group.resolve(SWAP_MAX);
            if (!Files.exists(swap)) {
                throw new IOException("memorySwapMax: " + swap + " does not exist: this kernel does not account"
                        + " swap (built without CONFIG_MEMCG_SWAP or booted with swapaccount=0)");
            }
            V2Files.write(swap, Long.toString(limits.memorySwapMax().getAsLong()), "memorySwapMax");
        }
        if (limits.memoryHigh().isPresent()) {
            V2Files.write(group.resolve(HIGH), Long.toString(limits.memoryHigh().getAsLong()), "memoryHigh");
        }
        if (limits.oomKillsWholeGroup()) {
            applyOomGroup(group, limits);
        }
    }

    /**
     * memory.oom.group = 1, written straight away (no stat first: the write says whether the file exists). Without
     * the file: nothing to do in a group without the memory controller, a failure when a memory limit was set (the
     * kernel predates Linux 4.19).
     */
    private static void applyOomGroup(Path group, ResourceLimits limits) throws IOException {
        Path oomGroup = group.resolve(OOM_GROUP);
        try {
            V2Files.write(oomGroup, "1", "oomKillsWholeGroup");
        } catch (IOException e) {
            if (!(e.getCause() instanceof NoSuchFileException)) {
                throw e;
            }
            if (limits.memoryMax().isPresent() && Files.exists(group.resolve(MAX))) {
                throw new IOException("oomKillsWholeGroup: " + oomGroup + " does not exist (Linux 4.19 or later has"
                        + " it): build the limits with oomKillsWholeGroup(false) to accept that the OOM killer"
                        + " ends one process of the group", e);
            }
        }
    }

    /** Bytes in use now; 0 without the memory controller. */
    static long current(Path group) throws IOException {
        return V2Files.readLongIfPresent(group.resolve(CURRENT)).orElse(0);
    }

    /** The most bytes ever in use; empty before Linux 5.19 (no memory.peak) or without the controller. */
    static OptionalLong peak(Path group) throws IOException {
        return V2Files.readLongIfPresent(group.resolve(PEAK));
    }

    /** Processes of the group (and its descendants) the OOM killer killed. */
    static long oomKills(Path group) throws IOException {
        return V2Files.flatKeyedValue(group.resolve(EVENTS), "oom_kill");
    }
}
