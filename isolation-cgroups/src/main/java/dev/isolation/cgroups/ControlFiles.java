package dev.isolation.cgroups;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
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
    /** Holds any single-value or flat keyed control file; longer ones (a big cgroup.procs) are read in pieces. */
    private static final int READ_BUFFER_BYTES = 4096;
    private static final ThreadLocal<ByteBuffer> READ_BUFFER =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(READ_BUFFER_BYTES));
    /** A directory's link count when it has no subdirectory (kernfs, like ext4 and tmpfs, counts "." and ".."). */
    private static final int LINKS_WITHOUT_SUBDIRECTORIES = 2;

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
            return readText(file);
        } catch (IOException e) {
            throw new IOException("cannot read " + file + ": " + reason(e), e);
        }
    }

    /** The text of {@code file}, or empty when it does not exist (a file this kernel or group lacks). */
    static Optional<String> readIfExists(Path file) throws IOException {
        try {
            return Optional.of(readText(file));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new IOException("cannot read " + file + ": " + reason(e), e);
        }
    }

    /**
     * open, read to EOF into this thread's buffer, close: a control file reports size 0, so an fstat would tell
     * nothing, and a reused direct buffer spares the JDK's copy through a temporary one.
     */
    private static String readText(Path file) throws IOException {
        ByteBuffer buffer = READ_BUFFER.get();
        buffer.clear();
        ByteArrayOutputStream longText = null;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            while (true) {
                if (!buffer.hasRemaining()) {
                    longText = moveInto(longText, buffer);
                }
                if (channel.read(buffer) < 0) {
                    break;
                }
            }
        }
        if (longText == null) {
            buffer.flip();
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            return new String(bytes, StandardCharsets.UTF_8);
        }
        return moveInto(longText, buffer).toString(StandardCharsets.UTF_8);
    }

    /** Appends what {@code buffer} holds to {@code text} (a new stream when null) and empties the buffer. */
    private static ByteArrayOutputStream moveInto(ByteArrayOutputStream text, ByteBuffer buffer) {
        buffer.flip();
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        buffer.clear();
        ByteArrayOutputStream out = text != null ? text : new ByteArrayOutputStream(2 * bytes.length);
        out.writeBytes(bytes);
        return out;
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
     * One {@code rmdir(2)} of the cgroup directory {@code dir}: true when it is removed or did not exist, false when
     * the kernel refuses (processes or child groups in it, or any other reason, which {@link #removeDirectory}
     * then reports). The kernel removes an empty group at once, so this is the whole removal in the common case.
     */
    static boolean removeIfEmpty(Path dir) {
        try {
            Files.delete(dir);
            return true;
        } catch (NoSuchFileException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Removes the (empty) cgroup directory {@code dir} with {@code rmdir(2)}, never its files: retries while the
     * kernel refuses (EBUSY while the last processes exit), for at most {@code patience}. A directory that does
     * not exist counts as removed.
     */
    static void removeDirectory(Path dir, Duration patience) throws IOException {
        Backoff backoff = Backoff.within(patience, Duration.ofMillis(50));
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
                if (backoff.expired()) {
                    throw new IOException("cannot remove the group directory " + dir + " after "
                            + patience.toMillis() + " ms: " + reason(e), e);
                }
                backoff.pause();
            }
        }
    }

    /**
     * The group directories directly below {@code dir} (groups a sandboxed program made); empty when {@code dir}
     * does not exist. A directory's link count tells whether it has any subdirectory, so the usual group, which
     * has none, costs one stat instead of a stat of each of its dozens of control files.
     */
    static Optional<List<Path>> childGroups(Path dir) throws IOException {
        Object links;
        try {
            links = Files.getAttribute(dir, "unix:nlink", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new IOException("cannot stat the group directory " + dir + ": " + reason(e), e);
        }
        if (links instanceof Integer count && count == LINKS_WITHOUT_SUBDIRECTORIES) {
            return Optional.of(List.of());
        }
        List<Path> children = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir,
                entry -> Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS))) {
            entries.forEach(children::add);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new IOException("cannot list the group directory " + dir + ": " + reason(e), e);
        }
        return Optional.of(children);
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
}
