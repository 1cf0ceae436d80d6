package dev.isolation.launch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The subordinate id ranges the host grants a user in /etc/subuid or /etc/subgid (subuid(5): "name-or-id:start:count"
 * per line), which the setuid newuidmap and newgidmap let that user map into a user namespace.
 */
public final class SubordinateIds {
    public static final Path SUBUID = Path.of("/etc/subuid");
    public static final Path SUBGID = Path.of("/etc/subgid");
    /** Where the setuid mappers are looked for (Debian's package "uidmap"). */
    public static final List<Path> NEWUIDMAP = List.of(Path.of("/usr/bin/newuidmap"), Path.of("/bin/newuidmap"));
    public static final List<Path> NEWGIDMAP = List.of(Path.of("/usr/bin/newgidmap"), Path.of("/bin/newgidmap"));

    /** One "start:count" range. */
    public record Range(long start, long count) {
    }

    private SubordinateIds() {
    }

    /** The ranges of the user named {@code name} or numbered {@code id} in {@code file}, in file order. */
    public static List<Range> of(Path file, String name, long id) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (NoSuchFileException e) {
            return List.of();
        }
        List<Range> ranges = new ArrayList<>();
        for (String line : lines) {
            String[] fields = line.trim().split(":");
            if (fields.length != 3 || !(fields[0].equals(name) || fields[0].equals(Long.toString(id)))) {
                continue;
            }
            try {
                long start = Long.parseLong(fields[1]);
                long count = Long.parseLong(fields[2]);
                if (start >= 0 && count > 0) {
                    ranges.add(new Range(start, count));
                }
            } catch (NumberFormatException e) {
                // a malformed line grants nothing, as for newuidmap
            }
        }
        return List.copyOf(ranges);
    }

    /** The first of {@code candidates} that exists, or null. */
    public static Path mapper(List<Path> candidates) {
        return candidates.stream().filter(Files::isRegularFile).findFirst().orElse(null);
    }
}
