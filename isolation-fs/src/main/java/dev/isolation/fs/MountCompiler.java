package dev.isolation.fs;

import dev.isolation.fs.FsStep.Create;
import dev.isolation.fs.FsStep.MakeSymlink;
import dev.isolation.fs.FsStep.MountInside;
import dev.isolation.fs.FsStep.SetReadOnly;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Turns a {@link FilesystemSpec} into the ordered steps that build it: the root at the staging directory, the
 * mounts in order, read-only where asked, then pivot_root.
 */
public final class MountCompiler {
    /** The device nodes of the minimal /dev, bound from the host one by one. */
    public static final List<String> DEVICES = List.of("null", "zero", "full", "random", "urandom", "tty");
    private static final List<String[]> DEV_LINKS = List.of(new String[] {"/proc/self/fd", "fd"},
            new String[] {"/proc/self/fd/0", "stdin"}, new String[] {"/proc/self/fd/1", "stdout"},
            new String[] {"/proc/self/fd/2", "stderr"}, new String[] {"pts/ptmx", "ptmx"});

    /** Kernel files hidden from a sandbox: an empty read-only directory, or /dev/null, in their place. */
    public static final List<String> MASKED_PATHS = List.of("/proc/acpi", "/proc/asound", "/proc/kcore",
            "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
            "/proc/scsi", "/proc/sysrq-trigger", "/proc/kallsyms", "/sys/firmware", "/sys/devices/virtual/powercap");
    /** Kernel files a sandbox may read but not write. */
    public static final List<String> READ_ONLY_PATHS = List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys");

    /** What the sandbox's namespaces allow the steps to do. */
    /**
     * The sandbox's namespaces, as far as mounts care. {@code privileged}: the caller holds CAP_SYS_ADMIN where it
     * runs, so the helper can make an overlay root before a user namespace exists (see {@link FsStep.MountRoot}).
     */
    public record Namespaces(boolean user, boolean pid, boolean network, boolean privileged) {
        public Namespaces(boolean user, boolean pid, boolean network) {
            this(user, pid, network, false);
        }

        /** An overlay over the host root in a user namespace is made by the privileged helper, outside it. */
        boolean helperMakesOverlayOf(RootSource root) {
            return user && privileged && root instanceof RootSource.HostRoot;
        }
    }

    private final FilesystemSpec spec;
    private final SandboxDirectory directory;
    private final Namespaces namespaces;
    private final List<FsStep> steps = new ArrayList<>();
    /** The root was made read-only, recursively, before any mount: the final read-only step would repeat it. */
    private boolean rootReadOnlyAlready;

    private MountCompiler(FilesystemSpec spec, SandboxDirectory directory, Namespaces namespaces) {
        this.spec = spec;
        this.directory = directory;
        this.namespaces = namespaces;
    }

    public static List<FsStep> compile(FilesystemSpec spec, SandboxDirectory directory, Namespaces namespaces) {
        MountCompiler compiler = new MountCompiler(spec, directory, namespaces);
        compiler.root();
        spec.effectiveMounts().forEach(compiler::mount);
        if (spec.protectKernelFiles()) {
            compiler.protectKernelFiles();
        }
        if (spec.readOnly() && !compiler.rootReadOnlyAlready) {
            compiler.steps.add(new SetReadOnly("/", false));
        }
        compiler.steps.add(new FsStep.PivotRoot());
        return List.copyOf(compiler.steps);
    }

    /**
     * The new root at the staging directory. An overlay whose changes are discarded is volatile: without it, the
     * kernel syncs the whole file system of the upper directory (the host's, with everything else dirty on it) when
     * the sandbox's mount namespace goes away, which took milliseconds of every sandbox's exit; changes that are
     * kept or committed keep that sync.
     */
    private void root() {
        String staging = directory.staging().toString();
        List<Path> lowers = spec.root().lowersTopFirst();
        switch (spec.mode()) {
            case OVERLAY -> {
                boolean byHelper = namespaces.helperMakesOverlayOf(spec.root());
                steps.add(new FsStep.MountRoot("overlay", staging, "overlay", 0,
                        "lowerdir=" + lowers.stream().map(MountCompiler::escape).collect(Collectors.joining(":"))
                                + ",upperdir=" + escape(directory.upper()) + ",workdir=" + escape(directory.work())
                                + (namespaces.user() && !byHelper ? ",userxattr" : "")
                                + (spec.changes() instanceof ChangesPolicy.Discard ? ",volatile" : ""), byHelper));
            }
            case COPY -> steps.add(new FsStep.MountRoot(directory.copy().toString(), staging, "",
                    MountFlags.BIND, ""));
            case BIND -> {
                if (spec.root() instanceof RootSource.HostRoot) {
                    hostRoot(staging);
                } else if (lowers.size() == 1) {
                    steps.add(new FsStep.MountRoot(lowers.get(0).toString(), staging, "",
                            MountFlags.BIND | MountFlags.REC, ""));
                    if (spec.root() instanceof RootSource.Layers) {
                        steps.add(new SetReadOnly("/", true));
                    }
                } else {
                    steps.add(new FsStep.MountRoot("overlay", staging, "overlay", MountFlags.RDONLY, "lowerdir="
                            + lowers.stream().map(MountCompiler::escape).collect(Collectors.joining(":"))
                            + (namespaces.user() ? ",userxattr" : "")));
                }
            }
        }
    }

