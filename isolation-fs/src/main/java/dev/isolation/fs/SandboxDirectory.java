package dev.isolation.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * The host directory private to one sandbox, created under a parent only the caller can enter. It is the mount point
 * of the sandbox's root, and holds what its root mode needs: the overlay's upper and work directories, or the copy of
 * a copied root. A bound root needs nothing else.
 */
public record SandboxDirectory(Path path) {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
    private static final FileAttribute<Set<PosixFilePermission>> WORLD_READABLE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x"));
    /** What overlayfs makes in its work directory at each mount, and leaves there (empty) after it. */
    private static final String OVERLAY_WORK_SUBDIRECTORY = "work";
    /** What a volatile overlay leaves in its work directory (kernel docs, overlayfs "Volatile mount"), deepest first. */
    private static final List<String> VOLATILE_MARKERS = List.of("work/incompat/volatile/dirty",
            "work/incompat/volatile", "work/incompat");

    /**
     * Creates a fresh directory under {@code parent}, with {@code upper} and {@code work} in it for an overlay root
     * (a copied root's copy is made by {@link CopiedRoot}).
     */
    public static SandboxDirectory create(Path parent, RootMode mode) throws IOException {
        byte[] id = new byte[8];
        RANDOM.nextBytes(id);
        SandboxDirectory directory = new SandboxDirectory(parent.resolve("sandbox-" + HexFormat.of().formatHex(id)));
        Files.createDirectory(directory.path(), OWNER_ONLY);
        if (mode == RootMode.OVERLAY) {
            Files.createDirectory(directory.upper(), WORLD_READABLE);
            Files.createDirectory(directory.work(), WORLD_READABLE);
        }
        return directory;
    }

    /**
     * Where the root is mounted: this directory itself. The mount exists only in the sandbox's own mount namespace,
     * where it covers the upper and work directories once the overlay has taken hold of them; the host still sees
     * them as they are.
     */
    public Path staging() {
        return path;
    }

    public Path upper() {
        return path.resolve("upper");
    }

    public Path work() {
        return path.resolve("work");
    }

    public Path copy() {
        return path.resolve("copy");
    }

    /**
     * Removes this directory if nothing is left in it but what it was made with for a root of this mode, empty, and
     * the upper directory is gone already (removed when the sandbox left it empty, or kept): for an overlay root, the
     * work directory and the one overlayfs made in it. Each is one rmdir(2), which refuses a directory that is not
     * empty.
     *
     * @return false if something else is left, which is then still there; true if the directory is gone
     */
    boolean removeIfEmpty(RootMode mode) {
        try {
            if (mode == RootMode.OVERLAY) {
                for (String marker : VOLATILE_MARKERS) {
                    Files.deleteIfExists(work().resolve(marker));
                }
                Files.deleteIfExists(work().resolve(OVERLAY_WORK_SUBDIRECTORY));    // not there if never mounted
                Files.delete(work());
            }
            Files.delete(path);
            return true;
        } catch (IOException notEmptyOrNotRemovable) {
            return false;
        }
    }
}
