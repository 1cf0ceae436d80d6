package dev.isolation.fs.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.isolation.fs.Layer;
import dev.isolation.fs.LayerStore;
import dev.isolation.fs.TarFixture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OciImageTest {
    private static final ImageConfig EXPECTED_CONFIG = new ImageConfig(List.of("A=1", "PATH=/bin"),
            Optional.of("/work"), List.of("/bin/sh", "-c"), List.of("echo hi"), Optional.of("1000:1000"));
    private static final Platform AMD64 = new Platform("linux", "amd64", Optional.empty());

    @TempDir
    Path base;

    private LayerStore store;

    @BeforeEach
    void openStore() throws IOException {
        store = new LayerStore(base.resolve("store"));
    }

    private void assertLoaded(OciImage image, ImageFixture fixture) throws IOException {
        assertThat(image.manifestDigest()).isEqualTo(fixture.manifestDigest());
        assertThat(image.config()).isEqualTo(EXPECTED_CONFIG);
        assertThat(image.layers()).extracting(Layer::id).containsExactly(fixture.layer1Digest(), fixture.layer2Digest());
        Path lowest = image.layers().get(0).directory();
        Path top = image.layers().get(1).directory();
        assertThat(lowest.resolve("etc/greeting")).hasContent("hello\n");
        assertThat(lowest.resolve("etc/remove-me")).hasContent("bye\n");
        assertThat(Files.isExecutable(lowest.resolve("bin/sh"))).isTrue();
        assertThat(top.resolve("etc/added")).hasContent("added\n");
        assertThat(Files.exists(top.resolve("etc/greeting"))).isFalse();
        Path whiteout = top.resolve("etc/remove-me");
        assertThat((Integer) Files.getAttribute(whiteout, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 0170000)
                .isEqualTo(0020000);
        assertThat(Files.getAttribute(whiteout, "unix:rdev", LinkOption.NOFOLLOW_LINKS)).isEqualTo(0L);
        assertThat(store.list()).containsExactlyInAnyOrderElementsOf(image.layers());
    }

    @Test
    void loadsAnOciLayoutDirectory() throws IOException {
        ImageFixture fixture = new ImageFixture(false);

        OciImage image = OciImage.load(fixture.writeLayout(base.resolve("layout")), store);

        assertLoaded(image, fixture);
    }

    @Test
    void loadsGzipLayers() throws IOException {
        ImageFixture fixture = new ImageFixture(true);

        OciImage image = OciImage.load(fixture.writeLayout(base.resolve("layout")), store);

        assertLoaded(image, fixture);
    }

    @Test
    void loadsADockerSaveTarball() throws IOException {
        ImageFixture fixture = new ImageFixture(false);
        Path tar = Files.write(base.resolve("image.tar"), fixture.dockerSaveTar());

        OciImage image = OciImage.load(tar, store);

        assertLoaded(image, fixture);
        assertThat(OciImage.load(fixture.writeLayout(base.resolve("layout")), store).layers())
                .isEqualTo(image.layers());
    }

    @Test
    void loadsAGzippedDockerSaveTarballAndLeavesNoTemporaryFile() throws IOException {
        ImageFixture fixture = new ImageFixture(true);
        Path tar = Files.write(base.resolve("image.tar.gz"), TarFixture.gzip(fixture.dockerSaveTar()));
        long before = temporaryImages();

        assertLoaded(OciImage.load(tar, store), fixture);

        assertThat(temporaryImages()).isEqualTo(before);
    }

    @Test
    void choosesTheManifestForThePlatformThroughNestedIndexes() throws IOException {
        ImageFixture fixture = new ImageFixture(false);
        byte[] otherManifest = ImageFixture.utf8("{\"schemaVersion\":2,\"config\":{}}");
        byte[] nested = ImageFixture.utf8("{\"schemaVersion\":2,\"mediaType\":\"" + ImageFixture.INDEX_TYPE
                + "\",\"manifests\":[" + ImageFixture.descriptor(ImageFixture.MANIFEST_TYPE, otherManifest, "linux", "arm64")
                + "," + ImageFixture.descriptor(ImageFixture.MANIFEST_TYPE, fixture.manifest, "linux", "amd64")
                + "," + ImageFixture.descriptor(ImageFixture.MANIFEST_TYPE, otherManifest, "unknown", "unknown") + "]}");
        fixture.blob(otherManifest).blob(nested)
                .index(List.of(ImageFixture.descriptor(ImageFixture.INDEX_TYPE, nested)));
        Path layout = fixture.writeLayout(base.resolve("layout"));

        assertLoaded(OciImage.load(layout, store, AMD64), fixture);
        assertThatThrownBy(() -> OciImage.load(layout, store, new Platform("linux", "s390x", Optional.empty())))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("image " + layout)
                .hasMessageContaining("none of the 3 manifests")
                .hasMessageContaining("linux/s390x")
                .hasMessageContaining("linux/arm64");
    }

    @Test
    void aManifestListedUnderTwoNamesIsOneCandidate() throws IOException {
        ImageFixture fixture = new ImageFixture(false);
        String descriptor = ImageFixture.descriptor(ImageFixture.MANIFEST_TYPE, fixture.manifest);
        fixture.index(List.of(descriptor, descriptor.replace("}", ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"latest\"}}")));

        assertLoaded(OciImage.load(fixture.writeLayout(base.resolve("layout")), store), fixture);
    }

    @Test
    void refusesALayerBlobThatDoesNotMatchItsDigest() throws IOException {
        ImageFixture fixture = new ImageFixture(false);
        byte[] tampered = fixture.layer2.clone();
        int content = indexOf(tampered, "added\n".getBytes(StandardCharsets.UTF_8));
        tampered[content] = 'A';
        fixture.corrupt(fixture.layer2Digest(), tampered);
        Path layout = fixture.writeLayout(base.resolve("layout"));

        assertThatThrownBy(() -> OciImage.load(layout, store)).isInstanceOf(IOException.class)
                .hasMessageContaining("image " + layout)
                .hasMessageContaining("layer " + fixture.layer2Digest())
                .hasMessageContaining(TarFixture.sha256(tampered));
        assertThat(store.find(fixture.layer2Digest())).isEmpty();
        try (Stream<Path> tmp = Files.list(store.root().resolve("tmp"))) {
            assertThat(tmp).isEmpty();
        }
    }

    @Test
    void refusesALayerBlobOfTheWrongSize() throws IOException {
        ImageFixture fixture = new ImageFixture(false);
        byte[] longer = java.util.Arrays.copyOf(fixture.layer1, fixture.layer1.length + 512);
        fixture.corrupt(fixture.layer1Digest(), longer);
        Path tar = Files.write(base.resolve("image.tar"), fixture.dockerSaveTar());

        assertThatThrownBy(() -> OciImage.load(tar, store)).hasMessageContaining("layer " + fixture.layer1Digest())
                .hasMessageContaining("larger than the " + fixture.layer1.length + " bytes");
        assertThat(store.list()).isEmpty();
    }

    @Test
    void refusesAConfigThatDoesNotMatchItsDigest() throws IOException {
        ImageFixture fixture = new ImageFixture(false);
        fixture.corrupt(fixture.configDigest(), replace(fixture.config, "A=1", "A=2"));
        Path tar = Files.write(base.resolve("image.tar"), fixture.dockerSaveTar());

        assertThatThrownBy(() -> OciImage.load(tar, store)).isInstanceOf(IOException.class)
                .hasMessageContaining("image " + tar)
                .hasMessageContaining("config " + fixture.configDigest())
                .hasMessageContaining("digest mismatch");
        assertThat(store.list()).isEmpty();
    }

    @Test
    void refusesAManifestThatDoesNotMatchItsDigest() throws IOException {
        ImageFixture fixture = new ImageFixture(false);
        fixture.corrupt(fixture.manifestDigest(), replace(fixture.manifest, "layers", "layerz"));
        Path layout = fixture.writeLayout(base.resolve("layout"));

        assertThatThrownBy(() -> OciImage.load(layout, store)).isInstanceOf(IOException.class)
                .hasMessageContaining("manifest " + fixture.manifestDigest())
                .hasMessageContaining("digest mismatch");
        assertThat(store.list()).isEmpty();
    }

    @Test
    void refusesMissingBlobsAndZstdLayers() throws IOException {
        ImageFixture missing = new ImageFixture(false);
        missing.blobs.remove(missing.layer2Digest());
        Path layout = missing.writeLayout(base.resolve("missing"));
        assertThatThrownBy(() -> OciImage.load(layout, store)).hasMessageContaining("layer " + missing.layer2Digest())
                .hasMessageContaining("missing");

        ImageFixture fixture = new ImageFixture(false);
        byte[] zstdManifest = replace(fixture.manifest, "v1.tar\"", "v1.tar+zstd\"");
        fixture.blob(zstdManifest).index(List.of(ImageFixture.descriptor(ImageFixture.MANIFEST_TYPE, zstdManifest)));
        Path zstd = fixture.writeLayout(base.resolve("zstd"));
        assertThatThrownBy(() -> OciImage.load(zstd, store))
                .hasMessageContaining("zstd-compressed layers are not supported");
    }

    @Test
    void refusesHostileDigestsInDescriptors() throws IOException {
        ImageFixture fixture = new ImageFixture(false);
        fixture.index(List.of("{\"mediaType\":\"" + ImageFixture.MANIFEST_TYPE
                + "\",\"digest\":\"sha256:../../../etc/passwd\",\"size\":1}"));
        Path layout = fixture.writeLayout(base.resolve("layout"));

        assertThatThrownBy(() -> OciImage.load(layout, store)).hasMessageContaining("sha256:../../../etc/passwd")
                .hasMessageContaining("64 lowercase hex");
    }

    @Test
    void refusesTheOldDockerSaveFormatSayingSo() throws IOException {
        byte[] layer = new TarFixture().file("a", "a").bytes();
        byte[] old = new TarFixture().file("abc/layer.tar", layer, 0644).file("cfg.json", "{}")
                .file("manifest.json", "[{\"Config\":\"cfg.json\",\"Layers\":[\"abc/layer.tar\"]}]").bytes();
        Path tar = Files.write(base.resolve("old.tar"), old);

        assertThatThrownBy(() -> OciImage.load(tar, store)).hasMessageContaining("Docker before 25");
    }

    @Test
    void refusesSomethingThatIsNotAnImage() throws IOException {
        Path empty = Files.createDirectory(base.resolve("empty"));
        Path garbage = Files.writeString(base.resolve("garbage.tar"), "not a tar at all".repeat(100));

        assertThatThrownBy(() -> OciImage.load(empty, store)).hasMessageContaining("no oci-layout");
        assertThatThrownBy(() -> OciImage.load(garbage, store)).hasMessageContaining("image " + garbage);
        assertThatThrownBy(() -> OciImage.load(base.resolve("nothing"), store)).hasMessageContaining("does not exist");
    }

    @Test
    void aConfigWithoutFieldsIsEmpty() throws IOException {
        JsonFields blob = JsonFields.of(Json.parse("{\"config\":{\"Env\":null,\"WorkingDir\":\"\"}}"), "config");

        assertThat(ImageConfig.fromConfigBlob(blob)).isEqualTo(new ImageConfig(List.of(), Optional.empty(), List.of(),
                List.of(), Optional.empty()));
        assertThatThrownBy(() -> ImageConfig.fromConfigBlob(JsonFields.of(Json.parse("{\"config\":{\"Env\":\"A=1\"}}"),
                "config sha256:x"))).hasMessageContaining("config sha256:x").hasMessageContaining("\"Env\" must be a list");
    }

    private static byte[] replace(byte[] bytes, String from, String to) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        if (!text.contains(from)) {
            throw new IllegalArgumentException(from + " not in " + text);
        }
        return text.replace(from, to).getBytes(StandardCharsets.UTF_8);
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new IllegalArgumentException("not found");
    }

    private static long temporaryImages() throws IOException {
        try (Stream<Path> files = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return files.filter(p -> p.getFileName().toString().startsWith("isolation-image-")).count();
        }
    }
}
