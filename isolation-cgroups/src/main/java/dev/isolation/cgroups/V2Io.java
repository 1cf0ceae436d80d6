package dev.isolation.cgroups;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The io controller: io.max, one line per device ("MAJ:MIN rbps=N wbps=N riops=N wiops=N", only the rates set),
 * and io.weight ("default N"); the bytes read and written of io.stat.
 */
final class V2Io implements V2Controller {
    static final String MAX = "io.max";
    static final String WEIGHT = "io.weight";
    static final String STAT = "io.stat";

    @Override
    public String name() {
        return "io";
    }

    @Override
    public List<String> limitsSet(ResourceLimits limits) {
        List<String> set = new ArrayList<>();
        if (!limits.ioLimits().isEmpty()) {
            set.add("ioLimit");
        }
        limits.ioWeight().ifPresent(v -> set.add("ioWeight"));
        return set;
    }

    @Override
    public void apply(Path group, ResourceLimits limits) throws IOException {
        for (ResourceLimits.IoLimit limit : limits.ioLimits()) {
            V2Files.write(group.resolve(MAX), maxLine(limit), "ioLimit");
        }
        if (limits.ioWeight().isPresent()) {
            Path weight = group.resolve(WEIGHT);
            if (!Files.exists(weight)) {
                throw new IOException("ioWeight: " + weight + " does not exist: this kernel has no proportional io"
                        + " weight for cgroups (io.weight comes with blk-iocost, CONFIG_BLK_CGROUP_IOCOST; the BFQ"
                        + " scheduler has its own io.bfq.weight)");
            }
            V2Files.write(weight, "default " + limits.ioWeight().getAsInt(), "ioWeight");
        }
    }

    /** The io.max line of one device: only the rates that are set. */
    static String maxLine(ResourceLimits.IoLimit limit) {
        StringBuilder line = new StringBuilder(limit.device());
        append(line, "rbps", limit.readBytesPerSecond());
        append(line, "wbps", limit.writeBytesPerSecond());
        append(line, "riops", limit.readIops());
        append(line, "wiops", limit.writeIops());
        return line.toString();
    }

    private static void append(StringBuilder line, String key, OptionalLong value) {
        if (value.isPresent()) {
            line.append(' ').append(key).append('=').append(value.getAsLong());
        }
    }

    /** Bytes read and written, summed over every device of io.stat: {read, written}; zeros without the file. */
    static long[] readWrittenBytes(Path group) throws IOException {
        Path file = group.resolve(STAT);
        Optional<String> text = V2Files.readIfPresent(file);
        long read = 0;
        long written = 0;
        if (text.isPresent()) {
            for (Map<String, Long> device : V2Files.nestedKeyed(file, text.get()).values()) {
                read += device.getOrDefault("rbytes", 0L);
                written += device.getOrDefault("wbytes", 0L);
            }
        }
        return new long[] {read, written};
    }
}
