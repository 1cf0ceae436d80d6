package dev.isolation.fs;

import dev.isolation.fs.image.tar.TarEntry;
import dev.isolation.fs.image.tar.TarReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Writes the members of a layer tar into an empty directory, treating the tar as hostile.
 *
 * <ul>
 *   <li>Names: a leading {@code ./} is stripped; absolute names and any {@code ..} component are refused. Parent
 *       directories are walked one component at a time without following symlinks: a symlink on the way is
 *       refused ("would be written through the symlink"), a missing directory is created 0755. Files are created
 *       with {@code O_CREAT|O_EXCL}, so never through a symlink either; a member replaces an earlier one of the
 *       same name (a directory replacing a directory keeps its contents).</li>
 *   <li>Symlinks may point anywhere: they are created as they are and only ever resolved inside a sandbox.</li>
 *   <li>Hard links must name a member already unpacked, reached without symlinks, that is not a directory.</li>
 *   <li>Whiteouts: {@code .wh.NAME} becomes a character device 0/0 named {@code NAME}; a char device 0/0 member is
 *       one too. {@code .wh..wh..opq} marks its directory opaque ({@code trusted.overlay.opaque=y}, skipped
 *       without privilege, and {@code user.overlay.opaque=y}, skipped where user xattrs are unsupported). Other
 *       {@code .wh..wh.} names (AUFS metadata) are skipped.</li>
 *   <li>Other devices are skipped: no device node is ever created from an image. Fifos are created (mknod
 *       S_IFIFO, which needs no privilege and gives no access to anything).</li>
 *   <li>Modes keep the permission and sticky bits; setuid and setgid are stripped, so an image cannot plant a
 *       set-id program owned by the store's owner. Directory modes and times are applied last, deepest first, so
 *       that read-only directories can be filled first; the layer's root always keeps owner rwx. Ownership is not
 *       changed (the store's owner owns everything), and extended attributes in the tar are not applied.</li>
 * </ul>
 */
final class LayerUnpacker {
    private final Path root;
    private final String layer;
    private final Map<Path, DirectoryMetadata> directories = new HashMap<>();
    private DirectoryMetadata rootMetadata = new DirectoryMetadata(0755, Optional.empty());

    private record DirectoryMetadata(int mode, Optional<Instant> mtime) {
    }

    /**
     * @param root  an empty directory to unpack into
     * @param layer what to call the layer in messages, e.g. {@code layer sha256:ab12...}
     */
    LayerUnpacker(Path root, String layer) {
        this.root = root;
        this.layer = layer;
    }

    /** Unpacks every member {@code tar} holds, up to its end-of-archive marker, then applies directory modes. */
    void unpack(TarReader tar) throws IOException {
        Optional<TarEntry> next;
        while ((next = tar.next()).isPresent()) {
            TarEntry entry = next.get();
            try {
                apply(entry, tar.data());
            } catch (IOException e) {
                if (e.getMessage() != null && e.getMessage().startsWith(layer + ":")) {
                    throw e;
                }
                throw new IOException(layer + ": entry '" + entry.name() + "' cannot be unpacked: " + e, e);
            }
        }
        finishDirectories();
    }

    private void apply(TarEntry entry, InputStream data) throws IOException {
        List<String> parts = components(entry, entry.name(), false);
        if (parts.isEmpty()) {
            if (entry.type() != TarEntry.Type.DIRECTORY) {
                throw refuse(entry, "stands for the layer's root but is not a directory");
            }
            rootMetadata = new DirectoryMetadata(entry.mode(), Optional.of(entry.mtime()));
            return;
        }
        Path parent = parentDirectory(entry, parts, true);
        String base = parts.get(parts.size() - 1);
        if (base.startsWith(".wh.")) {
            whiteout(entry, parent, base);
            return;
        }
        Path target = parent.resolve(base);
        switch (entry.type()) {
            case DIRECTORY -> {
                if (!removeExisting(target, true)) {
                    Files.createDirectory(target);
                }
                directories.put(target, new DirectoryMetadata(entry.mode(), Optional.of(entry.mtime())));
            }
            case REGULAR -> {
                removeExisting(target, false);
                try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW,
                        StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                    data.transferTo(out);
                }
                LayerFiles.setMtime(target, FileTime.from(entry.mtime()));
                LayerFiles.chmod(target, permissions(entry.mode()));
            }
            case SYMLINK -> {
                if (entry.linkName().isEmpty()) {
                    throw refuse(entry, "is a symlink with an empty target");
                }
                removeExisting(target, false);
                LayerNative.symlink(entry.linkName(), target);
            }
            case HARD_LINK -> {
                Path existing = hardLinkTarget(entry);
                if (existing.equals(target)) {
                    throw refuse(entry, "is a hard link to itself");
                }
                removeExisting(target, false);
                Files.createLink(target, existing);
            }
            case CHAR_DEVICE -> {
                if (entry.devMajor() == 0 && entry.devMinor() == 0) {
                    removeExisting(target, false);
                    OverlayEntries.createWhiteout(target);
                }
            }
            case BLOCK_DEVICE -> {
                // never create device nodes from an image
            }
            case FIFO -> {
                removeExisting(target, false);
                LayerNative.mknod(target, LayerNative.S_IFIFO | permissions(entry.mode()), 0L);
            }
        }
    }

    private void whiteout(TarEntry entry, Path parent, String base) throws IOException {
        if (base.equals(".wh..wh..opq")) {
            OverlayEntries.markOpaque(parent, false);
            return;
        }
        if (base.startsWith(".wh..wh.")) {
            return;
        }
        String hidden = base.substring(".wh.".length());
        if (hidden.isEmpty() || hidden.equals(".") || hidden.equals("..")) {
            throw refuse(entry, "is a whiteout without a valid name");
        }
        Path target = parent.resolve(hidden);
        removeExisting(target, false);
        OverlayEntries.createWhiteout(target);
    }

    /**
     * The name's components: leading "./" stripped, empty and "." components dropped; absolute or ".." refused.
     * {@code linkTarget} says whether the name is the entry's own or the target of its hard link (for messages).
     */
    private List<String> components(TarEntry entry, String name, boolean linkTarget) throws IOException {
        String stripped = name;
        while (stripped.startsWith("./")) {
            stripped = stripped.substring(2);
        }
        String subject = linkTarget ? "is a hard link to '" + name + "', which " : "";
        if (stripped.startsWith("/")) {
            throw refuse(entry, subject + "is an absolute path outside the layer");
        }
        List<String> parts = new ArrayList<>();
        for (String part : stripped.split("/", -1)) {
            if (part.equals("..")) {
                throw refuse(entry, subject + "climbs out of the layer");
            }
            if (!part.isEmpty() && !part.equals(".")) {
                parts.add(part);
            }
        }
        return parts;
    }

    /** The directory holding the last component, walked without following symlinks (creating missing ones). */
    private Path parentDirectory(TarEntry entry, List<String> parts, boolean create) throws IOException {
        Path directory = root;
        StringBuilder walked = new StringBuilder();
        for (int i = 0; i < parts.size() - 1; i++) {
            walked.append(i == 0 ? "" : "/").append(parts.get(i));
            Path next = directory.resolve(parts.get(i));
            int type = typeOrMissing(next);
            if (type == -1 && create) {
                Files.createDirectory(next);
                directories.put(next, new DirectoryMetadata(0755, Optional.empty()));
            } else if (type == -1) {
                throw refuse(entry, "is a hard link to '" + entry.linkName() + "', which is not (yet) in the layer");
            } else if (type == LayerNative.S_IFLNK) {
                throw refuse(entry, create ? "would be written through the symlink '" + walked + "'"
                        : "is a hard link to '" + entry.linkName() + "' through the symlink '" + walked + "'");
            } else if (type != LayerNative.S_IFDIR) {
                throw refuse(entry, (create ? "would be written below '" : "is a hard link below '") + walked
                        + "', which is not a directory");
            }
            directory = next;
        }
        return directory;
    }

    private Path hardLinkTarget(TarEntry entry) throws IOException {
        List<String> parts = components(entry, entry.linkName(), true);
        if (parts.isEmpty()) {
            throw refuse(entry, "is a hard link to the layer's root");
        }
        Path existing = parentDirectory(entry, parts, false).resolve(parts.get(parts.size() - 1));
        int type = typeOrMissing(existing);
        if (type == -1) {
            throw refuse(entry, "is a hard link to '" + entry.linkName() + "', which is not (yet) in the layer");
        }
        if (type == LayerNative.S_IFDIR) {
            throw refuse(entry, "is a hard link to the directory '" + entry.linkName() + "'");
        }
        return existing;
    }

    /**
     * Clears the way for a new member at {@code target}: deletes what is there, unless it is a directory and
     * {@code keepDirectory}; returns whether a directory was kept.
     */
    private boolean removeExisting(Path target, boolean keepDirectory) throws IOException {
        int type = typeOrMissing(target);
        if (type == -1) {
            return false;
        }
        if (type == LayerNative.S_IFDIR) {
            if (keepDirectory) {
                return true;
            }
            directories.keySet().removeIf(path -> path.startsWith(target));
            FileTrees.deleteRecursively(target);
            return false;
        }
        Files.delete(target);
        return false;
    }

    private void finishDirectories() throws IOException {
        List<Map.Entry<Path, DirectoryMetadata>> deepestFirst = new ArrayList<>(directories.entrySet());
        deepestFirst.sort(Comparator.comparingInt((Map.Entry<Path, DirectoryMetadata> e) -> e.getKey().getNameCount())
                .reversed());
        for (Map.Entry<Path, DirectoryMetadata> directory : deepestFirst) {
            apply(directory.getKey(), directory.getValue(), 0);
        }
        apply(root, rootMetadata, 0700);
    }

    private void apply(Path directory, DirectoryMetadata metadata, int extraBits) throws IOException {
        if (typeOrMissing(directory) != LayerNative.S_IFDIR) {
            return;
        }
        if (metadata.mtime().isPresent()) {
            LayerFiles.setMtime(directory, FileTime.from(metadata.mtime().get()));
        }
        LayerFiles.chmod(directory, permissions(metadata.mode()) | extraBits);
    }

    /** The permission bits kept: rwx for all and sticky; setuid and setgid are stripped. */
    private static int permissions(int mode) {
        return mode & 01777;
    }

    /** The S_IFMT bits of {@code path} itself, or -1 when nothing is there. */
    private static int typeOrMissing(Path path) throws IOException {
        try {
            return LayerFiles.mode(path) & LayerNative.S_IFMT;
        } catch (NoSuchFileException e) {
            return -1;
        }
    }

    private IOException refuse(TarEntry entry, String reason) {
        return new IOException(layer + ": entry '" + entry.name() + "' " + reason);
    }
}
