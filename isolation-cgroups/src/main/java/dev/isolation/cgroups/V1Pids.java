package dev.isolation.cgroups;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The v1 pids controller: pids.max; pids.current and the "max N" line of pids.events (forks refused by the limit
 * of this group or an ancestor's).
 */
final class V1Pids {
    static final String MAX = "pids.max";
    static final String CURRENT = "pids.current";
    static final String EVENTS = "pids.events";

    private V1Pids() {
    }

    static boolean isUsed(ResourceLimits limits) {
        return limits.pidsMax().isPresent();
    }

    static void apply(Path dir, ResourceLimits limits) throws IOException {
        if (limits.pidsMax().isPresent()) {
            V1Files.write("pidsMax", dir.resolve(MAX), Long.toString(limits.pidsMax().getAsLong()));
        }
    }

    static long current(Path dir) throws IOException {
        return ControlFiles.readLongIfExists(dir.resolve(CURRENT)).orElse(0);
    }

    static long limitHits(Path dir) throws IOException {
        return ControlFiles.readIfExists(dir.resolve(EVENTS)).map(V1Pids::parseLimitHits).orElse(0L);
    }

    /** The "max N" line of pids.events; 0 without one. */
    static long parseLimitHits(String events) {
        return ControlFiles.keyedValues(events).getOrDefault("max", 0L);
    }
}
