package dev.isolation.cgroups;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Reads and writes cgroup control files, the same way on v1 and v2. A control file takes one value per
 * {@code write(2)} and refuses a bad one with the write's errno, so every failure here is an {@link IOException}
 * whose message names the file, the value and the kernel's reason, e.g.
 * {@code cannot write "7" to /sys/fs/cgroup/cpuset/g/cpuset.cpus: Invalid argument}. Callers prefix the setting.
 */
final class ControlFiles {
    private static final String PROCS = "cgroup.procs";

    private ControlFiles() {
    }

    /**
     * Writes {@code value} to the existing control file {@code file} in one {@code write(2)} (never creating it:
     * a control file that is missing is a control this kernel lacks).
     */
    static void write(Path file, String value) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(value.getBytes(StandardCharsets.UTF_8));
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            channel.write(bytes);
        } catch (IOException e) {
            throw new IOException("cannot write \"" + value + "\" to " + file + ": " + reason(e), e);
        }
        if (bytes.hasRemaining()) {
            throw new IOException("cannot write \"" + value + "\" to " + file + ": the kernel took only "
                    + bytes.position() + " of " + bytes.limit() + " bytes");
        }
    }

    /** The whole text of {@code file}. */
    static String read(Path file) throws IOException {
        try {
            // Not Files.readString: a control file reports size 0, and readAllBytes reads to EOF anyway.
            return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IOException("cannot read " + file + ": " + reason(e), e);
        }
    }

    /** The text of {@code file}, or empty when it does not exist (a file this kernel or group lacks). */
    static Optional<String> readIfExists(Path file) throws IOException {
        try {
            return Optional.of(new String(Files.readAllBytes(file), StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new IOException("cannot read " + file + ": " + reason(e), e);
        }
    }

    /** The number {@code file} holds, or empty when it does not exist. */
    static OptionalLong readLongIfExists(Path file) throws IOException {
        Optional<String> text = readIfExists(file);
        return text.isEmpty() ? OptionalLong.empty() : OptionalLong.of(parseLong(file, text.get()));
    }

    static long parseLong(Path file, String text) throws IOException {
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new IOException(file + " does not hold a number: \"" + text.trim() + "\"", e);
        }
    }

    /**
     * The {@code "key value"} lines of a flat keyed file (memory.oom_control, cpuacct.stat, pids.events,
     * memory.events, cpu.stat ...); lines of another shape, or whose value is not a number, are skipped.
     */
    static Map<String, Long> keyedValues(String text) {
        Map<String, Long> values = new HashMap<>();
        for (String line : text.split("\n")) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length == 2) {
                try {
                    values.put(fields[0], Long.parseLong(fields[1]));
                } catch (NumberFormatException e) {
                    // another shape of line: not ours to judge
                }
            }
        }
        return values;
    }

    /** The pids listed in {@code dir}'s cgroup.procs; none when the group does not exist (any more). */
    static List<Long> readPids(Path dir) throws IOException {
        Path file = dir.resolve(PROCS);
        List<Long> pids = new ArrayList<>();
        for (String line : readIfExists(file).orElse("").split("\n")) {
            if (!line.isBlank()) {
                pids.add(parseLong(file, line));
            }
        }
        return pids;
    }

    /**
     * Removes the (empty) cgroup directory {@code dir} with {@code rmdir(2)}, never its files: retries while the
     * kernel refuses (EBUSY while the last processes exit), for at most {@code patience}. A directory that does
     * not exist counts as removed.
     */
    static void removeDirectory(Path dir, Duration patience) throws IOException {
        long deadline = System.nanoTime() + patience.toNanos();
        long pauseMillis = 1;
        while (true) {
            try {
                Files.delete(dir);
                return;
            } catch (NoSuchFileException e) {
                return;
            } catch (AccessDeniedException | NotDirectoryException e) {
                throw new IOException("cannot remove the group directory " + dir + ": " + reason(e), e);
            } catch (FileSystemException e) {
                // EBUSY (processes still exiting) or ENOTEMPTY (a child group): compared by errno class, not text,
                // so that a localised strerror does not matter.
                if (System.nanoTime() - deadline > 0) {
                    throw new IOException("cannot remove the group directory " + dir + " after "
                            + patience.toMillis() + " ms: " + reason(e), e);
                }
                sleep(pauseMillis);
                pauseMillis = Math.min(pauseMillis * 2, 50);
            }
        }
    }

    /** The kernel's reason for a failed file operation, without the path the JDK repeats in its messages. */
    static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "it does not exist";
        }
        if (e instanceof AccessDeniedException) {
            return "Permission denied";
        }
        if (e instanceof FileSystemException && ((FileSystemException) e).getReason() != null) {
            return ((FileSystemException) e).getReason();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    static void sleep(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            InterruptedIOException interrupted = new InterruptedIOException("interrupted while waiting for the kernel");
            interrupted.initCause(e);
            throw interrupted;
        }
    }
}
