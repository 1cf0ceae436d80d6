package dev.isolation.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.isolation.fs.Change.Kind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Change sets of hand-built upper and lower directories, and of real overlay mounts. */
class ChangeSetTest {
    @TempDir
    Path temp;

    @Test
    void filesAddedModifiedAndDeletedAreSandboxPathsSortedByPath() throws IOException {
        Path lower = dir(temp.resolve("lower"));
        dir(lower.resolve("etc"));
        write(lower.resolve("etc/passwd"), "root\n");
        write(lower.resolve("etc/group"), "root\n");
        write(lower.resolve("etc/deleted"), "doomed\n");
        Path upper = dir(temp.resolve("upper"));
        dir(upper.resolve("etc"));
        write(upper.resolve("etc/passwd"), "root\nuser\n");
        write(upper.resolve("etc/new"), "new\n");
        OverlayEntries.createWhiteout(upper.resolve("etc/deleted"));
        OverlayEntries.createWhiteout(upper.resolve("etc/never-existed"));

        ChangeSet changes = ChangeSet.of(upper, List.of(lower));

        assertThat(changes.changes()).containsExactly(new Change("/etc/deleted", Kind.DELETED),
                new Change("/etc/new", Kind.ADDED), new Change("/etc/passwd", Kind.MODIFIED));
        assertThat(changes.added()).containsExactly("/etc/new");
        assertThat(changes.modified()).containsExactly("/etc/passwd");
        assertThat(changes.deleted()).containsExactly("/etc/deleted");
        assertThat(ChangeSet.of(dir(temp.resolve("empty-upper")), List.of(lower)).isEmpty()).isTrue();
    }

    @Test
    void whiteoutsAreCharacterDevicesZeroZero() throws IOException {
        Path whiteout = temp.resolve("whiteout");
        OverlayEntries.createWhiteout(whiteout);
        assertThat(Files.getAttribute(whiteout, "unix:mode", LinkOption.NOFOLLOW_LINKS)).isEqualTo(0020000);
        assertThat(Files.getAttribute(whiteout, "unix:rdev", LinkOption.NOFOLLOW_LINKS)).isEqualTo(0L);
        assertThat(OverlayEntries.isWhiteout(whiteout)).isTrue();
        assertThat(OverlayEntries.isWhiteout(write(temp.resolve("file"), "x"))).isFalse();
        assertThat(OverlayEntries.isWhiteout(temp.resolve("missing"))).isFalse();
        assertThat(OverlayEntries.isOpaque(temp)).isFalse();
        assertThatThrownBy(() -> OverlayEntries.createWhiteout(whiteout))
                .isInstanceOf(FileAlreadyExistsException.class).hasMessageContaining(whiteout.toString());
        assertThatThrownBy(() -> OverlayEntries.markOpaque(temp.resolve("file")))
                .hasMessageContaining(temp.resolve("file").toString()).hasMessageContaining("not a directory");
    }

    @Test
    void newDirectoryIsAddedWithEverythingInIt() throws IOException {
        Path lower = dir(temp.resolve("lower"));
        Path upper = dir(temp.resolve("upper"));
        dir(upper.resolve("app"));
        dir(upper.resolve("app/sub"));
        write(upper.resolve("app/sub/file"), "x");
        Files.createSymbolicLink(upper.resolve("app/link"), Path.of("sub/file"));

        assertThat(ChangeSet.of(upper, List.of(lower)).changes()).containsExactly(new Change("/app", Kind.ADDED),
                new Change("/app/link", Kind.ADDED), new Change("/app/sub", Kind.ADDED),
                new Change("/app/sub/file", Kind.ADDED));
    }

