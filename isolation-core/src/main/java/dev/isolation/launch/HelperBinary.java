package dev.isolation.launch;

import com.google.common.hash.Hashing;
import dev.isolation.cgroups.JvmLabel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Locates the native helper. It is built with the jar and packed in it; on first use it is written once into
 * a private cache directory under a name carrying its SHA-256, and on later uses that copy is checked against
 * the hash before it is trusted. {@code -Disolation.helper=/path} uses another copy instead. A copy is written under
 * a name labelled with the JVM ({@code <JVM label>-<n>.helper.tmp}) and renamed into place, so
 * that one a JVM died writing is recognised and removed.
 */
public final class HelperBinary {
    public static final String PATH_PROPERTY = "isolation.helper";
    public static final String CACHE_PROPERTY = "isolation.cache.dir";
    private static final String TEMP_SUFFIX = ".helper.tmp";
    private static final String RESOURCE = "native/" + System.getProperty("os.arch") + "/isolation-helper";

    private static volatile Path located;

    private HelperBinary() {
    }

    /** The helper's path, extracting it on first call. */
    public static Path path() throws IOException {
        Path path = located;
        if (path == null) {
            synchronized (HelperBinary.class) {
                path = located;
                if (path == null) {
                    path = locate();
                    located = path;
                }
            }
        }
        return path;
    }

    private static Path locate() throws IOException {
        String override = System.getProperty(PATH_PROPERTY);
        if (override != null) {
            Path path = Path.of(override);
            if (!Files.isRegularFile(path) || !Files.isExecutable(path)) {
                throw new IOException("-D" + PATH_PROPERTY + "=" + override + " is not an executable file");
            }
            return path;
        }
        byte[] binary = readResource();
        String hash = Hashing.sha256().hashBytes(binary).toString();
        Path dir = PrivateDirectory.ensure(cacheDirectory());
        Path target = dir.resolve("isolation-helper-" + hash.substring(0, 16));
        if (Files.isRegularFile(target) && hash.equals(Hashing.sha256().hashBytes(Files.readAllBytes(target)).toString())) {
            return target;
        }
        removeAbandonedCopies(dir, new AbandonedResources());
        // named after this JVM, so that the copy a JVM dies writing is recognised and removed
        Path temp = Files.createFile(dir.resolve(JvmLabel.next() + TEMP_SUFFIX),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.write(temp, binary);
            Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("r-x------"));
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
        return target;
    }

    /** Deletes the half-written copies of JVMs that are gone from {@code dir}, adding them to {@code found}. */
    static void removeAbandonedCopies(Path dir, AbandonedResources found) {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "*" + TEMP_SUFFIX)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                String label = name.substring(0, name.length() - TEMP_SUFFIX.length());
                if (JvmLabel.isLabelled(label) && JvmLabel.ownerIsGone(label)) {
                    try {
                        Files.deleteIfExists(entry);
                        found.file(entry);
                    } catch (IOException e) {
                        found.notRemoved(entry.toString(), String.valueOf(e.getMessage()));
                    }
                }
            }
        } catch (IOException e) {
            // no cache directory (yet): nothing half-written in it
        }
    }

    private static byte[] readResource() throws IOException {
        try (InputStream in = HelperBinary.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IOException("the isolation-core jar has no native helper for this architecture ("
                        + System.getProperty("os.arch") + "): resource dev/isolation/launch/" + RESOURCE
                        + " is missing; build from source with gcc, or set -D" + PATH_PROPERTY);
            }
            return in.readAllBytes();
        }
    }

    /** -Disolation.cache.dir, else $XDG_CACHE_HOME/isolation, else ~/.cache/isolation, else a private temp dir. */
    static Path cacheDirectory() {
        String configured = System.getProperty(CACHE_PROPERTY);
        if (configured != null) {
            return Path.of(configured);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && xdg.startsWith("/")) {
            return Path.of(xdg, "isolation");
        }
        String home = System.getProperty("user.home");
        if (home != null && Files.isDirectory(Path.of(home)) && Files.isWritable(Path.of(home))) {
            return Path.of(home, ".cache", "isolation");
        }
        return RuntimeDirectory.base().resolve("cache");
    }
}
