package dev.isolation.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Unpacking layer tars built here, well-formed and hostile, on the real filesystem. */
class LayerUnpackTest {
    @TempDir
    Path base;

    private LayerStore store;
    private Path canary;

    @BeforeEach
    void openStore() throws IOException {
        store = new LayerStore(base.resolve("store"));
        canary = Files.createDirectory(base.resolve("canary"));
    }

    private Layer unpack(byte[] tar) throws IOException {
        return store.unpack(TarFixture.sha256(tar), new ByteArrayInputStream(tar), LayerStore.Compression.NONE);
    }

    private static int mode(Path path) throws IOException {
        return (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    }

    private static String read(Path path) throws IOException {
        return Files.readString(path, StandardCharsets.UTF_8);
    }

    @Test
    void unpacksFilesDirectoriesSymlinksAndHardLinks() throws IOException {
        byte[] tar = new TarFixture().dir("./").dir("./etc/").file("./etc/greeting", "hello\n")
                .file("usr/bin/tool", "#!/bin/sh\n", 0755).symlink("etc/link", "/etc/greeting")
                .symlink("etc/relative", "../usr/bin/tool").hardLink("etc/hard", "./etc/greeting")
                .dir("readonly", 0555).file("readonly/inside", "in").bytes();

        Layer layer = unpack(tar);

        Path root = layer.directory();
        assertThat(layer.id()).isEqualTo(TarFixture.sha256(tar));
        assertThat(root).isEqualTo(store.root().resolve("sha256").resolve(layer.id().substring(7)));
        assertThat(read(root.resolve("etc/greeting"))).isEqualTo("hello\n");
        assertThat(mode(root.resolve("etc/greeting")) & 07777).isEqualTo(0644);
        assertThat(mode(root.resolve("usr/bin/tool")) & 07777).isEqualTo(0755);
        assertThat(mode(root.resolve("usr")) & 07777).isEqualTo(0755);
        assertThat(Files.readSymbolicLink(root.resolve("etc/link")).toString()).isEqualTo("/etc/greeting");
        assertThat(Files.readSymbolicLink(root.resolve("etc/relative")).toString()).isEqualTo("../usr/bin/tool");
        assertThat(Files.isSameFile(root.resolve("etc/hard"), root.resolve("etc/greeting"))).isTrue();
        assertThat(Files.getAttribute(root.resolve("etc/greeting"), "unix:nlink")).isEqualTo(2);
        assertThat(mode(root.resolve("readonly")) & 07777).isEqualTo(0555);
        assertThat(read(root.resolve("readonly/inside"))).isEqualTo("in");
        assertThat(Files.getLastModifiedTime(root.resolve("etc/greeting")).toMillis()).isEqualTo(1_700_000_000_000L);
        assertThat(store.list()).containsExactly(layer);
        assertTmpEmpty();
    }

    @Test
    void unpacksGzipAndLongNames() throws IOException {
        String longName = "deep/" + "directory/".repeat(20) + "file.txt";
        byte[] tar = new TarFixture().paxFile(longName, "pax").gnuLongNameFile(longName + ".gnu", "gnu").bytes();
        byte[] gzip = TarFixture.gzip(tar);

        Layer layer = store.unpack(TarFixture.sha256(gzip), new ByteArrayInputStream(gzip), LayerStore.Compression.GZIP);

        assertThat(read(layer.directory().resolve(longName))).isEqualTo("pax");
        assertThat(read(layer.directory().resolve(longName + ".gnu"))).isEqualTo("gnu");
        assertThat(layer.id()).isEqualTo(TarFixture.sha256(gzip));
    }

    @Test
    void detectsTheCompression() throws IOException {
        byte[] tar = new TarFixture().file("plain", "p").bytes();
        byte[] gzip = TarFixture.gzip(new TarFixture().file("zipped", "z").bytes());

        Layer plain = store.unpack(TarFixture.sha256(tar), new ByteArrayInputStream(tar), LayerStore.Compression.DETECT);
        Layer zipped = store.unpack(TarFixture.sha256(gzip), new ByteArrayInputStream(gzip),
                LayerStore.Compression.DETECT);

        assertThat(read(plain.directory().resolve("plain"))).isEqualTo("p");
        assertThat(read(zipped.directory().resolve("zipped"))).isEqualTo("z");
    }

    @Test
    void refusesZstdAndMismatchedCompression() {
        byte[] zstd = {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd, 0, 0, 0, 0};
        byte[] gzip = TarFixture.gzip(new TarFixture().file("a", "a").bytes());
        byte[] tar = new TarFixture().file("a", "a").bytes();

        assertThatThrownBy(() -> store.unpack(TarFixture.sha256(zstd), new ByteArrayInputStream(zstd),
                LayerStore.Compression.DETECT)).hasMessageContaining("zstd-compressed layers are not supported");
        assertThatThrownBy(() -> store.unpack(TarFixture.sha256(gzip), new ByteArrayInputStream(gzip),
                LayerStore.Compression.NONE)).hasMessageContaining("gzip-compressed");
        assertThatThrownBy(() -> store.unpack(TarFixture.sha256(tar), new ByteArrayInputStream(tar),
                LayerStore.Compression.GZIP)).hasMessageContaining("declared gzip-compressed");
        byte[] garbage = new byte[2048];
        Arrays.fill(garbage, (byte) 'g');
        assertThatThrownBy(() -> store.unpack(TarFixture.sha256(garbage), new ByteArrayInputStream(garbage),
                LayerStore.Compression.DETECT)).hasMessageContaining("unknown magic");
    }

    @Test
    void turnsWhiteoutsIntoCharDevicesZeroZero() throws IOException {
        byte[] tar = new TarFixture().dir("etc/").whiteout("etc", "remove-me").whiteout("", "top")
                .charDevice("dev-whiteout", 0, 0).bytes();

        Layer layer = unpack(tar);

        for (String name : new String[] {"etc/remove-me", "top", "dev-whiteout"}) {
            Path whiteout = layer.directory().resolve(name);
            assertThat(mode(whiteout) & 0170000).as(name).isEqualTo(0020000);
            assertThat(Files.getAttribute(whiteout, "unix:rdev", LinkOption.NOFOLLOW_LINKS)).as(name).isEqualTo(0L);
        }
        assertThat(Files.exists(layer.directory().resolve("etc/.wh.remove-me"), LinkOption.NOFOLLOW_LINKS)).isFalse();
    }

    @Test
    void marksOpaqueDirectories() throws IOException {
        Path probe = Files.createDirectory(base.resolve("probe"));
        assumeTrue(LayerNative.lsetxattr(probe, "user.probe", new byte[] {'y'}) == 0,
                "the filesystem of " + base + " supports user xattrs");
        byte[] tar = new TarFixture().dir("var/cache/").opaque("var/cache").file("var/cache/new", "n").bytes();

        Layer layer = unpack(tar);

        Path cache = layer.directory().resolve("var/cache");
        assertThat(LayerNative.lgetxattr(cache, "user.overlay.opaque")).hasValueSatisfying(
                value -> assertThat(new String(value, StandardCharsets.US_ASCII)).isEqualTo("y"));
        if (isRoot()) {
            assertThat(LayerNative.lgetxattr(cache, "trusted.overlay.opaque")).isPresent();
        }
        assertThat(Files.exists(cache.resolve(".wh..wh..opq"), LinkOption.NOFOLLOW_LINKS)).isFalse();
        assertThat(read(cache.resolve("new"))).isEqualTo("n");
    }

    @Test
    void stripsSetIdBitsAndKeepsTheStickyBit() throws IOException {
        byte[] tar = new TarFixture().file("bin/su", "su", 04755).file("bin/wall", "w", 02755).dir("tmp/", 01777)
                .bytes();

        Layer layer = unpack(tar);

        assertThat(mode(layer.directory().resolve("bin/su")) & 07777).isEqualTo(0755);
        assertThat(mode(layer.directory().resolve("bin/wall")) & 07777).isEqualTo(0755);
        assertThat(mode(layer.directory().resolve("tmp")) & 07777).isEqualTo(01777);
    }

    @Test
    void skipsDevicesAndCreatesFifos() throws IOException {
        byte[] tar = new TarFixture().dir("dev/").charDevice("dev/null", 1, 3).blockDevice("dev/sda", 8, 0)
                .fifo("run/pipe").bytes();

        Layer layer = unpack(tar);

        assertThat(Files.exists(layer.directory().resolve("dev/null"), LinkOption.NOFOLLOW_LINKS)).isFalse();
        assertThat(Files.exists(layer.directory().resolve("dev/sda"), LinkOption.NOFOLLOW_LINKS)).isFalse();
        assertThat(mode(layer.directory().resolve("run/pipe")) & 0170000).isEqualTo(0010000);
    }

    @Test
    void laterMembersReplaceEarlierOnes() throws IOException {
        byte[] tar = new TarFixture().file("a", "first").file("a", "second").symlink("b", "x").dir("b/")
                .file("b/c", "c").bytes();

        Layer layer = unpack(tar);

        assertThat(read(layer.directory().resolve("a"))).isEqualTo("second");
        assertThat(Files.isDirectory(layer.directory().resolve("b"), LinkOption.NOFOLLOW_LINKS)).isTrue();
    }

    // --- hostile layers: each refused naming the entry, nothing outside the layer, nothing in the store ---

    @Test
    void refusesDotDot() {
        assertRefused(new TarFixture().file("ok", "ok").file("../x", "evil").bytes(), "entry '../x'", "climbs out");
        assertRefused(new TarFixture().file("a/../../x", "evil").bytes(), "entry 'a/../../x'", "climbs out");
        assertThat(base.resolve("store/tmp/x")).doesNotExist();
        assertThat(base.resolve("store/x")).doesNotExist();
    }

    @Test
    void refusesAbsolutePaths() {
        assertRefused(new TarFixture().file("/etc/x", "evil").bytes(), "entry '/etc/x'", "absolute");
        assertRefused(new TarFixture().file(canary + "/x", "evil").bytes(), "entry '" + canary + "/x'", "absolute");
        assertRefused(new TarFixture().file(".//etc/x", "evil").bytes(), "entry './/etc/x'", "absolute");
    }

    @Test
    void refusesHardLinksOutOfTheLayer() throws IOException {
        Files.writeString(canary.resolve("secret"), "secret");
        assertRefused(new TarFixture().hardLink("passwd", "../../etc/passwd").bytes(), "entry 'passwd'",
                "hard link to '../../etc/passwd', which climbs out of the layer");
        assertRefused(new TarFixture().hardLink("secret", canary + "/secret").bytes(), "entry 'secret'", "absolute");
        assertRefused(new TarFixture().hardLink("later", "not-yet").file("not-yet", "x").bytes(), "entry 'later'",
                "not (yet) in the layer");
        assertRefused(new TarFixture().symlink("link", canary.toString()).hardLink("stolen", "link/secret").bytes(),
                "entry 'stolen'", "through the symlink 'link'");
    }

    @Test
    void refusesWritingThroughASymlink() {
        assertRefused(new TarFixture().symlink("link", canary.toString()).file("link/file", "evil").bytes(),
                "entry 'link/file'", "would be written through the symlink 'link'");
        assertRefused(new TarFixture().dir("a/").symlink("a/b", canary.toString()).dir("a/b/c/").bytes(),
                "entry 'a/b/c/'", "through the symlink 'a/b'");
        assertRefused(new TarFixture().symlink("up", "..").file("up/x", "evil").bytes(), "entry 'up/x'",
                "through the symlink 'up'");
    }

    @Test
    void replacesASymlinkInsteadOfWritingThroughIt() throws IOException {
        Path target = canary.resolve("target");
        Files.writeString(target, "untouched");
        byte[] tar = new TarFixture().symlink("f", target.toString()).file("f", "new").bytes();

        Layer layer = unpack(tar);

        assertThat(read(layer.directory().resolve("f"))).isEqualTo("new");
        assertThat(read(target)).isEqualTo("untouched");
    }

    @Test
    void refusesTruncatedArchives() {
        byte[] whole = new TarFixture().file("a", "x".repeat(2000)).bytes();
        assertRefused(Arrays.copyOf(whole, 512 + 1000), "entry 'a'", "truncated");
        assertRefused(new TarFixture().file("a", "a").bytesWithoutEnd(), "end-of-archive");
        assertRefused(Arrays.copyOf(whole, 200), "ends inside a header");
    }

    @Test
    void refusesABadChecksum() {
        byte[] tar = new TarFixture().file("good", "g").file("bad", "b").bytes();
        tar[1024 + 100] = '7';
        assertRefused(tar, "header at offset 1024", "checksum");
    }

    @Test
    void refusesADigestMismatch() {
        byte[] tar = new TarFixture().file("a", "a").bytes();
        String wrong = TarFixture.sha256("something else".getBytes(StandardCharsets.UTF_8));

        assertThatThrownBy(() -> store.unpack(wrong, new ByteArrayInputStream(tar), LayerStore.Compression.NONE))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("layer " + wrong)
                .hasMessageContaining(TarFixture.sha256(tar));
        assertThat(store.find(wrong)).isEmpty();
        assertStoreEmpty();
    }

    @Test
    void refusesANonDirectoryAsTheLayersRoot() {
        assertRefused(new TarFixture().file("./", "x").bytes(), "entry './'", "not a directory");
    }

    @Test
    void refusesAWhiteoutWithoutAName() {
        assertRefused(new TarFixture().file("etc/.wh.", "").bytes(), "entry 'etc/.wh.'", "whiteout");
    }

    private void assertRefused(byte[] tar, String... messageParts) {
        String digest = TarFixture.sha256(tar);
        assertThatThrownBy(() -> store.unpack(digest, new ByteArrayInputStream(tar), LayerStore.Compression.NONE))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("layer " + digest + ":")
                .hasMessageContainingAll(messageParts);
        assertThat(store.find(digest)).isEmpty();
        assertStoreEmpty();
        try (Stream<Path> entries = Files.list(canary)) {
            assertThat(entries.filter(p -> !p.getFileName().toString().equals("secret")
                    && !p.getFileName().toString().equals("target"))).isEmpty();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private void assertStoreEmpty() {
        try (Stream<Path> layers = Files.list(store.root().resolve("sha256"))) {
            assertThat(layers).isEmpty();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        assertTmpEmpty();
        try (Stream<Path> top = Files.list(store.root())) {
            assertThat(top.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("sha256", "tmp");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private void assertTmpEmpty() {
        try (Stream<Path> work = Files.list(store.root().resolve("tmp"))) {
            assertThat(work).isEmpty();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }
}