    @Test
    void directoriesCopiedUpCountOnlyWhenTheirModeChanged() throws IOException {
        Path lower = dir(temp.resolve("lower"));
        dir(lower.resolve("usr"));
        dir(lower.resolve("usr/bin"));
        write(lower.resolve("usr/bin/sh"), "#!");
        dir(lower.resolve("usr/lib"));
        Path upper = dir(temp.resolve("upper"));
        dir(upper.resolve("usr"));
        dir(upper.resolve("usr/bin"));
        write(upper.resolve("usr/bin/tool"), "x");
        dir(upper.resolve("usr/lib"), "rwx------");

        ChangeSet changes = ChangeSet.of(upper, List.of(lower));

        assertThat(changes.changes()).containsExactly(new Change("/usr/bin/tool", Kind.ADDED),
                new Change("/usr/lib", Kind.MODIFIED));
    }

    @Test
    void deletedDirectoryListsEverythingItHeld() throws IOException {
        Path lower = dir(temp.resolve("lower"));
        dir(lower.resolve("opt"));
        dir(lower.resolve("opt/app"));
        dir(lower.resolve("opt/app/bin"));
        write(lower.resolve("opt/app/bin/run"), "x");
        write(lower.resolve("opt/app/conf"), "x");
        Path upper = dir(temp.resolve("upper"));
        dir(upper.resolve("opt"));
        OverlayEntries.createWhiteout(upper.resolve("opt/app"));

        assertThat(ChangeSet.of(upper, List.of(lower)).deleted())
                .containsExactly("/opt/app", "/opt/app/bin", "/opt/app/bin/run", "/opt/app/conf");
    }

    @Test
    void replacingAFileByADirectoryAndADirectoryByAFileIsAModification() throws IOException {
        Path lower = dir(temp.resolve("lower"));
        write(lower.resolve("was-file"), "x");
        dir(lower.resolve("was-dir"));
        write(lower.resolve("was-dir/inside"), "x");
        Path upper = dir(temp.resolve("upper"));
        dir(upper.resolve("was-file"));
        write(upper.resolve("was-file/new"), "x");
        write(upper.resolve("was-dir"), "x");

        assertThat(ChangeSet.of(upper, List.of(lower)).changes()).containsExactly(
                new Change("/was-dir", Kind.MODIFIED), new Change("/was-dir/inside", Kind.DELETED),
                new Change("/was-file", Kind.MODIFIED), new Change("/was-file/new", Kind.ADDED));
    }

    @Test
    void opaqueUpperDirectoryHidesEverythingTheLowersHeldUnderIt() throws IOException {
        Path lower = dir(temp.resolve("lower"));
        dir(lower.resolve("dir"));
        write(lower.resolve("dir/kept"), "old");
        write(lower.resolve("dir/gone"), "old");
        dir(lower.resolve("dir/sub"));
        write(lower.resolve("dir/sub/deep"), "old");
        Path upper = dir(temp.resolve("upper"));
        dir(upper.resolve("dir"));
        markOpaqueOrSkip(upper.resolve("dir"));
        write(upper.resolve("dir/kept"), "new");
        write(upper.resolve("dir/new"), "new");
        dir(upper.resolve("dir/sub"));

        assertThat(ChangeSet.of(upper, List.of(lower)).changes()).containsExactly(
                new Change("/dir/gone", Kind.DELETED), new Change("/dir/kept", Kind.MODIFIED),
                new Change("/dir/new", Kind.ADDED), new Change("/dir/sub/deep", Kind.DELETED));
    }

    @Test
    void aUserMarkerCopiedUpWithItsLowerDirectoryIsNotOpaqueUnlessTheMountUsesUserMarkers() throws IOException {
        Path lower = dir(temp.resolve("lower"));
        dir(lower.resolve("d"));
        write(lower.resolve("d/kept"), "x");
        setUserAttribute(lower.resolve("d"), "overlay.opaque", "y");
        Path upper = dir(temp.resolve("upper"));
        dir(upper.resolve("d"));
        setUserAttribute(upper.resolve("d"), "overlay.opaque", "y");    // as a privileged copy-up leaves it
        write(upper.resolve("d/new"), "x");

        assertThat(ChangeSet.of(upper, List.of(lower)).changes()).containsExactly(new Change("/d/new", Kind.ADDED));

        setUserAttribute(upper, "overlay.uuid", "x");     // what a userxattr mount keeps on its upper root
        assertThat(ChangeSet.of(upper, List.of(lower)).changes()).containsExactly(
                new Change("/d/kept", Kind.DELETED), new Change("/d/new", Kind.ADDED));
    }

