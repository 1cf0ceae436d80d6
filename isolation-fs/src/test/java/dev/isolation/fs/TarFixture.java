package dev.isolation.fs;

import com.google.common.hash.Hashing;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

/** A test-only tar writer: ustar members, pax and GNU long names, raw blocks for hostile archives, and gzip. */
public final class TarFixture {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    public TarFixture dir(String name) {
        return dir(name, 0755);
    }

    public TarFixture dir(String name, int mode) {
        return member(name, '5', mode, new byte[0], "", 0, 0);
    }

    public TarFixture file(String name, String content) {
        return file(name, content, 0644);
    }

    public TarFixture file(String name, String content, int mode) {
        return file(name, content.getBytes(StandardCharsets.UTF_8), mode);
    }

    public TarFixture file(String name, byte[] content, int mode) {
        return member(name, '0', mode, content, "", 0, 0);
    }

    public TarFixture symlink(String name, String target) {
        return member(name, '2', 0777, new byte[0], target, 0, 0);
    }

    public TarFixture hardLink(String name, String target) {
        return member(name, '1', 0644, new byte[0], target, 0, 0);
    }

    /** {@code .wh.NAME} in {@code directory} ("" for the layer's root): deletes NAME of the layers below. */
    public TarFixture whiteout(String directory, String name) {
        return file(prefix(directory) + ".wh." + name, "");
    }

    /** {@code .wh..wh..opq} in {@code directory}: hides everything the layers below have in it. */
    public TarFixture opaque(String directory) {
        return file(prefix(directory) + ".wh..wh..opq", "");
    }

    public TarFixture charDevice(String name, int major, int minor) {
        return member(name, '3', 0666, new byte[0], "", major, minor);
    }

    public TarFixture blockDevice(String name, int major, int minor) {
        return member(name, '4', 0660, new byte[0], "", major, minor);
    }

    public TarFixture fifo(String name) {
        return member(name, '6', 0644, new byte[0], "", 0, 0);
    }

    /** A regular file whose name (any length) travels in a pax extended header. */
    public TarFixture paxFile(String name, String content) {
        byte[] records = paxRecord("path", name);
        member("PaxHeaders/x", 'x', 0644, records, "", 0, 0);
        return file(truncate(name), content, 0644);
    }

    /** A symlink whose target (any length) travels in a pax extended header. */
    public TarFixture paxSymlink(String name, String target) {
        byte[] records = paxRecord("linkpath", target);
        member("PaxHeaders/x", 'x', 0644, records, "", 0, 0);
        return symlink(name, "");
    }

    /** A global pax header (which readers ignore, as Go's archive/tar does). */
    public TarFixture paxGlobal(String key, String value) {
        return member("GlobalHead", 'g', 0644, paxRecord(key, value), "", 0, 0);
    }

    /** A regular file whose name (any length) travels in a GNU 'L' member. */
    public TarFixture gnuLongNameFile(String name, String content) {
        byte[] bytes = (name + "\0").getBytes(StandardCharsets.UTF_8);
        member("././@LongLink", 'L', 0644, bytes, "", 0, 0);
        return file(truncate(name), content, 0644);
    }

    /** A member written exactly as given. */
    public TarFixture member(String name, char type, int mode, byte[] data, String linkName, int major, int minor) {
        byte[] header = header(name, type, mode, data.length, linkName, major, minor);
        out.writeBytes(header);
        out.writeBytes(data);
        out.writeBytes(new byte[padding(data.length)]);
        return this;
    }

    /** Raw bytes appended as they are. */
    public TarFixture raw(byte[] bytes) {
        out.writeBytes(bytes);
        return this;
    }

    /** The archive with its end-of-archive marker (two zero blocks). */
    public byte[] bytes() {
        byte[] body = out.toByteArray();
        return Arrays.copyOf(body, body.length + 1024);
    }

    /** The members so far without any end-of-archive marker. */
    public byte[] bytesWithoutEnd() {
        return out.toByteArray();
    }

    public static byte[] gzip(byte[] bytes) {
        ByteArrayOutputStream compressed = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(compressed)) {
            gzip.write(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return compressed.toByteArray();
    }

    public static String sha256(byte[] bytes) {
        return "sha256:" + Hashing.sha256().hashBytes(bytes);
    }

    /** A ustar header with a correct checksum. */
    public static byte[] header(String name, char type, int mode, long size, String linkName, int major, int minor) {
        byte[] header = new byte[512];
        put(header, 0, 100, name.getBytes(StandardCharsets.UTF_8));
        put(header, 100, 8, octal(mode, 7));
        put(header, 108, 8, octal(1000, 7));
        put(header, 116, 8, octal(1000, 7));
        put(header, 124, 12, octal(size, 11));
        put(header, 136, 12, octal(1_700_000_000L, 11));
        header[156] = (byte) type;
        put(header, 157, 100, linkName.getBytes(StandardCharsets.UTF_8));
        put(header, 257, 6, "ustar\0".getBytes(StandardCharsets.US_ASCII));
        put(header, 263, 2, "00".getBytes(StandardCharsets.US_ASCII));
        put(header, 265, 32, "user".getBytes(StandardCharsets.US_ASCII));
        put(header, 297, 32, "user".getBytes(StandardCharsets.US_ASCII));
        put(header, 329, 8, octal(major, 7));
        put(header, 337, 8, octal(minor, 7));
        Arrays.fill(header, 148, 156, (byte) ' ');
        long sum = 0;
        for (byte b : header) {
            sum += b & 0xff;
        }
        put(header, 148, 8, (String.format("%06o", sum) + "\0 ").getBytes(StandardCharsets.US_ASCII));
        return header;
    }

    private static byte[] paxRecord(String key, String value) {
        String body = " " + key + "=" + value + "\n";
        int length = body.getBytes(StandardCharsets.UTF_8).length;
        int total = length + String.valueOf(length).length();
        if (String.valueOf(total).length() != String.valueOf(length).length()) {
            total++;
        }
        return (total + body).getBytes(StandardCharsets.UTF_8);
    }

    private static String truncate(String name) {
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        return bytes.length <= 100 ? name : new String(bytes, 0, 99, StandardCharsets.US_ASCII);
    }

    private static String prefix(String directory) {
        return directory.isEmpty() || directory.endsWith("/") ? directory : directory + "/";
    }

    private static byte[] octal(long value, int digits) {
        return (String.format("%0" + digits + "o", value) + "\0").getBytes(StandardCharsets.US_ASCII);
    }

    private static void put(byte[] header, int at, int length, byte[] value) {
        if (value.length > length) {
            throw new IllegalArgumentException("'" + new String(value, StandardCharsets.UTF_8) + "' does not fit in "
                    + length + " bytes");
        }
        System.arraycopy(value, 0, header, at, value.length);
    }

    private static int padding(long size) {
        return (int) ((512 - size % 512) % 512);
    }
}
