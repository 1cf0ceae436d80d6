package dev.isolation.fs;

import java.util.Objects;

/**
 * One step of building a sandbox's filesystem, in the order they run, inside the sandbox's mount namespace.
 * Paths named "inside" are resolved within the new root (its symlinks cannot lead out of it); sources are host
 * paths. An executor (isolation-core's helper) runs them; {@link MountCompiler} produces them.
 */
public sealed interface FsStep {

    /** What a mount creates when its target is missing. */
    enum Create { NOTHING, DIRECTORY, FILE, SKIP_IF_MISSING }

    /**
     * Mounts the new root at a host staging directory, which the later steps work inside. {@code madeByHelper}: the
     * helper makes the filesystem before the sandbox's namespaces exist, with its host privileges, and the sandbox
     * attaches it (an overlay over the host root, which the kernel refuses to make inside a user namespace).
     */
    record MountRoot(String source, String stagingDirectory, String fsType, long flags, String data,
            boolean madeByHelper) implements FsStep {
        public MountRoot {
            Objects.requireNonNull(stagingDirectory, "stagingDirectory");
        }

        public MountRoot(String source, String stagingDirectory, String fsType, long flags, String data) {
            this(source, stagingDirectory, fsType, flags, data, false);
        }
    }

    record MountInside(String source, String target, String fsType, long flags, String data, Create create)
            implements FsStep {
        public MountInside {
            Objects.requireNonNull(target, "target");
            Objects.requireNonNull(create, "create");
        }
    }

    record MakeDirectory(String path, int mode) implements FsStep {
    }

    record MakeSymlink(String linkTarget, String path) implements FsStep {
    }

    /** Makes the mount at {@code path} read-only (and every mount below it when recursive). */
    record SetReadOnly(String path, boolean recursive, boolean skipIfMissing) implements FsStep {
        public SetReadOnly(String path, boolean recursive) {
            this(path, recursive, false);
        }
    }

    /** Binds {@code path} (inside the root) onto itself, so that it can be made read-only on its own; absent: nothing. */
    record RebindInside(String path) implements FsStep {
    }

    /** The root becomes "/", the old root is detached. Always the last step. */
    record PivotRoot() implements FsStep {
    }
}
