package dev.isolation.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What a sandbox changed in its copy-on-write root: the overlay's upper directory compared with the read-only
 * lowers beneath it, as paths inside the sandbox.
 *
 * <ul>
 *   <li>{@link Change.Kind#ADDED}: every path of the merged root that no lower has; a new directory and
 *       everything in it each count.
 *   <li>{@link Change.Kind#DELETED}: every path the lowers have that the merged root does not, each one below a
 *       deleted directory included: whiteouts, opaque directories and directories replaced by files hide them.
 *   <li>{@link Change.Kind#MODIFIED}: a path the lowers have that the upper directory replaces with its own
 *       non-directory (written, copied up, or of another type), or with a directory where the lowers have
 *       something else. A directory in both is modified only when its mode or owner differs: overlayfs copies a
 *       directory up whenever something below it changes, and those changes are reported on their own.
 * </ul>
 *
 * Lowers are merged as overlayfs does (see {@link OverlayEntries}); nothing is followed through a symbolic link.
 *
 * <p>An upper directory is opaque by the marker of the mount's kind only: an overlay mounted with
 * {@code CAP_SYS_ADMIN} copies a lower directory's {@code user.overlay.opaque} up with it, where it means nothing.
 * The kind is read from the attributes overlayfs keeps on the upper root ({@code trusted.overlay.*} or
 * {@code user.overlay.*}, e.g. {@code overlay.uuid}); without any (older kernels, hand-built uppers) either marker
 * counts, except a {@code user.overlay.opaque} that the lowers' directory at the same path carries too.
 */
public final class ChangeSet {
    /** No change at all: what an empty upper directory holds. */
    static final ChangeSet NONE = new ChangeSet(List.of());

    private final List<Change> changes;

    private ChangeSet(List<Change> changes) {
        List<Change> sorted = new ArrayList<>(changes);
        sorted.sort(Comparator.comparing(Change::path));
        this.changes = List.copyOf(sorted);
    }

    /**
     * Compares {@code upper} with the merged {@code lowersTopFirst} (overlayfs order: the first hides the others).
     *
     * @throws NoSuchFileException if {@code upper} or a lower is not a directory
     * @throws IOException         naming the path, if one cannot be read
     */
    public static ChangeSet of(Path upper, List<Path> lowersTopFirst) throws IOException {
        Objects.requireNonNull(upper, "upper");
        if (!Files.isDirectory(upper)) {
            throw new NoSuchFileException(upper.toString(), null, "overlay upper is not a directory");
        }
        OverlayLowers.Node lowerRoot = OverlayLowers.root(lowersTopFirst);
        List<Change> changes = new ArrayList<>();
        new Walk(changes, Markers.of(upper)).directory("", upper, Optional.of(lowerRoot), false);
        return new ChangeSet(changes);
    }

    /** Every change, sorted by path. */
    public List<Change> changes() {
        return changes;
    }

    /** The added paths, sorted. */
    public List<String> added() {
        return paths(Change.Kind.ADDED);
    }

    /** The modified paths, sorted. */
    public List<String> modified() {
        return paths(Change.Kind.MODIFIED);
    }

    /** The deleted paths, sorted. */
    public List<String> deleted() {
        return paths(Change.Kind.DELETED);
    }

    public boolean isEmpty() {
        return changes.isEmpty();
    }

    private List<String> paths(Change.Kind kind) {
        return changes.stream().filter(change -> change.kind() == kind).map(Change::path).toList();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ChangeSet that && changes.equals(that.changes);
    }

    @Override
    public int hashCode() {
        return changes.hashCode();
    }

    @Override
    public String toString() {
        return "ChangeSet" + changes;
    }

    /** Which opaque marker overlayfs writes in an upper directory: that of the mount's kind, when it is known. */
    private enum Markers {
        TRUSTED, USER, UNKNOWN;

        /** Judged from the attributes overlayfs keeps on the upper root, which is never copied up. */
        static Markers of(Path upper) throws IOException {
            List<String> names = LayerNative.llistxattr(upper);
            if (names.stream().anyMatch(name -> name.startsWith("trusted.overlay."))) {
                return TRUSTED;
            }
            return names.stream().anyMatch(name -> name.startsWith("user.overlay.")) ? USER : UNKNOWN;
        }

        /** Whether the upper directory {@code dir}, over the lowers' directory {@code below}, is opaque. */
        boolean opaque(Path dir, OverlayLowers.Node below) throws IOException {
            return switch (this) {
                case TRUSTED -> OverlayEntries.hasOpaqueValue(dir, OverlayEntries.TRUSTED_OPAQUE);
                case USER -> OverlayEntries.hasOpaqueValue(dir, OverlayEntries.USER_OPAQUE);
                case UNKNOWN -> OverlayEntries.hasOpaqueValue(dir, OverlayEntries.TRUSTED_OPAQUE)
                        || (OverlayEntries.hasOpaqueValue(dir, OverlayEntries.USER_OPAQUE)
                            && !OverlayEntries.hasOpaqueValue(below.top(), OverlayEntries.USER_OPAQUE));
            };
        }
    }

    /** One comparison of an upper tree with the lowers, collecting into {@code changes}. */
    private record Walk(List<Change> changes, Markers markers) {
        /**
         * Compares the upper directory {@code upperDir}, at {@code path} in the sandbox, with the lowers' directory
         * there ({@code lower}, if the lowers have a directory there). {@code hiding}: the upper directory or one
         * above it is opaque, so that nothing of the lowers shows through here.
         */
        void directory(String path, Path upperDir, Optional<OverlayLowers.Node> lower, boolean hiding)
                throws IOException {
            Set<String> names = OverlayLowers.names(upperDir);
            for (String name : names) {
                Path entry = upperDir.resolve(name);
                OverlayLowers.Stat stat = OverlayLowers.Stat.of(entry).orElseThrow(
                        () -> new NoSuchFileException(entry.toString(), null, "vanished while listing changes"));
                Optional<OverlayLowers.Node> below = lower.isPresent()
                        ? OverlayLowers.child(lower.get(), name) : Optional.empty();
                entry(path + "/" + name, entry, stat, below, hiding);
            }
            if (hiding && lower.isPresent()) {
                for (Map.Entry<String, OverlayLowers.Node> hidden : OverlayLowers.children(lower.get()).entrySet()) {
                    if (!names.contains(hidden.getKey())) {
                        deleted(path + "/" + hidden.getKey(), hidden.getValue());
                    }
                }
            }
        }

        private void entry(String path, Path entry, OverlayLowers.Stat stat, Optional<OverlayLowers.Node> below,
                boolean hiding) throws IOException {
            if (stat.isWhiteout()) {
                if (below.isPresent()) {
                    deleted(path, below.get());
                }
                return;
            }
            if (!stat.isDirectory()) {
                if (below.isEmpty()) {
                    add(path, Change.Kind.ADDED);
                } else {
                    add(path, Change.Kind.MODIFIED);
                    deletedBelow(path, below.get());       // a file replacing a directory hides its content
                }
                return;
            }
            if (below.isEmpty()) {
                add(path, Change.Kind.ADDED);
                directory(path, entry, Optional.empty(), hiding);
            } else if (!below.get().isDirectory()) {
                add(path, Change.Kind.MODIFIED);
                directory(path, entry, Optional.empty(), hiding);
            } else {
                OverlayLowers.Stat old = below.get().stat();
                if (old.permissions() != stat.permissions() || old.uid() != stat.uid() || old.gid() != stat.gid()) {
                    add(path, Change.Kind.MODIFIED);
                }
                directory(path, entry, below, hiding || markers.opaque(entry, below.get()));
            }
        }

        /** {@code path} of the lowers and, for a directory, everything under it. */
        private void deleted(String path, OverlayLowers.Node node) throws IOException {
            add(path, Change.Kind.DELETED);
            deletedBelow(path, node);
        }

        private void deletedBelow(String path, OverlayLowers.Node node) throws IOException {
            if (node.isDirectory()) {
                for (Map.Entry<String, OverlayLowers.Node> child : OverlayLowers.children(node).entrySet()) {
                    deleted(path + "/" + child.getKey(), child.getValue());
                }
            }
        }

        private void add(String path, Change.Kind kind) {
            changes.add(new Change(path, kind));
        }
    }
}
