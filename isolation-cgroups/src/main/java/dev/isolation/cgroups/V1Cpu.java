package dev.isolation.cgroups;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The v1 cpu controller (limits) and cpuacct controller (metering), which may be mounted together or apart.
 *
 * <ul>
 *   <li>{@code cpuQuota} → cpu.cfs_period_us, then cpu.cfs_quota_us (a new group has no quota, so any period is
 *       accepted first; the quota is checked by the kernel against that period).
 *   <li>{@code cpuWeight} (1..10000, v2's scale) → cpu.shares (2..262144), linearly:
 *       {@code shares = 2 + (weight - 1) * 262142 / 9999}, the inverse of the conversion container runtimes use
 *       from shares to weight. Both ends map onto each other; v2's default weight 100 becomes 2597, not v1's
 *       default 1024, so weights only compare with groups converted the same way.
 *   <li>CPU time: cpuacct.usage_user and cpuacct.usage_sys (nanoseconds, Linux 4.7 and later), else
 *       cpuacct.stat, whose "user" and "system" lines count USER_HZ ticks (100 per second on every Linux ABI).
 * </ul>
 */
final class V1Cpu {
    static final String CFS_PERIOD = "cpu.cfs_period_us";
    static final String CFS_QUOTA = "cpu.cfs_quota_us";
    static final String SHARES = "cpu.shares";
    static final String USAGE_USER = "cpuacct.usage_user";
    static final String USAGE_SYS = "cpuacct.usage_sys";
    static final String STAT = "cpuacct.stat";
    static final long MIN_SHARES = 2;
    static final long MAX_SHARES = 262_144;
    /** The unit of cpuacct.stat: USER_HZ, fixed at 100 for user space whatever the kernel's HZ. */
    static final long USER_HZ = 100;

    private V1Cpu() {
    }

    /** Whether {@code limits} needs the cpu hierarchy (cpuacct, for metering, is used by every group). */
    static boolean isUsed(ResourceLimits limits) {
        return limits.cpuQuota().isPresent() || limits.cpuWeight().isPresent();
    }

    static void apply(Path cpuDir, ResourceLimits limits) throws IOException {
        if (limits.cpuQuota().isPresent()) {
            ResourceLimits.CpuQuota quota = limits.cpuQuota().get();
            V1Files.write("cpuQuota", cpuDir.resolve(CFS_PERIOD), Long.toString(quota.periodMicros()));
            V1Files.write("cpuQuota", cpuDir.resolve(CFS_QUOTA), Long.toString(quota.quotaMicros()),
                    "a quota needs cpu.cfs_quota_us of at least 1000 and within what the parent group allows");
        }
        if (limits.cpuWeight().isPresent()) {
            long shares = sharesForWeight(limits.cpuWeight().getAsInt());
            V1Files.write("cpuWeight", cpuDir.resolve(SHARES), Long.toString(shares));
        }
    }

    /** cpu.shares for a weight of 1..10000: {@code 2 + (weight - 1) * 262142 / 9999}, rounded down. */
    static long sharesForWeight(int weight) {
        if (weight < ResourceLimits.MIN_WEIGHT || weight > ResourceLimits.MAX_WEIGHT) {
            throw new IllegalArgumentException("cpuWeight: " + weight + " is outside the accepted range "
                    + ResourceLimits.MIN_WEIGHT + " to " + ResourceLimits.MAX_WEIGHT);
        }
        return MIN_SHARES + (weight - 1L) * (MAX_SHARES - MIN_SHARES) / (ResourceLimits.MAX_WEIGHT - 1);
    }

    /** User and system CPU time of a group. */
    record Times(Duration user, Duration system) {
        static final Times NONE = new Times(Duration.ZERO, Duration.ZERO);
    }

    /** The CPU time of the cpuacct group {@code dir}; zero when neither usage file nor cpuacct.stat exists. */
    static Times times(Path cpuacctDir) throws IOException {
        OptionalLong user = ControlFiles.readLongIfExists(cpuacctDir.resolve(USAGE_USER));
        OptionalLong system = ControlFiles.readLongIfExists(cpuacctDir.resolve(USAGE_SYS));
        if (user.isPresent() && system.isPresent()) {
            return new Times(Duration.ofNanos(user.getAsLong()), Duration.ofNanos(system.getAsLong()));
        }
        return ControlFiles.readIfExists(cpuacctDir.resolve(STAT)).map(V1Cpu::parseStat).orElse(Times.NONE);
    }

    /** The "user N" and "system N" lines of cpuacct.stat, in USER_HZ ticks; a missing line counts 0. */
    static Times parseStat(String stat) {
        Map<String, Long> ticks = ControlFiles.keyedValues(stat);
        return new Times(fromTicks(ticks.getOrDefault("user", 0L)), fromTicks(ticks.getOrDefault("system", 0L)));
    }

    private static Duration fromTicks(long ticks) {
        return Duration.ofMillis(ticks * (1000 / USER_HZ));
    }
}