    /**
     * The host root, read-only, without ever writing to it. When every mount target already exists on the host, the
     * host's "/" is bound once, with every mount below it, and made read-only recursively at once, before anything is
     * mounted on it: one mount and one mount_setattr, and a step that tried to create something in it would fail
     * instead of writing. The host's own /proc and /dev mounts are then underneath the sandbox's (covered: reaching
     * them takes unmounting the sandbox's, which needs CAP_SYS_ADMIN, and the mount lock of a user namespace forbids
     * even that). Otherwise the root is a small tmpfs holding each top-level entry of the host's "/"
     * (directories bound recursively and read-only, symlinks recreated), so that the missing targets are created in
     * the tmpfs; entries that a mount replaces anyway are only created, not bound, and the tmpfs itself is made
     * read-only once the mounts are in place.
     */
    private void hostRoot(String staging) {
        if (everyTargetExistsOnTheHost()) {
            steps.add(new FsStep.MountRoot("/", staging, "", MountFlags.BIND | MountFlags.REC, ""));
            steps.add(new SetReadOnly("/", true));
            rootReadOnlyAlready = true;
            return;
        }
        steps.add(new FsStep.MountRoot("tmpfs", staging, "tmpfs", MountFlags.NOSUID | MountFlags.NODEV, "mode=0755"));
        List<String> replaced = spec.effectiveMounts().stream().map(MountSpec::target).toList();
        try (var entries = Files.list(Path.of("/"))) {
            for (Path entry : entries.sorted().toList()) {
                String target = "/" + entry.getFileName();
                if (Files.isSymbolicLink(entry)) {
                    steps.add(new MakeSymlink(Files.readSymbolicLink(entry).toString(), target));
                } else if (replaced.contains(target)) {
                    steps.add(new FsStep.MakeDirectory(target, 0755));
                } else {
                    bind(entry, target, true, true);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the host root /", e);
        }
    }

    /**
     * Whether each mount that would create its target in the root (one not inside an earlier mount of the spec) finds
     * it on the host already, a directory where it mounts a directory and a file where it binds a file. Inside the
     * sandbox a target resolves within the bound host root, so it is the same file (symlinks included).
     */
    private boolean everyTargetExistsOnTheHost() {
        List<String> mounted = new ArrayList<>();
        for (MountSpec mount : spec.effectiveMounts()) {
            String target = mount.target();
            boolean insideAnEarlierMount = mounted.stream().anyMatch(earlier -> isInside(target, earlier));
            mounted.add(target);
            if (insideAnEarlierMount) {
                continue;
            }
            Path onHost = Path.of(target);
            boolean exists = createsDirectory(mount) ? Files.isDirectory(onHost)
                    : Files.exists(onHost) && !Files.isDirectory(onHost);
            if (!exists) {
                return false;
            }
        }
        return true;
    }

    /** What a missing target of this mount would be created as: a directory, or (a bound file) a file. */
    private static boolean createsDirectory(MountSpec mount) {
        if (mount instanceof MountSpec.Bind bind) {
            return Files.isDirectory(bind.source());
        }
        if (mount instanceof MountSpec.VolumeMount volume) {
            return Files.isDirectory(volume.volume().directory());
        }
        return true;
    }

    /** Whether normalized absolute {@code path} is {@code ancestor} or below it. */
    private static boolean isInside(String path, String ancestor) {
        return ancestor.equals("/") || path.equals(ancestor) || path.startsWith(ancestor + "/");
    }

    /**
     * Masks and write-protects the kernel files of {@link #MASKED_PATHS} and {@link #READ_ONLY_PATHS} wherever they
     * are in the sandbox (a missing one is skipped): the host's own /proc and /sys tell which are directories.
     */
    private void protectKernelFiles() {
        for (String path : MASKED_PATHS) {
            Path host = Path.of(path);
            if (Files.isDirectory(host)) {
                steps.add(new MountInside("tmpfs", path, "tmpfs", MountFlags.RDONLY | MountFlags.NOSUID
                        | MountFlags.NODEV | MountFlags.NOEXEC, "mode=0555,size=4096", Create.SKIP_IF_MISSING));
            } else if (Files.exists(host)) {
                steps.add(new MountInside("/dev/null", path, "", MountFlags.BIND, "", Create.SKIP_IF_MISSING));
            }
        }
        for (String path : READ_ONLY_PATHS) {
            steps.add(new FsStep.RebindInside(path));
            steps.add(new SetReadOnly(path, true, true));
        }
    }

    private void mount(MountSpec mount) {
        if (mount instanceof MountSpec.Bind bind) {
            bind(bind.source(), bind.target(), bind.readOnly(), bind.recursive());
        } else if (mount instanceof MountSpec.VolumeMount volume) {
            bind(volume.volume().directory(), volume.target(), volume.readOnly(), false);
        } else if (mount instanceof MountSpec.Tmpfs tmpfs) {
            steps.add(new MountInside("tmpfs", tmpfs.target(), "tmpfs", MountFlags.NOSUID | MountFlags.NODEV,
                    tmpfsData(tmpfs), Create.DIRECTORY));
        } else if (mount instanceof MountSpec.Proc proc) {
            if (namespaces.pid()) {
                steps.add(new MountInside("proc", proc.target(), "proc",
                        MountFlags.NOSUID | MountFlags.NODEV | MountFlags.NOEXEC, "", Create.DIRECTORY));
            } else {
                bind(Path.of("/proc"), proc.target(), false, true);
            }
        } else if (mount instanceof MountSpec.Sysfs sys) {
            if (namespaces.network()) {
                steps.add(new MountInside("sysfs", sys.target(), "sysfs", MountFlags.RDONLY | MountFlags.NOSUID
                        | MountFlags.NODEV | MountFlags.NOEXEC, "", Create.DIRECTORY));
            } else {
                bind(Path.of("/sys"), sys.target(), true, true);
            }
        } else if (mount instanceof MountSpec.Devices dev) {
            devices(dev.target());
        } else {
            throw new IllegalArgumentException("unknown mount " + mount);
        }
    }

    private void bind(Path source, String target, boolean readOnly, boolean recursive) {
        Create create = Files.isDirectory(source) ? Create.DIRECTORY : Create.FILE;
        steps.add(new MountInside(source.toString(), target, "", MountFlags.BIND | (recursive ? MountFlags.REC : 0),
                "", create));
        if (readOnly) {
            steps.add(new SetReadOnly(target, recursive));
        }
    }

    private void devices(String target) {
        String base = target.equals("/") ? "" : target;
        steps.add(new MountInside("tmpfs", target, "tmpfs", MountFlags.NOSUID | MountFlags.NOEXEC, "mode=0755",
                Create.DIRECTORY));
        for (String device : DEVICES) {
            steps.add(new MountInside("/dev/" + device, base + "/" + device, "", MountFlags.BIND, "", Create.FILE));
        }
        steps.add(new MountInside("devpts", base + "/pts", "devpts", MountFlags.NOSUID | MountFlags.NOEXEC,
                "newinstance,ptmxmode=0666,mode=0620", Create.DIRECTORY));
        steps.add(new MountInside("tmpfs", base + "/shm", "tmpfs", MountFlags.NOSUID | MountFlags.NODEV,
                "mode=1777", Create.DIRECTORY));
        for (String[] link : DEV_LINKS) {
            steps.add(new MakeSymlink(link[0], base + "/" + link[1]));
        }
    }

    private static String tmpfsData(MountSpec.Tmpfs tmpfs) {
        String mode = "mode=" + Integer.toOctalString(tmpfs.mode());
        return tmpfs.size().isPresent() ? mode + ",size=" + tmpfs.size().getAsLong() : mode;
    }

    /** overlayfs option values escape ',' ':' and '\' with a backslash. */
    static String escape(Path path) {
        return path.toString().replace("\\", "\\\\").replace(",", "\\,").replace(":", "\\:");
    }
}
