package dev.isolation.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Committing finished overlay upper directories as layers. */
class LayerCommitTest {
    @TempDir
    Path base;

    private LayerStore store;

    @BeforeEach
    void openStore() throws IOException {
        store = new LayerStore(base.resolve("store"));
    }

    /** An upper as a sandbox leaves it: files, a symlink, a hard link, a whiteout, an empty dir. */
    private static Path upper(Path directory, String greeting) throws IOException {
        Files.createDirectories(directory.resolve("etc"));
        Files.writeString(directory.resolve("etc/greeting"), greeting);
        Files.createSymbolicLink(directory.resolve("etc/link"), Path.of("greeting"));
        Files.createLink(directory.resolve("etc/hard"), directory.resolve("etc/greeting"));
        Files.createDirectories(directory.resolve("var/empty"));
        Files.writeString(directory.resolve("var/secret"), "s");
        Files.setAttribute(directory.resolve("var/secret"), "unix:mode", 0000, LinkOption.NOFOLLOW_LINKS);
        Files.createDirectories(directory.resolve("var/locked"));
        Files.writeString(directory.resolve("var/locked/inside"), "locked");
        Files.setAttribute(directory.resolve("var/locked"), "unix:mode", 0000);
        OverlayEntries.createWhiteout(directory.resolve("etc/removed"));
        return directory;
    }

    @Test
    void equalTreesGetEqualIdsAndTheLayerHoldsTheFiles() throws IOException {
        Path first = upper(base.resolve("one"), "hello\n");
        Path second = upper(base.resolve("two"), "hello\n");

        Layer one = store.commit(first);
        Layer two = store.commit(second);

        assertThat(one.id()).matches("sha256:[0-9a-f]{64}").isEqualTo(two.id());
        assertThat(two).isEqualTo(one);
        assertThat(first).doesNotExist();
        assertThat(second).doesNotExist();
        assertThat(store.list()).containsExactly(one);
        Path root = one.directory();
        assertThat(root.resolve("etc/greeting")).hasContent("hello\n");
        assertThat(Files.readSymbolicLink(root.resolve("etc/link"))).isEqualTo(Path.of("greeting"));
        assertThat(Files.isDirectory(root.resolve("var/empty"))).isTrue();
        assertThat(Files.getAttribute(root.resolve("etc/removed"), "unix:rdev", LinkOption.NOFOLLOW_LINKS))
                .isEqualTo(0L);
        assertThat((Integer) Files.getAttribute(root.resolve("var/secret"), "unix:mode", LinkOption.NOFOLLOW_LINKS)
                & 07777).isZero();
        assertThat((Integer) Files.getAttribute(root.resolve("var/locked"), "unix:mode", LinkOption.NOFOLLOW_LINKS)
                & 07777).isZero();
        assertThat(store.find(one.id())).contains(one);
        store.remove(one.id());
        assertThat(root).doesNotExist();
    }

    @Test
    void differentTreesGetDifferentIds() throws IOException {
        Layer hello = store.commit(upper(base.resolve("one"), "hello\n"));
        Layer bye = store.commit(upper(base.resolve("two"), "bye\n"));

        Path third = upper(base.resolve("three"), "hello\n");
        Files.setAttribute(third.resolve("etc/greeting"), "unix:mode", 0600, LinkOption.NOFOLLOW_LINKS);
        Layer modeChanged = store.commit(third);

        assertThat(hello.id()).isNotEqualTo(bye.id()).isNotEqualTo(modeChanged.id());
        assertThat(store.list()).hasSize(3);
    }

    @Test
    void opaqueDirectoriesArePartOfTheId() throws IOException {
        Path probe = Files.createDirectory(base.resolve("probe"));
        assumeTrue(LayerNative.lsetxattr(probe, "user.probe", new byte[] {'y'}) == 0, "user xattrs supported");
        Path plain = upper(base.resolve("plain"), "x");
        Path opaque = upper(base.resolve("opaque"), "x");
        assertThat(LayerNative.lsetxattr(opaque.resolve("var"), "user.overlay.opaque", "y".getBytes(StandardCharsets.US_ASCII)))
                .isZero();

        Layer one = store.commit(plain);
        Layer two = store.commit(opaque);

        assertThat(one.id()).isNotEqualTo(two.id());
        assertThat(LayerNative.lgetxattr(two.directory().resolve("var"), "user.overlay.opaque")).isPresent();
    }

    @Test
    void copiesAnUpperFromAnotherFilesystem() throws IOException {
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm), "/dev/shm is writable");
        FileStore shmStore = Files.getFileStore(shm);
        assumeTrue(!shmStore.equals(Files.getFileStore(base)), "/dev/shm is another filesystem");
        Path elsewhere = Files.createTempDirectory(shm, "layer-commit-test-");
        try {
            Path upper = upper(elsewhere.resolve("upper"), "hello\n");
            Layer local = store.commit(upper(base.resolve("local"), "hello\n"));

            Layer copied = store.commit(upper);

            assertThat(copied.id()).isEqualTo(local.id());
            assertThat(upper).doesNotExist();
        } finally {
            FileTrees.deleteRecursively(elsewhere);
        }
    }

    @Test
    void copiesIntoAFreshLayerWhenTheUpperIsElsewhere() throws IOException {
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm), "/dev/shm is writable");
        assumeTrue(!Files.getFileStore(shm).equals(Files.getFileStore(base)), "/dev/shm is another filesystem");
        Path elsewhere = Files.createTempDirectory(shm, "layer-commit-test-");
        try {
            Layer copied = store.commit(upper(elsewhere.resolve("upper"), "copied\n"));

            Path root = copied.directory();
            assertThat(root.resolve("etc/greeting")).hasContent("copied\n");
            assertThat(Files.isSameFile(root.resolve("etc/hard"), root.resolve("etc/greeting"))).isTrue();
            assertThat(Files.readSymbolicLink(root.resolve("etc/link"))).isEqualTo(Path.of("greeting"));
            assertThat(Files.getAttribute(root.resolve("etc/removed"), "unix:rdev", LinkOption.NOFOLLOW_LINKS))
                    .isEqualTo(0L);
        } finally {
            FileTrees.deleteRecursively(elsewhere);
        }
    }

    @Test
    void refusesAnUpperThatDependsOnItsLowersAndLeavesItInPlace() throws IOException {
        Path probe = Files.createDirectory(base.resolve("probe"));
        assumeTrue(LayerNative.lsetxattr(probe, "user.probe", new byte[] {'y'}) == 0, "user xattrs supported");
        Path upper = upper(base.resolve("upper"), "x");
        LayerNative.lsetxattr(upper.resolve("var"), "user.overlay.redirect", "/old".getBytes(StandardCharsets.US_ASCII));

        assertThatThrownBy(() -> store.commit(upper)).isInstanceOf(IOException.class)
                .hasMessageContaining("'var'").hasMessageContaining("user.overlay.redirect");

        assertThat(upper.resolve("etc/greeting")).hasContent("x");
        assertThat(store.list()).isEmpty();
    }

    @Test
    void refusesSomethingThatIsNotADirectory() throws IOException {
        Path file = Files.writeString(base.resolve("file"), "x");

        assertThatThrownBy(() -> store.commit(file)).hasMessageContaining(file.toString())
                .hasMessageContaining("not a directory");
        assertThatThrownBy(() -> store.commit(base.resolve("missing"))).hasMessageContaining("not a directory");
    }
}
