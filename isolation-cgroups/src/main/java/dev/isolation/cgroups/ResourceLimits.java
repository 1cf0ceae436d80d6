package dev.isolation.cgroups;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * The limits of one cgroup, the same on cgroup v1 and v2. Immutable; built by {@link #builder()}, whose setters
 * reject values outside the accepted range with an {@link IllegalArgumentException} that starts with the field's
 * name and states the range. A limit that is set is applied, or creating the group fails with the reason.
 */
public final class ResourceLimits {
    /** Below this, nothing but a trivial program can run: a sane minimum for memory limits. */
    public static final long MIN_MEMORY_BYTES = 4L << 20;
    public static final int MIN_WEIGHT = 1;
    public static final int MAX_WEIGHT = 10_000;
    public static final Duration DEFAULT_CPU_PERIOD = Duration.ofMillis(100);

    private final OptionalLong memoryMax;
    private final OptionalLong memorySwapMax;
    private final OptionalLong memoryHigh;
    private final boolean oomKillsWholeGroup;
    private final Optional<CpuQuota> cpuQuota;
    private final OptionalInt cpuWeight;
    private final Optional<String> cpusetCpus;
    private final Optional<String> cpusetMems;
    private final OptionalLong pidsMax;
    private final List<IoLimit> ioLimits;
    private final OptionalInt ioWeight;

    private ResourceLimits(Builder b) {
        memoryMax = b.memoryMax;
        memorySwapMax = b.memorySwapMax;
        memoryHigh = b.memoryHigh;
        oomKillsWholeGroup = b.oomKillsWholeGroup;
        cpuQuota = b.cpuQuota;
        cpuWeight = b.cpuWeight;
        cpusetCpus = b.cpusetCpus;
        cpusetMems = b.cpusetMems;
        pidsMax = b.pidsMax;
        ioLimits = List.copyOf(b.ioLimits);
        ioWeight = b.ioWeight;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** No limit at all: a group only for metering, freezing and killing. */
    public static ResourceLimits none() {
        return builder().build();
    }

    /** memory.max (v2) / memory.limit_in_bytes (v1), in bytes. */
    public OptionalLong memoryMax() {
        return memoryMax;
    }

    /** memory.swap.max (v2) / memory.memsw.limit_in_bytes minus memoryMax (v1), in bytes. */
    public OptionalLong memorySwapMax() {
        return memorySwapMax;
    }

    /** memory.high (v2) / memory.soft_limit_in_bytes (v1), in bytes. */
    public OptionalLong memoryHigh() {
        return memoryHigh;
    }

    /**
     * memory.oom.group (v2): the OOM killer ends the whole group rather than one process. cgroup v1 has no
     * equivalent: there the setting is ignored and the OOM killer picks one process ("where the kernel allows").
     */
    public boolean oomKillsWholeGroup() {
        return oomKillsWholeGroup;
    }

    public Optional<CpuQuota> cpuQuota() {
        return cpuQuota;
    }

    /** cpu.weight (v2, 1..10000) / cpu.shares (v1, converted). */
    public OptionalInt cpuWeight() {
        return cpuWeight;
    }

    public Optional<String> cpusetCpus() {
        return cpusetCpus;
    }

    public Optional<String> cpusetMems() {
        return cpusetMems;
    }

    public OptionalLong pidsMax() {
        return pidsMax;
    }

    public List<IoLimit> ioLimits() {
        return ioLimits;
    }

    /** io.weight (v2, 1..10000) / blkio.weight (v1, 10..1000, converted). */
    public OptionalInt ioWeight() {
        return ioWeight;
    }

    public boolean isEmpty() {
        return memoryMax.isEmpty() && memorySwapMax.isEmpty() && memoryHigh.isEmpty() && cpuQuota.isEmpty()
                && cpuWeight.isEmpty() && cpusetCpus.isEmpty() && cpusetMems.isEmpty() && pidsMax.isEmpty()
                && ioLimits.isEmpty() && ioWeight.isEmpty();
    }

    @Override
    public String toString() {
        List<String> set = new ArrayList<>();
        memoryMax.ifPresent(v -> set.add("memoryMax=" + v));
        memorySwapMax.ifPresent(v -> set.add("memorySwapMax=" + v));
        memoryHigh.ifPresent(v -> set.add("memoryHigh=" + v));
        cpuQuota.ifPresent(v -> set.add("cpu=" + v));
        cpuWeight.ifPresent(v -> set.add("cpuWeight=" + v));
        cpusetCpus.ifPresent(v -> set.add("cpusetCpus=" + v));
        cpusetMems.ifPresent(v -> set.add("cpusetMems=" + v));
        pidsMax.ifPresent(v -> set.add("pidsMax=" + v));
        if (!ioLimits.isEmpty()) {
            set.add("io=" + ioLimits);
        }
        ioWeight.ifPresent(v -> set.add("ioWeight=" + v));
        return "ResourceLimits" + set;
    }

    /** A CPU bandwidth limit: {@code cpus} CPUs' worth of time in every {@code period}. */
    public record CpuQuota(double cpus, Duration period) {
        public CpuQuota {
            Objects.requireNonNull(period, "period");
            int available = Runtime.getRuntime().availableProcessors();
            if (!(cpus > 0) || cpus > available || Double.isNaN(cpus)) {
                throw new IllegalArgumentException("cpus: " + cpus + " is outside the accepted range: more than 0, at"
                        + " most the " + available + " CPUs of this machine");
            }
            if (period.compareTo(Duration.ofMillis(1)) < 0 || period.compareTo(Duration.ofSeconds(1)) > 0) {
                throw new IllegalArgumentException("cpuPeriod: " + period + " is outside the accepted range 1 ms to 1 s");
            }
        }

        public long periodMicros() {
            return period.toNanos() / 1000;
        }

        public long quotaMicros() {
            return Math.max(1000, Math.round(cpus * periodMicros()));
        }
    }

    /** Bandwidth limits of one block device, named "major:minor". */
    public record IoLimit(String device, OptionalLong readBytesPerSecond, OptionalLong writeBytesPerSecond,
            OptionalLong readIops, OptionalLong writeIops) {
        public IoLimit {
            Objects.requireNonNull(device, "device");
            if (!device.matches("[0-9]{1,9}:[0-9]{1,9}")) {
                throw new IllegalArgumentException("ioDevice: \"" + device + "\" is not a block device number major:minor");
            }
            if (!java.nio.file.Files.exists(java.nio.file.Path.of("/sys/dev/block", device))) {
                throw new IllegalArgumentException("ioDevice: \"" + device + "\" is not a block device of this machine"
                        + " (no /sys/dev/block/" + device + ")");
            }
            for (OptionalLong rate : List.of(readBytesPerSecond, writeBytesPerSecond, readIops, writeIops)) {
                if (rate.isPresent() && rate.getAsLong() < 1) {
                    throw new IllegalArgumentException("ioLimit: " + rate.getAsLong() + " for " + device
                            + " is outside the accepted range: at least 1 per second");
                }
            }
        }
    }

    /** Builds {@link ResourceLimits}; each setter checks its value. */
    public static final class Builder {
        private OptionalLong memoryMax = OptionalLong.empty();
        private OptionalLong memorySwapMax = OptionalLong.empty();
        private OptionalLong memoryHigh = OptionalLong.empty();
        private boolean oomKillsWholeGroup = true;
        private Optional<CpuQuota> cpuQuota = Optional.empty();
        private OptionalInt cpuWeight = OptionalInt.empty();
        private Optional<String> cpusetCpus = Optional.empty();
        private Optional<String> cpusetMems = Optional.empty();
        private OptionalLong pidsMax = OptionalLong.empty();
        private final List<IoLimit> ioLimits = new ArrayList<>();
        private OptionalInt ioWeight = OptionalInt.empty();

        private Builder() {
        }

        public Builder memoryMax(long bytes) {
            memoryMax = OptionalLong.of(atLeast("memoryMax", bytes, MIN_MEMORY_BYTES));
            return this;
        }

        public Builder memorySwapMax(long bytes) {
            memorySwapMax = OptionalLong.of(atLeast("memorySwapMax", bytes, 0));
            return this;
        }

        public Builder memoryHigh(long bytes) {
            memoryHigh = OptionalLong.of(atLeast("memoryHigh", bytes, MIN_MEMORY_BYTES));
            return this;
        }

        public Builder oomKillsWholeGroup(boolean wholeGroup) {
            oomKillsWholeGroup = wholeGroup;
            return this;
        }

        /** A quota of {@code cpus} CPUs (e.g. 0.5) per default period of 100 ms. */
        public Builder cpus(double cpus) {
            return cpus(cpus, DEFAULT_CPU_PERIOD);
        }

        public Builder cpus(double cpus, Duration period) {
            cpuQuota = Optional.of(new CpuQuota(cpus, period));
            return this;
        }

        public Builder cpuWeight(int weight) {
            cpuWeight = OptionalInt.of(weight("cpuWeight", weight));
            return this;
        }

        /** CPUs the group may run on, in the kernel's list format ("0-1,3"). */
        public Builder cpusetCpus(String cpus) {
            cpusetCpus = Optional.of(cpuList("cpusetCpus", cpus));
            return this;
        }

        public Builder cpusetMems(String mems) {
            cpusetMems = Optional.of(cpuList("cpusetMems", mems));
            return this;
        }

        public Builder pidsMax(long max) {
            pidsMax = OptionalLong.of(atLeast("pidsMax", max, 1));
            return this;
        }

        public Builder ioLimit(IoLimit limit) {
            ioLimits.add(Objects.requireNonNull(limit, "ioLimit"));
            return this;
        }

        public Builder ioWeight(int weight) {
            ioWeight = OptionalInt.of(weight("ioWeight", weight));
            return this;
        }

        public ResourceLimits build() {
            if (memorySwapMax.isPresent() && memoryMax.isEmpty()) {
                throw new IllegalArgumentException("memorySwapMax: needs memoryMax as well");
            }
            if (memoryHigh.isPresent() && memoryMax.isPresent() && memoryHigh.getAsLong() > memoryMax.getAsLong()) {
                throw new IllegalArgumentException("memoryHigh: " + memoryHigh.getAsLong() + " is above memoryMax "
                        + memoryMax.getAsLong());
            }
            return new ResourceLimits(this);
        }

        private static long atLeast(String field, long value, long minimum) {
            if (value < minimum) {
                throw new IllegalArgumentException(field + ": " + value + " is outside the accepted range: at least "
                        + minimum);
            }
            return value;
        }

        private static int weight(String field, int weight) {
            if (weight < MIN_WEIGHT || weight > MAX_WEIGHT) {
                throw new IllegalArgumentException(field + ": " + weight + " is outside the accepted range "
                        + MIN_WEIGHT + " to " + MAX_WEIGHT);
            }
            return weight;
        }

        private static String cpuList(String field, String list) {
            Objects.requireNonNull(list, field);
            if (!list.matches("[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*")) {
                throw new IllegalArgumentException(field + ": \"" + list + "\" is not a list like 0-1,3");
            }
            return list;
        }
    }
}
