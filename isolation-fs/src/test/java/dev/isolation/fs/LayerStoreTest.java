package dev.isolation.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store itself: layout, unpacking once, races, listing, removal, digests and leftovers. */
class LayerStoreTest {
    @TempDir
    Path base;

    private static InputStream neverRead() {
        return new InputStream() {
            @Override
            public int read() {
                throw new AssertionError("the stream of a layer already in the store was read");
            }
        };
    }

    @Test
    void createsItsDirectoriesPrivate() throws IOException {
        Path root = base.resolve("a/b/store");
        LayerStore store = new LayerStore(root);

        assertThat(store.root()).isEqualTo(root);
        for (Path directory : List.of(root, root.resolve("sha256"), root.resolve("tmp"))) {
            assertThat((Integer) Files.getAttribute(directory, "unix:mode") & 0777).as(directory.toString())
                    .isEqualTo(0700);
        }
        assertThat(store.list()).isEmpty();
    }

    @Test
    void unpacksADigestOnceAndThenNeverReadsTheStream() throws IOException {
        LayerStore store = new LayerStore(base.resolve("store"));
        byte[] tar = new TarFixture().file("a", "a").bytes();
        String digest = TarFixture.sha256(tar);

        Layer first = store.unpack(digest, new ByteArrayInputStream(tar), LayerStore.Compression.NONE);
        Layer second = store.unpack(digest, neverRead(), LayerStore.Compression.NONE);
        Layer reopened = new LayerStore(base.resolve("store")).unpack(digest, neverRead(), LayerStore.Compression.GZIP);

        assertThat(second).isEqualTo(first);
        assertThat(reopened).isEqualTo(first);
        assertThat(store.find(digest)).contains(first);
    }

    @Test
    void readsTheWholeBlobIncludingPaddingAfterTheEndMarker() throws IOException {
        LayerStore store = new LayerStore(base.resolve("store"));
        byte[] members = new TarFixture().file("a", "a").bytes();
        byte[] tar = java.util.Arrays.copyOf(members, 10240);
        ByteArrayInputStream in = new ByteArrayInputStream(tar);

        store.unpack(TarFixture.sha256(tar), in, LayerStore.Compression.DETECT);

        assertThat(in.available()).isZero();
    }

    @Test
    void concurrentUnpacksOfOneDigestEndWithOneLayer() throws Exception {
        LayerStore store = new LayerStore(base.resolve("store"));
        TarFixture fixture = new TarFixture();
        for (int i = 0; i < 200; i++) {
            fixture.file("dir" + (i % 10) + "/file" + i, "content " + i);
        }
        byte[] tar = fixture.bytes();
        String digest = TarFixture.sha256(tar);
        int threads = 4;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<Layer>> results = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                LayerStore own = i % 2 == 0 ? store : new LayerStore(base.resolve("store"));
                results.add(pool.submit(() -> {
                    start.await();
                    return own.unpack(digest, new ByteArrayInputStream(tar), LayerStore.Compression.NONE);
                }));
            }
            start.countDown();
            for (Future<Layer> result : results) {
                assertThat(result.get()).isEqualTo(store.find(digest).orElseThrow());
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(store.list()).hasSize(1);
        try (Stream<Path> files = Files.walk(store.find(digest).orElseThrow().directory())) {
            assertThat(files.filter(Files::isRegularFile)).hasSize(200);
        }
        try (Stream<Path> tmp = Files.list(base.resolve("store/tmp"))) {
            assertThat(tmp).isEmpty();
        }
    }

    @Test
    void listsAndRemovesLayers() throws IOException {
        LayerStore store = new LayerStore(base.resolve("store"));
        byte[] one = new TarFixture().file("one", "1").bytes();
        byte[] two = new TarFixture().dir("ro/", 0500).file("ro/two", "2", 0400).dir("locked/", 0)
                .file("locked/secret", "s", 0).bytes();
        Layer first = store.unpack(TarFixture.sha256(one), new ByteArrayInputStream(one), LayerStore.Compression.NONE);
        Layer second = store.unpack(TarFixture.sha256(two), new ByteArrayInputStream(two), LayerStore.Compression.NONE);
        Files.createDirectory(base.resolve("store/sha256/not-a-digest"));

        assertThat(store.list()).containsExactlyInAnyOrder(first, second);
        assertThat(store.list()).isSortedAccordingTo(java.util.Comparator.comparing(Layer::id));

        store.remove(second.id());
        store.remove(second.id());

        assertThat(store.list()).containsExactly(first);
        assertThat(store.find(second.id())).isEmpty();
        assertThat(second.directory()).doesNotExist();
        try (Stream<Path> tmp = Files.list(base.resolve("store/tmp"))) {
            assertThat(tmp).isEmpty();
        }
    }

    @Test
    void refusesMalformedDigests() throws IOException {
        LayerStore store = new LayerStore(base.resolve("store"));
        String hex = "a".repeat(64);
        for (String digest : List.of("sha512:" + hex, "sha256:" + "A".repeat(64), "sha256:" + hex.substring(1),
                "sha256:../../etc", "sha256:" + hex + "/x", hex, "sha256:", "")) {
            assertThatThrownBy(() -> store.find(digest)).as(digest).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'" + digest + "'");
            assertThatThrownBy(() -> store.unpack(digest, neverRead(), LayerStore.Compression.NONE)).as(digest)
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> store.remove(digest)).as(digest).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> store.find("sha512:" + hex)).hasMessageContaining("only sha256");
    }

    @Test
    void removesStaleLeftoversOfCrashedJvmsOnOpen() throws IOException {
        Path tmp = base.resolve("store/tmp");
        new LayerStore(base.resolve("store"));
        Path stale = Files.createDirectories(tmp.resolve("unpack-crashed/etc"));
        Files.writeString(stale.resolve("half"), "half");
        Path staleLock = Files.createFile(tmp.resolve("unpack-crashed.lock"));
        Path young = Files.createDirectory(tmp.resolve("unpack-young"));
        FileTime old = FileTime.from(Instant.now().minus(Duration.ofHours(1)));
        Files.setLastModifiedTime(tmp.resolve("unpack-crashed"), old);
        Files.setLastModifiedTime(staleLock, old);

        LayerStore store = new LayerStore(base.resolve("store"));

        assertThat(tmp.resolve("unpack-crashed")).doesNotExist();
        assertThat(staleLock).doesNotExist();
        assertThat(young).exists();
        assertThat(store.list()).isEmpty();
    }

    @Test
    void neverUsesAWorkDirectoryAsALayer() throws IOException {
        LayerStore store = new LayerStore(base.resolve("store"));
        byte[] tar = new TarFixture().file("a", "a").bytes();
        String digest = TarFixture.sha256(tar);
        Files.createDirectories(base.resolve("store/tmp").resolve(digest.substring(7)));

        assertThat(store.find(digest)).isEmpty();
        assertThat(Files.isDirectory(store.unpack(digest, new ByteArrayInputStream(tar),
                LayerStore.Compression.NONE).directory().resolve("a"), LinkOption.NOFOLLOW_LINKS)).isFalse();
        assertThat(store.find(digest).orElseThrow().directory().resolve("a")).hasContent("a");
    }
}
