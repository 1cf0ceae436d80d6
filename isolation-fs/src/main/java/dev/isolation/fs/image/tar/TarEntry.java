package dev.isolation.fs.image.tar;

import java.time.Instant;
import java.util.Objects;

/**
 * One member of a tar archive as {@link TarReader} returns it, with GNU long names and pax extended headers
 * already applied. The name is exactly as archived (not normalised, possibly hostile): whoever writes it to disk
 * must validate it.
 *
 * @param name       the member's path as archived, e.g. {@code ./etc/passwd} or {@code usr/bin/}
 * @param type       what the member is
 * @param linkName   the target of a symlink or hard link as archived, {@code ""} for other types
 * @param mode       the permission bits of the header, including setuid, setgid and sticky ({@code 07777} at most)
 * @param size       the number of data bytes that follow the header
 * @param mtime      the modification time (whole seconds, or finer from a pax {@code mtime} record)
 * @param devMajor   the major number of a device, 0 for other types
 * @param devMinor   the minor number of a device, 0 for other types
 * @param dataOffset where the data of this member starts, counted in bytes from the start of the archive
 */
public record TarEntry(String name, Type type, String linkName, int mode, long size, Instant mtime, long devMajor,
                       long devMinor, long dataOffset) {

    /** The kinds of members this reader hands out; metadata members (pax, GNU long names) never surface. */
    public enum Type {
        /** A regular file ({@code '0'}, {@code '\0'} or contiguous {@code '7'}), its bytes follow. */
        REGULAR,
        /** A hard link ({@code '1'}) to {@link #linkName()}, an earlier member of the same archive. */
        HARD_LINK,
        /** A symbolic link ({@code '2'}) whose target is {@link #linkName()}. */
        SYMLINK,
        /** A character device ({@code '3'}). */
        CHAR_DEVICE,
        /** A block device ({@code '4'}). */
        BLOCK_DEVICE,
        /** A directory ({@code '5'}, or an old-style regular member whose name ends with {@code /}). */
        DIRECTORY,
        /** A named pipe ({@code '6'}). */
        FIFO
    }

    public TarEntry {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(linkName, "linkName");
        Objects.requireNonNull(mtime, "mtime");
        if (mode < 0 || mode > 07777) {
            throw new IllegalArgumentException("tar entry '" + name + "': mode " + Integer.toOctalString(mode)
                    + " is not within 0..07777");
        }
        if (size < 0 || dataOffset < 0 || devMajor < 0 || devMinor < 0) {
            throw new IllegalArgumentException("tar entry '" + name + "': size, offset and device numbers must not"
                    + " be negative");
        }
    }
}
