package dev.isolation.fs;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A read-only filesystem layer: a directory usable as an overlayfs lower. Deleted paths are whiteouts (character
 * devices 0/0); a directory that hides everything below it is marked opaque with the xattr
 * {@code trusted.overlay.opaque} (set when privileged) and {@code user.overlay.opaque} (for overlays mounted
 * with {@code userxattr} in a user namespace), both with the value {@code "y"}.
 *
 * @param id        the layer's content address, e.g. {@code sha256:<hex>}
 * @param directory where its files are
 */
public record Layer(String id, Path directory) {
    public Layer {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(directory, "directory");
    }
}
