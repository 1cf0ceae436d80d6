package dev.isolation.cgroups;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** The pids controller: pids.max; pids.current and the "max" count of pids.events (forks refused). */
final class V2Pids implements V2Controller {
    static final String MAX = "pids.max";
    static final String CURRENT = "pids.current";
    static final String EVENTS = "pids.events";

    @Override
    public String name() {
        return "pids";
    }

    @Override
    public List<String> limitsSet(ResourceLimits limits) {
        return limits.pidsMax().isPresent() ? List.of("pidsMax") : List.of();
    }

    @Override
    public void apply(Path group, ResourceLimits limits) throws IOException {
        if (limits.pidsMax().isPresent()) {
            V2Files.write(group.resolve(MAX), Long.toString(limits.pidsMax().getAsLong()), "pidsMax");
        }
    }

    /** Tasks in the group now; 0 without the pids controller. */
    static long current(Path group) throws IOException {
        return V2Files.readLongIfPresent(group.resolve(CURRENT)).orElse(0);
    }

    /** Forks refused because the group's pids.max was reached. */
    static long limitHits(Path group) throws IOException {
        return V2Files.flatKeyedValue(group.resolve(EVENTS), "max");
    }
}
