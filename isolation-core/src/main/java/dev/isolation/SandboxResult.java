package dev.isolation;

import dev.isolation.cgroups.ResourceUsage;
import java.util.Objects;
import java.util.Optional;

/**
 * How a sandboxed program ended, with what it used: the {@link Outcome}, the program's own {@link ProgramUsage}
 * (wall time, CPU time, peak memory), and, when the sandbox had a cgroup of its own, the group's final
 * {@link ResourceUsage} (everything in the sandbox, OOM kills, pids limit hits).
 */
public record SandboxResult(Outcome outcome, ProgramUsage program, Optional<ResourceUsage> usage) {
    public SandboxResult {
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(program, "program");
        Objects.requireNonNull(usage, "usage");
    }

    /** The OOM killer ended the program. */
    public boolean outOfMemory() {
        return outcome instanceof Outcome.OutOfMemory;
    }

    /** A time limit ended the program. */
    public boolean timedOut() {
        return outcome instanceof Outcome.TimedOut;
    }

    /** The pids limit refused at least one fork in the sandbox. */
    public boolean pidsLimitHit() {
        return usage.map(u -> u.pidsLimitHits() > 0).orElse(false);
    }

    /** The peak memory: the cgroup's when it has one that records it, else the program's largest resident set. */
    public long peakMemoryBytes() {
        return usage.flatMap(u -> u.memoryPeak().isPresent() ? Optional.of(u.memoryPeak().getAsLong())
                : Optional.empty()).orElse(program.peakMemoryBytes());
    }
}
