package dev.isolation.cgroups;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The cpu controller: cpu.max ("QUOTA PERIOD" in microseconds) and cpu.weight (1..10000); the CPU time of
 * cpu.stat, which every v2 group has, with or without the controller.
 */
final class V2Cpu implements V2Controller {
    static final String MAX = "cpu.max";
    static final String WEIGHT = "cpu.weight";
    static final String STAT = "cpu.stat";

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public List<String> limitsSet(ResourceLimits limits) {
        List<String> set = new ArrayList<>();
        limits.cpuQuota().ifPresent(v -> set.add("cpus"));
        limits.cpuWeight().ifPresent(v -> set.add("cpuWeight"));
        return set;
    }

    @Override
    public void apply(Path group, ResourceLimits limits) throws IOException {
        if (limits.cpuQuota().isPresent()) {
            ResourceLimits.CpuQuota quota = limits.cpuQuota().get();
            V2Files.write(group.resolve(MAX), quota.quotaMicros() + " " + quota.periodMicros(), "cpus");
        }
        if (limits.cpuWeight().isPresent()) {
            V2Files.write(group.resolve(WEIGHT), Integer.toString(limits.cpuWeight().getAsInt()), "cpuWeight");
        }
    }

    /** CPU time of the group as cpu.stat reports it: user and system. */
    record Times(Duration user, Duration system, Duration total) {
    }

    static Times times(Path group) throws IOException {
        Path file = group.resolve(STAT);
        Optional<String> text = V2Files.readIfPresent(file);
        if (text.isEmpty()) {
            return new Times(Duration.ZERO, Duration.ZERO, Duration.ZERO);
        }
        Map<String, Long> stat = V2Files.flatKeyed(file, text.get());
        return new Times(micros(stat.getOrDefault("user_usec", 0L)), micros(stat.getOrDefault("system_usec", 0L)),
                micros(stat.getOrDefault("usage_usec", 0L)));
    }

    private static Duration micros(long micros) {
        return Duration.ofNanos(Math.multiplyExact(micros, 1000L));
    }
}
