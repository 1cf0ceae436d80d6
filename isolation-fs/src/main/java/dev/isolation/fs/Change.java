package dev.isolation.fs;

import java.util.Objects;

/**
 * One path a sandbox changed in its copy-on-write root, as seen from inside the sandbox.
 *
 * @param path absolute and normalized, never the root itself, e.g. {@code /etc/passwd}
 * @param kind what happened to it
 */
public record Change(String path, Kind kind) {
    /** What happened to a path, compared with the read-only lowers. */
    public enum Kind {
        /** The path is new: no lower has it. */
        ADDED,
        /**
         * The path exists in the lowers and the sandbox replaced or rewrote it, or changed a directory's mode or
         * owner.
         */
        MODIFIED,
        /** The path exists in the lowers and is gone from the sandbox's root. */
        DELETED
    }

    public Change {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(kind, "kind");
        String why = invalidity(path);
        if (why != null) {
            throw new IllegalArgumentException("change path \"" + path + "\" " + why);
        }
    }

    private static String invalidity(String path) {
        if (!path.startsWith("/")) {
            return "is not absolute";
        }
        if (path.equals("/")) {
            return "is the root, which is never reported";
        }
        if (path.indexOf('\0') >= 0) {
            return "contains a NUL character";
        }
        for (String component : path.substring(1).split("/", -1)) {
            if (component.isEmpty() || component.equals(".") || component.equals("..")) {
                return "is not normalized (empty, \".\" or \"..\" component, or trailing slash)";
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return kind + " " + path;
    }
}