    @Test
    void lowersAreMergedTopFirstHonouringTheirWhiteoutsAndOpaqueDirectories() throws IOException {
        Path bottom = dir(temp.resolve("bottom"));
        write(bottom.resolve("whited-out"), "x");
        write(bottom.resolve("only-bottom"), "x");
        dir(bottom.resolve("d"));
        write(bottom.resolve("d/hidden"), "x");
        write(bottom.resolve("d/both"), "x");
        Path top = dir(temp.resolve("top"));
        OverlayEntries.createWhiteout(top.resolve("whited-out"));
        dir(top.resolve("d"));
        markOpaqueOrSkip(top.resolve("d"));
        write(top.resolve("d/both"), "y");
        Path upper = dir(temp.resolve("upper"));
        write(upper.resolve("whited-out"), "again");
        OverlayEntries.createWhiteout(upper.resolve("only-bottom"));
        dir(upper.resolve("d"));
        write(upper.resolve("d/hidden"), "again");
        OverlayEntries.createWhiteout(upper.resolve("d/both"));

        assertThat(ChangeSet.of(upper, List.of(top, bottom)).changes()).containsExactly(
                new Change("/d/both", Kind.DELETED), new Change("/d/hidden", Kind.ADDED),
                new Change("/only-bottom", Kind.DELETED), new Change("/whited-out", Kind.ADDED));
    }

    @Test
    void symbolicLinksAreNeverFollowed() throws IOException {
        Path outside = dir(temp.resolve("outside"));
        write(outside.resolve("secret"), "x");
        Path lower = dir(temp.resolve("lower"));
        dir(lower.resolve("real"));
        write(lower.resolve("real/file"), "x");
        Path upper = dir(temp.resolve("upper"));
        Files.createSymbolicLink(upper.resolve("link"), outside);
        Files.createSymbolicLink(upper.resolve("real"), outside);

        assertThat(ChangeSet.of(upper, List.of(lower)).changes()).containsExactly(new Change("/link", Kind.ADDED),
                new Change("/real", Kind.MODIFIED), new Change("/real/file", Kind.DELETED));
    }

