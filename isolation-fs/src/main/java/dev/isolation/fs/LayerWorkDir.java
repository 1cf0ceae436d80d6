package dev.isolation.fs;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A private work path under the store's {@code tmp/}: {@code tmp/<purpose>-<uuid>} (created by the caller, or
 * renamed there) guarded by {@code tmp/<purpose>-<uuid>.lock}, which this JVM holds locked (fcntl) while working.
 * Closing deletes both. {@link #removeStale} deletes what crashed JVMs left: entries older than a grace period
 * whose lock nobody holds. Nothing under {@code tmp/} is ever used as a layer except by the one that made it.
 */
final class LayerWorkDir implements AutoCloseable {
    private static final String LOCK_SUFFIX = ".lock";
    /**
     * Lock files this JVM holds: never opened again by {@link #removeStale}, because closing any descriptor of a
     * file drops the process's fcntl locks on it.
     */
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

    private final Path path;
    private final Path lockFile;
    private final FileChannel channel;
    private final FileLock lock;

    private LayerWorkDir(Path path, Path lockFile, FileChannel channel, FileLock lock) {
        this.path = path;
        this.lockFile = lockFile;
        this.channel = channel;
        this.lock = lock;
    }

    /** Reserves a fresh work path in {@code tmp} for {@code purpose} ("unpack", "commit", "remove"). */
    static LayerWorkDir reserve(Path tmp, String purpose) throws IOException {
        String name = purpose + "-" + UUID.randomUUID();
        Path lockFile = tmp.resolve(name + LOCK_SUFFIX);
        FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS);
        try {
            FileLock lock = channel.lock();
            HELD.add(lockFile.toAbsolutePath());
            return new LayerWorkDir(tmp.resolve(name), lockFile, channel, lock);
        } catch (IOException | RuntimeException e) {
            channel.close();
            Files.deleteIfExists(lockFile);
            throw e;
        }
    }

    /** The work path; it does not exist until the caller creates it or renames something there. */
    Path path() {
        return path;
    }

    /** Deletes the work path (if still there) and the lock. */
    @Override
    public void close() throws IOException {
        try {
            FileTrees.deleteRecursively(path);
        } finally {
            try {
                Files.deleteIfExists(lockFile);
            } finally {
                HELD.remove(lockFile.toAbsolutePath());
                lock.release();
                channel.close();
            }
        }
    }

    /**
     * Deletes entries of {@code tmp} last modified more than {@code grace} ago whose lock is not held by anyone
     * (their JVM died), and lock files without a holder. Entries in use are left alone; failures are ignored, the
     * next open tries again.
     */
    static void removeStale(Path tmp, Duration grace) {
        Instant cutoff = Instant.now().minus(grace);
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(tmp)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                String base = name.endsWith(LOCK_SUFFIX) ? name.substring(0, name.length() - LOCK_SUFFIX.length()) : name;
                try {
                    FileTime modified = Files.getLastModifiedTime(entry, LinkOption.NOFOLLOW_LINKS);
                    if (modified.toInstant().isAfter(cutoff)) {
                        continue;
                    }
                    removeIfUnlocked(tmp.resolve(base), tmp.resolve(base + LOCK_SUFFIX));
                } catch (IOException | OverlappingFileLockException e) {
                    // in use, already gone, or not ours to delete: leave it
                }
            }
        } catch (IOException e) {
            // nothing to clean
        }
    }

    private static void removeIfUnlocked(Path work, Path lockFile) throws IOException {
        if (HELD.contains(lockFile.toAbsolutePath())) {
            return;
        }
        FileChannel channel;
        try {
            channel = FileChannel.open(lockFile, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            FileTrees.deleteRecursively(work);
            return;
        }
        try (channel) {
            FileLock lock = channel.tryLock();
            if (lock == null) {
                return;
            }
            try {
                FileTrees.deleteRecursively(work);
                Files.deleteIfExists(lockFile);
            } finally {
                lock.release();
            }
        }
    }
}
