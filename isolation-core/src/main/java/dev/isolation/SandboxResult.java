package dev.isolation;

import dev.isolation.cgroups.ResourceUsage;
import java.util.Objects;
import java.util.Optional;

/**
 * How a sandboxed program ended, with what its sandbox used: the {@link Outcome} and, when the sandbox had a
 * cgroup of its own, its final {@link ResourceUsage}.
 */
public record SandboxResult(Outcome outcome, Optional<ResourceUsage> usage) {
    public SandboxResult {
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(usage, "usage");
    }

    /** The OOM killer ended the program. */
    public boolean outOfMemory() {
        return outcome instanceof Outcome.OutOfMemory;
    }

    /** The pids limit refused at least one fork in the sandbox. */
    public boolean pidsLimitHit() {
        return usage.map(u -> u.pidsLimitHits() > 0).orElse(false);
    }
}
