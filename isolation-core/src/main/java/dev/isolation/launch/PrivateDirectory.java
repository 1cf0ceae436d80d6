package dev.isolation.launch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/** A directory only the JVM's user can enter: created 0700, or refused if someone else owns or can write it. */
final class PrivateDirectory {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    private PrivateDirectory() {
    }

    static Path ensure(Path dir) throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(dir.getParent());
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            } catch (java.nio.file.FileAlreadyExistsException raced) {
                // another JVM of the same user made it: checked below like any existing one
            }
        }
        Object owner = Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        long uid = Credentials.effectiveUid();
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) || ((Integer) owner).longValue() != uid) {
            throw new IOException(dir + " is not a directory owned by uid " + uid + " (owner " + owner
                    + "): refusing to keep the helper or its sockets there; set -Disolation.cache.dir");
        }
        Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
        if (!OWNER_ONLY.containsAll(permissions)) {
            Files.setPosixFilePermissions(dir, OWNER_ONLY);
        }
        return dir;
    }
}
