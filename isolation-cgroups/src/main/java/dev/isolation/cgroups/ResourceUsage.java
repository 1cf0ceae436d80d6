package dev.isolation.cgroups;

import java.time.Duration;
import java.util.OptionalLong;

/**
 * What a cgroup has used, read from its control files. A value the running kernel does not report is empty
 * (for example the memory peak before Linux 5.19 on v2).
 *
 * @param memoryCurrent  bytes in use now
 * @param memoryPeak     the most bytes ever in use
 * @param oomKills       processes killed by the OOM killer in this group
 * @param cpuUser        CPU time in user mode, of every process of the group, children included
 * @param cpuSystem      CPU time in the kernel
 * @param pidsCurrent    tasks now
 * @param pidsLimitHits  forks refused by the pids limit
 * @param ioReadBytes    bytes read from block devices
 * @param ioWriteBytes   bytes written to block devices
 */
public record ResourceUsage(long memoryCurrent, OptionalLong memoryPeak, long oomKills, Duration cpuUser,
        Duration cpuSystem, long pidsCurrent, long pidsLimitHits, long ioReadBytes, long ioWriteBytes) {
}
