package dev.isolation.fs;

import com.google.common.io.BaseEncoding;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The bytes of a layer blob as they are read, hashed with SHA-256 and counted. Skipping reads (and hashes) the
 * skipped bytes, so no wrapper above can make bytes bypass the digest; mark/reset is not supported.
 */
final class LayerBlobStream extends FilterInputStream {
    private final MessageDigest sha256;
    private long count;

    LayerBlobStream(InputStream in) {
        super(in);
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        if (b >= 0) {
            sha256.update((byte) b);
            count++;
        }
        return b;
    }

    @Override
    public int read(byte[] buffer, int at, int length) throws IOException {
        int n = in.read(buffer, at, length);
        if (n > 0) {
            sha256.update(buffer, at, n);
            count += n;
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

    /** Does not close the caller's stream: whoever opened it closes it. */
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

    /** Reads everything that is left, so that the digest covers the whole blob. */
    void drain() throws IOException {
        byte[] buffer = new byte[65536];
        while (read(buffer, 0, buffer.length) >= 0) {
            // hashed by read
        }
    }

    /** The digest of the bytes read so far, as {@code sha256:<hex>}. */
    String digest() {
        try {
            MessageDigest copy = (MessageDigest) sha256.clone();
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
