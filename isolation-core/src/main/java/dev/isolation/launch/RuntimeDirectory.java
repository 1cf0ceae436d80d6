package dev.isolation.launch;

import dev.isolation.CleanupReport;
import dev.isolation.cgroups.JvmLabel;
import dev.isolation.fs.FileTrees;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where the JVM keeps its control sockets and its sandboxes' private directories (overlay upper and work
 * directories, copied roots): a private base with a short path (socket paths are limited),
 * {@code $TMPDIR/isolation-<uid>} unless {@code -Disolation.runtime.dir} names another, and in it one directory
 * per JVM named by its {@link JvmLabel}, {@code isolation-<pid>-<start time>-ns<pid namespace>}. An overlay's upper directory cannot
 * be on overlayfs itself.
 *
 * <p>Whatever a JVM leaves there when it dies (a sandbox's upper directory, a socket bound for a start it did not
 * finish) is in its own directory, which the first start of any later JVM removes, as does
 * {@link AbandonedResources}. A JVM that exits normally removes its directory if it is empty.
 */
final class RuntimeDirectory {
    static final String PROPERTY = "isolation.runtime.dir";
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;
    private static final Path SHARED_MEMORY = Path.of("/dev/shm");
    private static final Map<Path, Path> OF_THIS_JVM = new ConcurrentHashMap<>();

    private RuntimeDirectory() {
    }

    static Path base() {
        String configured = System.getProperty(PROPERTY);
        return configured != null ? Path.of(configured)
                : Path.of(System.getProperty("java.io.tmpdir"), "isolation-" + Credentials.effectiveUid());
    }

    /**
     * Where the sandboxes whose changes are discarded keep their private directories: under /dev/shm (a tmpfs) unless
     * {@value #PROPERTY} is set. An overlay's upper and work directories on a tmpfs cost a start a fraction of what
     * they cost on a disk file system (the kernel checks the work directory with a few file operations at each
     * mount, each a journal transaction on ext4). What such a sandbox writes to its root is then held in memory,
     * charged to the sandbox's memory group, until it ends.
     */
    static Path discardedSandboxes() throws IOException {
        return System.getProperty(PROPERTY) == null && Files.isDirectory(SHARED_MEMORY)
                && Files.isWritable(SHARED_MEMORY) ? ofThisJvm(sharedMemoryBase()) : ofThisJvm();
    }

    /** The parent of the sandboxes' private directories: this JVM's directory. */
    static Path sandboxes() throws IOException {
        return ofThisJvm();
    }

    private static Path sharedMemoryBase() {
        return SHARED_MEMORY.resolve("isolation-" + Credentials.effectiveUid());
    }

    /** The bases JVMs may have left directories in. */
    private static List<Path> bases() {
        return System.getProperty(PROPERTY) != null ? List.of(base()) : List.of(base(), sharedMemoryBase());
    }

    /** Where control sockets are bound: this JVM's directory. */
    static Path sockets() throws IOException {
        return ofThisJvm();
    }

    /** This JVM's directory, made on first use, after removing those of JVMs that are gone. */
    static Path ofThisJvm() throws IOException {
        return ofThisJvm(base());
    }

    /** This JVM's directory in {@code base}, made on first use, after removing those of JVMs that are gone. */
    private static Path ofThisJvm(Path base) throws IOException {
        Path dir = OF_THIS_JVM.get(base);
        if (dir == null) {
            synchronized (RuntimeDirectory.class) {     // once per JVM and base; later starts only read the map
                dir = OF_THIS_JVM.get(base);
                if (dir == null) {
                    Path ensured = PrivateDirectory.ensure(base);
                    removeAbandonedOnFirstUse(ensured);
                    dir = PrivateDirectory.ensure(ensured.resolve(JvmLabel.thisJvm()));
                    removeAtExitIfEmpty(dir);
                    OF_THIS_JVM.put(base, dir);
                }
            }
        }
        return dir;
    }

    /** Removes the directories that JVMs which are gone left in the bases, adding what it removed to {@code found}. */
    static void removeAbandoned(AbandonedResources found) throws IOException {
        for (Path base : bases()) {
            if (Files.exists(base, LinkOption.NOFOLLOW_LINKS)) {
                removeAbandoned(PrivateDirectory.ensure(base), found);
            }
        }
    }

    private static void removeAbandoned(Path base, AbandonedResources found) throws IOException {
        List<Path> abandoned = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(base)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (JvmLabel.isLabelled(name) && Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)
                        && JvmLabel.ownerIsGone(name)) {
                    abandoned.add(entry);
                }
            }
        } catch (NoSuchFileException e) {
            return;
        } catch (IOException e) {
            throw new IOException("cannot list " + base + " for what JVMs that are gone left: " + e, e);
        }
        for (Path dir : abandoned) {
            removeJvmDirectory(dir, found);
        }
    }

    /** Deletes a dead JVM's directory, reporting its sockets and sandbox directories, and what is left. */
    private static void removeJvmDirectory(Path dir, AbandonedResources found) {
        List<Path> sockets = new ArrayList<>();
        List<Path> sandboxes = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                int mode = (Integer) Files.getAttribute(entry, "unix:mode", LinkOption.NOFOLLOW_LINKS);
                if ((mode & S_IFMT) == S_IFSOCK) {
                    sockets.add(entry);
                } else if (Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
                    sandboxes.add(entry);
                }
            }
        } catch (IOException e) {
            // gone meanwhile, or unreadable: deleteWhatCan says which
        }
        for (FileTrees.Undeleted left : FileTrees.deleteWhatCan(dir)) {
            found.notRemoved(left.path().toString(), left.reason());
        }
        sockets.stream().filter(RuntimeDirectory::isGone).forEach(found::socket);
        sandboxes.stream().filter(RuntimeDirectory::isGone).forEach(found::directory);
        if (isGone(dir)) {
            found.directory(dir);
        }
    }

    private static boolean isGone(Path path) {
        return !Files.exists(path, LinkOption.NOFOLLOW_LINKS);
    }

    private static void removeAbandonedOnFirstUse(Path base) {
        // what cannot be removed now must not stop every sandbox; the next JVM tries again
        AbandonedResources found = new AbandonedResources();
        try {
            removeAbandoned(base, found);
        } catch (IOException e) {
            warn(e.getMessage());
        }
        List<CleanupReport.NotRemoved> left = found.report().notRemoved();
        if (!left.isEmpty()) {
            warn("could not remove " + left.size() + " entries that JVMs which are gone left in " + base + ": "
                    + left);
        }
    }

    /** At a normal exit, the JVM's directory goes if nothing is left in it (the next JVM removes it otherwise). */
    private static void removeAtExitIfEmpty(Path dir) {
        Thread remover = new Thread(() -> {
            try {
                Files.deleteIfExists(dir);
            } catch (IOException notEmpty) {
                // a sandbox still running as the JVM exits: its helper ends it, the next JVM removes the rest
            }
        }, "isolation-runtime-directory-removal");
        try {
            Runtime.getRuntime().addShutdownHook(remover);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is exiting already
        }
    }

    private static void warn(String message) {
        System.getLogger(RuntimeDirectory.class.getName()).log(System.Logger.Level.WARNING, message);
    }
}
