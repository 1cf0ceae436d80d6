package dev.isolation.fs.image.tar;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A strict, streaming reader of tar archives that treats its input as hostile.
 *
 * <p>Reads ustar, GNU ({@code 'L'} long names, {@code 'K'} long link names) and pax ({@code 'x'} extended headers:
 * {@code path}, {@code linkpath}, {@code size}, {@code mtime}) archives. Global pax headers ({@code 'g'}) are
 * checked for well-formedness and otherwise ignored, as Go's {@code archive/tar} (what Docker and containerd
 * unpack layers with) does, so that this reader sees the same members they do; for the same reason members whose
 * type carries no data (links, directories, devices, fifos) never have data, whatever their size field says.
 *
 * <p>Refused with an {@link IOException} naming the archive, the offset and the member: a header whose checksum
 * does not match, an unknown magic, an unknown or unsupported member type (GNU sparse files, multi-volume
 * archives, dump directories), malformed numbers or pax records, names that are not UTF-8, extended headers larger
 * than 1 MiB or not followed by a member, an end inside a header or inside data, an archive without an
 * end-of-archive marker (a single zero block at the very end is accepted, as tar implementations do), and a zero
 * block followed by another header.
 *
 * <p>The reader stops right after the end-of-archive marker and never closes its stream. Data a caller does not
 * read is skipped with {@link InputStream#skip}; a stream whose skip claims to skip past its end (such as
 * {@code FileInputStream}) makes a truncation show up at the next header instead of inside the data.
 */
public final class TarReader {
    /** The size of a tar block. */
    public static final int BLOCK_SIZE = 512;
    /** The largest GNU long name or pax header accepted, as Go's archive/tar. */
    static final int MAX_EXTENDED_HEADER = 1 << 20;

    private static final byte[] MAGIC_POSIX = {'u', 's', 't', 'a', 'r', 0};
    private static final byte[] MAGIC_GNU = {'u', 's', 't', 'a', 'r', ' '};

    private final InputStream in;
    private final String archive;
    private final byte[] header = new byte[BLOCK_SIZE];
    private final EntryData data = new EntryData();
    private long position;
    private long dataRemaining;
    private long paddingRemaining;
    private TarEntry current;
    private boolean finished;

    /**
     * @param in      the archive, positioned at its first header
     * @param archive what to call the archive in error messages, e.g. {@code layer sha256:ab12...}
     */
    public TarReader(InputStream in, String archive) {
        this.in = Objects.requireNonNull(in, "in");
        this.archive = Objects.requireNonNull(archive, "archive");
    }

    /**
     * Moves to the next member, skipping whatever of the current member's data was not read.
     *
     * @return the next member, or empty once the end-of-archive marker has been read
     * @throws IOException when the archive is malformed or truncated, or reading fails
     */
    public Optional<TarEntry> next() throws IOException {
        if (finished) {
            return Optional.empty();
        }
        skipRestOfEntry();
        current = null;
        String longName = null;
        String longLink = null;
        Map<String, String> pax = new HashMap<>();
        long pendingMetadata = -1;
        while (true) {
            long offset = position;
            int read = readFully(header, 0, BLOCK_SIZE);
            if (read == 0) {
                finished = true;
                if (pendingMetadata >= 0) {
                    throw error(offset, "ends right after the extended header at offset " + pendingMetadata);
                }
                throw error(offset, "ends without the end-of-archive marker (truncated archive)");
            }
            if (read < BLOCK_SIZE) {
                finished = true;
                throw error(offset, "ends inside a header (" + read + " of " + BLOCK_SIZE + " bytes, truncated archive)");
            }
            if (isZero(header)) {
                if (pendingMetadata >= 0) {
                    throw error(offset, "the extended header at offset " + pendingMetadata
                            + " is followed by the end-of-archive marker instead of a member");
                }
                readSecondZeroBlock(offset);
                return Optional.empty();
            }
            verifyChecksum(offset);
            Format format = format(offset);
            char type = (char) (header[156] & 0xff);
            long size = number(124, 12, "size", offset, false);
            switch (type) {
                case 'L' -> {
                    longName = cString(readExtended(size, offset, "GNU long name"), offset, "GNU long name");
                    pendingMetadata = pendingMetadata < 0 ? offset : pendingMetadata;
                }
                case 'K' -> {
                    longLink = cString(readExtended(size, offset, "GNU long link name"), offset, "GNU long link name");
                    pendingMetadata = pendingMetadata < 0 ? offset : pendingMetadata;
                }
                case 'x' -> {
                    pax.putAll(paxRecords(readExtended(size, offset, "pax header"), offset));
                    pendingMetadata = pendingMetadata < 0 ? offset : pendingMetadata;
                }
                case 'g' -> paxRecords(readExtended(size, offset, "global pax header"), offset);
                case 'V' -> skip(size + padding(size), offset);
                default -> {
                    return Optional.of(entry(type, format, size, offset, longName, longLink, pax));
                }
            }
        }
    }

