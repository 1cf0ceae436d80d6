package dev.isolation.fs;

import com.google.common.io.BaseEncoding;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Objects;

/**
 * The bytes of a blob as they are read: counted, hashed with SHA-256 where the digest is wanted, and held to the
 * size its descriptor gives where one is known (fewer or more bytes are an error naming the blob). Skipping reads
 * (and hashes) the skipped bytes, so no wrapper above can make bytes bypass the checks; mark/reset is not
 * supported. Closing does not close the stream below: whoever opened it closes it.
 */
public final class BlobStream extends FilterInputStream {
    private static final long ANY_SIZE = -1;

    private final MessageDigest sha256;
    private final long expected;
    private final String blob;
    private long count;

    private BlobStream(InputStream in, MessageDigest sha256, long expected, String blob) {
        super(Objects.requireNonNull(in, "in"));
        this.sha256 = sha256;
        this.expected = expected;
        this.blob = blob;
    }

    /**
     * {@code in}'s bytes, which must be exactly {@code expected} many, e.g. a layer blob of an image to give
     * {@link LayerStore#unpack}: reading past them, or reaching the end short of them, throws an
     * {@link IOException} whose message starts with {@code blob} (what to call it, e.g. {@code layer sha256:...}).
     */
    public static BlobStream ofSize(InputStream in, long expected, String blob) {
        if (expected < 0) {
            throw new IllegalArgumentException(blob + ": a blob cannot have " + expected + " bytes");
        }
        return new BlobStream(in, null, expected, Objects.requireNonNull(blob, "blob"));
    }

    /** {@code in}'s bytes, of any size, hashed as they are read (see {@link #digest}). */
    static BlobStream hashed(InputStream in) {
        try {
            return new BlobStream(in, MessageDigest.getInstance("SHA-256"), ANY_SIZE, "blob");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buffer, int at, int length) throws IOException {
        int n = in.read(buffer, at, expected == ANY_SIZE ? length : (int) Math.min(length, expected - count + 1));
        if (n < 0) {
            if (expected != ANY_SIZE && count != expected) {
                throw new IOException(blob + ": the blob has " + count + " bytes, its descriptor says " + expected);
            }
            return -1;
        }
        count += n;
        if (expected != ANY_SIZE && count > expected) {
            throw new IOException(blob + ": the blob is larger than the " + expected + " bytes its descriptor says");
        }
        if (sha256 != null) {
            sha256.update(buffer, at, n);
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        byte[] buffer = new byte[(int) Math.min(Math.max(n, 0), 8192)];
        long skipped = 0;
        while (skipped < n) {
            int read = read(buffer, 0, (int) Math.min(buffer.length, n - skipped));
            if (read < 0) {
                break;
            }
            skipped += read;
        }
        return skipped;
    }

    /** Does not close the stream below. */
    @Override
    public void close() {
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    @Override
    public synchronized void mark(int limit) {
    }

    @Override
    public synchronized void reset() throws IOException {
        throw new IOException("mark/reset not supported");
    }

    /** Reads everything that is left, so that the count and digest cover the whole blob. */
    void drain() throws IOException {
        skip(Long.MAX_VALUE);
    }

    /** The digest of the bytes read so far, as {@code sha256:<hex>}; only of a {@link #hashed} stream. */
    String digest() {
        try {
            MessageDigest copy = (MessageDigest) Objects.requireNonNull(sha256, "not hashed").clone();
            return "sha256:" + BaseEncoding.base16().lowerCase().encode(copy.digest());
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("SHA-256 cannot be cloned", e);
        }
    }

    /** How many bytes were read so far. */
    long count() {
        return count;
    }
}
