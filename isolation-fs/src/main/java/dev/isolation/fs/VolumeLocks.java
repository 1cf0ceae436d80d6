package dev.isolation.fs;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Shared and exclusive locks on volume lock files, across JVMs and between the threads of this one.
 *
 * <p>{@link FileChannel} locks are POSIX record locks: they belong to the process, so two leases of one JVM cannot
 * each hold one (the JDK refuses overlapping locks), and closing any descriptor of the file would drop them. This
 * JVM therefore holds at most one shared lock per lock file, through one channel, and counts its holders; an
 * exclusive lock is only tried when this JVM holds none, so no second channel is ever opened on a locked file.
 *
 * <p>Threads of this JVM are serialised per lock file, never across files.
 *
 * <p>A lock file can be moved away (a volume being removed) while a caller waits for its lock: the file locked is
 * then checked to still be the one at the path, and the wait is retried otherwise.
 */
final class VolumeLocks {
    /** One monitor per lock file, so that waiting for one volume's lock never holds up starts that use others. */
    private static final ConcurrentHashMap<Path, Object> MONITORS = new ConcurrentHashMap<>();
    private static final Map<Path, Shared> SHARED = new ConcurrentHashMap<>();

    /** This JVM's shared lock on one file, and how many holders it has. */
    private static final class Shared {
        final FileChannel channel;
        int holders = 1;

        Shared(FileChannel channel) {
            this.channel = channel;
        }
    }

    /** What runs while an exclusive lock is held. */
    @FunctionalInterface
    interface LockedAction {
        void run() throws IOException;
    }

    private VolumeLocks() {
    }

    /** The monitor of one lock file: one object per file ever locked, as few as the volumes used. */
    private static Object monitor(Path lockFile) {
        return MONITORS.computeIfAbsent(lockFile, path -> new Object());
    }

    /**
     * Takes a shared lock on {@code lockFile} for one more holder of this JVM, waiting while another process holds
     * an exclusive one.
     *
     * @throws NoSuchFileException if there is no file at {@code lockFile}
     */
    static void lockShared(Path lockFile) throws IOException {
        synchronized (monitor(lockFile)) {
            Shared shared = SHARED.get(lockFile);
            if (shared != null) {
                shared.holders++;
                return;
            }
            while (true) {
                Object before = fileKey(lockFile);
                FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.READ);
                try {
                    channel.lock(0, Long.MAX_VALUE, true);
                    if (before.equals(fileKeyOrNull(lockFile))) {
                        SHARED.put(lockFile, new Shared(channel));
                        return;
                    }
                } catch (IOException | RuntimeException e) {
                    channel.close();
                    throw e;
                }
                channel.close();                        // replaced or moved away meanwhile: lock the current one
            }
        }
    }

    /** Drops one holder of this JVM's shared lock on {@code lockFile}, releasing it with the last one. */
    static void unlockShared(Path lockFile) throws IOException {
        synchronized (monitor(lockFile)) {
            Shared shared = SHARED.get(lockFile);
            if (shared == null) {
                throw new IllegalStateException("no shared lock held on " + lockFile);
            }
            if (--shared.holders == 0) {
                SHARED.remove(lockFile);
                shared.channel.close();                 // releases the lock
            }
        }
    }

    /** How many holders of this JVM share the lock on {@code lockFile}. */
    static int sharedHolders(Path lockFile) {
        synchronized (monitor(lockFile)) {
            Shared shared = SHARED.get(lockFile);
            return shared == null ? 0 : shared.holders;
        }
    }

    /**
     * Runs {@code action} holding an exclusive lock on {@code lockFile}, unless anyone holds a lock on it: a holder
     * in this JVM or another process. Never waits.
     *
     * @return whether the lock was free and {@code action} ran
     * @throws NoSuchFileException if there is no file at {@code lockFile}
     */
    static boolean whileExclusive(Path lockFile, LockedAction action) throws IOException {
        synchronized (monitor(lockFile)) {
            if (SHARED.containsKey(lockFile)) {
                return false;
            }
            Object before = fileKey(lockFile);
            try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                FileLock lock = channel.tryLock(0, Long.MAX_VALUE, false);
                if (lock == null) {
                    return false;
                }
                if (!before.equals(fileKeyOrNull(lockFile))) {
                    throw new NoSuchFileException(lockFile.toString(), null, "was replaced while being locked");
                }
                action.run();
                return true;
            }
        }
    }

    private static Object fileKey(Path file) throws IOException {
        return Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    }

    private static Object fileKeyOrNull(Path file) throws IOException {
        try {
            return fileKey(file);
        } catch (NoSuchFileException e) {
            return null;
        }
    }
}