    /**
     * The data of the member {@link #next()} returned last: at most its {@link TarEntry#size()} bytes, then EOF.
     * Reading it after the next call to {@link #next()} returns EOF. An end of the archive inside the data is an
     * {@link EOFException} naming the member.
     */
    public InputStream data() {
        return data;
    }

    /** How many bytes of the archive were consumed so far. */
    public long position() {
        return position;
    }

    private TarEntry entry(char typeFlag, Format format, long headerSize, long offset, String longName,
                           String longLink, Map<String, String> pax) throws IOException {
        String name = longName != null ? longName : headerName(format, offset);
        String linkName = longLink != null ? longLink : string(157, 100, offset, "link name");
        String paxPath = pax.get("path");
        if (paxPath != null && !paxPath.isEmpty()) {
            name = paxPath;
        }
        String paxLink = pax.get("linkpath");
        if (paxLink != null && !paxLink.isEmpty()) {
            linkName = paxLink;
        }
        long size = headerSize;
        String paxSize = pax.get("size");
        if (paxSize != null && !paxSize.isEmpty()) {
            size = decimal(paxSize, offset, "pax size");
        }
        TarEntry.Type type = switch (typeFlag) {
            case '0', '7' -> TarEntry.Type.REGULAR;
            case '\0' -> name.endsWith("/") ? TarEntry.Type.DIRECTORY : TarEntry.Type.REGULAR;
            case '1' -> TarEntry.Type.HARD_LINK;
            case '2' -> TarEntry.Type.SYMLINK;
            case '3' -> TarEntry.Type.CHAR_DEVICE;
            case '4' -> TarEntry.Type.BLOCK_DEVICE;
            case '5' -> TarEntry.Type.DIRECTORY;
            case '6' -> TarEntry.Type.FIFO;
            case 'S' -> throw error(offset, name, "is a GNU sparse file, which is not supported");
            case 'M' -> throw error(offset, name, "continues a multi-volume archive, which is not supported");
            case 'D' -> throw error(offset, name, "is a GNU dump directory, which is not supported");
            default -> throw error(offset, name, "has the unknown type " + describe(typeFlag));
        };
        if (type != TarEntry.Type.REGULAR) {
            size = 0;
        }
        if (name.isEmpty()) {
            throw error(offset, "has an empty name");
        }
        int mode = (int) (number(100, 8, "mode", offset, false) & 07777);
        Instant mtime = Instant.ofEpochSecond(number(136, 12, "mtime", offset, true));
        String paxTime = pax.get("mtime");
        if (paxTime != null && !paxTime.isEmpty()) {
            mtime = paxTime(paxTime, offset);
        }
        long major = 0;
        long minor = 0;
        if (type == TarEntry.Type.CHAR_DEVICE || type == TarEntry.Type.BLOCK_DEVICE) {
            major = format == Format.V7 ? 0 : number(329, 8, "devmajor", offset, false);
            minor = format == Format.V7 ? 0 : number(337, 8, "devminor", offset, false);
        }
        if (type != TarEntry.Type.HARD_LINK && type != TarEntry.Type.SYMLINK) {
            linkName = "";
        }
        current = new TarEntry(name, type, linkName, mode, size, mtime, major, minor, position);
        dataRemaining = size;
        paddingRemaining = padding(size);
        return current;
    }

    private String headerName(Format format, long offset) throws IOException {
        String name = string(0, 100, offset, "name");
        if (format == Format.POSIX) {
            String prefix = string(345, 155, offset, "name prefix");
            if (!prefix.isEmpty()) {
                return prefix + "/" + name;
            }
        }
        return name;
    }

    private enum Format { POSIX, GNU, V7 }

    private Format format(long offset) throws IOException {
        if (regionEquals(257, MAGIC_POSIX)) {
            return Format.POSIX;
        }
        if (regionEquals(257, MAGIC_GNU)) {
            return Format.GNU;
        }
        for (int i = 257; i < 263; i++) {
            if (header[i] != 0) {
                throw error(offset, "has an unknown magic " + printable(257, 6) + " (not a tar header)");
            }
        }
        return Format.V7;
    }

    private boolean regionEquals(int at, byte[] expected) {
        for (int i = 0; i < expected.length; i++) {
            if (header[at + i] != expected[i]) {
                return false;
            }
        }
        return true;
    }

