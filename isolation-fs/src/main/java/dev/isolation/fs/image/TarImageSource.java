package dev.isolation.fs.image;

import dev.isolation.fs.image.tar.TarEntry;
import dev.isolation.fs.image.tar.TarReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.zip.GZIPInputStream;

/**
 * An image layout inside a tar file ({@code docker save} of Docker 25+, or a tarred OCI layout), read in place:
 * one pass over the headers (skipping the data) indexes where each member's bytes are, then blobs are read
 * straight from those offsets. A gzip-compressed tar is first decompressed into a private temporary file, which
 * closing deletes. Regular members and hard links to them are indexed; the last member of a name wins, as when
 * extracting.
 */
final class TarImageSource implements ImageSource {
    private record Member(long offset, long size) {
    }

    private final FileChannel channel;
    private final Map<String, Member> members;
    private final Optional<Path> temporary;

    private TarImageSource(FileChannel channel, Map<String, Member> members, Optional<Path> temporary) {
        this.channel = channel;
        this.members = members;
        this.temporary = temporary;
    }

    static TarImageSource open(Path tarFile) throws IOException {
        Optional<Path> temporary = isGzip(tarFile) ? Optional.of(gunzip(tarFile)) : Optional.empty();
        FileChannel channel = FileChannel.open(temporary.orElse(tarFile), StandardOpenOption.READ);
        try {
            return new TarImageSource(channel, index(channel, tarFile), temporary);
        } catch (IOException | RuntimeException e) {
            channel.close();
            if (temporary.isPresent()) {
                Files.deleteIfExists(temporary.get());
            }
            throw e;
        }
    }

    @Override
    public Optional<InputStream> read(String path) {
        Member member = members.get(path);
        return member == null ? Optional.empty()
                : Optional.of(new ChannelStream(channel, member.offset(), member.offset() + member.size()));
    }

    @Override
    public void close() throws IOException {
        try {
            channel.close();
        } finally {
            if (temporary.isPresent()) {
                Files.deleteIfExists(temporary.get());
            }
        }
    }

    private static Map<String, Member> index(FileChannel channel, Path tarFile) throws IOException {
        Map<String, Member> members = new HashMap<>();
        TarReader reader = new TarReader(new ChannelStream(channel, 0, channel.size()), "image " + tarFile);
        Optional<TarEntry> next;
        while ((next = reader.next()).isPresent()) {
            TarEntry entry = next.get();
            String name = normalize(entry.name());
            if (entry.type() == TarEntry.Type.REGULAR) {
                members.put(name, new Member(entry.dataOffset(), entry.size()));
            } else if (entry.type() == TarEntry.Type.HARD_LINK && members.containsKey(normalize(entry.linkName()))) {
                members.put(name, members.get(normalize(entry.linkName())));
            } else {
                members.remove(name);
            }
        }
        return members;
    }

    private static String normalize(String name) {
        String normalized = name;
        while (normalized.startsWith("./")) {
            normalized = normalized.substring(2);
        }
        return normalized;
    }

    private static boolean isGzip(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] head = in.readNBytes(2);
            return head.length == 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b;
        }
    }

    private static Path gunzip(Path file) throws IOException {
        Path temporary = Files.createTempFile("isolation-image-", ".tar");
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file), 65536);
             OutputStream out = Files.newOutputStream(temporary)) {
            in.transferTo(out);
            return temporary;
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temporary);
            throw new IOException("image " + file + ": cannot decompress it: " + e.getMessage(), e);
        }
    }

    /** Bytes {@code [position, end)} of a channel, read with positional reads; skip never passes the end. */
    private static final class ChannelStream extends InputStream {
        private final FileChannel channel;
        private final long end;
        private long position;

        ChannelStream(FileChannel channel, long start, long end) {
            this.channel = Objects.requireNonNull(channel);
            this.position = start;
            this.end = end;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int at, int length) throws IOException {
            Objects.checkFromIndexSize(at, length, buffer.length);
            if (position >= end) {
                return -1;
            }
            if (length == 0) {
                return 0;
            }
            int n = channel.read(ByteBuffer.wrap(buffer, at, (int) Math.min(length, end - position)), position);
            if (n < 0) {
                return -1;
            }
            position += n;
            return n;
        }

        @Override
        public long skip(long n) {
            long skipped = Math.max(0, Math.min(n, end - position));
            position += skipped;
            return skipped;
        }
    }
}
