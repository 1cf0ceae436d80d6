package dev.isolation.fs.image;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/** A blob's bytes that must be exactly as many as its descriptor says: more or fewer is an error naming the blob. */
final class SizeCheckedStream extends FilterInputStream {
    private final long expected;
    private final String blob;
    private long count;

    SizeCheckedStream(InputStream in, long expected, String blob) {
        super(in);
        this.expected = expected;
        this.blob = blob;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buffer, int at, int length) throws IOException {
        int n = in.read(buffer, at, (int) Math.min(length, expected - count + 1));
        if (n < 0) {
            if (count != expected) {
                throw new IOException(blob + ": the blob has " + count + " bytes, its descriptor says " + expected);
            }
            return -1;
        }
        count += n;
        if (count > expected) {
            throw new IOException(blob + ": the blob is larger than the " + expected + " bytes its descriptor says");
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

    @Override
    public boolean markSupported() {
        return false;
    }
}
