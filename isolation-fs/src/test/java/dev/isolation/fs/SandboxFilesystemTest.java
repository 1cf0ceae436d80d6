package dev.isolation.fs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host side of a sandbox's filesystem without a sandbox: the private directory each root mode gets, and what
 * {@link SandboxFilesystem#finish()} lists and leaves. The overlay's own doings (its work/work directory, what the
 * sandbox writes) are played by hand in the upper and work directories.
 */
class SandboxFilesystemTest {
    private static final MountCompiler.Namespaces ROOTLESS = new MountCompiler.Namespaces(true, true, true);

    @TempDir
    Path temp;
    Path parent;
    Path lower;

    @BeforeEach
    void aLowerAndAParent() throws IOException {
        parent = Files.createDirectory(temp.resolve("sandboxes"));
        lower = Files.createDirectories(temp.resolve("lower/etc"));
        Files.writeString(lower.resolve("hosts"), "127.0.0.1 localhost\n");
        lower = lower.getParent();
    }

    @Test
    void aBoundRootNeedsOnlyAMountPoint() throws IOException {
        SandboxFilesystem filesystem = SandboxFilesystem.prepare(FilesystemSpec.hostReadOnly(), parent, ROOTLESS);
        Path directory = filesystem.directory().path();
        assertThat(entries(parent)).containsExactly(directory);
        assertThat(entries(directory)).isEmpty();
        assertThat(filesystem.directory().staging()).isEqualTo(directory);
        assertThat(filesystem.steps().get(0)).isInstanceOfSatisfying(FsStep.MountRoot.class,
                root -> assertThat(root.stagingDirectory()).isEqualTo(directory.toString()));

        SandboxFilesystem.Result result = filesystem.finish();
        assertThat(result.changes()).isEmpty();
        assertThat(entries(parent)).isEmpty();
    }

    @Test
    void anUpperLeftEmptyMeansNoChangesAndEverythingGoes() throws IOException {
        SandboxFilesystem filesystem = SandboxFilesystem.prepare(overlay(ChangesPolicy.discard()), parent, ROOTLESS);
        SandboxDirectory directory = filesystem.directory();
        assertThat(entries(directory.path())).containsExactlyInAnyOrder(directory.upper(), directory.work());
        overlayfsWorkDirectory(directory);

        SandboxFilesystem.Result result = filesystem.finish();
        assertThat(result.changes()).hasValueSatisfying(changes -> assertThat(changes.isEmpty()).isTrue());
        assertThat(result.kept()).isEmpty();
        assertThat(entries(parent)).isEmpty();
    }

    @Test
    void whatTheSandboxWroteIsListedAndRemoved() throws IOException {
        SandboxFilesystem filesystem = SandboxFilesystem.prepare(overlay(ChangesPolicy.discard()), parent, ROOTLESS);
        SandboxDirectory directory = filesystem.directory();
        overlayfsWorkDirectory(directory);
        Files.createDirectory(directory.upper().resolve("etc"));
        Files.writeString(directory.upper().resolve("etc/hosts"), "changed\n");
        Files.writeString(directory.upper().resolve("added"), "new\n");

        ChangeSet changes = filesystem.finish().changes().orElseThrow();
        assertThat(changes.added()).containsExactly("/added");
        assertThat(changes.modified()).containsExactly("/etc/hosts");
        assertThat(entries(parent)).isEmpty();
    }

    @Test
    void anythingElseLeftInTheDirectoryIsRemovedToo() throws IOException {
        SandboxFilesystem filesystem = SandboxFilesystem.prepare(overlay(ChangesPolicy.discard()), parent, ROOTLESS);
        SandboxDirectory directory = filesystem.directory();
        Path workWork = overlayfsWorkDirectory(directory);
        Files.setPosixFilePermissions(workWork, PosixFilePermissions.fromString("rwx------"));
        Files.writeString(workWork.resolve("#7"), "a copy-up the sandbox did not finish\n");
        Files.setPosixFilePermissions(workWork, PosixFilePermissions.fromString("---------"));

        assertThat(filesystem.finish().changes()).hasValueSatisfying(changes -> assertThat(changes.isEmpty()).isTrue());
        assertThat(entries(parent)).isEmpty();
    }

    @Test
    void anEmptyUpperIsStillKeptWhenAskedTo() throws IOException {
        Path kept = temp.resolve("kept");
        SandboxFilesystem filesystem = SandboxFilesystem.prepare(overlay(ChangesPolicy.keepIn(kept)), parent,
                ROOTLESS);
        overlayfsWorkDirectory(filesystem.directory());

        SandboxFilesystem.Result result = filesystem.finish();
        assertThat(result.kept()).contains(kept);
        assertThat(kept).isEmptyDirectory();
        assertThat(result.changes()).hasValueSatisfying(changes -> assertThat(changes.isEmpty()).isTrue());
        assertThat(entries(parent)).isEmpty();
    }

    @Test
    void aStartThatFailsLeavesNothing() throws IOException {
        SandboxFilesystem filesystem = SandboxFilesystem.prepare(overlay(ChangesPolicy.discard()), parent, ROOTLESS);
        filesystem.discard();
        assertThat(entries(parent)).isEmpty();
        assertThat(Files.exists(filesystem.directory().path(), LinkOption.NOFOLLOW_LINKS)).isFalse();
    }

    private FilesystemSpec overlay(ChangesPolicy changes) {
        return FilesystemSpec.builder().rootDirectory(lower).onExit(changes).build();
    }

    /** What overlayfs makes in its work directory when it is mounted, and leaves there: an empty mode 000 "work". */
    private static Path overlayfsWorkDirectory(SandboxDirectory directory) throws IOException {
        return Files.createDirectory(directory.work().resolve("work"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("---------")));
    }

    private static List<Path> entries(Path directory) throws IOException {
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.toList();
        }
    }
}
