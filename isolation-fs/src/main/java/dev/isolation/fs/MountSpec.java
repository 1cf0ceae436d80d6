package dev.isolation.fs;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * One mount of a sandbox's filesystem, at a target path inside the sandbox. Mounts are applied in the order given;
 * targets are resolved inside the new root, so the root's own symlinks cannot redirect them onto the host.
 */
public sealed interface MountSpec permits MountSpec.Bind, MountSpec.Tmpfs, MountSpec.Proc, MountSpec.Devices,
        MountSpec.Sysfs, MountSpec.VolumeMount {

    /** The path inside the sandbox, normalized. */
    String target();

    /**
     * A host file or directory, seen at {@code target}. A read-only bind stays read-only: the sandbox cannot
     * remount it writable. {@code recursive} includes the mounts below the source.
     */
    record Bind(Path source, String target, boolean readOnly, boolean recursive) implements MountSpec {
        public Bind {
            Objects.requireNonNull(source, "source");
            if (!source.isAbsolute()) {
                throw new IllegalArgumentException("bind source \"" + source + "\" is not an absolute path");
            }
            if (!Files.exists(source, LinkOption.NOFOLLOW_LINKS)) {
                throw new IllegalArgumentException("bind source \"" + source + "\" does not exist");
            }
            target = checkedTarget("bind target", target);
        }
    }

    /** A tmpfs of at most {@code size} bytes (empty: the kernel's default, half of RAM), with permissions {@code mode}. */
    record Tmpfs(String target, OptionalLong size, int mode) implements MountSpec {
        public Tmpfs {
            target = checkedTarget("tmpfs target", target);
            Objects.requireNonNull(size, "size");
            if (size.isPresent() && size.getAsLong() < 4096) {
                throw new IllegalArgumentException("tmpfs size " + size.getAsLong() + " at \"" + target
                        + "\" is below one page (4096 bytes)");
            }
            if (mode < 0 || mode > 07777) {
                throw new IllegalArgumentException("tmpfs mode " + Integer.toOctalString(mode) + " at \"" + target
                        + "\" is not a permission mode (0 to 07777)");
            }
        }
    }

    /** A fresh proc filesystem for the sandbox's pid namespace (without one: the host's /proc, bound). */
    record Proc(String target) implements MountSpec {
        public Proc {
            target = checkedTarget("proc target", target);
        }
    }

    /**
     * A minimal /dev: null, zero, full, random, urandom, tty, a private devpts with ptmx, shm, and the fd,
     * stdin, stdout, stderr links. Never the host's other devices.
     */
    record Devices(String target) implements MountSpec {
        public Devices {
            target = checkedTarget("dev target", target);
        }
    }

    /** sysfs, read-only (with a network namespace a fresh one, else the host's, bound read-only). */
    record Sysfs(String target) implements MountSpec {
        public Sysfs {
            target = checkedTarget("sys target", target);
        }
    }

    /**
     * A named volume's directory at {@code target}. With its {@code store} (may be null), the sandbox holds a lease
     * on the volume while it runs, so that the store refuses to remove it meanwhile.
     */
    record VolumeMount(Volume volume, String target, boolean readOnly, VolumeStore store) implements MountSpec {
        public VolumeMount {
            Objects.requireNonNull(volume, "volume");
            target = checkedTarget("volume target", target);
        }

        public VolumeMount(Volume volume, String target, boolean readOnly) {
            this(volume, target, readOnly, null);
        }
    }

    private static String checkedTarget(String field, String target) {
        Objects.requireNonNull(target, field);
        try {
            return SandboxPaths.normalizeAbsolute(target);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(field + ": " + e.getMessage(), e);
        }
    }
}
