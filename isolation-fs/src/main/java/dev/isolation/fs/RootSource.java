package dev.isolation.fs;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/** Where a sandbox's root filesystem comes from. */
public sealed interface RootSource permits RootSource.HostRoot, RootSource.Directory, RootSource.Layers {

    /** The host's own root, seen read-only (all of its mounts, recursively). The default. */
    static RootSource host() {
        return HostRoot.INSTANCE;
    }

    /** A directory of the host. With copy-on-write (the default) it is the overlay's only lower and never changes. */
    static RootSource directory(Path directory) {
        return new Directory(directory);
    }

    /** Layers stacked as overlay lowers, the first one lowest (as an image lists them). */
    static RootSource layers(List<Layer> lowestFirst) {
        return new Layers(lowestFirst);
    }

    /** The read-only lower directories of this root, the topmost first (overlayfs order). */
    List<Path> lowersTopFirst();

    /** The host's root, read-only. */
    final class HostRoot implements RootSource {
        static final HostRoot INSTANCE = new HostRoot();

        private HostRoot() {
        }

        @Override
        public List<Path> lowersTopFirst() {
            return List.of(Path.of("/"));
        }

        @Override
        public String toString() {
            return "host root";
        }
    }

    /** A host directory as the root. */
    record Directory(Path directory) implements RootSource {
        public Directory {
            Objects.requireNonNull(directory, "directory");
            if (!directory.isAbsolute()) {
                throw new IllegalArgumentException("root directory \"" + directory + "\" is not an absolute path");
            }
            if (!Files.isDirectory(directory)) {
                throw new IllegalArgumentException("root directory \"" + directory + "\" is not a directory");
            }
        }

        @Override
        public List<Path> lowersTopFirst() {
            return List.of(directory);
        }
    }

    /** Image layers as the root. */
    record Layers(List<Layer> lowestFirst) implements RootSource {
        public Layers {
            lowestFirst = List.copyOf(lowestFirst);
            if (lowestFirst.isEmpty()) {
                throw new IllegalArgumentException("a layered root needs at least one layer");
            }
        }

        @Override
        public List<Path> lowersTopFirst() {
            List<Path> topFirst = new java.util.ArrayList<>(lowestFirst.stream().map(Layer::directory).toList());
            java.util.Collections.reverse(topFirst);
            return List.copyOf(topFirst);
        }
    }
}
