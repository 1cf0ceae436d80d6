package dev.isolation.fs.image;

import java.io.IOException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What an image says about running it: the {@code config} object of its config blob. Missing (or null) fields are
 * empty lists and empty optionals; an empty {@code WorkingDir} or {@code User} string counts as missing.
 *
 * @param env        {@code Env}: {@code NAME=value} entries, in order
 * @param workingDir {@code WorkingDir}
 * @param entrypoint {@code Entrypoint}
 * @param cmd        {@code Cmd}
 * @param user       {@code User}: {@code name}, {@code uid}, {@code uid:gid} or {@code name:group}
 */
public record ImageConfig(List<String> env, Optional<String> workingDir, List<String> entrypoint, List<String> cmd,
                          Optional<String> user) {
    public ImageConfig {
        env = List.copyOf(env);
        Objects.requireNonNull(workingDir, "workingDir");
        entrypoint = List.copyOf(entrypoint);
        cmd = List.copyOf(cmd);
        Objects.requireNonNull(user, "user");
    }

    /** Reads the {@code config} object of a parsed config blob. */
    static ImageConfig fromConfigBlob(JsonFields blob) throws IOException {
        Optional<JsonFields> config = blob.optionalObject("config");
        if (config.isEmpty()) {
            return new ImageConfig(List.of(), Optional.empty(), List.of(), List.of(), Optional.empty());
        }
        JsonFields fields = config.get();
        return new ImageConfig(fields.strings("Env"), fields.optionalString("WorkingDir").filter(s -> !s.isEmpty()),
                fields.strings("Entrypoint"), fields.strings("Cmd"),
                fields.optionalString("User").filter(s -> !s.isEmpty()));
    }
}
