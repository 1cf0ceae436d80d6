package dev.isolation.fs;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;

/** Recognises a layer blob's compression by its magic bytes and opens the tar inside it (uncompressed or gzip). */
final class LayerDecompression {
    private static final int PEEK = 512;

    private LayerDecompression() {
    }

    /** What the first bytes of a blob say it is. */
    enum Kind {
        TAR("an uncompressed tar"), GZIP("gzip-compressed"), ZSTD("zstd-compressed"), XZ("xz-compressed"),
        BZIP2("bzip2-compressed"), UNKNOWN("of an unknown format");

        private final String description;

        Kind(String description) {
            this.description = description;
        }
    }

    /**
     * The tar stream inside {@code blob}, which must support mark/reset (a {@link BufferedInputStream}).
     *
     * @param layer what to call the layer in messages
     * @throws IOException when the compression is unsupported or contradicts {@code declared}
     */
    static InputStream open(BufferedInputStream blob, LayerStore.Compression declared, String layer)
            throws IOException {
        blob.mark(PEEK);
        byte[] head = blob.readNBytes(PEEK);
        blob.reset();
        Kind kind = kind(head);
        switch (kind) {
            case ZSTD -> throw new IOException(layer + ": zstd-compressed layers are not supported");
            case XZ, BZIP2 -> throw new IOException(layer + ": " + kind.description + " layers are not supported");
            default -> {
            }
        }
        switch (declared) {
            case NONE -> {
                if (kind == Kind.GZIP) {
                    throw new IOException(layer + ": declared uncompressed but it is gzip-compressed");
                }
                return blob;
            }
            case GZIP -> {
                if (kind != Kind.GZIP) {
                    throw new IOException(layer + ": declared gzip-compressed but it is " + kind.description
                            + " (first bytes " + hex(head) + ")");
                }
                return new GZIPInputStream(blob, 65536);
            }
            default -> {
                if (kind == Kind.GZIP) {
                    return new GZIPInputStream(blob, 65536);
                }
                if (kind == Kind.UNKNOWN) {
                    throw new IOException(layer + ": not a tar, nor gzip-compressed (unknown magic, first bytes "
                            + hex(head) + ")");
                }
                return blob;
            }
        }
    }

    static Kind kind(byte[] head) {
        if (startsWith(head, 0x1f, 0x8b)) {
            return Kind.GZIP;
        }
        if (startsWith(head, 0x28, 0xb5, 0x2f, 0xfd)) {
            return Kind.ZSTD;
        }
        if (startsWith(head, 0xfd, '7', 'z', 'X', 'Z', 0x00)) {
            return Kind.XZ;
        }
        if (startsWith(head, 'B', 'Z', 'h')) {
            return Kind.BZIP2;
        }
        if (head.length >= 262 && head[257] == 'u' && head[258] == 's' && head[259] == 't' && head[260] == 'a'
                && head[261] == 'r') {
            return Kind.TAR;
        }
        boolean allZero = true;
        for (byte b : head) {
            allZero &= b == 0;
        }
        return allZero || head.length < PEEK ? Kind.TAR : Kind.UNKNOWN;
    }

    private static boolean startsWith(byte[] head, int... magic) {
        if (head.length < magic.length) {
            return false;
        }
        for (int i = 0; i < magic.length; i++) {
            if ((head[i] & 0xff) != magic[i]) {
                return false;
            }
        }
        return true;
    }

    private static String hex(byte[] head) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < Math.min(8, head.length); i++) {
            text.append(String.format("%02x", head[i] & 0xff));
        }
        return text.length() == 0 ? "(none, empty blob)" : text.toString();
    }
}
