package dev.isolation;

import dev.isolation.fs.FilesystemSpec;
import dev.isolation.fs.Layer;
import dev.isolation.fs.RootSource;
import dev.isolation.fs.image.ImageConfig;
import dev.isolation.fs.image.OciImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** What an image's config contributes to a sandbox when the builder does not say otherwise. */
final class ImageDefaults {
    static final ImageDefaults NONE = new ImageDefaults(null);

    private final OciImage image;

    private ImageDefaults(OciImage image) {
        this.image = image;
    }

    static ImageDefaults of(OciImage image) {
        return new ImageDefaults(image);
    }

    /** Entrypoint followed by Cmd. */
    List<String> command() {
        if (image == null) {
            return List.of();
        }
        List<String> command = new ArrayList<>(image.config().entrypoint());
        command.addAll(image.config().cmd());
        return command;
    }

    Map<String, String> environment() {
        Map<String, String> environment = new LinkedHashMap<>();
        if (image != null) {
            for (String entry : image.config().env()) {
                int equals = entry.indexOf('=');
                if (equals <= 0) {
                    throw new InvalidSandboxSpecException("image", entry, "is not a NAME=value entry of the image's Env");
                }
                environment.put(entry.substring(0, equals), entry.substring(equals + 1));
            }
        }
        return environment;
    }

    Optional<String> workingDirectory() {
        return image == null ? Optional.empty() : image.config().workingDir().filter(dir -> !dir.isEmpty());
    }

    /** The image's root instead of the host's; a filesystem with another root of its own is a conflict. */
    FilesystemSpec filesystem(FilesystemSpec given) {
        RootSource layers = RootSource.layers(image.layers());
        if (given == null) {
            return FilesystemSpec.builder().root(layers).build();
        }
        if (!(given.root() instanceof RootSource.HostRoot)) {
            throw new InvalidSandboxSpecException("image", "conflicts with the filesystem's root " + given.root()
                    + ": a sandbox has one root");
        }
        return given.toBuilder().root(layers).build();
    }

    /** The image's User: "uid", "uid:gid", "name" or "name:group", names looked up in the image's own files. */
    Optional<UserIdentity> user() {
        Optional<String> configured = image == null ? Optional.empty()
                : image.config().user().filter(user -> !user.isEmpty());
        if (configured.isEmpty()) {
            return Optional.empty();
        }
        String[] parts = configured.get().split(":", 2);
        long uid = id(parts[0], "etc/passwd", configured.get());
        long gid = parts.length > 1 ? id(parts[1], "etc/group", configured.get()) : primaryGroup(uid);
        return Optional.of(new UserIdentity(uid, gid));
    }

    private long id(String nameOrNumber, String database, String user) {
        if (nameOrNumber.chars().allMatch(Character::isDigit) && !nameOrNumber.isEmpty()) {
            return Long.parseLong(nameOrNumber);
        }
        for (String[] fields : entries(database)) {
            if (fields.length > 2 && fields[0].equals(nameOrNumber)) {
                return Long.parseLong(fields[2]);
            }
        }
        throw new InvalidSandboxSpecException("image", user, "names '" + nameOrNumber + "', which the image's /"
                + database + " does not have; set the ids with user(uid, gid)");
    }

    private long primaryGroup(long uid) {
        for (String[] fields : entries("etc/passwd")) {
            if (fields.length > 3 && fields[2].equals(Long.toString(uid))) {
                return Long.parseLong(fields[3]);
            }
        }
        return 0;
    }

    /** The lines of a file of the image, from the topmost layer that has it. */
    private List<String[]> entries(String file) {
        List<Layer> layers = new ArrayList<>(image.layers());
        for (int i = layers.size() - 1; i >= 0; i--) {
            Path path = layers.get(i).directory().resolve(file);
            if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
                try {
                    return Files.readAllLines(path).stream().map(line -> line.split(":")).toList();
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read " + path, e);
                }
            }
        }
        return List.of();
    }
}
