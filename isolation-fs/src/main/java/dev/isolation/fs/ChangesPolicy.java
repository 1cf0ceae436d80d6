package dev.isolation.fs;

import java.nio.file.Path;
import java.util.Objects;

/** What happens to what a sandbox wrote to its copy-on-write root when it ends. */
public sealed interface ChangesPolicy permits ChangesPolicy.Discard, ChangesPolicy.KeepIn, ChangesPolicy.Commit {

    static ChangesPolicy discard() {
        return Discard.INSTANCE;
    }

    /** Moves the upper directory (the changes, with whiteouts for deletions) to {@code directory}, which must not exist. */
    static ChangesPolicy keepIn(Path directory) {
        return new KeepIn(directory);
    }

    /** Commits the changes as a new layer of {@code store}, which later sandboxes can stack as a lower. */
    static ChangesPolicy commitTo(LayerStore store) {
        return new Commit(store);
    }

    /** The default: the changes are deleted. */
    final class Discard implements ChangesPolicy {
        static final Discard INSTANCE = new Discard();

        private Discard() {
        }

        @Override
        public String toString() {
            return "discard";
        }
    }

    record KeepIn(Path directory) implements ChangesPolicy {
        public KeepIn {
            Objects.requireNonNull(directory, "directory");
            if (!directory.isAbsolute()) {
                throw new IllegalArgumentException("keep directory \"" + directory + "\" is not an absolute path");
            }
        }
    }

    record Commit(LayerStore store) implements ChangesPolicy {
        public Commit {
            Objects.requireNonNull(store, "store");
        }
    }
}
