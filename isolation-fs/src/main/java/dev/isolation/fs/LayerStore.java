package dev.isolation.fs;

import dev.isolation.fs.image.tar.TarReader;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A content-addressed store of unpacked layers, shared by all sandboxes, in a directory the caller chooses.
 *
 * <pre>
 * root/            0700
 *   sha256/&lt;hex&gt;/  one layer: the directory that becomes an overlay lower
 *   tmp/           work in progress: unpacks, commits and removals, each beside a lock file
 * </pre>
 *
 * <p>A layer only ever appears complete: it is unpacked (or committed) into {@code tmp/}, verified, and renamed
 * into {@code sha256/} with {@code renameat2(RENAME_NOREPLACE)}. When two threads or two JVMs produce the same
 * layer at once, one rename wins and the other deletes its own copy and returns the winner's. Work that a crashed
 * JVM left in {@code tmp/} is never used; opening a store deletes such leftovers once they are older than
 * 10 minutes and their lock is not held. Removing a layer renames it into {@code tmp/} before
 * deleting it, so a half-deleted layer is never visible either.
 *
 * <p>Layer tars are treated as hostile; see {@link #unpack} for what is refused and how entries are written.
 * Ownership is never changed: everything in the store belongs to the store's owner.
 *
 * <p>Digests are {@code sha256:} followed by 64 lowercase hex digits; anything else is refused with an
 * {@link IllegalArgumentException} naming it.
 *
 * <p>Instances hold no state besides their paths: any number of threads, instances and JVMs may use one store
 * at once. Layers are not fsync'ed: after a power loss a layer may need to be removed and unpacked again.
 */
public final class LayerStore {
    /** How a layer blob given to {@link #unpack} is compressed. */
    public enum Compression {
        /** An uncompressed tar (a gzip blob is refused). */
        NONE,
        /** A gzip-compressed tar (anything else is refused). */
        GZIP,
        /** Whatever the magic bytes say: gzip or an uncompressed tar; zstd, xz, bzip2 and unknown data are refused. */
        DETECT
    }

    static final int STALE_MINUTES = 10;
    private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");
    private static final String ALGORITHM = "sha256";

    private final Path root;
    private final Path layers;
    private final Path tmp;

    /**
     * Opens (creating them 0700 when missing) the store at {@code root} and deletes stale leftovers of crashed JVMs.
     *
     * @throws IOException when the directories cannot be created
     */
    public LayerStore(Path root) throws IOException {
        this.root = Objects.requireNonNull(root, "root").toAbsolutePath().normalize();
        this.layers = this.root.resolve(ALGORITHM);
        this.tmp = this.root.resolve("tmp");
        try {
            LayerFiles.createPrivateDirectory(this.root);
            LayerFiles.createPrivateDirectory(layers);
            LayerFiles.createPrivateDirectory(tmp);
        } catch (IOException e) {
            throw new IOException("cannot open the layer store " + this.root + ": " + e, e);
        }
        LayerWorkDir.removeStale(tmp, Duration.ofMinutes(STALE_MINUTES));
    }

    /** The store's directory. */
    public Path root() {
        return root;
    }

    /** The layer with this digest, when the store holds it. */
    public Optional<Layer> find(String digest) {
        Path directory = layers.resolve(hex(digest));
        return Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS)
                ? Optional.of(new Layer(digest, directory))
                : Optional.empty();
    }

    /**
     * Unpacks a layer blob once: when the store already holds {@code digest} it is returned without reading the
     * stream. Otherwise the stream is read to its end (it is not closed), its SHA-256 (of the bytes as read, i.e.
     * of the compressed blob) must equal {@code digest}, and the tar inside is unpacked treating it as hostile:
     *
     * <ul>
     *   <li>refused: absolute names (after stripping a leading {@code ./}), any {@code ..} component, hard links
     *       to anything outside the layer or not unpacked yet, writing through a symlink (parents are walked
     *       without following symlinks, files created with {@code O_EXCL}), bad header checksums, and any
     *       truncation; symlinks themselves may point anywhere, they are only resolved inside a sandbox;</li>
     *   <li>whiteouts {@code .wh.NAME} become character devices 0/0, {@code .wh..wh..opq} sets
     *       {@code trusted.overlay.opaque} (when privileged) and {@code user.overlay.opaque} (where supported);</li>
     *   <li>other device nodes are skipped, fifos are created;</li>
     *   <li>permission and sticky bits are kept, setuid and setgid bits are stripped; files belong to the
     *       store's owner; extended attributes in the tar are ignored.</li>
     * </ul>
     *
     * A refused or mismatching blob leaves nothing in the store.
     *
     * @param digest      the blob's digest, {@code sha256:<hex>}
     * @param layerTar    the blob
     * @param compression how the blob is compressed
     * @throws IOException naming the layer and the entry or the actual digest when the blob is refused
     */
    public Layer unpack(String digest, InputStream layerTar, Compression compression) throws IOException {
        String hex = hex(digest);
        Objects.requireNonNull(layerTar, "layerTar");
        Objects.requireNonNull(compression, "compression");
        Optional<Layer> existing = find(digest);
        if (existing.isPresent()) {
            return existing.get();
        }
        String name = "layer " + digest;
        try (LayerWorkDir work = LayerWorkDir.reserve(tmp, "unpack")) {
            Files.createDirectory(work.path());
            LayerFiles.chmod(work.path(), 0700);
            BlobStream blob = BlobStream.hashed(layerTar);
            BufferedInputStream buffered = new BufferedInputStream(blob, 65536);
            try (InputStream tar = LayerDecompression.open(buffered, compression, name)) {
                new LayerUnpacker(work.path(), name).unpack(new TarReader(tar, name));
                tar.transferTo(OutputStream.nullOutputStream());
                buffered.transferTo(OutputStream.nullOutputStream());
                blob.drain();
            } catch (IOException e) {
                throw named(name, e);
            }
            String actual = blob.digest();
            if (!actual.equals(digest)) {
                throw new IOException(name + ": the blob read has the digest " + actual + " (" + blob.count()
                        + " bytes): refusing it");
            }
            return install(work, hex, digest);
        }
    }

    /**
     * Moves a finished overlay upper directory (whiteouts as char devices 0/0, opaque xattrs) into the store as
     * a layer whose id is {@code sha256:} of a canonical listing of the tree (paths, types, modes, sizes, content
     * hashes, link targets, device numbers, opaque flags; not owners, times or the root's own mode), so equal
     * trees get equal ids. The directory is renamed when it is on the store's filesystem and copied otherwise;
     * either way it no longer exists afterwards (also when an equal layer was already stored). An upper that
     * depends on its lowers ({@code overlay.redirect} or {@code overlay.metacopy} xattrs) is refused and left
     * where it was.
     *
     * @throws IOException when the directory cannot be read, moved or copied
     */
    public Layer commit(Path upperDirectory) throws IOException {
        Path upper = Objects.requireNonNull(upperDirectory, "upperDirectory").toAbsolutePath().normalize();
        if (!Files.isDirectory(upper, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("cannot commit " + upper + " to the layer store " + root + ": not a directory");
        }
        try (LayerWorkDir work = LayerWorkDir.reserve(tmp, "commit")) {
            LayerFiles.makeOwnerAccessible(upper);
            boolean copied = switch (LayerNative.renameNoReplace(upper, work.path())) {
                case RENAMED -> false;
                case CROSS_DEVICE -> {
                    LayerCopier.copy(upper, work.path());
                    yield true;
                }
                case TARGET_EXISTS -> throw new IOException("cannot commit " + upper + ": the work directory "
                        + work.path() + " exists");
            };
            String id;
            try {
                id = LayerTreeHash.of(work.path());
            } catch (IOException | RuntimeException e) {
                if (!copied && LayerNative.renameNoReplace(work.path(), upper) != LayerNative.RenameResult.RENAMED) {
                    e.addSuppressed(new IOException("could not move " + work.path() + " back to " + upper));
                }
                throw e;
            }
            Layer layer = install(work, hex(id), id);
            if (copied) {
                FileTrees.deleteRecursively(upper);
            }
            return layer;
        }
    }

    /** The layers in the store, ordered by id. */
    public List<Layer> list() throws IOException {
        List<Layer> found = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(layers)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (HEX.matcher(name).matches() && Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
                    found.add(new Layer(ALGORITHM + ":" + name, entry));
                }
            }
        }
        found.sort(Comparator.comparing(Layer::id));
        return List.copyOf(found);
    }

    /**
     * Removes the layer with this digest, if the store holds it. Sandboxes still using it as an overlay lower keep
     * what they have mounted, but nothing new can find it.
     */
    public void remove(String digest) throws IOException {
        Path directory = layers.resolve(hex(digest));
        if (!Files.exists(directory, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (LayerWorkDir work = LayerWorkDir.reserve(tmp, "remove")) {
            try {
                LayerNative.renameNoReplace(directory, work.path());
            } catch (IOException e) {
                if (Files.exists(directory, LinkOption.NOFOLLOW_LINKS)) {
                    throw new IOException("cannot remove the layer " + digest + " from " + root + ": " + e.getMessage(),
                            e);
                }
            }
        }
    }

    @Override
    public String toString() {
        return "LayerStore[" + root + "]";
    }

    private Layer install(LayerWorkDir work, String hex, String id) throws IOException {
        Path target = layers.resolve(hex);
        LayerNative.RenameResult result = LayerNative.renameNoReplace(work.path(), target);
        if (result == LayerNative.RenameResult.CROSS_DEVICE) {
            throw new IOException("cannot move " + work.path() + " to " + target + ": not on the same filesystem");
        }
        if (result == LayerNative.RenameResult.TARGET_EXISTS
                && !Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("cannot store the layer " + id + ": " + target + " exists and is not a directory");
        }
        return new Layer(id, target);
    }

    private static IOException named(String name, IOException e) {
        String message = e.getMessage();
        if (message != null && message.startsWith(name + ":")) {
            return e;
        }
        return new IOException(name + ": cannot read the blob: " + e, e);
    }

    /** The hex part of a valid digest; anything else is an {@link IllegalArgumentException} naming it. */
    private static String hex(String digest) {
        Objects.requireNonNull(digest, "digest");
        int colon = digest.indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("layer digest '" + digest + "' is not of the form sha256:<64 hex digits>");
        }
        String algorithm = digest.substring(0, colon);
        if (!algorithm.equals(ALGORITHM)) {
            throw new IllegalArgumentException("layer digest '" + digest + "' uses the algorithm '" + algorithm
                    + "'; only sha256 is supported");
        }
        String hex = digest.substring(colon + 1);
        if (!HEX.matcher(hex).matches()) {
            throw new IllegalArgumentException("layer digest '" + digest + "' does not end in 64 lowercase hex digits");
        }
        return hex;
    }
}
