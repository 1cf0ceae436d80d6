package dev.isolation.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Copies of the merged view of lowers, for roots without overlayfs. */
class CopiedRootTest {
    @TempDir
    Path temp;
    Path bottom;
    Path top;
    Path target;

    @BeforeEach
    void twoLowersWithAWhiteout() throws IOException {
        bottom = dir(temp.resolve("bottom"), "rwxr-x---");
        dir(bottom.resolve("etc"), "rwxr-xr-x");
        write(bottom.resolve("etc/passwd"), "old\n");
        write(bottom.resolve("etc/hosts"), "127.0.0.1 localhost\n");
        dir(bottom.resolve("bin"), "rwxr-xr-x");
        Files.setPosixFilePermissions(write(bottom.resolve("bin/sh"), "#!\n"),
                PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(write(bottom.resolve("bin/secret"), "s\n"),
                PosixFilePermissions.fromString("r--------"));
        dir(bottom.resolve("tmp"), "rwxrwxrwx");
        Files.setAttribute(bottom.resolve("tmp"), "unix:mode", 01777);
        Files.createSymbolicLink(bottom.resolve("link"), Path.of("etc/passwd"));
        Files.createDirectory(bottom.resolve("ro"));
        write(bottom.resolve("ro/file"), "ro\n");
        Files.setPosixFilePermissions(bottom.resolve("ro"), PosixFilePermissions.fromString("r-xr-xr-x"));
        top = dir(temp.resolve("top"), "rwxr-xr-x");
        dir(top.resolve("etc"), "rwxr-xr-x");
        write(top.resolve("etc/passwd"), "new\n");
        OverlayEntries.createWhiteout(top.resolve("etc/hosts"));
        dir(top.resolve("usr"), "rwxr-xr-x");
        write(top.resolve("usr/added"), "added\n");
        target = Files.createDirectory(temp.resolve("target"));
    }

    @AfterEach
    void makeWritable() throws IOException {
        try (Stream<Path> paths = Files.walk(temp)) {
            for (Path path : paths.toList()) {
                if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
                    Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwx------"));
                }
            }
        }
    }

    @Test
    void copiesTheMergedViewKeepingModesLinksAndContents() throws IOException {
        assertThat(CopiedRoot.materialize(List.of(top, bottom), target)).isEqualTo(target);

        assertThat(tree(target)).containsExactly("bin", "bin/secret", "bin/sh", "etc", "etc/passwd", "link", "ro",
                "ro/file", "tmp", "usr", "usr/added");
        assertThat(Files.readString(target.resolve("etc/passwd"))).isEqualTo("new\n");
        assertThat(Files.readString(target.resolve("usr/added"))).isEqualTo("added\n");
        assertThat(Files.readString(target.resolve("ro/file"))).isEqualTo("ro\n");
        assertThat(Files.readSymbolicLink(target.resolve("link"))).isEqualTo(Path.of("etc/passwd"));
        assertThat(mode(target)).as("the top lower's root").isEqualTo(0755);
        assertThat(mode(target.resolve("tmp"))).isEqualTo(01777);
        assertThat(mode(target.resolve("ro"))).isEqualTo(0555);
        assertThat(mode(target.resolve("bin/sh"))).isEqualTo(0755);
        assertThat(mode(target.resolve("bin/secret"))).isEqualTo(0400);
        assertThat(Files.getLastModifiedTime(target.resolve("tmp")))
                .isEqualTo(Files.getLastModifiedTime(bottom.resolve("tmp")));
    }

    @Test
    void opaqueDirectoryOfALowerHidesWhatTheLowersBelowHold() throws IOException {
        dir(bottom.resolve("opt"), "rwxr-xr-x");
        write(bottom.resolve("opt/old"), "old\n");
        dir(bottom.resolve("opt/old-dir"), "rwxr-xr-x");
        dir(top.resolve("opt"), "rwxr-x---");
        write(top.resolve("opt/new"), "new\n");
        try {
            OverlayEntries.markOpaque(top.resolve("opt"));
        } catch (IOException e) {
            Assumptions.abort("this filesystem cannot mark directories opaque: " + e.getMessage());
        }

        CopiedRoot.materialize(List.of(top, bottom), target);

        assertThat(tree(target.resolve("opt"))).containsExactly("new");
        assertThat(mode(target.resolve("opt"))).isEqualTo(0750);
        assertThat(OverlayEntries.isOpaque(target.resolve("opt"))).as("markers are not copied").isFalse();
    }

    @Test
    void theTopmostTypeWinsAndSymbolicLinksAreNeverFollowed() throws IOException {
        Path outside = dir(temp.resolve("outside"), "rwxr-xr-x");
        write(outside.resolve("host-file"), "host\n");
        dir(bottom.resolve("was-dir"), "rwxr-xr-x");
        write(bottom.resolve("was-dir/inside"), "x");
        write(bottom.resolve("was-file"), "x");
        write(top.resolve("was-dir"), "now a file");
        dir(top.resolve("was-file"), "rwxr-xr-x");
        write(top.resolve("was-file/inside"), "y");
        Files.createSymbolicLink(top.resolve("escape"), outside);

        CopiedRoot.materialize(List.of(top, bottom), target);

        assertThat(Files.readString(target.resolve("was-dir"))).isEqualTo("now a file");
        assertThat(tree(target.resolve("was-file"))).containsExactly("inside");
        assertThat(Files.isSymbolicLink(target.resolve("escape"))).isTrue();
        assertThat(Files.readSymbolicLink(target.resolve("escape"))).isEqualTo(outside);
        assertThat(tree(target)).doesNotContain("escape/host-file");
    }

    @Test
    void theTargetMustBeAnExistingEmptyDirectory() throws IOException {
        write(target.resolve("leftover"), "x");
        assertThatThrownBy(() -> CopiedRoot.materialize(List.of(top, bottom), target))
                .hasMessageContaining(target.toString()).hasMessageContaining("not empty");
        Path missing = temp.resolve("missing");
        assertThatThrownBy(() -> CopiedRoot.materialize(List.of(top, bottom), missing))
                .isInstanceOf(NoSuchFileException.class).hasMessageContaining(missing.toString());
        assertThatThrownBy(() -> CopiedRoot.materialize(List.of(), missing))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no lower");
    }

    @Test
    void aSingleLowerIsCopiedAsItIs() throws IOException {
        CopiedRoot.materialize(List.of(bottom), target);

        assertThat(tree(target)).containsExactly("bin", "bin/secret", "bin/sh", "etc", "etc/hosts", "etc/passwd",
                "link", "ro", "ro/file", "tmp");
        assertThat(mode(target)).isEqualTo(0750);
    }

    private static List<String> tree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            return paths.filter(path -> !path.equals(root)).map(path -> root.relativize(path).toString()).sorted()
                    .toList();
        }
    }

    private static int mode(Path path) throws IOException {
        return (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
    }

    private static Path dir(Path path, String permissions) throws IOException {
        Files.createDirectory(path);
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(permissions));
        return path;
    }

    private static Path write(Path path, String content) throws IOException {
        return Files.writeString(path, content);
    }
}
