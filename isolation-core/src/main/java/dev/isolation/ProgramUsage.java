package dev.isolation;

import java.time.Duration;
import java.util.Objects;

/**
 * What one program used, measured whatever its sandbox's cgroups: wall time from start to end, and the CPU time and
 * peak resident memory the kernel reports when its process is reaped (wait4(2): the program and the children it
 * waited for; orphans it left to init are counted in the sandbox's cgroup usage instead).
 *
 * @param wallTime        from the start returning to the end being known
 * @param cpuUser         user CPU time
 * @param cpuSystem       system CPU time
 * @param peakMemoryBytes the largest resident set size (0 if unknown: the helper was killed)
 */
public record ProgramUsage(Duration wallTime, Duration cpuUser, Duration cpuSystem, long peakMemoryBytes) {
    public ProgramUsage {
        Objects.requireNonNull(wallTime, "wallTime");
        Objects.requireNonNull(cpuUser, "cpuUser");
        Objects.requireNonNull(cpuSystem, "cpuSystem");
    }

    /** User plus system CPU time. */
    public Duration cpuTime() {
        return cpuUser.plus(cpuSystem);
    }
}
