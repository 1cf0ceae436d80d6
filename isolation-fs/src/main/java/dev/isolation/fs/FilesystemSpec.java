package dev.isolation.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * What a sandboxed program sees as its files: a root (the host's, read-only, by default), how it is made
 * (overlay, bind or copy), whether it is read-only, the mounts on it in order, and what becomes of the changes.
 * Immutable; built by {@link #builder()}.
 */
public final class FilesystemSpec {
    /** Permissions of the standard /tmp. */
    public static final int TMP_MODE = 01777;

    private final RootSource root;
    private final RootMode mode;
    private final boolean readOnly;
    private final RootMode requestedMode;
    private final Boolean requestedReadOnly;
    private final List<MountSpec> mounts;
    private final boolean standardMounts;
    private final ChangesPolicy changes;
    private final boolean protectKernelFiles;
    private final List<MountSpec> effectiveMounts;

    private FilesystemSpec(Builder builder, RootMode mode, boolean readOnly) {
        this.root = builder.root;
        this.mode = mode;
        this.readOnly = readOnly;
        this.requestedMode = builder.mode;
        this.requestedReadOnly = builder.readOnly;
        this.mounts = List.copyOf(builder.mounts);
        this.standardMounts = builder.standardMounts;
        this.changes = builder.changes;
        this.protectKernelFiles = builder.protectKernelFiles;
        this.effectiveMounts = effectiveMounts(mounts, standardMounts);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The default: the host root read-only, with a fresh /proc, a minimal /dev and a private /tmp. */
    public static FilesystemSpec hostReadOnly() {
        return builder().build();
    }

    public RootSource root() {
        return root;
    }

    public RootMode mode() {
        return mode;
    }

    public boolean readOnly() {
        return readOnly;
    }

    /** The caller's mounts, in order. */
    public List<MountSpec> mounts() {
        return mounts;
    }

    /** Whether /proc, /dev and /tmp are mounted first (unless a mount of the caller's has the same target). */
    public boolean standardMounts() {
        return standardMounts;
    }

    /** All mounts in the order they are applied: the standard ones the caller did not replace, then the caller's. */
    public List<MountSpec> effectiveMounts() {
        return effectiveMounts;
    }

    private static List<MountSpec> effectiveMounts(List<MountSpec> mounts, boolean standardMounts) {
        List<MountSpec> all = new ArrayList<>();
        if (standardMounts) {
            for (MountSpec standard : List.of(new MountSpec.Proc("/proc"), new MountSpec.Devices("/dev"),
                    new MountSpec.Tmpfs("/tmp", OptionalLong.empty(), TMP_MODE))) {
                if (mounts.stream().noneMatch(m -> m.target().equals(standard.target()))) {
                    all.add(standard);
                }
            }
        }
        all.addAll(mounts);
        return List.copyOf(all);
    }

    public ChangesPolicy changes() {
        return changes;
    }

    /**
     * Whether the kernel's files in /proc and /sys that a sandbox has no business with are masked (an empty file
     * or directory in their place: {@link MountCompiler#MASKED_PATHS}) or read-only
     * ({@link MountCompiler#READ_ONLY_PATHS}), as container runtimes do. On by default.
     */
    public boolean protectKernelFiles() {
        return protectKernelFiles;
    }

    /** A builder with this spec's settings; values that were defaulted are defaulted again by its build(). */
    public Builder toBuilder() {
        Builder builder = new Builder();
        builder.root = root;
        builder.mode = requestedMode;
        builder.readOnly = requestedReadOnly;
        builder.mounts.addAll(mounts);
        builder.standardMounts = standardMounts;
        builder.changes = changes;
        builder.protectKernelFiles = protectKernelFiles;
        return builder;
    }

    @Override
    public String toString() {
        return "FilesystemSpec{root=" + root + ", mode=" + mode + (readOnly ? ", read-only" : "") + ", mounts="
                + effectiveMounts() + ", changes=" + changes + "}";
    }

    /** Builds a {@link FilesystemSpec}; rejections are {@link IllegalArgumentException}s naming the setting. */
    public static final class Builder {
        private RootSource root = RootSource.host();
        private RootMode mode;
        private Boolean readOnly;
        private final List<MountSpec> mounts = new ArrayList<>();
        private boolean standardMounts = true;
        private ChangesPolicy changes = ChangesPolicy.discard();
        private boolean protectKernelFiles = true;

        private Builder() {
        }

        /** Masks and makes read-only the kernel's sensitive files in /proc and /sys (default true). */
        public Builder protectKernelFiles(boolean protect) {
            this.protectKernelFiles = protect;
            return this;
        }

        public Builder root(RootSource root) {
            this.root = Objects.requireNonNull(root, "root");
            return this;
        }

        /** The root is a host directory (copy-on-write unless another mode is chosen). */
        public Builder rootDirectory(Path directory) {
            return root(RootSource.directory(directory));
        }

        public Builder mode(RootMode mode) {
            this.mode = Objects.requireNonNull(mode, "mode");
            return this;
        }

        /** Copy-on-write over the root's layers: writes land in a private upper directory. */
        public Builder overlay() {
            return mode(RootMode.OVERLAY);
        }

        /** A private copy of the root instead of an overlay, for hosts where overlayfs cannot be used. */
        public Builder copiedRoot() {
            return mode(RootMode.COPY);
        }

        /** Makes the root read-only once the mounts are in place (the mounts themselves keep their own mode). */
        public Builder readOnly(boolean readOnly) {
            this.readOnly = readOnly;
            return this;
        }

        public Builder mount(MountSpec mount) {
            mounts.add(Objects.requireNonNull(mount, "mount"));
            return this;
        }

        public Builder bind(Path source, String target) {
            return mount(new MountSpec.Bind(source, target, false, true));
        }

        public Builder bindReadOnly(Path source, String target) {
            return mount(new MountSpec.Bind(source, target, true, true));
        }

        public Builder tmpfs(String target, long sizeBytes, int mode) {
            return mount(new MountSpec.Tmpfs(target, OptionalLong.of(sizeBytes), mode));
        }

        public Builder volume(Volume volume, String target) {
            return mount(new MountSpec.VolumeMount(volume, target, false));
        }

        /** The volume {@code name} of {@code store} (created if missing), leased by the sandbox while it runs. */
        public Builder volume(VolumeStore store, String name, String target) throws IOException {
            return mount(new MountSpec.VolumeMount(store.getOrCreate(name), target, false, store));
        }

        /** Whether /proc, /dev and /tmp are mounted before the caller's mounts (default true). */
        public Builder standardMounts(boolean standardMounts) {
            this.standardMounts = standardMounts;
            return this;
        }

        public Builder onExit(ChangesPolicy changes) {
            this.changes = Objects.requireNonNull(changes, "changes");
            return this;
        }

        public FilesystemSpec build() {
            boolean host = root instanceof RootSource.HostRoot;
            RootMode effectiveMode = mode != null ? mode : host ? RootMode.BIND : RootMode.OVERLAY;
            boolean effectiveReadOnly = readOnly != null ? readOnly : host && effectiveMode == RootMode.BIND;
            if (host && effectiveMode == RootMode.BIND && !effectiveReadOnly) {
                throw new IllegalArgumentException("readOnly: the host root is only ever bound read-only;"
                        + " use overlay() for a writable copy-on-write view of it");
            }
            if (host && effectiveMode == RootMode.COPY) {
                throw new IllegalArgumentException("mode: copying the whole host root is not offered; use a directory");
            }
            if (!(changes instanceof ChangesPolicy.Discard) && effectiveMode != RootMode.OVERLAY) {
                throw new IllegalArgumentException("onExit: keeping or committing changes needs an overlay root, not "
                        + effectiveMode);
            }
            if (changes instanceof ChangesPolicy.KeepIn keep && Files.exists(keep.directory())) {
                throw new IllegalArgumentException("onExit: the keep directory \"" + keep.directory()
                        + "\" already exists");
            }
            return new FilesystemSpec(this, effectiveMode, effectiveReadOnly);
        }
    }
}