    private void verifyChecksum(long offset) throws IOException {
        long stored = number(148, 8, "checksum", offset, false);
        long unsigned = 0;
        long signed = 0;
        for (int i = 0; i < BLOCK_SIZE; i++) {
            int b = i >= 148 && i < 156 ? ' ' : header[i];
            unsigned += b & 0xff;
            signed += b;
        }
        if (stored != unsigned && stored != signed) {
            throw error(offset, "has a bad header checksum (stored " + Long.toOctalString(stored) + ", computed "
                    + Long.toOctalString(unsigned) + "): corrupt or not a tar archive");
        }
    }

    private void readSecondZeroBlock(long firstOffset) throws IOException {
        finished = true;
        long offset = position;
        int read = readFully(header, 0, BLOCK_SIZE);
        if (read == 0) {
            return;
        }
        if (read < BLOCK_SIZE) {
            throw error(offset, "ends inside the second end-of-archive block (truncated archive)");
        }
        if (!isZero(header)) {
            throw error(offset, "has a header right after the zero block at offset " + firstOffset
                    + " (a single zero block inside an archive)");
        }
    }

    private byte[] readExtended(long size, long offset, String what) throws IOException {
        if (size > MAX_EXTENDED_HEADER) {
            throw error(offset, "has a " + what + " of " + size + " bytes, more than the limit of "
                    + MAX_EXTENDED_HEADER);
        }
        byte[] bytes = new byte[(int) size];
        int read = readFully(bytes, 0, bytes.length);
        if (read < bytes.length) {
            throw error(offset, "ends inside a " + what + " (" + read + " of " + size + " bytes, truncated archive)");
        }
        skip(padding(size), offset);
        return bytes;
    }

    private Map<String, String> paxRecords(byte[] bytes, long offset) throws IOException {
        Map<String, String> records = new HashMap<>();
        int at = 0;
        while (at < bytes.length) {
            int space = at;
            long length = 0;
            while (space < bytes.length && bytes[space] >= '0' && bytes[space] <= '9' && space - at < 8) {
                length = length * 10 + (bytes[space] - '0');
                space++;
            }
            if (space == at || space >= bytes.length || bytes[space] != ' ' || length <= space - at + 1
                    || at + length > bytes.length || bytes[(int) (at + length - 1)] != '\n') {
                throw error(offset, "has a malformed pax record at byte " + at + " of its extended header");
            }
            int end = (int) (at + length - 1);
            int equals = -1;
            for (int i = space + 1; i < end; i++) {
                if (bytes[i] == '=') {
                    equals = i;
                    break;
                }
            }
            if (equals <= space + 1) {
                throw error(offset, "has a pax record without a key at byte " + at + " of its extended header");
            }
            String key = utf8(bytes, space + 1, equals - space - 1, offset, "pax key");
            String value = utf8(bytes, equals + 1, end - equals - 1, offset, "pax value of '" + key + "'");
            if (key.startsWith("GNU.sparse.")) {
                throw error(offset, "describes a GNU sparse file (pax key '" + key + "'), which is not supported");
            }
            if ((key.equals("path") || key.equals("linkpath")) && value.indexOf('\0') >= 0) {
                throw error(offset, "has a pax '" + key + "' containing a NUL byte");
            }
            records.put(key, value);
            at = (int) (at + length);
        }
        return records;
    }

    private Instant paxTime(String value, long offset) throws IOException {
        int dot = value.indexOf('.');
        String whole = dot < 0 ? value : value.substring(0, dot);
        String fraction = dot < 0 ? "" : value.substring(dot + 1);
        boolean negative = whole.startsWith("-");
        String digits = negative ? whole.substring(1) : whole;
        if (digits.isEmpty() || digits.length() > 18 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')
                || !fraction.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw error(offset, "has a malformed pax mtime '" + value + "'");
        }
        long seconds = Long.parseLong(digits);
        String nineDigits = (fraction + "000000000").substring(0, 9);
        long nanos = Long.parseLong(nineDigits);
        return negative ? Instant.ofEpochSecond(-seconds, -nanos) : Instant.ofEpochSecond(seconds, nanos);
    }

    private long decimal(String value, long offset, String what) throws IOException {
        if (value.isEmpty() || value.length() > 18 || !value.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw error(offset, "has a malformed " + what + " '" + value + "'");
        }
        return Long.parseLong(value);
    }

