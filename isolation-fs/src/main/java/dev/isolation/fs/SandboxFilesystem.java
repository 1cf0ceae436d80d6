package dev.isolation.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The host side of one sandbox's filesystem: its private directory, the steps that build its root, and what
 * becomes of its changes when it ends ({@link #finish()}), or of everything if it never started ({@link #discard()}).
 */
public final class SandboxFilesystem {
    private final FilesystemSpec spec;
    private final SandboxDirectory directory;
    private final List<FsStep> steps;
    private final List<VolumeStore.Lease> leases;

    private SandboxFilesystem(FilesystemSpec spec, SandboxDirectory directory, List<FsStep> steps,
            List<VolumeStore.Lease> leases) {
        this.spec = spec;
        this.directory = directory;
        this.steps = steps;
        this.leases = leases;
    }

    /** Creates the sandbox's directory under {@code parent} (a copy of the root too, for a copied root). */
    public static SandboxFilesystem prepare(FilesystemSpec spec, Path parent, MountCompiler.Namespaces namespaces)
            throws IOException {
        SandboxDirectory directory = SandboxDirectory.create(parent, spec.mode());
        List<VolumeStore.Lease> leases = new ArrayList<>();
        try {
            for (MountSpec mount : spec.mounts()) {
                if (mount instanceof MountSpec.VolumeMount volume && volume.store() != null) {
                    leases.add(volume.store().acquire(volume.volume().name()));
                }
            }
            if (spec.mode() == RootMode.COPY) {
                Files.createDirectory(directory.copy());
                CopiedRoot.materialize(spec.root().lowersTopFirst(), directory.copy());
            }
            return new SandboxFilesystem(spec, directory, MountCompiler.compile(spec, directory, namespaces), leases);
        } catch (IOException | RuntimeException e) {
            release(leases);
            removeDirectory(directory, spec.mode());
            throw e;
        }
    }

    public FilesystemSpec spec() {
        return spec;
    }

    public List<FsStep> steps() {
        return steps;
    }

    public SandboxDirectory directory() {
        return directory;
    }

    /** What the sandbox changed so far, read from the overlay's upper directory; empty unless the root is an overlay. */
    public Optional<ChangeSet> changes() throws IOException {
        if (spec.mode() != RootMode.OVERLAY) {
            return Optional.empty();
        }
        return Optional.of(ChangeSet.of(directory.upper(), spec.root().lowersTopFirst()));
    }

    /**
     * After the sandbox ended: lists the changes, applies the {@link ChangesPolicy}, removes the private directory.
     * When the changes are discarded, an empty upper directory (the sandbox wrote nothing) is just removed: there is
     * nothing to list.
     */
    public Result finish() throws IOException {
        try {
            if (spec.mode() == RootMode.OVERLAY && spec.changes() instanceof ChangesPolicy.Discard
                    && removeUpperIfEmpty()) {
                return new Result(Optional.of(ChangeSet.NONE), Optional.empty(), Optional.empty());
            }
            Optional<ChangeSet> changes = changes();
            ChangesPolicy policy = spec.changes();
            Optional<Path> kept = Optional.empty();
            Optional<Layer> committed = Optional.empty();
            if (policy instanceof ChangesPolicy.KeepIn keep) {
                Files.createDirectories(keep.directory().getParent());
                Files.move(directory.upper(), keep.directory(), StandardCopyOption.ATOMIC_MOVE);
                kept = Optional.of(keep.directory());
            } else if (policy instanceof ChangesPolicy.Commit commit) {
                committed = Optional.of(commit.store().commit(directory.upper()));
            }
            return new Result(changes, kept, committed);
        } finally {
            discard();
        }
    }

    /** Releases the volumes' leases and removes the sandbox's private directory and everything in it. */
    public void discard() throws IOException {
        try {
            release(leases);
        } finally {
            removeDirectory(directory, spec.mode());
        }
    }

    /** Removes the directory, entry by entry when only its own empty ones are left (the usual case), else as a tree. */
    private static void removeDirectory(SandboxDirectory directory, RootMode mode) throws IOException {
        if (!directory.removeIfEmpty(mode)) {
            FileTrees.deleteRecursively(directory.path());
        }
    }

    /** Removes the upper directory if the sandbox left it empty: one rmdir(2), which refuses anything else. */
    private boolean removeUpperIfEmpty() {
        try {
            Files.delete(directory.upper());
            return true;
        } catch (IOException notEmptyOrNotRemovable) {
            return false;
        }
    }

    private static void release(List<VolumeStore.Lease> leases) throws IOException {
        IOException failure = null;
        for (VolumeStore.Lease lease : leases) {
            try {
                lease.close();
            } catch (IOException e) {
                failure = e;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** What {@link #finish()} did. */
    public record Result(Optional<ChangeSet> changes, Optional<Path> kept, Optional<Layer> committed) {
    }
}
