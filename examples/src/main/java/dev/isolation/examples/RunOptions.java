package dev.isolation.examples;

import dev.isolation.IdMapping;
import dev.isolation.InvalidSandboxSpecException;
import dev.isolation.Namespace;
import dev.isolation.cgroups.ResourceLimits;
import dev.isolation.fs.RootMode;
import java.io.File;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The command line of {@link Run}, parsed and immutable. Parsing only reads the arguments: it checks their form
 * (and the options that depend on each other) but starts nothing; what the sandbox library itself rejects is
 * reported when the sandbox is built.
 *
 * <p>Options come first, in long GNU style; an option that takes values takes them as the next arguments, taken
 * literally even when they start with '-'. The program starts after {@code --} or at the first argument that is not
 * an option; everything from there on is the program's. A single-valued option given twice keeps its last value.
 *
 * <p>The filesystem options are kept as written (host paths may be relative; mounts in command-line order):
 * {@link Run} turns them into one {@code FilesystemSpec}, and the library judges their values then.
 *
 * <p>The resource options are checked for their form here (numbers, sizes, devices, weights): {@link Run} turns them
 * into one {@code ResourceLimits}, whose builder judges the rest (minimum sizes, the CPUs of this machine, devices).
 */
public final class RunOptions {
    /** The name the runner goes by in messages and in the usage text. */
    static final String NAME = "isolation-run";

    private static final Pattern DECIMAL = Pattern.compile("[0-9]{1,19}");
    private static final Pattern SIZE = Pattern.compile("([0-9]{1,19})([kKmMgG]?)");
    private static final Pattern OCTAL = Pattern.compile("[0-7]{1,6}");
    private static final Pattern NUMBER = Pattern.compile("[0-9]+");
    private static final Pattern FRACTION = Pattern.compile("[0-9]+(\\.[0-9]*)?|\\.[0-9]+");
    /** Permissions of a {@code --tmpfs} whose MODE is not given: the kernel's default, as for /tmp. */
    static final int DEFAULT_TMPFS_MODE = 01777;

    private final boolean help;
    private final List<String> command;
    private final Set<Namespace> namespaces;
    private final String hostname;
    private final List<String> execs;
    private final Long wallTimeMillis;
    private final Long cpuTimeMillis;
    private final List<IdMapping> uidMappings;
    private final List<IdMapping> gidMappings;
    private final String directory;
    private final boolean inheritEnvironment;
    private final List<String> inheritedVariables;
    private final Map<String, String> environment;
    private final Redirect stdin;
    private final Redirect stdout;
    private final Redirect stderr;
    private final boolean mergeStderr;
    private final boolean printOutcome;
    private final Path rootDirectory;
    private final Path image;
    private final Path layerStore;
    private final RootMode rootMode;
    private final boolean readOnlyRoot;
    private final List<Mount> mounts;
    private final Path volumeStore;
    private final boolean standardMounts;
    private final Path keepChanges;
    private final boolean commitLayer;
    private final boolean printChanges;
    private final UserIds user;
    private final boolean filesystem;
    private final Resources resources;
    private final boolean cgroup;
    private final boolean printUsage;

    private RunOptions(Parser parser) {
        help = parser.help;
        command = List.copyOf(parser.command);
        namespaces = Collections.unmodifiableSet(EnumSet.copyOf(parser.namespaces));
        hostname = parser.hostname;
        execs = List.copyOf(parser.execs);
        wallTimeMillis = parser.wallTimeMillis;
        cpuTimeMillis = parser.cpuTimeMillis;
        uidMappings = List.copyOf(parser.uidMappings);
        gidMappings = List.copyOf(parser.gidMappings);
        directory = parser.directory;
        inheritEnvironment = parser.inheritEnvironment;
        inheritedVariables = List.copyOf(parser.inheritedVariables);
        environment = Collections.unmodifiableMap(new LinkedHashMap<>(parser.environment));
        stdin = parser.stdin;
        stdout = parser.stdout;
        stderr = parser.stderr;
        mergeStderr = parser.mergeStderr;
        printOutcome = parser.printOutcome;
        rootDirectory = parser.rootDirectory;
        image = parser.image;
        layerStore = parser.layerStore;
        rootMode = parser.rootMode;
        readOnlyRoot = parser.readOnlyRoot;
        mounts = List.copyOf(parser.mounts);
        volumeStore = parser.volumeStore;
        standardMounts = parser.standardMounts;
        keepChanges = parser.keepChanges;
        commitLayer = parser.commitLayer;
        printChanges = parser.printChanges;
        user = parser.user;
        filesystem = parser.filesystem;
        resources = parser.resources();
        cgroup = parser.cgroup || !resources.isEmpty();
        printUsage = parser.printUsage;
    }

    /**
     * Parses a command line.
     *
     * @throws UsageException naming the option at fault, or saying that no program was given
     */
    public static RunOptions parse(String... args) throws UsageException {
        Parser parser = new Parser();
        parser.parse(List.of(args));
        return new RunOptions(parser);
    }

    /** {@code --help} or {@code -h} was given: print {@link #usage()} and run nothing (the command may be empty). */
    public boolean help() {
        return help;
    }

    /** The program and its arguments; never empty unless {@link #help()} or with an {@link #image()}. */
    public List<String> command() {
        return command;
    }

    /** The namespaces asked for, all of them after {@code --unshare-all}; UTS is implied by {@code --hostname}. */
    public Set<Namespace> namespaces() {
        return namespaces;
    }

    /** Shell commands run in the same sandbox as the program ({@code --exec}). */
    public List<String> execs() {
        return execs;
    }

    public Optional<Long> wallTimeMillis() {
        return Optional.ofNullable(wallTimeMillis);
    }

    public Optional<Long> cpuTimeMillis() {
        return Optional.ofNullable(cpuTimeMillis);
    }

