package dev.isolation;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/** Writes OCI image layouts for tests: ustar layers, a config, a manifest and an index, with real digests. */
final class ImageFixture {
    private final ByteArrayOutputStream tar = new ByteArrayOutputStream();

    /** Adds a regular file to the layer being written. */
    ImageFixture file(String path, byte[] content, int mode) {
        header(path, content.length, mode, '0', "");
        tar.writeBytes(content);
        tar.writeBytes(new byte[(512 - content.length % 512) % 512]);
        return this;
    }

    ImageFixture directory(String path) {
        header(path.endsWith("/") ? path : path + "/", 0, 0755, '5', "");
        return this;
    }

    ImageFixture symlink(String path, String target) {
        header(path, 0, 0777, '2', target);
        return this;
    }

    /** The layer's tar, with its end-of-archive blocks; the fixture starts a new layer. */
    byte[] layer() {
        tar.writeBytes(new byte[1024]);
        byte[] bytes = tar.toByteArray();
        tar.reset();
        return bytes;
    }

    private void header(String name, long size, int mode, char type, String link) {
        byte[] header = new byte[512];
        put(header, 0, 100, name);
        put(header, 100, 8, String.format("%07o", mode));
        put(header, 108, 8, "0000000");
        put(header, 116, 8, "0000000");
        put(header, 124, 12, String.format("%011o", size));
        put(header, 136, 12, String.format("%011o", 0));
        header[156] = (byte) type;
        put(header, 157, 100, link);
        put(header, 257, 6, "ustar");
        put(header, 263, 2, "00");
        for (int i = 148; i < 156; i++) {
            header[i] = ' ';
        }
        int sum = 0;
        for (byte b : header) {
            sum += b & 0xff;
        }
        put(header, 148, 8, String.format("%06o", sum) + "\0 ");
        tar.writeBytes(header);
    }

    private static void put(byte[] header, int offset, int length, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > length) {
            throw new IllegalArgumentException("tar field too long: " + value);
        }
        System.arraycopy(bytes, 0, header, offset, bytes.length);
    }

    /** Writes an OCI image layout with these layers (lowest first) and config fields; returns the directory. */
    static Path writeLayout(Path dir, List<byte[]> layers, String configFields) throws IOException {
        Files.createDirectories(dir.resolve("blobs/sha256"));
        StringBuilder layerDescriptors = new StringBuilder();
        StringBuilder diffIds = new StringBuilder();
        for (byte[] layer : layers) {
            String digest = blob(dir, layer);
            layerDescriptors.append(layerDescriptors.length() == 0 ? "" : ",").append("{\"mediaType\":")
                    .append("\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"").append(digest)
                    .append("\",\"size\":").append(layer.length).append('}');
            diffIds.append(diffIds.length() == 0 ? "" : ",").append('"').append(digest).append('"');
        }
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{" + configFields + "},"
                + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[" + diffIds + "]}}").getBytes(StandardCharsets.UTF_8);
        String configDigest = blob(dir, config);
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\""
                + configDigest + "\",\"size\":" + config.length + "},\"layers\":[" + layerDescriptors + "]}")
                .getBytes(StandardCharsets.UTF_8);
        String manifestDigest = blob(dir, manifest);
        Files.writeString(dir.resolve("index.json"), "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" + manifestDigest + "\",\"size\":"
                + manifest.length + ",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}");
        Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        return dir;
    }

    private static String blob(Path dir, byte[] content) throws IOException {
        try {
            String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
            Files.write(dir.resolve("blobs/sha256").resolve(hex), content);
            return "sha256:" + hex;
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
