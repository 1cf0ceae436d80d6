package dev.isolation.launch;

import dev.isolation.Namespace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the running kernel offers, looked up once per JVM. Only a feature found is remembered: a running kernel
 * cannot lose a namespace type (they are built in), and a filesystem, once registered, stays usable (a module
 * unloaded meanwhile is loaded again by the next mount). A feature not found is looked up again on the next call,
 * since it may appear (a module loaded later), and that call is about to fail the start anyway.
 */
public final class KernelFeatures {
    private static final Path FILESYSTEMS = Path.of("/proc/filesystems");
    private static final Set<Namespace> NAMESPACES_FOUND = ConcurrentHashMap.newKeySet();
    private static final Set<String> FILESYSTEMS_FOUND = ConcurrentHashMap.newKeySet();

    private static final boolean TMPFS_USER_XATTRS = releaseAtLeast(System.getProperty("os.version", "0.0"), 6, 6);

    private KernelFeatures() {
    }

    /** Whether tmpfs takes user.* extended attributes (Linux 6.6), which an overlay in a user namespace needs. */
    static boolean tmpfsHasUserXattrs() {
        return TMPFS_USER_XATTRS;
    }

    /** Whether a kernel release such as "6.18.44-fc" is {@code major.minor} or later; false if it cannot be read. */
    static boolean releaseAtLeast(String release, int major, int minor) {
        String[] parts = release.split("[.-]");
        try {
            int actualMajor = Integer.parseInt(parts[0]);
            return actualMajor > major || actualMajor == major && parts.length > 1
                    && Integer.parseInt(parts[1]) >= minor;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** The link of the JVM's own namespace of this type, which /proc has for every type the kernel was built with. */
    public static Path namespaceLink(Namespace namespace) {
        return Path.of("/proc/self/ns", namespace.procName());
    }

    /** Whether the kernel has namespaces of this type. */
    public static boolean hasNamespace(Namespace namespace) {
        if (NAMESPACES_FOUND.contains(namespace)) {
            return true;
        }
        boolean found = Files.exists(namespaceLink(namespace));
        if (found) {
            NAMESPACES_FOUND.add(namespace);
        }
        return found;
    }

    /** Whether /proc/filesystems lists {@code name} (false if it cannot be read). */
    static boolean hasFilesystem(String name) {
        if (FILESYSTEMS_FOUND.contains(name)) {
            return true;
        }
        boolean found;
        try {
            found = Files.readAllLines(FILESYSTEMS).stream().anyMatch(line -> line.endsWith("\t" + name));
        } catch (IOException e) {
            return false;
        }
        if (found) {
            FILESYSTEMS_FOUND.add(name);
        }
        return found;
    }
}