    @Test
    void missingDirectoriesAreRejectedNamingThem() throws IOException {
        Path lower = dir(temp.resolve("lower"));
        Path missing = temp.resolve("missing");
        assertThatThrownBy(() -> ChangeSet.of(missing, List.of(lower)))
                .isInstanceOf(NoSuchFileException.class).hasMessageContaining(missing.toString())
                .hasMessageContaining("upper");
        assertThatThrownBy(() -> ChangeSet.of(lower, List.of(missing)))
                .isInstanceOf(NoSuchFileException.class).hasMessageContaining(missing.toString())
                .hasMessageContaining("lower");
        assertThatThrownBy(() -> ChangeSet.of(lower, List.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no lower");
    }

    @Test
    void changePathsAreAbsoluteAndNormalized() {
        for (String bad : List.of("relative", "/", "/a//b", "/a/../b", "/a/./b", "/a/", "")) {
            assertThatThrownBy(() -> new Change(bad, Kind.ADDED)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("\"" + bad + "\"");
        }
        assertThat(new Change("/a b/..c", Kind.DELETED).toString()).isEqualTo("DELETED /a b/..c");
    }

    /** The kernel's own upper directory, from a privileged mount: trusted.* markers. */
    @Test
    void matchesWhatARealOverlayRecords() throws Exception {
        Assumptions.assumeTrue(Files.getAttribute(temp, "unix:uid").equals(0), "needs root");
        checkRealOverlay(List.of("/usr/bin/unshare", "-m"), "");
    }

    /** The kernel's own upper directory, from a mount in a user namespace: user.* markers. */
    @Test
    void matchesWhatARealOverlayRecordsInAUserNamespace() throws Exception {
        Assumptions.assumeTrue(run(List.of("/usr/bin/unshare", "-Ur", "true")).startsWith("0:"),
                "unprivileged user namespaces are not available");
        checkRealOverlay(List.of("/usr/bin/unshare", "-Urm"), "userxattr,");
    }

    private void checkRealOverlay(List<String> unshare, String options) throws Exception {
        Path lower = dir(temp.resolve("lower"));
        write(lower.resolve("existing"), "x\n");
        write(lower.resolve("deleted"), "x\n");
        write(lower.resolve("untouched"), "x\n");
        dir(lower.resolve("dir"));
        write(lower.resolve("dir/old"), "x\n");
        dir(lower.resolve("dir/sub"));
        write(lower.resolve("dir/sub/older"), "x\n");
        dir(lower.resolve("marked"));
        write(lower.resolve("marked/kept"), "x\n");
        markOpaqueOrSkip(lower.resolve("marked"));  // both markers as root: a privileged copy-up keeps the user one
        Path upper = dir(temp.resolve("upper"));
        Path work = dir(temp.resolve("work"));
        Path merged = dir(temp.resolve("merged"));
        String script = "mount -t overlay overlay -o " + options + "lowerdir=" + lower + ",upperdir=" + upper
                + ",workdir=" + work + " " + merged + " && cd " + merged + " && echo x > added && echo y >> existing"
                + " && rm deleted && rm -r dir && mkdir -m 755 dir && touch dir/new"
                + " && touch marked/new";
        List<String> command = new ArrayList<>(unshare);
        command.addAll(List.of("/bin/sh", "-c", script));
        try {
            assertThat(run(command)).isEqualTo("0:");
        } finally {
            makeOwnerAccessible(work);                // overlay leaves work/work with mode 000
        }

        assertThat(OverlayEntries.isWhiteout(upper.resolve("deleted"))).as("whiteout").isTrue();
        assertThat(OverlayEntries.isOpaque(upper.resolve("dir"))).as("opaque").isTrue();
        ChangeSet changes = ChangeSet.of(upper, List.of(lower));
        assertThat(changes.changes()).containsExactly(new Change("/added", Kind.ADDED),
                new Change("/deleted", Kind.DELETED), new Change("/dir/new", Kind.ADDED),
                new Change("/dir/old", Kind.DELETED), new Change("/dir/sub", Kind.DELETED),
                new Change("/dir/sub/older", Kind.DELETED), new Change("/existing", Kind.MODIFIED),
                new Change("/marked/new", Kind.ADDED));
    }

    private static void setUserAttribute(Path path, String name, String value) {
        try {
            Files.getFileAttributeView(path, UserDefinedFileAttributeView.class)
                    .write(name, ByteBuffer.wrap(value.getBytes(StandardCharsets.UTF_8)));
        } catch (IOException | UnsupportedOperationException e) {
            Assumptions.abort("this filesystem has no user attributes: " + e);
        }
    }

    private static void markOpaqueOrSkip(Path dir) {
        try {
            OverlayEntries.markOpaque(dir);
        } catch (IOException e) {
            Assumptions.abort("this filesystem cannot mark directories opaque: " + e.getMessage());
        }
    }

    /** "exit code:output" of a host command. */
    private static String run(List<String> command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return process.exitValue() + ":" + output;
    }

    private static void makeOwnerAccessible(Path dir) throws IOException {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        try (Stream<Path> children = Files.list(dir)) {
            for (Path child : children.toList()) {
                if (Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS)) {
                    makeOwnerAccessible(child);
                }
            }
        }
    }

    private static Path dir(Path path) throws IOException {
        return dir(path, "rwxr-xr-x");
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
