package dev.isolation.launch;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * The JVM's end of the control socket to one helper. The helper reports on it (started, failed, exited) and
 * obeys commands; when the JVM dies the kernel closes it, and the helper kills the sandbox.
 */
final class ControlChannel implements AutoCloseable {
    private static final int MAX_TEXT = 64 * 1024;

    private final SocketChannel channel;

    ControlChannel(SocketChannel channel) {
        this.channel = channel;
    }

    /** Reads the helper's greeting and returns its pid; refuses a helper of another protocol. */
    long readHello(String helperPath) throws IOException {
        ByteBuffer hello = read(12);
        int magic = hello.getInt();
        int version = hello.getInt();
        if (magic != Wire.MAGIC || version != Wire.VERSION) {
            throw new IOException("the native helper " + helperPath + " speaks protocol " + Integer.toHexString(magic)
                    + "/" + version + ", this library " + Integer.toHexString(Wire.MAGIC) + "/" + Wire.VERSION
                    + ": it belongs to another version of isolation-core");
        }
        return Integer.toUnsignedLong(hello.getInt());
    }

    void send(byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    void sendCommand(int command) throws IOException {
        send(ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(command).array());
    }

    Report readReport() throws IOException {
        ByteBuffer header = read(24);
        int type = header.getInt();
        int value = header.getInt();
        int step = header.getInt();
        int errno = header.getInt();
        int detailLength = header.getInt();
        int errnoTextLength = header.getInt();
        if (detailLength < 0 || detailLength > MAX_TEXT || errnoTextLength < 0 || errnoTextLength > MAX_TEXT) {
            throw new IOException("malformed report from the native helper");
        }
        String detail = text(detailLength);
        String errnoText = text(errnoTextLength);
        return new Report(type, value, step, errno, detail, errnoText);
    }

    private String text(int length) throws IOException {
        return length == 0 ? "" : new String(read(length).array(), StandardCharsets.UTF_8);
    }

    private ByteBuffer read(int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length).order(ByteOrder.nativeOrder());
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                throw new EOFException("the native helper closed its control socket");
            }
        }
        return buffer.flip();
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing a socket we own: nothing to recover
        }
    }

    /** One message from the helper. */
    record Report(int type, int value, int step, int errno, String detail, String errnoText) {
    }
}
