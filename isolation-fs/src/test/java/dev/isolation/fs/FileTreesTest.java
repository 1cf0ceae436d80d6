package dev.isolation.fs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Trees are deleted whatever modes a sandbox left on them, never through a symbolic link. */
class FileTreesTest {
    @TempDir
    Path temp;

    @Test
    void deleteWhatCanGetsIntoDirectoriesTheirOwnerIsLockedOutOf() throws Exception {
        Path root = tree();
        assertThat(FileTrees.deleteWhatCan(root)).isEmpty();
        assertThat(root).doesNotExist();
        assertThat(temp.resolve("outside/kept")).exists();
        assertThat(FileTrees.deleteWhatCan(root)).as("a missing root is fine").isEmpty();
    }

    @Test
    void deleteRecursivelyDoesTheSame() throws Exception {
        Path root = tree();
        FileTrees.deleteRecursively(root);
        assertThat(root).doesNotExist();
        assertThat(temp.resolve("outside/kept")).exists();
    }

    /** upper/locked (mode 000) holding in (mode 000) holding a read-only file, and a link out of the tree. */
    private Path tree() throws Exception {
        Path outside = Files.createDirectories(temp.resolve("outside"));
        Files.writeString(outside.resolve("kept"), "x");
        Path root = Files.createDirectories(temp.resolve("upper/locked/in"));
        Files.writeString(root.resolve("file"), "x");
        Files.setPosixFilePermissions(root.resolve("file"), PosixFilePermissions.fromString("r--------"));
        Files.createSymbolicLink(temp.resolve("upper/link"), outside);
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("---------"));
        Files.setPosixFilePermissions(root.getParent(), PosixFilePermissions.fromString("---------"));
        return temp.resolve("upper");
    }
}