    private static long positiveMillis(String option, String value) throws UsageException {
        try {
            long millis = Long.parseLong(value);
            if (millis > 0) {
                return millis;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException(option, "\"" + value + "\" is not a positive number of milliseconds");
    }

    public Optional<String> hostname() {
        return Optional.ofNullable(hostname);
    }

    public List<IdMapping> uidMappings() {
        return uidMappings;
    }

    public List<IdMapping> gidMappings() {
        return gidMappings;
    }

    /** The working directory inside ({@code --chdir}). */
    public Optional<String> directory() {
        return Optional.ofNullable(directory);
    }

    /** {@code --inherit-env}: the whole environment of the JVM is passed in. */
    public boolean inheritEnvironment() {
        return inheritEnvironment;
    }

    /** The names given with {@code --inherit-env-var}, in order. */
    public List<String> inheritedVariables() {
        return inheritedVariables;
    }

    /** The variables given with {@code --setenv}, in order; they override inherited ones. */
    public Map<String, String> environment() {
        return environment;
    }

    /** Where the program's standard input comes from: {@link Redirect#INHERIT} unless {@code --stdin}. */
    public Redirect stdin() {
        return stdin;
    }

    public Redirect stdout() {
        return stdout;
    }

    public Redirect stderr() {
        return stderr;
    }

    /** {@code --merge-stderr}: the program's standard error goes wherever its standard output goes. */
    public boolean mergeStderr() {
        return mergeStderr;
    }

    /** {@code --outcome}: describe how the program ended on the runner's standard error. */
    public boolean printOutcome() {
        return printOutcome;
    }

    /**
     * Whether the program gets a filesystem of its own: any filesystem option but {@code --image} and the store
     * locations was given (each implies a mount namespace, which {@link #namespaces()} then holds).
     */
    public boolean filesystem() {
        return filesystem;
    }

    /** {@code --root}: a host directory as the root, as written. */
    public Optional<Path> rootDirectory() {
        return Optional.ofNullable(rootDirectory);
    }

    /** {@code --image}: an OCI image layout directory or a {@code docker save} tar, as written. */
    public Optional<Path> image() {
        return Optional.ofNullable(image);
    }

    /**
     * Where image layers are unpacked and changes committed: {@code --layer-store}, else
     * {@code $XDG_CACHE_HOME/isolation/layers}, else {@code ~/.cache/isolation/layers}.
     */
    public Path layerStore() {
        return layerStore != null ? layerStore
                : defaultStore(System.getenv(), System.getProperty("user.home"), "XDG_CACHE_HOME", ".cache", "layers");
    }

    /**
     * Where named volumes are kept: {@code --volume-store}, else {@code $XDG_DATA_HOME/isolation/volumes}, else
     * {@code ~/.local/share/isolation/volumes}.
     */
    public Path volumeStore() {
        return volumeStore != null ? volumeStore
                : defaultStore(System.getenv(), System.getProperty("user.home"), "XDG_DATA_HOME", ".local/share",
                        "volumes");
    }

    /**
     * {@code $variable/isolation/name} when the variable holds an absolute path (the XDG base directory rule),
     * else {@code home/fallback/isolation/name}.
     */
    static Path defaultStore(Map<String, String> env, String home, String variable, String fallback, String name) {
        String base = env.get(variable);
        Path directory = base != null && base.startsWith("/") ? Path.of(base) : Path.of(home).resolve(fallback);
        return directory.resolve("isolation").resolve(name);
    }

    /** {@code --overlay} or {@code --copied-root}; empty: the library's default for the root. */
    public Optional<RootMode> rootMode() {
        return Optional.ofNullable(rootMode);
    }

    /** {@code --read-only-root}. */
    public boolean readOnlyRoot() {
        return readOnlyRoot;
    }

    /** The mounts, in command-line order. */
    public List<Mount> mounts() {
        return mounts;
    }

    /** False after {@code --no-standard-mounts}. */
    public boolean standardMounts() {
        return standardMounts;
    }

    /** {@code --keep-changes}: where the overlay's changes are moved at exit, as written. */
    public Optional<Path> keepChanges() {
        return Optional.ofNullable(keepChanges);
    }

    /** {@code --commit-layer}: the changes become a layer of {@link #layerStore()} at exit. */
    public boolean commitLayer() {
        return commitLayer;
    }

    /** {@code --changes}: list the changes on the runner's standard error at exit. */
    public boolean printChanges() {
        return printChanges;
    }

    /** {@code --user}: the ids the program runs as inside. */
    public Optional<UserIds> user() {
        return Optional.ofNullable(user);
    }

    /** The resource limits asked for; {@link Resources#isEmpty()} when none was. */
    public Resources resources() {
        return resources;
    }

    /** Whether the program gets a cgroup of its own: {@code --cgroup} or any resource limit was given. */
    public boolean cgroup() {
        return cgroup;
    }

    /** {@code --usage}: print what the program's cgroup used on the runner's standard error at exit. */
    public boolean printUsage() {
        return printUsage;
    }

    /**
     * The resource options as given, in their units: bytes, CPUs, milliseconds, weights. Their ranges beyond the
     * weights' are the library's to judge; a setting not given is empty.
     *
     * @param memory           {@code --memory}, bytes
     * @param memorySwap       {@code --memory-swap}, bytes
     * @param memoryHigh       {@code --memory-high}, bytes
     * @param cpus             {@code --cpus}, a number of CPUs
     * @param cpuPeriodMillis  {@code --cpu-period}, milliseconds (only with {@code cpus})
     * @param cpuWeight        {@code --cpu-weight}, 1 to 10000
     * @param cpusetCpus       {@code --cpuset-cpus}, as written
     * @param cpusetMems       {@code --cpuset-mems}, as written
     * @param pids             {@code --pids}
     * @param io               the {@code --io-*} limits, one per device, in the order the devices were first named
     * @param ioWeight         {@code --io-weight}, 1 to 10000
     */
    public record Resources(OptionalLong memory, OptionalLong memorySwap, OptionalLong memoryHigh, OptionalDouble cpus,
            OptionalLong cpuPeriodMillis, OptionalInt cpuWeight, Optional<String> cpusetCpus,
            Optional<String> cpusetMems, OptionalLong pids, List<IoDevice> io, OptionalInt ioWeight) {
        public Resources {
            io = List.copyOf(io);
        }

        /** No limit at all. */
        public boolean isEmpty() {
            return memory.isEmpty() && memorySwap.isEmpty() && memoryHigh.isEmpty() && cpus.isEmpty()
                    && cpuPeriodMillis.isEmpty() && cpuWeight.isEmpty() && cpusetCpus.isEmpty()
                    && cpusetMems.isEmpty() && pids.isEmpty() && io.isEmpty() && ioWeight.isEmpty();
        }
    }

    /**
     * The {@code --io-read-bps}, {@code --io-write-bps}, {@code --io-read-iops} and {@code --io-write-iops} of one
     * block device ({@code major:minor}, as written), merged; a rate given twice keeps its last value.
     */
    public record IoDevice(String device, OptionalLong readBytesPerSecond, OptionalLong writeBytesPerSecond,
            OptionalLong readIops, OptionalLong writeIops) {
        static IoDevice of(String device) {
            return new IoDevice(device, OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(),
                    OptionalLong.empty());
        }

        IoDevice with(IoRate rate, long value) {
            OptionalLong v = OptionalLong.of(value);
            return switch (rate) {
                case READ_BPS -> new IoDevice(device, v, writeBytesPerSecond, readIops, writeIops);
                case WRITE_BPS -> new IoDevice(device, readBytesPerSecond, v, readIops, writeIops);
                case READ_IOPS -> new IoDevice(device, readBytesPerSecond, writeBytesPerSecond, v, writeIops);
                case WRITE_IOPS -> new IoDevice(device, readBytesPerSecond, writeBytesPerSecond, readIops, v);
            };
        }

        /** The value of one rate of this device. */
        public OptionalLong get(IoRate rate) {
            return switch (rate) {
                case READ_BPS -> readBytesPerSecond;
                case WRITE_BPS -> writeBytesPerSecond;
                case READ_IOPS -> readIops;
                case WRITE_IOPS -> writeIops;
            };
        }
    }

    /** The four per-device rates and the options that set them. */
    public enum IoRate {
        READ_BPS("--io-read-bps", true),
        WRITE_BPS("--io-write-bps", true),
        READ_IOPS("--io-read-iops", false),
        WRITE_IOPS("--io-write-iops", false);

        private final String option;
        private final boolean bytes;

        IoRate(String option, boolean bytes) {
            this.option = option;
            this.bytes = bytes;
        }

        /** The option that sets it, e.g. {@code --io-read-bps}. */
        public String option() {
            return option;
        }
    }

    /** The ids of {@code --user UID[:GID]}; GID is UID when not given. Their range is the library's to judge. */
    public record UserIds(long uid, long gid) {
    }

    /** One mount option as written, in the order given; {@link #target()} is the path inside the sandbox. */
    public sealed interface Mount {
        /** The option that asked for it, e.g. {@code --ro-bind}. */
        String option();

        String target();

        /** {@code --bind} or {@code --ro-bind}: a host file or directory ({@code source}, as written). */
        record Bind(Path source, String target, boolean readOnly) implements Mount {
            @Override
            public String option() {
                return readOnly ? "--ro-bind" : "--bind";
            }
        }

        /** {@code --tmpfs}: {@code size} empty means the kernel's default (half of RAM). */
        record Tmpfs(String target, OptionalLong size, int mode) implements Mount {
            @Override
            public String option() {
                return "--tmpfs";
            }
        }

        /** {@code --proc}: a fresh proc for the pid namespace. */
        record Proc(String target) implements Mount {
            @Override
            public String option() {
                return "--proc";
            }
        }

        /** {@code --dev}: a minimal /dev. */
        record Dev(String target) implements Mount {
            @Override
            public String option() {
                return "--dev";
            }
        }

        /** {@code --ro-sys}: sysfs, read-only. */
        record Sys(String target) implements Mount {
            @Override
            public String option() {
                return "--ro-sys";
            }
        }

        /** {@code --volume}: the named volume of the volume store, created on first use. */
        record Volume(String name, String target, boolean readOnly) implements Mount {
            @Override
            public String option() {
                return "--volume";
            }
        }
    }

    @Override
    public String toString() {
        return "RunOptions[help=" + help + ", command=" + command + ", namespaces=" + namespaces + ", hostname="
                + hostname + ", uidMappings=" + uidMappings + ", gidMappings=" + gidMappings + ", directory="
                + directory + ", inheritEnvironment=" + inheritEnvironment + ", inheritedVariables="
                + inheritedVariables + ", environment=" + environment.keySet() + ", stdin=" + stdin + ", stdout="
                + stdout + ", stderr=" + stderr + ", mergeStderr=" + mergeStderr + ", printOutcome="
                + printOutcome + ", filesystem=" + filesystem + ", rootDirectory=" + rootDirectory + ", image="
                + image + ", layerStore=" + layerStore + ", rootMode=" + rootMode + ", readOnlyRoot=" + readOnlyRoot
                + ", mounts=" + mounts + ", volumeStore=" + volumeStore + ", standardMounts=" + standardMounts
                + ", keepChanges=" + keepChanges + ", commitLayer=" + commitLayer + ", printChanges=" + printChanges
                + ", user=" + user + ", resources=" + resources + ", cgroup=" + cgroup + ", printUsage=" + printUsage
                + "]";
    }

    /** The usage text {@code --help} prints: every option, generated from the same table the parser uses. */
    public static String usage() {
        StringBuilder text = new StringBuilder();
        text.append("Usage: java -jar isolation-run.jar [options] [--] program [args...]\n")
                .append("       java -jar isolation-run.jar [options] --image PATH [--] [program [args...]]\n")
                .append("\n")
                .append("Runs a program inside Linux namespaces and exits with its exit value.\n")
                .append("The program starts after '--' or at the first argument that is not an option.\n")
                .append("Its standard streams are the runner's own unless redirected. Its environment holds\n")
                .append("only PATH unless variables are set or inherited.\n")
                .append("\n")
                .append("Options:\n");
        int width = 0;
        for (OptionSpec option : ALL_OPTIONS) {
            width = Math.max(width, option.synopsis().length());
        }
        appendOptions(text, OPTIONS, width);
        text.append("\n")
                .append("Resources:\n");
        appendOptions(text, RESOURCE_OPTIONS, width);
        text.append("  Any of them but --usage gives the program a cgroup of its own, removed when it ends.\n")
                .append("  SIZE and RATE are in bytes, or have a k, m or g suffix (binary: 1k is 1024). Several\n")
                .append("  --io-* options for one device (MAJ:MIN, as in /sys/dev/block) make one limit.\n")
                .append("  The library judges the values: at least " + (ResourceLimits.MIN_MEMORY_BYTES >> 20)
                        + "m of memory, at most the CPUs of this\n")
                .append("  machine, block devices that exist; --memory-swap needs --memory. Without root, a\n")
                .append("  cgroup needs a cgroup v2 host with a delegated subtree (v1 has no delegation).\n")
                .append("\n")
                .append("Filesystem:\n")
                .append("  Every filesystem option but the two stores implies --unshare-mount. The root is the\n")
                .append("  host's, read-only, unless --root or --image gives another, which is seen through a\n")
                .append("  copy-on-write overlay by default. /proc, /dev and /tmp are mounted on it first, then\n")
                .append("  the mount options in the order given. Host paths may be relative to the current\n")
                .append("  directory; paths inside must be absolute. SIZE is in bytes, or has a k, m or g suffix;\n")
                .append("  MODE is octal (default 1777).\n")
                .append("  An image's config gives defaults: Entrypoint and Cmd (a program given replaces both),\n")
                .append("  Env, WorkingDir and User (--setenv, --chdir and --user override them).\n")
                .append("  Layers are kept in $XDG_CACHE_HOME/isolation/layers (else ~/.cache/isolation/layers),\n")
                .append("  volumes in $XDG_DATA_HOME/isolation/volumes (else ~/.local/share/isolation/volumes),\n")
                .append("  unless --layer-store or --volume-store says otherwise.\n")
                .append("\n")
                .append("Exit status:\n")
                .append("  the program's exit value: its exit code, or 128 + the signal that killed it\n")
                .append("  2    bad usage, or a setting the sandbox rejects\n")
                .append("  125  the sandbox could not be started (or its image loaded, or its changes kept)\n");
        return text.toString();
    }

    private static void appendOptions(StringBuilder text, List<OptionSpec> options, int width) {
        for (OptionSpec option : options) {
            String synopsis = option.synopsis();
            text.append("  ").append(synopsis).append(" ".repeat(width - synopsis.length() + 2))
                    .append(option.description()).append('\n');
        }
    }

    /** What an option does to the parser with its values. */
    @FunctionalInterface
    private interface Action {
        void apply(Parser parser, String option, List<String> values) throws UsageException;
    }

    /** One option: its names (the first one is shown first), the names of its values, its help line and its action. */
    private record OptionSpec(List<String> names, List<String> parameters, String description, Action action) {
        String synopsis() {
            StringBuilder synopsis = new StringBuilder(String.join(", ", names));
            parameters.forEach(parameter -> synopsis.append(' ').append(parameter));
            return synopsis.toString();
        }
    }

    private static OptionSpec option(String name, String description, Action action, String... parameters) {
        return new OptionSpec(List.of(name), List.of(parameters), description, action);
    }

    /** An option that gives the program a filesystem of its own, and so a mount namespace. */
    private static OptionSpec filesystem(String name, String description, Action action, String... parameters) {
        return option(name, description, (parser, option, values) -> {
            action.apply(parser, option, values);
            parser.filesystem = true;
            parser.namespaces.add(Namespace.MOUNT);
        }, parameters);
    }

    private static OptionSpec unshare(String name, Namespace namespace, String description) {
        return option(name, description, (parser, option, values) -> parser.namespaces.add(namespace));
    }

    private static final List<OptionSpec> OPTIONS = List.of(
            option("--unshare-all", "all namespaces, each with its secure default",
                    (parser, option, values) -> parser.namespaces.addAll(EnumSet.allOf(Namespace.class))),
            unshare("--unshare-user", Namespace.USER,
                    "user namespace; maps your uid and gid to root inside unless mapped"),
            unshare("--unshare-pid", Namespace.PID, "pid namespace: the program sees only its own processes"),
            unshare("--unshare-mount", Namespace.MOUNT, "mount namespace: a private mount table"),
            unshare("--unshare-uts", Namespace.UTS, "UTS namespace: its own host name (default \"sandbox\")"),
            unshare("--unshare-ipc", Namespace.IPC, "IPC namespace: private System V IPC and message queues"),
            unshare("--unshare-net", Namespace.NETWORK, "network namespace: only a loopback device"),
            unshare("--unshare-cgroup", Namespace.CGROUP, "cgroup namespace"),
            unshare("--unshare-time", Namespace.TIME, "time namespace"),
            option("--exec", "also run this shell command in the same sandbox, concurrently (it becomes a long-lived"
                    + " environment: pid namespace added); repeatable",
                    (parser, option, values) -> parser.execs.add(values.get(0)), "COMMAND"),
            option("--wall-time", "kill the program after this many milliseconds (outcome: timed out)",
                    (parser, option, values) -> parser.wallTimeMillis = positiveMillis(option, values.get(0)), "MS"),
            option("--cpu-time", "kill the program once it and its children used this many CPU milliseconds",
                    (parser, option, values) -> parser.cpuTimeMillis = positiveMillis(option, values.get(0)), "MS"),
            option("--hostname", "host name inside (implies --unshare-uts)", (parser, option, values) -> {
                parser.hostname = values.get(0);
                parser.namespaces.add(Namespace.UTS);
            }, "NAME"),
            option("--uid-map", "a uid_map line; repeatable; needs --unshare-user or --unshare-all",
                    (parser, option, values) -> parser.uidMappings.add(idMapping(option, values.get(0))),
                    "INSIDE:OUTSIDE:COUNT"),
            option("--gid-map", "a gid_map line; repeatable; needs --unshare-user or --unshare-all",
                    (parser, option, values) -> parser.gidMappings.add(idMapping(option, values.get(0))),
                    "INSIDE:OUTSIDE:COUNT"),
            option("--user", "run as these ids inside (GID defaults to UID)",
                    (parser, option, values) -> parser.user = userIds(option, values.get(0)), "UID[:GID]"),
            option("--chdir", "working directory inside (an absolute path)",
                    (parser, option, values) -> parser.directory = values.get(0), "DIR"),
            option("--setenv", "set an environment variable; repeatable", (parser, option, values) -> {
                String name = values.get(0);
                if (name.isEmpty() || name.indexOf('=') >= 0) {
                    throw new UsageException(option, option + ": \"" + name
                            + "\" is not a variable name (it must be non-empty and have no '=')");
                }
                parser.environment.put(name, values.get(1));
            }, "NAME", "VALUE"),
            option("--inherit-env", "pass the runner's whole environment in",
                    (parser, option, values) -> parser.inheritEnvironment = true),
            option("--inherit-env-var", "pass one variable of the runner's environment in, if set; repeatable",
                    (parser, option, values) -> parser.inheritedVariables.add(values.get(0)), "NAME"),
            option("--stdin", "read standard input from FILE",
                    (parser, option, values) -> parser.stdin = Redirect.from(file(option, values.get(0))), "FILE"),
            option("--stdout", "write standard output to FILE, truncating it",
                    (parser, option, values) -> parser.stdout = Redirect.to(file(option, values.get(0))), "FILE"),
            option("--stdout-append", "append standard output to FILE",
                    (parser, option, values) -> parser.stdout = Redirect.appendTo(file(option, values.get(0))),
                    "FILE"),
            option("--stderr", "write standard error to FILE, truncating it",
                    (parser, option, values) -> parser.redirectError(option, Redirect.to(file(option, values.get(0)))),
                    "FILE"),
            option("--stderr-append", "append standard error to FILE",
                    (parser, option, values) -> parser.redirectError(option,
                            Redirect.appendTo(file(option, values.get(0)))), "FILE"),
            option("--merge-stderr", "send standard error wherever standard output goes",
                    (parser, option, values) -> parser.mergeStderr = true),
            option("--outcome", "when the program ends, say how on the runner's standard error",
                    (parser, option, values) -> parser.printOutcome = true),
            filesystem("--root", "a host directory as the root (copy-on-write overlay by default)",
                    (parser, option, values) -> parser.rootDirectory = path(option, values.get(0)), "DIR"),
            option("--image", "an OCI image layout directory or 'docker save' tar as the root (see below)",
                    (parser, option, values) -> {
                        parser.image = path(option, values.get(0));
                        parser.namespaces.add(Namespace.MOUNT);
                    }, "PATH"),
            option("--layer-store", "where image layers are unpacked and changes committed (see below)",
                    (parser, option, values) -> parser.layerStore = path(option, values.get(0)), "DIR"),
            filesystem("--overlay", "force a copy-on-write overlay root (also over the host root, as root only)",
                    (parser, option, values) -> parser.rootMode(option, RootMode.OVERLAY)),
            filesystem("--copied-root", "a private copy of the --root directory instead of an overlay",
                    (parser, option, values) -> parser.rootMode(option, RootMode.COPY)),
            filesystem("--read-only-root", "make the root read-only after the mounts",
                    (parser, option, values) -> parser.readOnlyRoot = true),
            filesystem("--bind", "mount a host file or directory at DEST; repeatable", (parser, option, values) ->
                    parser.mounts.add(new Mount.Bind(path(option, values.get(0)), values.get(1), false)),
                    "SRC", "DEST"),
            filesystem("--ro-bind", "the same, read-only; repeatable", (parser, option, values) ->
                    parser.mounts.add(new Mount.Bind(path(option, values.get(0)), values.get(1), true)),
                    "SRC", "DEST"),
            filesystem("--tmpfs", "a tmpfs at DEST of at most SIZE bytes, with permissions MODE; repeatable",
                    (parser, option, values) -> parser.mounts.add(tmpfs(option, values.get(0))),
                    "DEST[:SIZE[:MODE]]"),
            filesystem("--proc", "a fresh proc filesystem at DEST; repeatable",
                    (parser, option, values) -> parser.mounts.add(new Mount.Proc(values.get(0))), "DEST"),
            filesystem("--dev", "a minimal /dev at DEST; repeatable",
                    (parser, option, values) -> parser.mounts.add(new Mount.Dev(values.get(0))), "DEST"),
            filesystem("--ro-sys", "sysfs, read-only, at DEST; repeatable",
                    (parser, option, values) -> parser.mounts.add(new Mount.Sys(values.get(0))), "DEST"),
            filesystem("--volume", "a named volume at DEST, created on first use (:ro read-only); repeatable",
                    (parser, option, values) -> parser.mounts.add(volume(option, values.get(0))),
                    "NAME:DEST[:ro]"),
            option("--volume-store", "where named volumes are kept (see below)",
                    (parser, option, values) -> parser.volumeStore = path(option, values.get(0)), "DIR"),
            filesystem("--no-standard-mounts", "no default /proc, /dev and /tmp",
                    (parser, option, values) -> parser.standardMounts = false),
            filesystem("--keep-changes", "at exit, keep the overlay's changes in DIR (which must not exist)",
                    (parser, option, values) -> parser.keepChanges = path(option, values.get(0)), "DIR"),
            filesystem("--commit-layer", "at exit, commit the overlay's changes as a layer of the layer store",
                    (parser, option, values) -> parser.commitLayer = true),
            filesystem("--changes", "at exit, list the root's changes on standard error: A, M or D and the path",
                    (parser, option, values) -> parser.printChanges = true),
            new OptionSpec(List.of("--help", "-h"), List.of(), "show this help and exit",
                    (parser, option, values) -> parser.help = true));

    /** The options of the "Resources:" section of the help. */
    private static final List<OptionSpec> RESOURCE_OPTIONS = List.of(
            option("--memory", "memory limit; the OOM killer ends the program beyond it",
                    (parser, option, values) -> parser.memory = OptionalLong.of(size(option, values.get(0))),
                    "SIZE"),
            option("--memory-swap", "swap the program may use besides --memory",
                    (parser, option, values) -> parser.memorySwap = OptionalLong.of(size(option, values.get(0))),
                    "SIZE"),
            option("--memory-high", "memory above which the program is throttled and reclaimed",
                    (parser, option, values) -> parser.memoryHigh = OptionalLong.of(size(option, values.get(0))),
                    "SIZE"),
            option("--cpus", "CPU quota: N CPUs' worth of time, e.g. 0.5",
                    (parser, option, values) -> parser.cpus = OptionalDouble.of(cpus(option, values.get(0))), "N"),
            option("--cpu-period", "the period of --cpus in milliseconds (default "
                    + ResourceLimits.DEFAULT_CPU_PERIOD.toMillis() + ")",
                    (parser, option, values) -> parser.cpuPeriodMillis = OptionalLong.of(number(option,
                            values.get(0))), "DURATION-MS"),
            option("--cpu-weight", "relative share of CPU time, " + ResourceLimits.MIN_WEIGHT + ".."
                    + ResourceLimits.MAX_WEIGHT + " (default 100)",
                    (parser, option, values) -> parser.cpuWeight = OptionalInt.of(weight(option, values.get(0))),
                    "N"),
            option("--cpuset-cpus", "the CPUs the program may run on, e.g. 0-1,3",
                    (parser, option, values) -> parser.cpusetCpus = values.get(0), "LIST"),
            option("--cpuset-mems", "the memory nodes it may use, e.g. 0",
                    (parser, option, values) -> parser.cpusetMems = values.get(0), "LIST"),
            option("--pids", "at most N tasks (processes and threads) at once",
                    (parser, option, values) -> parser.pids = OptionalLong.of(number(option, values.get(0))), "N"),
            ioRate(IoRate.READ_BPS, "read at most RATE bytes per second from a block device; repeatable",
                    "MAJ:MIN:RATE"),
            ioRate(IoRate.WRITE_BPS, "write at most RATE bytes per second to it; repeatable", "MAJ:MIN:RATE"),
            ioRate(IoRate.READ_IOPS, "at most N reads per second from it; repeatable", "MAJ:MIN:N"),
            ioRate(IoRate.WRITE_IOPS, "at most N writes per second to it; repeatable", "MAJ:MIN:N"),
            option("--io-weight", "relative share of block I/O, " + ResourceLimits.MIN_WEIGHT + ".."
                    + ResourceLimits.MAX_WEIGHT + " (default 100)",
                    (parser, option, values) -> parser.ioWeight = OptionalInt.of(weight(option, values.get(0))),
                    "N"),
            option("--cgroup", "a cgroup of its own without limits (for --usage)",
                    (parser, option, values) -> parser.cgroup = true),
            option("--usage", "at exit, print what the cgroup used on standard error (needs a cgroup)",
                    (parser, option, values) -> parser.printUsage = true));

    /** Every option, in the order of the help. */
    private static final List<OptionSpec> ALL_OPTIONS = concat(OPTIONS, RESOURCE_OPTIONS);

    private static List<OptionSpec> concat(List<OptionSpec> first, List<OptionSpec> second) {
        List<OptionSpec> all = new ArrayList<>(first);
        all.addAll(second);
        return List.copyOf(all);
    }

    private static OptionSpec ioRate(IoRate rate, String description, String parameter) {
        return option(rate.option(), description, (parser, option, values) -> parser.ioRate(rate, values.get(0)),
                parameter);
    }

    /** Every option name the parser knows, for tests and help. */
    static List<String> optionNames() {
        List<String> names = new ArrayList<>();
        ALL_OPTIONS.forEach(option -> names.addAll(option.names()));
        return names;
    }

    private static OptionSpec lookup(String name) {
        for (OptionSpec option : ALL_OPTIONS) {
            if (option.names().contains(name)) {
                return option;
            }
        }
        return null;
    }

    private static File file(String option, String path) throws UsageException {
        if (path.isEmpty()) {
            throw new UsageException(option, option + ": the file name is empty");
        }
        return new File(path);
    }

    /** A host path as written (relative ones are resolved against the current directory when the sandbox is built). */
    private static Path path(String option, String text) throws UsageException {
        if (text.isEmpty()) {
            throw new UsageException(option, option + ": the path is empty");
        }
        try {
            return Path.of(text);
        } catch (InvalidPathException e) {
            throw new UsageException(option, option + ": \"" + text + "\" is not a path: " + e.getReason());
        }
    }

    /** Parses {@code UID[:GID]}, unsigned decimal numbers. */
    private static UserIds userIds(String option, String text) throws UsageException {
        String[] parts = text.split(":", -1);
        if (parts.length > 2 || !Arrays.stream(parts).allMatch(part -> DECIMAL.matcher(part).matches())) {
            throw new UsageException(option, option + ": \"" + text
                    + "\" is not UID or UID:GID, decimal numbers");
        }
        try {
            long uid = Long.parseLong(parts[0]);
            return new UserIds(uid, parts.length > 1 ? Long.parseLong(parts[1]) : uid);
        } catch (NumberFormatException e) {
            throw new UsageException(option, option + ": \"" + text + "\" has a number that is too large");
        }
    }

    /** Parses {@code DEST[:SIZE[:MODE]]}: an empty SIZE or MODE is the default. */
    private static Mount.Tmpfs tmpfs(String option, String text) throws UsageException {
        String[] parts = text.split(":", -1);
        if (parts.length > 3) {
            throw new UsageException(option, option + ": \"" + text + "\" is not DEST[:SIZE[:MODE]]");
        }
        OptionalLong size = OptionalLong.empty();
        if (parts.length > 1 && !parts[1].isEmpty()) {
            size = OptionalLong.of(size(option, text, parts[1]));
        }
        int mode = DEFAULT_TMPFS_MODE;
        if (parts.length > 2 && !parts[2].isEmpty()) {
            if (!OCTAL.matcher(parts[2]).matches()) {
                throw new UsageException(option, option + ": \"" + text + "\": mode \"" + parts[2]
                        + "\" is not an octal number");
            }
            mode = Integer.parseInt(parts[2], 8);
        }
        return new Mount.Tmpfs(parts[0], size, mode);
    }

    /** Parses a size in bytes with an optional binary suffix k, m or g (either case). */
    private static long size(String option, String text, String size) throws UsageException {
        return bytes(option, "\"" + text + "\": size \"" + size + "\"", size);
    }

    /** Parses the value of an option that is a size, e.g. {@code --memory 64m}. */
    private static long size(String option, String size) throws UsageException {
        return bytes(option, "\"" + size + "\"", size);
    }

    /**
     * Parses a number of bytes with an optional binary suffix k, m or g (either case); {@code subject} is how the
     * messages name the value.
     */
    private static long bytes(String option, String subject, String size) throws UsageException {
        Matcher matcher = SIZE.matcher(size);
        if (!matcher.matches()) {
            throw new UsageException(option, option + ": " + subject
                    + " is not a number of bytes with an optional k, m or g suffix");
        }
        int shift = switch (matcher.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            default -> 0;
        };
        try {
            long bytes = Long.parseLong(matcher.group(1));
            if (bytes > (Long.MAX_VALUE >> shift)) {
                throw new NumberFormatException();
            }
            return bytes << shift;
        } catch (NumberFormatException e) {
            throw new UsageException(option, option + ": " + subject + " is too large");
        }
    }

    /** Parses an unsigned decimal number. */
    private static long number(String option, String text) throws UsageException {
        return number(option, "\"" + text + "\"", text);
    }

    private static long number(String option, String subject, String text) throws UsageException {
        if (!NUMBER.matcher(text).matches()) {
            throw new UsageException(option, option + ": " + subject + " is not a decimal number");
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new UsageException(option, option + ": " + subject + " is too large");
        }
    }

    /** Parses a weight: a decimal number from {@link ResourceLimits#MIN_WEIGHT} to {@link ResourceLimits#MAX_WEIGHT}. */
    private static int weight(String option, String text) throws UsageException {
        long weight;
        try {
            weight = number(option, text);
        } catch (UsageException e) {
            if (!NUMBER.matcher(text).matches()) {
                throw e;
            }
            weight = Long.MAX_VALUE; // too large for a long: out of range all the same
        }
        if (weight < ResourceLimits.MIN_WEIGHT || weight > ResourceLimits.MAX_WEIGHT) {
            throw new UsageException(option, option + ": \"" + text + "\" is outside the accepted range "
                    + ResourceLimits.MIN_WEIGHT + " to " + ResourceLimits.MAX_WEIGHT);
        }
        return (int) weight;
    }

    /** Parses a number of CPUs: a decimal fraction such as 0.5, 2 or .25 (no sign, no exponent). */
    private static double cpus(String option, String text) throws UsageException {
        if (!FRACTION.matcher(text).matches()) {
            throw new UsageException(option, option + ": \"" + text + "\" is not a number of CPUs such as 0.5 or 2");
        }
        return Double.parseDouble(text);
    }

    /** Parses {@code NAME:DEST[:ro]} (or {@code :rw}); the name is the library's to judge. */
    private static Mount.Volume volume(String option, String text) throws UsageException {
        String[] parts = text.split(":", -1);
        if (parts.length < 2 || parts.length > 3 || (parts.length == 3 && !parts[2].equals("ro")
                && !parts[2].equals("rw"))) {
            throw new UsageException(option, option + ": \"" + text + "\" is not NAME:DEST or NAME:DEST:ro");
        }
        return new Mount.Volume(parts[0], parts[1], parts.length == 3 && parts[2].equals("ro"));
    }

    /** Parses {@code INSIDE:OUTSIDE:COUNT}, three unsigned decimal numbers. */
    private static IdMapping idMapping(String option, String text) throws UsageException {
        String[] parts = text.split(":", -1);
        if (parts.length != 3 || !Arrays.stream(parts).allMatch(part -> DECIMAL.matcher(part).matches())) {
            throw new UsageException(option, option + ": \"" + text
                    + "\" is not a mapping: expected INSIDE:OUTSIDE:COUNT, three decimal numbers");
        }
        try {
            return new IdMapping(Long.parseLong(parts[0]), Long.parseLong(parts[1]), Long.parseLong(parts[2]));
        } catch (NumberFormatException e) {
            throw new UsageException(option, option + ": \"" + text + "\" has a number that is too large");
        } catch (InvalidSandboxSpecException e) {
            throw new UsageException(option, option + ": \"" + text + "\": " + e.getMessage());
        }
    }

    /** The mutable state of one parse. */
    private static final class Parser {
        boolean help;
        List<String> command = List.of();
        final EnumSet<Namespace> namespaces = EnumSet.noneOf(Namespace.class);
        String hostname;
        final List<String> execs = new ArrayList<>();
        Long wallTimeMillis;
        Long cpuTimeMillis;
        final List<IdMapping> uidMappings = new ArrayList<>();
        final List<IdMapping> gidMappings = new ArrayList<>();
        String directory;
        boolean inheritEnvironment;
        final List<String> inheritedVariables = new ArrayList<>();
        final Map<String, String> environment = new LinkedHashMap<>();
        Redirect stdin = Redirect.INHERIT;
        Redirect stdout = Redirect.INHERIT;
        Redirect stderr = Redirect.INHERIT;
        boolean mergeStderr;
        boolean printOutcome;
        String stderrOption;
        boolean filesystem;
        Path rootDirectory;
        Path image;
        Path layerStore;
        RootMode rootMode;
        String rootModeOption;
        boolean readOnlyRoot;
        final List<Mount> mounts = new ArrayList<>();
        Path volumeStore;
        boolean standardMounts = true;
        Path keepChanges;
        boolean commitLayer;
        boolean printChanges;
        UserIds user;
        OptionalLong memory = OptionalLong.empty();
        OptionalLong memorySwap = OptionalLong.empty();
        OptionalLong memoryHigh = OptionalLong.empty();
        OptionalDouble cpus = OptionalDouble.empty();
        OptionalLong cpuPeriodMillis = OptionalLong.empty();
        OptionalInt cpuWeight = OptionalInt.empty();
        String cpusetCpus;
        String cpusetMems;
        OptionalLong pids = OptionalLong.empty();
        final Map<String, IoDevice> io = new LinkedHashMap<>();
        OptionalInt ioWeight = OptionalInt.empty();
        boolean cgroup;
        boolean printUsage;

        void parse(List<String> args) throws UsageException {
            boolean sawSeparator = false;
            int i = 0;
            while (i < args.size()) {
                String arg = args.get(i);
                if (arg.equals("--")) {
                    sawSeparator = true;
                    i++;
                    break;
                }
                if (!arg.startsWith("-") || arg.equals("-")) {
                    break; // the first non-option argument is the program
                }
                OptionSpec option = lookup(arg);
                if (option == null) {
                    throw new UsageException(arg, "unknown option " + arg);
                }
                int count = option.parameters().size();
                if (i + count >= args.size()) {
                    throw new UsageException(arg, "option " + arg + " needs " + (count == 1 ? "a value" : count
                            + " values") + ": " + option.synopsis());
                }
                option.action().apply(this, arg, args.subList(i + 1, i + 1 + count));
                if (help) {
                    return; // --help wins over whatever follows
                }
                i += 1 + count;
            }
            command = args.subList(i, args.size());
            if (command.isEmpty() && image == null) {
                throw sawSeparator
                        ? new UsageException("--", "no program given after --")
                        : new UsageException(null, "no program given");
            }
            requireUserNamespace("--uid-map", uidMappings);
            requireUserNamespace("--gid-map", gidMappings);
            if (mergeStderr && stderrOption != null) {
                throw new UsageException("--merge-stderr", "--merge-stderr conflicts with " + stderrOption
                        + ": standard error cannot go to both");
            }
            checkFilesystem();
            if (cpuPeriodMillis.isPresent() && cpus.isEmpty()) {
                throw new UsageException("--cpu-period", "--cpu-period needs --cpus: it is the period of the quota");
            }
        }

        /** Parses {@code MAJ:MIN:RATE} (a size for the byte rates, a number for the others) and merges it. */
        void ioRate(IoRate rate, String text) throws UsageException {
            String option = rate.option();
            String[] parts = text.split(":", -1);
            String form = rate.bytes ? "MAJ:MIN:RATE" : "MAJ:MIN:N";
            if (parts.length != 3 || !NUMBER.matcher(parts[0]).matches() || !NUMBER.matcher(parts[1]).matches()) {
                throw new UsageException(option, option + ": \"" + text + "\" is not " + form
                        + " (a block device's major and minor numbers, and a rate)");
            }
            String subject = "\"" + text + "\": rate \"" + parts[2] + "\"";
            long value = rate.bytes ? bytes(option, subject, parts[2]) : number(option, subject, parts[2]);
            String device = parts[0] + ":" + parts[1];
            io.put(device, io.getOrDefault(device, IoDevice.of(device)).with(rate, value));
        }

        Resources resources() {
            return new Resources(memory, memorySwap, memoryHigh, cpus, cpuPeriodMillis, cpuWeight,
                    Optional.ofNullable(cpusetCpus), Optional.ofNullable(cpusetMems), pids, List.copyOf(io.values()),
                    ioWeight);
        }

        /** The filesystem options that depend on each other; their values are the library's to judge. */
        private void checkFilesystem() throws UsageException {
            if (image != null && rootDirectory != null) {
                throw new UsageException("--image", "--image conflicts with --root: a sandbox has one root");
            }
            if (rootMode == RootMode.COPY && rootDirectory == null) {
                throw new UsageException("--copied-root", "--copied-root needs --root: only a directory is copied"
                        + (image != null ? " (an image's layers are always stacked as an overlay)" : ""));
            }
            if (keepChanges != null && commitLayer) {
                throw new UsageException("--keep-changes", "--keep-changes conflicts with --commit-layer:"
                        + " the changes go to one place");
            }
            String changesOption = keepChanges != null ? "--keep-changes" : commitLayer ? "--commit-layer" : null;
            boolean overlay = rootMode == RootMode.OVERLAY
                    || (rootMode == null && (rootDirectory != null || image != null));
            if (changesOption != null && !overlay) {
                throw new UsageException(changesOption, changesOption + " needs a copy-on-write root: --root DIR,"
                        + " --image PATH or --overlay");
            }
        }

        void rootMode(String option, RootMode mode) throws UsageException {
            if (rootModeOption != null && rootMode != mode) {
                throw new UsageException(option, option + " conflicts with " + rootModeOption
                        + ": the root is either an overlay or a copy");
            }
            rootMode = mode;
            rootModeOption = option;
        }

        void redirectError(String option, Redirect destination) {
            stderr = destination;
            stderrOption = option;
        }

        private void requireUserNamespace(String option, List<IdMapping> mappings) throws UsageException {
            if (!mappings.isEmpty() && !namespaces.contains(Namespace.USER)) {
                throw new UsageException(option, option + " needs --unshare-user or --unshare-all");
            }
        }
    }
}
