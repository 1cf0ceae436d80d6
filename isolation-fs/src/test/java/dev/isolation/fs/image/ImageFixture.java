package dev.isolation.fs.image;

import dev.isolation.fs.TarFixture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A test image built here: two layers (the first with /etc/greeting, /etc/remove-me and /bin/sh; the second adding
 * /etc/added and deleting /etc/remove-me by a whiteout), a config, a manifest and an index, written as an OCI
 * layout directory or as the tar {@code docker save} writes since Docker 25.
 */
final class ImageFixture {
    static final String MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";
    static final String INDEX_TYPE = "application/vnd.oci.image.index.v1+json";

    final byte[] layer1Tar = new TarFixture().dir("etc/").file("etc/greeting", "hello\n")
            .file("etc/remove-me", "bye\n").dir("bin/").file("bin/sh", "#!shell", 0755).bytes();
    final byte[] layer2Tar = new TarFixture().dir("etc/").file("etc/added", "added\n")
            .whiteout("etc", "remove-me").bytes();
    final byte[] layer1;
    final byte[] layer2;
    final String layerType;
    final byte[] config;
    final byte[] manifest;
    /** The blobs by digest, in the order they are written. */
    final Map<String, byte[]> blobs = new LinkedHashMap<>();
    private String index;

    ImageFixture(boolean gzipLayers) {
        layer1 = gzipLayers ? TarFixture.gzip(layer1Tar) : layer1Tar;
        layer2 = gzipLayers ? TarFixture.gzip(layer2Tar) : layer2Tar;
        layerType = "application/vnd.oci.image.layer.v1.tar" + (gzipLayers ? "+gzip" : "");
        config = utf8("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"A=1\",\"PATH=/bin\"],"
                + "\"WorkingDir\":\"/work\",\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":[\"echo hi\"],"
                + "\"User\":\"1000:1000\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\""
                + TarFixture.sha256(layer1Tar) + "\",\"" + TarFixture.sha256(layer2Tar) + "\"]}}");
        manifest = utf8("{\"schemaVersion\":2,\"mediaType\":\"" + MANIFEST_TYPE + "\",\"config\":"
                + descriptor("application/vnd.oci.image.config.v1+json", config) + ",\"layers\":["
                + descriptor(layerType, layer1) + "," + descriptor(layerType, layer2) + "]}");
        blobs.put(TarFixture.sha256(layer1), layer1);
        blobs.put(TarFixture.sha256(layer2), layer2);
        blobs.put(TarFixture.sha256(config), config);
        blobs.put(TarFixture.sha256(manifest), manifest);
        index = "{\"schemaVersion\":2,\"mediaType\":\"" + INDEX_TYPE + "\",\"manifests\":[" + descriptor(MANIFEST_TYPE,
                manifest).replace("}", ",\"annotations\":{\"io.containerd.image.name\":\"docker.io/library/test:1\","
                + "\"org.opencontainers.image.ref.name\":\"1\"}}") + "]}";
    }

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    static String descriptor(String mediaType, byte[] blob) {
        return "{\"mediaType\":\"" + mediaType + "\",\"digest\":\"" + TarFixture.sha256(blob) + "\",\"size\":"
                + blob.length + "}";
    }

    static String descriptor(String mediaType, byte[] blob, String os, String architecture) {
        return "{\"mediaType\":\"" + mediaType + "\",\"digest\":\"" + TarFixture.sha256(blob) + "\",\"size\":"
                + blob.length + ",\"platform\":{\"os\":\"" + os + "\",\"architecture\":\"" + architecture + "\"}}";
    }

    String manifestDigest() {
        return TarFixture.sha256(manifest);
    }

    String configDigest() {
        return TarFixture.sha256(config);
    }

    String layer1Digest() {
        return TarFixture.sha256(layer1);
    }

    String layer2Digest() {
        return TarFixture.sha256(layer2);
    }

    /** Replaces the bytes stored under {@code digest} (which then no longer match it). */
    ImageFixture corrupt(String digest, byte[] replacement) {
        blobs.put(digest, replacement);
        return this;
    }

    /** Makes index.json list these manifest descriptors (JSON objects) instead. */
    ImageFixture index(List<String> descriptors) {
        index = "{\"schemaVersion\":2,\"manifests\":[" + String.join(",", descriptors) + "]}";
        return this;
    }

    /** Adds a blob (a nested index, another manifest). */
    ImageFixture blob(byte[] blob) {
        blobs.put(TarFixture.sha256(blob), blob);
        return this;
    }

    Path writeLayout(Path directory) throws IOException {
        Files.createDirectories(directory.resolve("blobs/sha256"));
        Files.writeString(directory.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        Files.writeString(directory.resolve("index.json"), index);
        for (Map.Entry<String, byte[]> blob : blobs.entrySet()) {
            Files.write(directory.resolve("blobs/sha256").resolve(blob.getKey().substring(7)), blob.getValue());
        }
        return directory;
    }

    /** What {@code docker save} of Docker 25+ writes: an OCI layout plus manifest.json and repositories. */
    byte[] dockerSaveTar() {
        TarFixture tar = new TarFixture().dir("blobs/").dir("blobs/sha256/");
        for (Map.Entry<String, byte[]> blob : blobs.entrySet()) {
            tar.file("blobs/sha256/" + blob.getKey().substring(7), blob.getValue(), 0644);
        }
        tar.file("index.json", index)
                .file("manifest.json", "[{\"Config\":\"blobs/sha256/" + configDigest().substring(7)
                        + "\",\"RepoTags\":[\"test:1\"],\"Layers\":[\"blobs/sha256/" + layer1Digest().substring(7)
                        + "\",\"blobs/sha256/" + layer2Digest().substring(7) + "\"]}]")
                .file("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}")
                .file("repositories", "{\"test\":{\"1\":\"" + manifestDigest().substring(7) + "\"}}");
        return tar.bytes();
    }
}
