package dev.isolation.cgroups;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The v1 blkio controller.
 *
 * <ul>
 *   <li>{@code ioLimits} → one "MAJ:MIN value" line per device and rate in blkio.throttle.read_bps_device,
 *       write_bps_device, read_iops_device and write_iops_device.
 *   <li>{@code ioWeight} (1..10000, v2's scale) → blkio.weight, or blkio.bfq.weight where only BFQ offers a
 *       weight (10..1000), linearly: {@code 10 + (weight - 1) * 990 / 9999}. The weight acts only on devices whose
 *       scheduler implements it; with neither file creating the group fails.
 *   <li>Bytes read and written: the "Read" and "Write" lines of blkio.throttle.io_service_bytes_recursive (this
 *       group and any below it), else of blkio.throttle.io_service_bytes, summed over devices. v1 charges buffered
 *       writes to the group of the flusher thread, not this one: only reads and direct writes are counted here.
 * </ul>
 */
final class V1Blkio {
    static final String READ_BPS = "blkio.throttle.read_bps_device";
    static final String WRITE_BPS = "blkio.throttle.write_bps_device";
    static final String READ_IOPS = "blkio.throttle.read_iops_device";
    static final String WRITE_IOPS = "blkio.throttle.write_iops_device";
    static final String WEIGHT = "blkio.weight";
    static final String BFQ_WEIGHT = "blkio.bfq.weight";
    static final String SERVICE_BYTES_RECURSIVE = "blkio.throttle.io_service_bytes_recursive";
    static final String SERVICE_BYTES = "blkio.throttle.io_service_bytes";
    static final int MIN_WEIGHT = 10;
    static final int MAX_WEIGHT = 1000;

    private V1Blkio() {
    }

    static boolean isUsed(ResourceLimits limits) {
        return !limits.ioLimits().isEmpty() || limits.ioWeight().isPresent();
    }

    static void apply(Path dir, ResourceLimits limits) throws IOException {
        for (ResourceLimits.IoLimit limit : limits.ioLimits()) {
            String setting = "ioLimit " + limit.device() + " ";
            throttle(setting + "readBytesPerSecond", dir.resolve(READ_BPS), limit.device(), limit.readBytesPerSecond());
            throttle(setting + "writeBytesPerSecond", dir.resolve(WRITE_BPS), limit.device(),
                    limit.writeBytesPerSecond());
            throttle(setting + "readIops", dir.resolve(READ_IOPS), limit.device(), limit.readIops());
            throttle(setting + "writeIops", dir.resolve(WRITE_IOPS), limit.device(), limit.writeIops());
        }
        if (limits.ioWeight().isPresent()) {
            Optional<Path> file = weightFile(dir);
            if (file.isEmpty()) {
                throw new IOException("ioWeight: neither " + dir.resolve(WEIGHT) + " nor " + BFQ_WEIGHT
                        + " exists: io weight has no file on this kernel (its I/O schedulers lack it: blkio.weight"
                        + " came with CFQ, removed in Linux 5.0; blkio.bfq.weight comes with BFQ)");
            }
            V1Files.write("ioWeight", file.get(), Integer.toString(blkioWeight(limits.ioWeight().getAsInt())));
        }
    }

    private static void throttle(String setting, Path file, String device, OptionalLong rate) throws IOException {
        if (rate.isEmpty()) {
            return;
        }
        if (!Files.exists(file)) {
            throw new IOException(setting + ": " + file + " does not exist: block I/O throttling is not built into"
                    + " this kernel (CONFIG_BLK_DEV_THROTTLING)");
        }
        V1Files.write(setting, file, device + " " + rate.getAsLong());
    }

    /** blkio.weight when the kernel has it, else blkio.bfq.weight, else none. */
    static Optional<Path> weightFile(Path dir) {
        for (String name : List.of(WEIGHT, BFQ_WEIGHT)) {
            if (Files.exists(dir.resolve(name))) {
                return Optional.of(dir.resolve(name));
            }
        }
        return Optional.empty();
    }

    /** The v1 weight (10..1000) for an io weight of 1..10000. */
    static int blkioWeight(int ioWeight) {
        if (ioWeight < ResourceLimits.MIN_WEIGHT || ioWeight > ResourceLimits.MAX_WEIGHT) {
            throw new IllegalArgumentException("ioWeight: " + ioWeight + " is outside the accepted range "
                    + ResourceLimits.MIN_WEIGHT + " to " + ResourceLimits.MAX_WEIGHT);
        }
        return MIN_WEIGHT + (ioWeight - 1) * (MAX_WEIGHT - MIN_WEIGHT) / (ResourceLimits.MAX_WEIGHT - 1);
    }

    /** Bytes read from and written to block devices. */
    record IoBytes(long read, long write) {
        static final IoBytes NONE = new IoBytes(0, 0);
    }

    static IoBytes bytes(Path dir) throws IOException {
        Optional<String> text = ControlFiles.readIfExists(dir.resolve(SERVICE_BYTES_RECURSIVE));
        if (text.isEmpty()) {
            text = ControlFiles.readIfExists(dir.resolve(SERVICE_BYTES));
        }
        return text.map(V1Blkio::parseServiceBytes).orElse(IoBytes.NONE);
    }

    /**
     * Sums the "MAJ:MIN Read N" and "MAJ:MIN Write N" lines of an io_service_bytes file; the other operations
     * (Sync, Async, Discard, Total) and the closing "Total N" line are left out.
     */
    static IoBytes parseServiceBytes(String text) {
        long read = 0;
        long write = 0;
        for (String line : text.split("\n")) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length != 3 || !fields[0].contains(":")) {
                continue;
            }
            long value;
            try {
                value = Long.parseLong(fields[2]);
            } catch (NumberFormatException e) {
                continue;
            }
            if (fields[1].equals("Read")) {
                read += value;
            } else if (fields[1].equals("Write")) {
                write += value;
            }
        }
        return new IoBytes(read, write);
    }
}
