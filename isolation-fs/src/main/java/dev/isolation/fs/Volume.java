package dev.isolation.fs;

import java.nio.file.Path;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A named volume of a {@link VolumeStore}: a host directory that outlives sandboxes, which several sandboxes may
 * mount at once.
 *
 * @param name      1 to 64 characters of {@code [A-Za-z0-9_.-]}, the first a letter or digit
 * @param directory the absolute path of the directory holding its files: what a sandbox mounts
 */
public record Volume(String name, Path directory) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

    public Volume {
        checkName(name);
        Objects.requireNonNull(directory, "directory");
        if (!directory.isAbsolute()) {
            throw new IllegalArgumentException("volume \"" + name + "\": directory \"" + directory
                    + "\" is not an absolute path");
        }
    }

    /**
     * Returns {@code name} if it is a valid volume name.
     *
     * @throws IllegalArgumentException naming the name and the rule it breaks
     */
    public static String checkName(String name) {
        Objects.requireNonNull(name, "volume name");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid volume name \"" + name + "\": a name is 1 to 64 characters"
                    + " of A-Z, a-z, 0-9, '_', '.' and '-', and starts with a letter or digit");
        }
        return name;
    }
}