    /** A numeric header field: octal digits padded with spaces or NULs, or GNU base-256 for large values. */
    private long number(int at, int length, String field, long offset, boolean allowNegative) throws IOException {
        if ((header[at] & 0x80) != 0) {
            boolean negative = (header[at] & 0x40) != 0;
            if (negative && !allowNegative) {
                throw error(offset, "has a negative " + field);
            }
            long value = header[at] & 0x3f;
            if (negative) {
                value |= ~0x3fL;
            }
            for (int i = at + 1; i < at + length; i++) {
                if (value > (Long.MAX_VALUE >> 8) || value < (Long.MIN_VALUE >> 8)) {
                    throw error(offset, "has a " + field + " that does not fit in 63 bits");
                }
                value = value << 8 | (header[i] & 0xff);
            }
            return value;
        }
        int start = at;
        int end = at + length;
        while (start < end && (header[start] == ' ' || header[start] == 0)) {
            start++;
        }
        while (end > start && (header[end - 1] == ' ' || header[end - 1] == 0)) {
            end--;
        }
        long value = 0;
        for (int i = start; i < end; i++) {
            int digit = header[i] - '0';
            if (digit < 0 || digit > 7) {
                throw error(offset, "has a malformed " + field + " field " + printable(at, length));
            }
            value = value << 3 | digit;
        }
        return value;
    }

    private String string(int at, int length, long offset, String field) throws IOException {
        int end = at;
        while (end < at + length && header[end] != 0) {
            end++;
        }
        return utf8(header, at, end - at, offset, field);
    }

    private String cString(byte[] bytes, long offset, String what) throws IOException {
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) {
            end++;
        }
        return utf8(bytes, 0, end, offset, what);
    }

    private String utf8(byte[] bytes, int at, int length, long offset, String what) throws IOException {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, at, length))
                    .toString();
        } catch (CharacterCodingException e) {
            throw error(offset, "has a " + what + " that is not valid UTF-8");
        }
    }

    private String printable(int at, int length) {
        StringBuilder text = new StringBuilder("'");
        for (int i = at; i < at + length; i++) {
            int b = header[i] & 0xff;
            text.append(b >= 0x20 && b < 0x7f ? String.valueOf((char) b) : String.format("\\x%02x", b));
        }
        return text.append('\'').toString();
    }

    private static String describe(char type) {
        return type >= 0x20 && type < 0x7f ? "'" + type + "'" : String.format("0x%02x", (int) type);
    }

    private void skipRestOfEntry() throws IOException {
        if (current != null) {
            long offset = current.dataOffset();
            String name = current.name();
            long total = dataRemaining + paddingRemaining;
            dataRemaining = 0;
            paddingRemaining = 0;
            try {
                skip(total, offset);
            } catch (EOFException e) {
                finished = true;
                throw new EOFException(archive + ": entry '" + name + "' (data at offset " + offset
                        + ") ends early (truncated archive)");
            }
        }
    }

    private void skip(long count, long offset) throws IOException {
        long left = count;
        while (left > 0) {
            long skipped = in.skip(left);
            if (skipped <= 0) {
                if (in.read() < 0) {
                    finished = true;
                    throw new EOFException(archive + ": header at offset " + offset + ": ends early (truncated archive)");
                }
                skipped = 1;
            }
            left -= skipped;
            position += skipped;
        }
    }

    private int readFully(byte[] buffer, int at, int length) throws IOException {
        int total = 0;
        while (total < length) {
            int n = in.read(buffer, at + total, length - total);
            if (n < 0) {
                break;
            }
            total += n;
            position += n;
        }
        return total;
    }

    private static long padding(long size) {
        long rest = size % BLOCK_SIZE;
        return rest == 0 ? 0 : BLOCK_SIZE - rest;
    }

    private static boolean isZero(byte[] block) {
        for (byte b : block) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private IOException error(long offset, String reason) {
        return new IOException(archive + ": header at offset " + offset + " " + reason);
    }

    private IOException error(long offset, String name, String reason) {
        return new IOException(archive + ": entry '" + name + "' (header at offset " + offset + ") " + reason);
    }

    /** The current member's data, bounded by its size; the end of the archive inside it is an error. */
    private final class EntryData extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int at, int length) throws IOException {
            Objects.checkFromIndexSize(at, length, buffer.length);
            if (dataRemaining == 0 || current == null) {
                return -1;
            }
            if (length == 0) {
                return 0;
            }
            int n = in.read(buffer, at, (int) Math.min(length, dataRemaining));
            if (n < 0) {
                finished = true;
                throw new EOFException(archive + ": entry '" + current.name() + "' ends after "
                        + (current.size() - dataRemaining) + " of its " + current.size()
                        + " bytes (truncated archive)");
            }
            position += n;
            dataRemaining -= n;
            return n;
        }

        @Override
        public int available() throws IOException {
            return (int) Math.min(in.available(), dataRemaining);
        }
    }
}
