package dev.isolation.examples;

import dev.isolation.InvalidSandboxSpecException;
import dev.isolation.Outcome;
import dev.isolation.Sandbox;
import dev.isolation.SandboxBuilder;
import dev.isolation.SandboxEnvironment;
import dev.isolation.SandboxProcess;
import dev.isolation.SandboxSpec;
import dev.isolation.cgroups.ResourceLimits;
import dev.isolation.cgroups.ResourceUsage;
import dev.isolation.fs.Change;
import dev.isolation.fs.ChangeSet;
import dev.isolation.fs.ChangesPolicy;
import dev.isolation.fs.FilesystemSpec;
import dev.isolation.fs.LayerStore;
import dev.isolation.fs.MountSpec;
import dev.isolation.fs.RootMode;
import dev.isolation.fs.RootSource;
import dev.isolation.fs.SandboxFilesystem;
import dev.isolation.fs.SandboxPaths;
import dev.isolation.fs.Volume;
import dev.isolation.fs.VolumeStore;
import dev.isolation.fs.image.OciImage;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Runs one program in a sandbox from the command line, in the manner of {@code bwrap} or {@code docker run}:
 *
 * <pre>java -jar examples/target/isolation-run.jar --unshare-all --hostname box -- /bin/sh -c hostname</pre>
 *
 * The runner exits with the program's exit value (its exit code, or 128 + the signal that killed it); with 2 for
 * bad usage or a setting the sandbox rejects; with 125 when the sandbox cannot be started (or its image cannot be
 * loaded, or its changes cannot be kept or committed at exit). SIGINT and SIGTERM sent to the runner are passed on
 * to the program. See {@link RunOptions#usage()} for the options.
 */
public final class Run {
    /** Exit status for bad usage and rejected settings. */
    static final int EXIT_USAGE = 2;
    /** Exit status when the sandbox could not be started, as {@code docker run} has it. */
    static final int EXIT_START_FAILED = 125;
    /** How long the shutdown hook lets the program end after SIGTERM before killing the sandbox. */
    private static final long GRACE_MILLIS = 5_000;

    private Run() {
    }

    public static void main(String[] args) {
        int status = run(args, System.out, System.err);
        System.out.flush();
        System.err.flush();
        System.exit(status);
    }

    /** {@link #run(String[], PrintStream, PrintStream)} with the help text going to {@code System.out}. */
    public static int run(String[] args, PrintStream err) {
        return run(args, System.out, err);
    }

    /**
     * Parses {@code args}, runs the program and waits for it. The runner's own messages go to {@code err} (the help
     * text to {@code out}); the program's streams are the JVM's unless redirected.
     *
     * @return the runner's exit status
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        RunOptions options;
        try {
            options = RunOptions.parse(args);
        } catch (UsageException e) {
            err.println(RunOptions.NAME + ": " + e.getMessage());
            err.println("Try '" + RunOptions.NAME + " --help' for more information.");
            return EXIT_USAGE;
        }
        if (options.help()) {
            out.print(RunOptions.usage());
            out.flush();
            return 0;
        }

        // Registered before the start, so that a signal arriving while the sandbox starts is not lost on it.
        AtomicReference<SandboxProcess> running = new AtomicReference<>();
        Thread forwarder = new Thread(() -> stop(running.get()), RunOptions.NAME + "-signal-forwarder");
        Runtime.getRuntime().addShutdownHook(forwarder);
        try {
            SandboxSpec spec = spec(options);
            SandboxEnvironment environment = options.execs().isEmpty() ? null
                    : spec.toBuilder().startEnvironment();
            SandboxProcess process;
            List<SandboxProcess> others = new java.util.ArrayList<>();
            try {
                process = environment == null ? spec.start() : environment.exec(spec.command());
                running.set(process);
                for (String command : options.execs()) {
                    others.add(environment.exec("/bin/sh", "-c", command));
                }
            } catch (IOException | RuntimeException e) {
                if (environment != null) {
                    environment.close();
                }
                throw e;
            }
            Outcome outcome = process.waitForOutcome();
            for (SandboxProcess other : others) {
                Outcome ended = other.waitForOutcome();
                if (options.printOutcome()) {
                    err.println(RunOptions.NAME + ": exec'd command " + describe(ended));
                }
            }
            if (environment != null) {
                environment.close();
            }
            if (options.printOutcome()) {
                err.println(RunOptions.NAME + ": " + describe(outcome));
            }
            if (options.printUsage()) {
                reportUsage(options, process, err);
            }
            if (!reportFilesystem(options, process, err)) {
                return EXIT_START_FAILED;
            }
            return outcome.exitValue();
        } catch (InvalidSandboxSpecException e) {
            err.println(RunOptions.NAME + ": invalid setting: " + e.getMessage());
            return EXIT_USAGE;
        } catch (IOException | UncheckedIOException e) {
            err.println(RunOptions.NAME + ": " + e.getMessage());
            return EXIT_START_FAILED;
        } catch (InterruptedException e) {
            stop(running.get());
            Thread.currentThread().interrupt();
            err.println(RunOptions.NAME + ": interrupted; the program was stopped");
            return 128 + 2; // as if SIGINT had ended it
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(forwarder);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or has run: it stops the program
            }
        }
    }

    /**
     * The sandbox the options describe. Throws {@link InvalidSandboxSpecException} for settings it rejects, the
     * library's {@link IllegalArgumentException}s about the filesystem included (named after the option); creates
     * the volumes and stores it uses and loads its image, which may throw {@link IOException}.
     */
    static SandboxSpec spec(RunOptions options) throws IOException {
        SandboxBuilder builder = Sandbox.builder();
        if (!options.command().isEmpty()) {
            builder.command(options.command());                 // else the image's Entrypoint and Cmd
        }
        options.namespaces().forEach(builder::namespace);
        options.hostname().ifPresent(builder::utsNamespace);
        options.wallTimeMillis().ifPresent(ms -> builder.wallTimeLimit(java.time.Duration.ofMillis(ms)));
        options.cpuTimeMillis().ifPresent(ms -> builder.cpuTimeLimit(java.time.Duration.ofMillis(ms)));
        options.uidMappings().forEach(builder::uidMapping);
        options.gidMappings().forEach(builder::gidMapping);
        options.directory().ifPresent(builder::directory);
        if (options.inheritEnvironment()) {
            builder.inheritEnvironment();
        }
        builder.inheritEnvironment(options.inheritedVariables().toArray(String[]::new));
        options.environment().forEach(builder::environment);
        options.user().ifPresent(ids -> builder.user(ids.uid(), ids.gid()));
        if (options.cgroup()) {
            builder.limits(limits(options.resources()));
        }
        Stores stores = new Stores(options);
        if (options.filesystem()) {
            builder.filesystem(filesystem(options, stores));   // checked before an image is unpacked
        }
        if (options.image().isPresent()) {
            builder.image(image(options.image().get(), stores));
        }
        return builder.inheritIO()
                .redirectInput(options.stdin())
                .redirectOutput(options.stdout())
                .redirectError(options.stderr())
                .redirectErrorStream(options.mergeStderr())
                .build();
    }

    /** The options of the library's fields, for the messages of settings it rejects. */
    private static final Map<String, String> LIMIT_OPTIONS = Map.ofEntries(
            Map.entry("memoryMax", "--memory"),
            Map.entry("memorySwapMax", "--memory-swap"),
            Map.entry("memoryHigh", "--memory-high"),
            Map.entry("cpus", "--cpus"),
            Map.entry("cpuPeriod", "--cpu-period"),
            Map.entry("cpuWeight", "--cpu-weight"),
            Map.entry("cpusetCpus", "--cpuset-cpus"),
            Map.entry("cpusetMems", "--cpuset-mems"),
            Map.entry("pidsMax", "--pids"),
            Map.entry("ioWeight", "--io-weight"));

    /**
     * The limits the resource options describe (none at all for {@code --cgroup} alone). A value the library rejects
     * becomes an {@link InvalidSandboxSpecException} named after the option, e.g. "--memory: memoryMax: ...".
     */
    static ResourceLimits limits(RunOptions.Resources resources) {
        ResourceLimits.Builder limits = ResourceLimits.builder();
        resources.memory().ifPresent(bytes -> limit("--memory", () -> limits.memoryMax(bytes)));
        resources.memorySwap().ifPresent(bytes -> limit("--memory-swap", () -> limits.memorySwapMax(bytes)));
        resources.memoryHigh().ifPresent(bytes -> limit("--memory-high", () -> limits.memoryHigh(bytes)));
        if (resources.cpus().isPresent()) {
            double cpus = resources.cpus().getAsDouble();
            Duration period = resources.cpuPeriodMillis().isPresent()
                    ? Duration.ofMillis(resources.cpuPeriodMillis().getAsLong()) : ResourceLimits.DEFAULT_CPU_PERIOD;
            limit("--cpus", () -> limits.cpus(cpus, period));
        }
        resources.cpuWeight().ifPresent(weight -> limit("--cpu-weight", () -> limits.cpuWeight(weight)));
        resources.cpusetCpus().ifPresent(list -> limit("--cpuset-cpus", () -> limits.cpusetCpus(list)));
        resources.cpusetMems().ifPresent(list -> limit("--cpuset-mems", () -> limits.cpusetMems(list)));
        resources.pids().ifPresent(max -> limit("--pids", () -> limits.pidsMax(max)));
        for (RunOptions.IoDevice device : resources.io()) {
            // each rate on its own first, so that a rejected one is named after its option
            for (RunOptions.IoRate rate : RunOptions.IoRate.values()) {
                OptionalLong value = device.get(rate);
                if (value.isPresent()) {
                    RunOptions.IoDevice single = RunOptions.IoDevice.of(device.device()).with(rate, value.getAsLong());
                    limit(rate.option(), () -> ioLimit(single));
                }
            }
            limits.ioLimit(ioLimit(device));
        }
        resources.ioWeight().ifPresent(weight -> limit("--io-weight", () -> limits.ioWeight(weight)));
        return limit("limits", limits::build);
    }

    private static ResourceLimits.IoLimit ioLimit(RunOptions.IoDevice device) {
        return new ResourceLimits.IoLimit(device.device(), device.readBytesPerSecond(), device.writeBytesPerSecond(),
                device.readIops(), device.writeIops());
    }

    /**
     * Applies a limit, reporting the library's rejection as an invalid setting of the option its field belongs to
     * ({@code option} when the field is not one of {@link #LIMIT_OPTIONS}).
     */
    private static <T> T limit(String option, Supplier<T> setting) {
        try {
            return setting.get();
        } catch (IllegalArgumentException e) {
            String message = String.valueOf(e.getMessage());
            int colon = message.indexOf(':');
            String field = colon > 0 ? message.substring(0, colon) : "";
            throw new InvalidSandboxSpecException(LIMIT_OPTIONS.getOrDefault(field, option), message);
        }
    }

    /**
     * The filesystem the options describe, mounts in command-line order. With {@code --image} its root is the host's
     * here, as {@link SandboxBuilder#image} wants it, and an overlay unless asked otherwise: the image's layers
     * replace it when the sandbox is built.
     */
    static FilesystemSpec filesystem(RunOptions options, Stores stores) throws IOException {
        FilesystemSpec.Builder filesystem = FilesystemSpec.builder();
        if (options.rootDirectory().isPresent()) {
            Path directory = absolute(options.rootDirectory().get());
            filesystem.root(checked("--root", () -> RootSource.directory(directory)));
        }
        Optional<RootMode> mode = options.rootMode();
        if (mode.isEmpty() && options.image().isPresent()) {
            mode = Optional.of(RootMode.OVERLAY);
        }
        mode.ifPresent(filesystem::mode);
        if (options.readOnlyRoot()) {
            filesystem.readOnly(true);
        }
        filesystem.standardMounts(options.standardMounts());
        if (options.keepChanges().isPresent()) {
            Path keep = absolute(options.keepChanges().get());
            if (Files.exists(keep, LinkOption.NOFOLLOW_LINKS)) {
                throw new InvalidSandboxSpecException("--keep-changes", keep.toString(),
                        "exists already: the changes are moved to a new directory");
            }
            filesystem.onExit(checked("--keep-changes", () -> ChangesPolicy.keepIn(keep)));
        }
        for (RunOptions.Mount mount : options.mounts()) {
            checked(mount.option(), () -> check(mount));          // every value, before a volume is created
        }
        for (RunOptions.Mount mount : options.mounts()) {
            filesystem.mount(checked(mount.option(), () -> mountSpec(mount, stores)));
        }
        if (options.commitLayer()) {
            filesystem.onExit(ChangesPolicy.commitTo(stores.layers()));
        }
        return checked("filesystem", filesystem::build);
    }

    /** Checks a mount's values as the library does, without creating anything. */
    private static RunOptions.Mount check(RunOptions.Mount mount) throws IOException {
        if (mount instanceof RunOptions.Mount.Volume volume) {
            Volume.checkName(volume.name());
            try {
                SandboxPaths.normalizeAbsolute(volume.target());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("volume target: " + e.getMessage(), e);
            }
        } else {
            mountSpec(mount, null);
        }
        return mount;
    }

    private static MountSpec mountSpec(RunOptions.Mount mount, Stores stores) throws IOException {
        if (mount instanceof RunOptions.Mount.Bind bind) {
            return new MountSpec.Bind(absolute(bind.source()), bind.target(), bind.readOnly(), true);
        }
        if (mount instanceof RunOptions.Mount.Tmpfs tmpfs) {
            return new MountSpec.Tmpfs(tmpfs.target(), tmpfs.size(), tmpfs.mode());
        }
        if (mount instanceof RunOptions.Mount.Proc proc) {
            return new MountSpec.Proc(proc.target());
        }
        if (mount instanceof RunOptions.Mount.Dev dev) {
            return new MountSpec.Devices(dev.target());
        }
        if (mount instanceof RunOptions.Mount.Sys sys) {
            return new MountSpec.Sysfs(sys.target());
        }
        if (mount instanceof RunOptions.Mount.Volume volume) {
            VolumeStore store = stores.volumes();
            return new MountSpec.VolumeMount(store.getOrCreate(volume.name()), volume.target(), volume.readOnly(),
                    store);
        }
        throw new AssertionError("unknown mount " + mount);
    }

    private static OciImage image(Path path, Stores stores) throws IOException {
        Path source = absolute(path);
        if (!Files.exists(source)) {
            throw new InvalidSandboxSpecException("--image", source.toString(), "does not exist");
        }
        try {
            return OciImage.load(source, stores.layers());
        } catch (IOException e) {
            throw new IOException("cannot load the image " + source + ": " + e.getMessage(), e);
        }
    }

    /**
     * What {@code --changes} and {@code --commit-layer} print once the program has ended, and whether its
     * filesystem was finished as asked (the changes listed, kept or committed); says why not on {@code err}.
     */
    private static boolean reportFilesystem(RunOptions options, SandboxProcess process, PrintStream err) {
        if (!options.printChanges() && !options.commitLayer() && options.keepChanges().isEmpty()) {
            return true;
        }
        Optional<SandboxFilesystem.Result> result;
        try {
            result = process.filesystemResult();
        } catch (IOException e) {
            String what = options.keepChanges().isPresent() ? "keep the changes in " + options.keepChanges().get()
                    : options.commitLayer() ? "commit the changes to " + options.layerStore() : "list the changes";
            Throwable cause = e.getCause();
            String kind = cause instanceof FileSystemException files && files.getReason() == null
                    ? " (" + cause.getClass().getSimpleName() + ")" : "";
            err.println(RunOptions.NAME + ": cannot " + what + ": " + e.getMessage() + kind);
            return false;
        }
        if (options.printChanges()) {
            Optional<ChangeSet> changes = result.flatMap(SandboxFilesystem.Result::changes);
            if (changes.isPresent()) {
                changes.get().changes().forEach(change -> err.println(describe(change)));
            } else {
                err.println(RunOptions.NAME + ": no changes to list: the root is not a copy-on-write overlay"
                        + " (--root, --image or --overlay make one)");
            }
        }
        if (options.commitLayer()) {
            result.flatMap(SandboxFilesystem.Result::committed).ifPresent(
                    layer -> err.println(RunOptions.NAME + ": committed layer " + layer.id()));
        }
        return true;
    }

    /** What {@code --usage} prints once the program has ended: one line, or why there is none. */
    private static void reportUsage(RunOptions options, SandboxProcess process, PrintStream err) {
        if (!options.cgroup()) {
            err.println(RunOptions.NAME + ": no usage to report: the program had no cgroup of its own"
                    + " (any resource limit or --cgroup gives it one)");
            return;
        }
        Optional<ResourceUsage> usage;
        try {
            usage = process.resourceUsage();
        } catch (IOException e) {
            err.println(RunOptions.NAME + ": cannot read the usage: " + e.getMessage());
            return;
        }
        err.println(RunOptions.NAME + ": " + usage.map(Run::describe)
                .orElse("no usage to report: the cgroup's usage could not be read"));
    }

    /**
     * The line of {@code --usage}, e.g. "usage: memory peak 1048576 bytes, cpu user 0.012 s, system 0.004 s,
     * pids limit hits 0, oom kills 0, io read 0 bytes, written 0 bytes"; "memory peak unknown" when the kernel does
     * not report it.
     */
    static String describe(ResourceUsage usage) {
        String peak = usage.memoryPeak().isPresent() ? usage.memoryPeak().getAsLong() + " bytes" : "unknown";
        return "usage: memory peak " + peak + ", cpu user " + seconds(usage.cpuUser()) + " s, system "
                + seconds(usage.cpuSystem()) + " s, pids limit hits " + usage.pidsLimitHits() + ", oom kills "
                + usage.oomKills() + ", io read " + usage.ioReadBytes() + " bytes, written " + usage.ioWriteBytes()
                + " bytes";
    }

    private static String seconds(Duration duration) {
        return String.format(Locale.ROOT, "%d.%03d", duration.getSeconds(), duration.toMillisPart());
    }

    /** One line of {@code --changes}: "A /path", "M /path" or "D /path". */
    static String describe(Change change) {
        char kind = switch (change.kind()) {
            case ADDED -> 'A';
            case MODIFIED -> 'M';
            case DELETED -> 'D';
        };
        return kind + " " + change.path();
    }

    /**
     * A host path as written, made absolute against the current directory; not normalized, so that a {@code ..}
     * after a symbolic link means what the kernel makes of it.
     */
    private static Path absolute(Path path) {
        return path.toAbsolutePath();
    }

    /** Something the filesystem library may reject with an {@link IllegalArgumentException} naming the value. */
    @FunctionalInterface
    private interface Setting<T> {
        T make() throws IOException;
    }

    /** Makes a setting, reporting the library's rejection as an invalid setting of {@code option}. */
    private static <T> T checked(String option, Setting<T> setting) throws IOException {
        try {
            return setting.make();
        } catch (InvalidSandboxSpecException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new InvalidSandboxSpecException(option, e.getMessage());
        }
    }

    /** The layer and volume stores, opened (and created) when first needed. */
    static final class Stores {
        private final RunOptions options;
        private LayerStore layers;
        private VolumeStore volumes;

        Stores(RunOptions options) {
            this.options = options;
        }

        LayerStore layers() throws IOException {
            if (layers == null) {
                layers = new LayerStore(absolute(options.layerStore()));
            }
            return layers;
        }

        VolumeStore volumes() throws IOException {
            if (volumes == null) {
                volumes = new VolumeStore(absolute(options.volumeStore()));
            }
            return volumes;
        }
    }

    /**
     * One line saying how the program ended, e.g. "exited with code 3" or "killed by signal 9 (core dumped)".
     * Java 17 has pattern matching in {@code switch} only as a preview, so the sealed type is matched with
     * {@code instanceof}; a kind added to {@link Outcome} later reaches the last line.
     */
    static String describe(Outcome outcome) {
        if (outcome instanceof Outcome.Exited exited) {
            return "exited with code " + exited.code();
        }
        if (outcome instanceof Outcome.Signaled signaled) {
            return "killed by signal " + signaled.signal() + (signaled.coreDumped() ? " (core dumped)" : "");
        }
        if (outcome instanceof Outcome.OutOfMemory outOfMemory) {
            return "killed by the OOM killer (signal " + outOfMemory.signal() + ")";
        }
        if (outcome instanceof Outcome.TimedOut timedOut) {
            return "killed: its " + (timedOut.limit() == Outcome.TimeLimit.CPU ? "CPU" : "wall-clock") + " time limit of "
                    + timedOut.after().toMillis() + " ms expired";
        }
        if (outcome instanceof Outcome.Destroyed destroyed) {
            return "stopped by the runner, then " + describe(destroyed.how());
        }
        return "ended: " + outcome + " (exit value " + outcome.exitValue() + ")";
    }

    /** Passes SIGTERM on to the program; if it has not ended within the grace period, kills the whole sandbox. */
    private static void stop(SandboxProcess process) {
        if (process == null || !process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(GRACE_MILLIS, TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(1, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
