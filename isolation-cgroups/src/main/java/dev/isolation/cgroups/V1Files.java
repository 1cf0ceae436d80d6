package dev.isolation.cgroups;

import java.io.IOException;
import java.nio.file.Path;

/** Writes of v1 settings: a {@link ControlFiles} write whose message starts with the setting it applies. */
final class V1Files {
    private V1Files() {
    }

    /** Writes {@code value} to {@code file}; a failure reads "setting: cannot write "value" to file: reason". */
    static void write(String setting, Path file, String value) throws IOException {
        write(setting, file, value, null);
    }

    /** Like {@link #write(String, Path, String)}, with {@code hint} (when not null) in parentheses after the reason. */
    static void write(String setting, Path file, String value, String hint) throws IOException {
        try {
            ControlFiles.write(file, value);
        } catch (IOException e) {
            throw new IOException(setting + ": " + e.getMessage() + (hint == null ? "" : " (" + hint + ")"), e);
        }
    }
}
