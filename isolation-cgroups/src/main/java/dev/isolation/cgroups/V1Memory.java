package dev.isolation.cgroups;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * The v1 memory controller: its limits and what it meters.
 *
 * <ul>
 *   <li>{@code memoryMax} → memory.limit_in_bytes.
 *   <li>{@code memorySwapMax} → memory.memsw.limit_in_bytes = memoryMax + swap (v1 limits memory and swap
 *       together). The kernel refuses, at every moment, a memsw limit below the memory limit (EINVAL). A new
 *       group has both unlimited, so the memory limit is written first and memsw second; raising the limits of
 *       an existing group would need the opposite order. memsw exists only with swap accounting on.
 *   <li>{@code memoryHigh} → memory.soft_limit_in_bytes: the nearest v1 has, though weaker than v2's
 *       memory.high: it only sets how far the group is reclaimed under global memory pressure.
 *   <li>{@code oomKillsWholeGroup} has no v1 file: the v1 OOM killer always picks one process. The option asks
 *       for it where the kernel allows, so it is ignored here.
 * </ul>
 */
final class V1Memory {
    static final String LIMIT = "memory.limit_in_bytes";
    static final String MEMSW_LIMIT = "memory.memsw.limit_in_bytes";
    static final String SOFT_LIMIT = "memory.soft_limit_in_bytes";
    static final String USAGE = "memory.usage_in_bytes";
    static final String MAX_USAGE = "memory.max_usage_in_bytes";
    static final String OOM_CONTROL = "memory.oom_control";
    /** What the memsw file takes for "no limit". */
    static final String UNLIMITED = "-1";

    private V1Memory() {
    }

    static boolean isUsed(ResourceLimits limits) {
        return limits.memoryMax().isPresent() || limits.memorySwapMax().isPresent()
                || limits.memoryHigh().isPresent();
    }

    static void apply(Path dir, ResourceLimits limits) throws IOException {
        if (limits.memoryMax().isPresent()) {
            V1Files.write("memoryMax", dir.resolve(LIMIT), Long.toString(limits.memoryMax().getAsLong()));
        }
        if (limits.memorySwapMax().isPresent()) {
            Path memsw = dir.resolve(MEMSW_LIMIT);
            if (!Files.exists(memsw)) {
                throw new IOException("memorySwapMax: " + memsw + " does not exist: swap accounting is off on this"
                        + " kernel (boot it with swapaccount=1)");
            }
            // ResourceLimits only allows a swap limit together with memoryMax.
            V1Files.write("memorySwapMax", memsw,
                    memswLimit(limits.memoryMax().getAsLong(), limits.memorySwapMax().getAsLong()));
        }
        if (limits.memoryHigh().isPresent()) {
            V1Files.write("memoryHigh", dir.resolve(SOFT_LIMIT), Long.toString(limits.memoryHigh().getAsLong()));
        }
    }

    /** The memsw value for a memory limit and a swap limit: their sum, or no limit when it does not fit a long. */
    static String memswLimit(long memoryMax, long swapMax) {
        try {
            return Long.toString(Math.addExact(memoryMax, swapMax));
        } catch (ArithmeticException e) {
            return UNLIMITED;
        }
    }

    /** memory.usage_in_bytes (page cache and kernel memory included), 0 without the file. */
    static long current(Path dir) throws IOException {
        return ControlFiles.readLongIfExists(dir.resolve(USAGE)).orElse(0);
    }

    /** memory.max_usage_in_bytes: the high-water mark of the usage since the group was made. */
    static OptionalLong peak(Path dir) throws IOException {
        return ControlFiles.readLongIfExists(dir.resolve(MAX_USAGE));
    }

    static long oomKills(Path dir) throws IOException {
        return ControlFiles.readIfExists(dir.resolve(OOM_CONTROL)).map(V1Memory::parseOomKills).orElse(0L);
    }

    /** The "oom_kill N" line of memory.oom_control (Linux 4.13 and later); 0 when the kernel has no such line. */
    static long parseOomKills(String oomControl) {
        return ControlFiles.keyedValues(oomControl).getOrDefault("oom_kill", 0L);
    }
}
