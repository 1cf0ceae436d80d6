package dev.isolation.cgroups;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The v2 side of {@link ControlFiles}: writes whose message starts with what they were for, and the parsing of
 * v2's file formats (Documentation/admin-guide/cgroup-v2.rst, "Interface Files"): single values
 * ({@code memory.current}; "max" is {@link Long#MAX_VALUE}), flat keyed ({@code "key value"} per line:
 * {@code cpu.stat}, {@code memory.events}, {@code pids.events}, {@code cgroup.events}) and nested keyed
 * ({@code "key sub=value sub=value"} per line: {@code io.stat}).
 */
final class V2Files {

    private V2Files() {
    }

    /** The whole file, without surrounding white space. */
    static String read(Path file) throws IOException {
        return ControlFiles.read(file).strip();
    }

    /** The file's text, or empty when the file does not exist (a controller or kernel feature that is absent). */
    static Optional<String> readIfPresent(Path file) throws IOException {
        return ControlFiles.readIfExists(file).map(String::strip);
    }

    /**
     * Writes {@code value} to the existing control file in one write(2). A failure reads
     * "what: cannot write "value" to file: reason"; {@code what} is the limit or operation, e.g. "memoryMax".
     */
    static void write(Path file, String value, String what) throws IOException {
        try {
            ControlFiles.write(file, value);
        } catch (IOException e) {
            throw new IOException(what + ": " + e.getMessage(), e.getCause() != null ? e.getCause() : e);
        }
    }

    /** A single number, or empty when the file is absent or empty; "max" is {@link Long#MAX_VALUE}. */
    static OptionalLong readLongIfPresent(Path file) throws IOException {
        Optional<String> text = readIfPresent(file);
        if (text.isEmpty() || text.get().isEmpty()) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(parseLong(file, text.get()));
    }

    /** One key of a flat keyed file, 0 when the file or the key is absent. */
    static long flatKeyedValue(Path file, String key) throws IOException {
        Optional<String> text = readIfPresent(file);
        if (text.isEmpty()) {
            return 0;
        }
        return flatKeyed(file, text.get()).getOrDefault(key, 0L);
    }

    /** Parses a flat keyed file: one {@code "key value"} per line. */
    static Map<String, Long> flatKeyed(Path file, String text) throws IOException {
        Map<String, Long> values = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String[] fields = line.strip().split("\\s+");
            if (fields.length != 2) {
                throw new IOException("malformed line in " + file + " (expected \"key value\"): \"" + line + "\"");
            }
            values.put(fields[0], parseLong(file, fields[1]));
        }
        return values;
    }

    /**
     * Parses a nested keyed file ({@code io.stat}): for each line, its first field and its {@code sub=value}
     * pairs; "max" is {@link Long#MAX_VALUE}.
     */
    static Map<String, Map<String, Long>> nestedKeyed(Path file, String text) throws IOException {
        Map<String, Map<String, Long>> lines = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String[] fields = line.strip().split("\\s+");
            Map<String, Long> values = new LinkedHashMap<>();
            for (int i = 1; i < fields.length; i++) {
                int equals = fields[i].indexOf('=');
                if (equals <= 0) {
                    throw new IOException("malformed line in " + file + " (expected \"key sub=value ...\"): \""
                            + line + "\"");
                }
                values.put(fields[i].substring(0, equals), parseLong(file, fields[i].substring(equals + 1)));
            }
            lines.put(fields[0], values);
        }
        return lines;
    }

    private static long parseLong(Path file, String text) throws IOException {
        return text.equals("max") ? Long.MAX_VALUE : ControlFiles.parseLong(file, text);
    }

    /** The kernel's reason for a failed file operation, e.g. "Device or resource busy". */
    static String reason(IOException e) {
        return ControlFiles.reason(e);
    }

    /** Whether {@code e} (or its cause) is EBUSY: processes or child groups are in the way. */
    static boolean isBusy(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof IOException && reason((IOException) t).contains("Device or resource busy")) {
                return true;
            }
        }
        return false;
    }
}
