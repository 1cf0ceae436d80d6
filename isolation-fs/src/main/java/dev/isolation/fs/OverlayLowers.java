package dev.isolation.fs;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The merged view of overlay lower directories, topmost first, as overlayfs presents them: a whiteout hides its
 * path in the layers below it, an opaque directory hides what the layers below hold under its path, and a
 * non-directory hides the layers below it. The layers' own roots are merged whatever their markers (as overlayfs
 * does). Symbolic links are never followed inside the layers.
 */
final class OverlayLowers {
    private OverlayLowers() {
    }

    /** What {@code lstat} says about one entry: type and permission bits, device number, owner. */
    record Stat(int mode, long rdev, int uid, int gid) {
        /** The entry's attributes, not following a symbolic link; empty when nothing is there. */
        static Optional<Stat> of(Path path) throws IOException {
            Map<String, Object> attributes;
            try {
                attributes = Files.readAttributes(path, "unix:mode,rdev,uid,gid", LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                return Optional.empty();
            }
            return Optional.of(new Stat((Integer) attributes.get("mode"), (Long) attributes.get("rdev"),
                    (Integer) attributes.get("uid"), (Integer) attributes.get("gid")));
        }

        boolean isDirectory() {
            return OverlayEntries.isDirectory(mode);
        }

        boolean isWhiteout() {
            return OverlayEntries.isWhiteout(mode, rdev);
        }

        /** Permission bits, set-id and sticky bits included. */
        int permissions() {
            return mode & 07777;
        }
    }

    /**
     * One visible path of the merged view.
     *
     * @param top    the entry in the topmost layer that holds the path: what the merged view shows
     * @param stat   its attributes
     * @param layers for a directory, the layer directories whose entries it lists, top first, ending with the
     *               first opaque one; for anything else just {@code top}
     */
    record Node(Path top, Stat stat, List<Path> layers) {
        Node {
            Objects.requireNonNull(top, "top");
            Objects.requireNonNull(stat, "stat");
            layers = List.copyOf(layers);
        }

        boolean isDirectory() {
            return stat.isDirectory();
        }
    }

    /** The merged root of {@code lowersTopFirst}, each of which must be a directory. */
    static Node root(List<Path> lowersTopFirst) throws IOException {
        Objects.requireNonNull(lowersTopFirst, "lowersTopFirst");
        if (lowersTopFirst.isEmpty()) {
            throw new IllegalArgumentException("no lower directories: an overlay needs at least one");
        }
        for (Path lower : lowersTopFirst) {
            Objects.requireNonNull(lower, "lower directory");
            if (!Files.isDirectory(lower)) {
                throw new NoSuchFileException(lower.toString(), null, "lower is not a directory");
            }
        }
        Path top = lowersTopFirst.get(0);
        Stat stat = Stat.of(top.toRealPath()).orElseThrow(() -> new NoSuchFileException(top.toString()));
        return new Node(top, stat, lowersTopFirst);
    }

    /** The entry {@code name} of the merged directory {@code dir}, if one is visible. */
    static Optional<Node> child(Node dir, String name) throws IOException {
        if (!dir.isDirectory()) {
            throw new IllegalArgumentException(dir.top() + " is not a directory of the merged lowers");
        }
        List<Path> directories = new ArrayList<>();
        Stat topStat = null;
        for (Path layer : dir.layers()) {
            Path entry = layer.resolve(name);
            Optional<Stat> found = Stat.of(entry);
            if (found.isEmpty()) {
                continue;
            }
            Stat stat = found.get();
            if (stat.isWhiteout()) {
                break;                                  // deleted here: hidden in every layer below
            }
            if (!stat.isDirectory()) {
                if (directories.isEmpty()) {
                    return Optional.of(new Node(entry, stat, List.of(entry)));
                }
                break;                                  // a directory above hides it and everything below
            }
            if (directories.isEmpty()) {
                topStat = stat;
            }
            directories.add(entry);
            if (OverlayEntries.isOpaque(entry)) {
                break;                                  // hides this path of every layer below
            }
        }
        if (directories.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new Node(directories.get(0), topStat, directories));
    }

    /** The visible entries of the merged directory {@code dir}, by name. */
    static SortedMap<String, Node> children(Node dir) throws IOException {
        if (!dir.isDirectory()) {
            throw new IllegalArgumentException(dir.top() + " is not a directory of the merged lowers");
        }
        TreeSet<String> names = new TreeSet<>();
        for (Path layer : dir.layers()) {
            names.addAll(names(layer));
        }
        SortedMap<String, Node> children = new TreeMap<>();
        for (String name : names) {
            child(dir, name).ifPresent(node -> children.put(name, node));
        }
        return children;
    }

    /** The names in {@code directory}, sorted. */
    static TreeSet<String> names(Path directory) throws IOException {
        TreeSet<String> names = new TreeSet<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
            for (Path entry : entries) {
                names.add(entry.getFileName().toString());
            }
        } catch (IOException e) {
            throw new IOException("cannot list " + directory + ": " + e, e);
        }
        return names;
    }
}
