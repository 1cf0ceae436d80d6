package dev.isolation.fs;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Named volumes: directories that outlive sandboxes, kept in a store directory the caller chooses. Several
 * sandboxes, of this JVM or others, may use a volume at once; each holds a {@link Lease} meanwhile, and a leased
 * volume cannot be removed.
 *
 * <p>Layout: {@code <root>/<name>/data} is the volume's directory (what sandboxes mount) and
 * {@code <root>/<name>/lock} the file leases lock. A volume is built in a hidden directory of the store and renamed
 * into place, and renamed away before it is deleted, so a volume directory is always complete: creating, reading
 * and removing are safe between threads and between processes sharing the store.
 */
public final class VolumeStore {
    private static final String DATA = "data";
    private static final String LOCK = "lock";
    private static final String CREATING = ".creating-";
    private static final String REMOVING = ".removing-";

    private final Path root;

    /**
     * A store in {@code root}, created (mode 0700, parents as needed) if missing.
     *
     * @throws IOException if {@code root} cannot be created, or exists and is not a directory
     */
    public VolumeStore(Path root) throws IOException {
        Objects.requireNonNull(root, "root");
        Path absolute = root.toAbsolutePath().normalize();
        if (!Files.isDirectory(absolute)) {
            if (absolute.getParent() != null) {
                Files.createDirectories(absolute.getParent());
            }
            try {
                Files.createDirectory(absolute, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rwx------")));
                Files.setPosixFilePermissions(absolute, PosixFilePermissions.fromString("rwx------"));
            } catch (FileAlreadyExistsException e) {
                if (!Files.isDirectory(absolute)) {
                    throw new FileAlreadyExistsException(absolute.toString(), null,
                            "volume store root exists and is not a directory");
                }
            }
        }
        this.root = absolute.toRealPath();
    }

    /** The store's directory. */
    public Path root() {
        return root;
    }

    /**
     * Creates the volume {@code name}, with an empty directory (mode 0755).
     *
     * @throws FileAlreadyExistsException if it exists
     * @throws IllegalArgumentException   if {@code name} is not a valid volume name
     */
    public Volume create(String name) throws IOException {
        Volume.checkName(name);
        if (!install(name)) {
            throw new FileAlreadyExistsException(volumePath(name).toString(), null,
                    "volume \"" + name + "\" already exists");
        }
        return volume(name);
    }

    /** The volume {@code name}, if it exists. */
    public Optional<Volume> get(String name) {
        Volume.checkName(name);
        return Files.isDirectory(volumePath(name).resolve(DATA), LinkOption.NOFOLLOW_LINKS)
                ? Optional.of(volume(name)) : Optional.empty();
    }

    /** The volume {@code name}, created if missing; threads and processes racing for it all get the same one. */
    public Volume getOrCreate(String name) throws IOException {
        Volume.checkName(name);
        while (true) {
            Optional<Volume> existing = get(name);
            if (existing.isPresent() || install(name)) {
                return existing.orElseGet(() -> volume(name));
            }
            // lost a race: another creator won, and maybe a remover since; look again
        }
    }

    /** Every volume, sorted by name. */
    public List<Volume> list() throws IOException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (isName(name) && Files.isDirectory(entry.resolve(DATA), LinkOption.NOFOLLOW_LINKS)) {
                    names.add(name);
                }
            }
        }
        names.sort(null);
        return names.stream().map(this::volume).toList();
    }

    /**
     * Marks the volume {@code name} in use until the lease is closed: a shared lock, which other sandboxes of any
     * process may hold too, and which makes {@link #remove} refuse. Waits while the volume is being removed.
     *
     * @throws NoSuchFileException if there is no volume {@code name}
     */
    public Lease acquire(String name) throws IOException {
        Volume volume = get(name).orElseThrow(() -> noVolume(name));
        Path lockFile = volumePath(name).resolve(LOCK);
        try {
            VolumeLocks.lockShared(lockFile);
        } catch (NoSuchFileException e) {
            throw noVolume(name);
        }
        return new Lease(volume, lockFile);
    }

    /**
     * Deletes the volume {@code name} and everything in it, whatever the modes left on its directories, never
     * following a symbolic link out of it.
     *
     * @throws NoSuchFileException if there is no volume {@code name}
     * @throws IOException         if the volume is in use (leased, by this process or another), or cannot be deleted
     */
    public void remove(String name) throws IOException {
        Volume.checkName(name);
        Path volumePath = volumePath(name);
        Path lockFile = volumePath.resolve(LOCK);
        if (!Files.isDirectory(volumePath.resolve(DATA), LinkOption.NOFOLLOW_LINKS)) {
            throw noVolume(name);
        }
        int inThisJvm = VolumeLocks.sharedHolders(lockFile);
        if (inThisJvm > 0) {
            throw new IOException("volume \"" + name + "\" is in use: " + inThisJvm + " lease(s) of this process hold "
                    + lockFile);
        }
        Path doomed = root.resolve(REMOVING + UUID.randomUUID());
        boolean moved;
        try {
            moved = VolumeLocks.whileExclusive(lockFile,
                    () -> Files.move(volumePath, doomed, StandardCopyOption.ATOMIC_MOVE));
        } catch (NoSuchFileException e) {
            throw noVolume(name);
        }
        if (!moved) {
            throw new IOException("volume \"" + name + "\" is in use: a lease holds a lock on " + lockFile);
        }
        FileTrees.deleteRecursively(doomed);
    }

    /**
     * Builds the volume in a hidden directory and renames it into place.
     *
     * @return false if a volume of that name exists already
     */
    private boolean install(String name) throws IOException {
        Path staging = root.resolve(CREATING + UUID.randomUUID());
        Path target = volumePath(name);
        try {
            Files.createDirectory(staging, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
            Path data = Files.createDirectory(staging.resolve(DATA));
            Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.createFile(staging.resolve(LOCK), PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rw-------")));
            try {
                Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
                return true;
            } catch (FileSystemException e) {
                // rename(2) onto a volume fails with ENOTEMPTY or EEXIST: volumes are never empty directories
                if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                    return false;
                }
                throw e;
            }
        } catch (IOException e) {
            throw new IOException("cannot create volume \"" + name + "\" in " + root + ": " + e, e);
        } finally {
            FileTrees.deleteRecursively(staging);                // gone already once renamed into place
        }
    }

    private Volume volume(String name) {
        return new Volume(name, volumePath(name).resolve(DATA));
    }

    private Path volumePath(String name) {
        return root.resolve(name);
    }

    private NoSuchFileException noVolume(String name) {
        return new NoSuchFileException(volumePath(name).toString(), null,
                "no volume \"" + name + "\" in store " + root);
    }

    private static boolean isName(String name) {
        try {
            Volume.checkName(name);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @Override
    public String toString() {
        return "VolumeStore[" + root + "]";
    }

    /**
     * A volume marked in use, until closed. Closing is idempotent. Leases are per process: one shared lock on the
     * volume's lock file, counted among this JVM's holders.
     */
    public static final class Lease implements AutoCloseable {
        private final Volume volume;
        private final Path lockFile;
        private final AtomicBoolean closed = new AtomicBoolean();

        private Lease(Volume volume, Path lockFile) {
            this.volume = volume;
            this.lockFile = lockFile;
        }

        public Volume volume() {
            return volume;
        }

        /** Ends the lease; the volume may be removed once no lease of any process is left. */
        @Override
        public void close() throws IOException {
            if (closed.compareAndSet(false, true)) {
                VolumeLocks.unlockShared(lockFile);
            }
        }

        @Override
        public String toString() {
            return "Lease[" + volume.name() + (closed.get() ? ", closed]" : "]");
        }
    }
}
