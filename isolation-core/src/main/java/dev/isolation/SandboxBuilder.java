package dev.isolation;

import dev.isolation.cgroups.CgroupManager;
import dev.isolation.cgroups.ResourceLimits;
import dev.isolation.fs.FilesystemSpec;
import dev.isolation.fs.image.OciImage;
import dev.isolation.seccomp.SeccompPolicy;
import dev.isolation.fs.SandboxPaths;
import dev.isolation.launch.Credentials;
import dev.isolation.launch.SubordinateIds;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Describes a sandboxed program, in the manner of {@link ProcessBuilder}. Obtain one from {@link Sandbox#builder()}.
 * Values are checked as they are set; settings that depend on each other are checked by {@link #build()}.
 * Every rejection is an {@link InvalidSandboxSpecException} naming the setting, thrown before anything is started.
 */
public final class SandboxBuilder {
    /** The search path used when the environment has no PATH, as container runtimes do. */
    public static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    /** The host name of a UTS namespace when none is given: the host's own name is not passed in. */
    public static final String DEFAULT_HOSTNAME = "sandbox";
    /** HOST_NAME_MAX on Linux. */
    static final int MAX_HOSTNAME_BYTES = 64;
    /** The kernel accepts at most 340 lines in a uid_map or gid_map. */
    static final int MAX_MAP_LINES = 340;

    List<String> command = List.of();
    final EnumSet<Namespace> namespaces = EnumSet.noneOf(Namespace.class);
    String hostname;
    final List<IdMapping> uidMappings = new ArrayList<>();
    final List<IdMapping> gidMappings = new ArrayList<>();
    String directory;
    final Map<String, String> environment = new LinkedHashMap<>();
    FilesystemSpec filesystem;
    OciImage image;
    UserIdentity user;
    List<Long> groups = List.of();
    ResourceLimits limits;
    CgroupManager cgroups;
    final EnumSet<Capability> addedCapabilities = EnumSet.noneOf(Capability.class);
    final EnumSet<Capability> droppedCapabilities = EnumSet.noneOf(Capability.class);
    boolean noNewPrivileges = true;
    boolean nestedUserNamespaces;
    SeccompPolicy seccomp = SeccompPolicy.defaultPolicy();
    final Map<String, ResourceLimit> rlimits = new LinkedHashMap<>();
    Redirect input = Redirect.PIPE;
    Redirect output = Redirect.PIPE;
    Redirect error = Redirect.PIPE;
    boolean redirectErrorStream;
    final EnumSet<Protection> bestEffort = EnumSet.noneOf(Protection.class);
    final Map<Integer, PassedDescriptor> passed = new TreeMap<>();
    boolean subordinateIdMaps;
    java.time.Duration wallTimeLimit;
    java.time.Duration cpuTimeLimit;

    SandboxBuilder() {
    }

    SandboxBuilder(SandboxSpec spec) {
        command = spec.command();
        namespaces.addAll(spec.namespaces());
        hostname = spec.hostname().orElse(null);
        uidMappings.addAll(spec.uidMappings());
        gidMappings.addAll(spec.gidMappings());
        directory = spec.directory().orElse(null);
        filesystem = spec.filesystem().orElse(null);
        user = spec.user().orElse(null);
        groups = spec.supplementaryGroups();
        limits = spec.limits().orElse(null);
        cgroups = spec.cgroupManager().orElse(null);
        addedCapabilities.addAll(spec.capabilities());
        droppedCapabilities.addAll(EnumSet.complementOf(EnumSet.copyOf(spec.capabilities().isEmpty()
                ? EnumSet.noneOf(Capability.class) : spec.capabilities())));
        bestEffort.addAll(spec.bestEffort());
        spec.passedDescriptors().forEach(d -> passed.put(d.fd(), d));
        subordinateIdMaps = spec.subordinateIdMaps();
        wallTimeLimit = spec.wallTimeLimit().orElse(null);
        cpuTimeLimit = spec.cpuTimeLimit().orElse(null);
        noNewPrivileges = spec.noNewPrivileges();
        nestedUserNamespaces = spec.nestedUserNamespaces();
        seccomp = spec.seccomp().orElse(null);
        spec.rlimits().forEach(limit -> rlimits.put(limit.name(), limit));
        environment.putAll(spec.environment());
        input = spec.redirectInput();
        output = spec.redirectOutput();
        error = spec.redirectError();
        redirectErrorStream = spec.redirectErrorStream();
    }

    /** The program and its arguments. The program is looked up in the sandbox's PATH when it has no '/'. */
    public SandboxBuilder command(String... command) {
        return command(Arrays.asList(Objects.requireNonNull(command, "command")));
    }

    public SandboxBuilder command(List<String> command) {
        Objects.requireNonNull(command, "command");
        if (command.isEmpty()) {
            throw new InvalidSandboxSpecException("command", "is empty: it needs at least the program");
        }
        for (int i = 0; i < command.size(); i++) {
            requireText("command[" + i + "]", command.get(i));
        }
        if (command.get(0).isEmpty()) {
            throw new InvalidSandboxSpecException("command[0]", "is empty: it must name the program");
        }
        this.command = List.copyOf(command);
        return this;
    }

    /**
     * Every namespace, each with its secure default: a user namespace mapping the caller to root inside,
     * a pid namespace with its own init and /proc, a private mount table, host name {@value #DEFAULT_HOSTNAME},
     * private IPC, a network namespace with only loopback (up), a cgroup namespace and a time namespace.
     */
    public SandboxBuilder allNamespaces() {
        namespaces.addAll(EnumSet.allOf(Namespace.class));
        return this;
    }

    /** Adds one namespace; see the named methods for what each brings. */
    public SandboxBuilder namespace(Namespace namespace) {
        namespaces.add(Objects.requireNonNull(namespace, "namespace"));
        return this;
    }

    /** A pid namespace: an init of the library's is PID 1, the program its child; with a mount namespace, a fresh /proc. */
    public SandboxBuilder pidNamespace() {
        return namespace(Namespace.PID);
    }

    /** A private mount table: nothing mounted inside propagates to the host. */
    public SandboxBuilder mountNamespace() {
        return namespace(Namespace.MOUNT);
    }

    /** A UTS namespace with host name {@value #DEFAULT_HOSTNAME}. */
    public SandboxBuilder utsNamespace() {
        return namespace(Namespace.UTS);
    }

    /** A UTS namespace with the given host name (1 to 64 bytes). */
    public SandboxBuilder utsNamespace(String hostname) {
        requireText("hostname", hostname);
        int bytes = hostname.getBytes(StandardCharsets.UTF_8).length;
        if (bytes == 0 || bytes > MAX_HOSTNAME_BYTES) {
            throw new InvalidSandboxSpecException("hostname", hostname,
                    "is " + bytes + " bytes long; a host name has 1 to " + MAX_HOSTNAME_BYTES);
        }
        this.hostname = hostname;
        return namespace(Namespace.UTS);
    }

    public SandboxBuilder ipcNamespace() {
        return namespace(Namespace.IPC);
    }

    /** A network namespace: no device but loopback, which is brought up. */
    public SandboxBuilder networkNamespace() {
        return namespace(Namespace.NETWORK);
    }

    /** A user namespace mapping the caller's uid and gid to 0 (root) inside. Needed for any namespace when not root. */
    public SandboxBuilder userNamespace() {
        return namespace(Namespace.USER);
    }

    public SandboxBuilder cgroupNamespace() {
        return namespace(Namespace.CGROUP);
    }

    public SandboxBuilder timeNamespace() {
        return namespace(Namespace.TIME);
    }

    /**
     * Adds a line to the user namespace's uid_map (requires {@link #userNamespace()}). Without any, the caller's
     * uid is mapped to 0. An unprivileged caller can map only its own uid.
     */
    public SandboxBuilder uidMapping(IdMapping mapping) {
        uidMappings.add(Objects.requireNonNull(mapping, "uidMapping"));
        return this;
    }

    /** Adds a line to the user namespace's gid_map; see {@link #uidMapping(IdMapping)}. */
    public SandboxBuilder gidMapping(IdMapping mapping) {
        gidMappings.add(Objects.requireNonNull(mapping, "gidMapping"));
        return this;
    }

    /**
     * What the program sees as its files: a root (the host's read-only root, a directory, image layers), overlay or
     * not, read-only or not, mounts in order, and what becomes of the changes. Implies a mount namespace.
     * A mount namespace without a filesystem gets {@link FilesystemSpec#hostReadOnly()}: the host root read-only,
     * a fresh /proc (with a pid namespace), a minimal /dev and a private /tmp.
     */
    public SandboxBuilder filesystem(FilesystemSpec filesystem) {
        this.filesystem = Objects.requireNonNull(filesystem, "filesystem");
        return namespace(Namespace.MOUNT);
    }

    /**
     * Runs the program from an OCI image: its layers become the overlay root (unless {@link #filesystem} names
     * another root, which is a conflict), and its config's Entrypoint + Cmd, Env, WorkingDir and User are defaults
     * that {@link #command}, {@link #environment}, {@link #directory} and {@link #user} override.
     */
    public SandboxBuilder image(OciImage image) {
        this.image = Objects.requireNonNull(image, "image");
        return namespace(Namespace.MOUNT);
    }

    /**
     * The uid and gid the program runs as (inside its user namespace, where the default mapping then maps the
     * caller to this uid rather than to root). Without a user namespace, switching ids needs root.
     */
    public SandboxBuilder user(long uid, long gid) {
        this.user = new UserIdentity(uid, gid);
        return this;
    }

    /**
     * Puts the sandbox in a cgroup of its own with these limits (the same on cgroup v1 and v2): its program is in it
     * before its first instruction, every limit is applied or the start fails naming it, and the group is removed
     * when the sandbox ends. {@link ResourceLimits#none()} gives a group for metering, freezing and killing only.
     */
    public SandboxBuilder limits(ResourceLimits limits) {
        this.limits = Objects.requireNonNull(limits, "limits");
        return this;
    }

    /**
     * Capabilities the program keeps beyond the default (none for a non-root program; for root inside,
     * {@link Capability#ROOT_DEFAULT}), by name with or without CAP_ ("NET_ADMIN", "CAP_SYS_PTRACE").
     */
    public SandboxBuilder addCapabilities(String... names) {
        for (String name : names) {
            Capability capability = Capability.named(name);
            addedCapabilities.add(capability);
            droppedCapabilities.remove(capability);
        }
        return this;
    }

    /** Capabilities the program does not get even if the default would give them. */
    public SandboxBuilder dropCapabilities(String... names) {
        for (String name : names) {
            Capability capability = Capability.named(name);
            droppedCapabilities.add(capability);
            addedCapabilities.remove(capability);
        }
        return this;
    }

    /** no_new_privs (on by default): execve of a setuid or file-capability binary grants nothing. */
    public SandboxBuilder noNewPrivileges(boolean on) {
        noNewPrivileges = on;
        return this;
    }

    /**
     * Whether the program may create user namespaces of its own (off by default: in one it would hold every
     * capability again, if only over that namespace). Applies with a user namespace.
     */
    public SandboxBuilder nestedUserNamespaces(boolean allowed) {
        nestedUserNamespaces = allowed;
        return this;
    }

    /**
     * The seccomp filter installed just before exec (by default {@link SeccompPolicy#defaultPolicy()}: what
     * container runtimes deny, answered with EPERM or ENOSYS). See {@link SeccompPolicy#builder()} and
     * {@link SeccompPolicy#fromOciJson(String)}.
     */
    public SandboxBuilder seccomp(SeccompPolicy policy) {
        seccomp = Objects.requireNonNull(policy, "seccomp");
        return this;
    }

    /** No seccomp filter at all. */
    public SandboxBuilder noSeccomp() {
        seccomp = null;
        return this;
    }

    /** A resource limit by name (nofile, nproc, core, fsize, cpu, as, stack, memlock, ...); core is 0 by default. */
    public SandboxBuilder rlimit(String name, long soft, long hard) {
        ResourceLimit limit = new ResourceLimit(name, soft, hard);
        rlimits.put(limit.name(), limit);
        return this;
    }

    /**
     * Where the sandbox's cgroup is created: e.g. {@code CgroupsV2.under(parent)} for a delegated subtree.
     * Without one, {@link CgroupManager#detect()} picks a safe place (see the README).
     */
    public SandboxBuilder cgroupManager(CgroupManager manager) {
        this.cgroups = Objects.requireNonNull(manager, "cgroupManager");
        return this;
    }

    /** Shorthand for a memory limit in bytes (at least {@value ResourceLimits#MIN_MEMORY_BYTES}); see {@link #limits}. */
    public SandboxBuilder memory(long maxBytes) {
        return editLimits(b -> b.memoryMax(maxBytes));
    }

    /** Shorthand for a CPU quota, e.g. 0.5 of one CPU; see {@link #limits}. */
    public SandboxBuilder cpus(double cpus) {
        return editLimits(b -> b.cpus(cpus));
    }

    /** Shorthand for a limit on the number of tasks (at least 1); see {@link #limits}. */
    public SandboxBuilder pids(long max) {
        return editLimits(b -> b.pidsMax(max));
    }

    private SandboxBuilder editLimits(java.util.function.Consumer<ResourceLimits.Builder> edit) {
        ResourceLimits.Builder builder = ResourceLimits.builder();
        if (limits != null) {
            limits.memoryMax().ifPresent(builder::memoryMax);
            limits.memorySwapMax().ifPresent(builder::memorySwapMax);
            limits.memoryHigh().ifPresent(builder::memoryHigh);
            builder.oomKillsWholeGroup(limits.oomKillsWholeGroup());
            limits.cpuQuota().ifPresent(q -> builder.cpus(q.cpus(), q.period()));
            limits.cpuWeight().ifPresent(builder::cpuWeight);
            limits.cpusetCpus().ifPresent(builder::cpusetCpus);
            limits.cpusetMems().ifPresent(builder::cpusetMems);
            limits.pidsMax().ifPresent(builder::pidsMax);
            limits.ioLimits().forEach(builder::ioLimit);
            limits.ioWeight().ifPresent(builder::ioWeight);
        }
        try {
            edit.accept(builder);
            limits = builder.build();
        } catch (IllegalArgumentException e) {
            String message = e.getMessage();
            int colon = message.indexOf(':');
            throw new InvalidSandboxSpecException(colon > 0 ? message.substring(0, colon) : "limits",
                    colon > 0 ? message.substring(colon + 2) : message);
        }
        return this;
    }

    /**
     * Lets these protections be skipped when the host cannot apply them: the sandbox then starts without them and
     * lists them in {@link SandboxProcess#downgrades()}. By default none is: what cannot be applied fails the start.
     */
    public SandboxBuilder bestEffort(Protection... protections) {
        for (Protection protection : protections) {
            bestEffort.add(Objects.requireNonNull(protection, "bestEffort"));
        }
        return this;
    }

    /**
     * Gives the program the host file {@code hostFile} as descriptor {@code fd} (3 to 1023), opened by the helper on
     * the host before any namespace is made, as the caller. Fails the start, naming the path, if it cannot be opened.
     */
    public SandboxBuilder passFile(int fd, java.nio.file.Path hostFile, PassedDescriptor.Access access) {
        return pass(new PassedDescriptor(fd, PassedDescriptor.Kind.FILE, hostFile, access));
    }

    /**
     * Gives the program, as descriptor {@code fd}, a stream connection to the Unix socket listening at
     * {@code socketPath} on the host (a {@link java.nio.channels.ServerSocketChannel} of the JVM's, for one), made
     * before any namespace: a channel to the host that works with a network namespace too.
     */
    public SandboxBuilder passUnixSocket(int fd, java.nio.file.Path socketPath) {
        return pass(new PassedDescriptor(fd, PassedDescriptor.Kind.UNIX_SOCKET, socketPath,
                PassedDescriptor.Access.READ_WRITE));
    }

    private SandboxBuilder pass(PassedDescriptor descriptor) {
        if (passed.containsKey(descriptor.fd())) {
            throw new InvalidSandboxSpecException("passFile fd", descriptor.fd(), "is already passed ("
                    + passed.get(descriptor.fd()).path() + ")");
        }
        passed.put(descriptor.fd(), descriptor);
        return this;
    }

    /**
     * Opts in to mapping several ids in an unprivileged user namespace through the host's setuid
     * {@code newuidmap}/{@code newgidmap} (Debian package uidmap), within the ranges /etc/subuid and /etc/subgid grant
     * the caller. Without explicit mappings the caller becomes 0 inside and its subordinate ranges 1 and up, so
     * {@link #user} can pick any of them. Off by default: no setuid program of the host is run unless asked.
     */
    public SandboxBuilder subordinateIdMaps() {
        subordinateIdMaps = true;
        return namespace(Namespace.USER);
    }

    /**
     * Kills the program, with everything it started, once this much time has passed since its start; its outcome is
     * then {@link Outcome.TimedOut} naming {@link Outcome.TimeLimit#WALL_CLOCK}. For an environment: the whole
     * environment.
     */
    public SandboxBuilder wallTimeLimit(java.time.Duration limit) {
        wallTimeLimit = requirePositive("wallTimeLimit", limit);
        return this;
    }

    /**
     * Kills the program once it and everything it started have used this much CPU time (user + system; the
     * sandbox's cgroup is read when it has one, else its process tree), checked every twentieth of the limit (10 to
     * 100 ms); its outcome is then {@link Outcome.TimedOut} naming {@link Outcome.TimeLimit#CPU}.
     */
    public SandboxBuilder cpuTimeLimit(java.time.Duration limit) {
        cpuTimeLimit = requirePositive("cpuTimeLimit", limit);
        return this;
    }

    private static java.time.Duration requirePositive(String field, java.time.Duration limit) {
        Objects.requireNonNull(limit, field);
        if (limit.isNegative() || limit.isZero()) {
            throw new InvalidSandboxSpecException(field, limit, "must be positive");
        }
        return limit;
    }

    /** Supplementary groups of the program (at most 64), besides the gid of {@link #user}, which must be set. */
    public SandboxBuilder groups(long... gids) {
        if (gids.length > 64) {
            throw new InvalidSandboxSpecException("groups", gids.length + " groups are more than the 64 accepted");
        }
        List<Long> list = new ArrayList<>();
        for (long gid : gids) {
            if (gid < 0 || gid > IdMapping.MAX_ID) {
                throw new InvalidSandboxSpecException("groups", gid, "is not a gid (0 to " + IdMapping.MAX_ID + ")");
            }
            list.add(gid);
        }
        groups = List.copyOf(list);
        return this;
    }

    /** The working directory inside the sandbox: an absolute path. */
    public SandboxBuilder directory(String directory) {
        requireText("directory", directory);
        try {
            this.directory = SandboxPaths.normalizeAbsolute(directory);
        } catch (IllegalArgumentException e) {
            throw new InvalidSandboxSpecException("directory", e.getMessage());
        }
        return this;
    }

    /** Sets one environment variable. The environment is empty unless set or inherited; PATH has a default. */
    public SandboxBuilder environment(String name, String value) {
        requireText("environment name", name);
        requireText("environment[" + name + "]", value);
        if (name.isEmpty() || name.indexOf('=') >= 0) {
            throw new InvalidSandboxSpecException("environment name", name, "must be non-empty and have no '='");
        }
        environment.put(name, value);
        return this;
    }

    public SandboxBuilder environment(Map<String, String> variables) {
        Objects.requireNonNull(variables, "environment").forEach(this::environment);
        return this;
    }

    /** Copies the JVM's whole environment in (explicitly asked for: nothing is inherited by default). */
    public SandboxBuilder inheritEnvironment() {
        return environment(System.getenv());
    }

    /** Copies the named variables of the JVM's environment in, those that are set. */
    public SandboxBuilder inheritEnvironment(String... names) {
        for (String name : names) {
            String value = System.getenv(name);
            if (value != null) {
                environment(name, value);
            }
        }
        return this;
    }

    public SandboxBuilder redirectInput(Redirect source) {
        if (Objects.requireNonNull(source, "redirectInput").type() == Redirect.Type.WRITE
                || source.type() == Redirect.Type.APPEND) {
            throw new InvalidSandboxSpecException("redirectInput", source.toString(), "is not a source of input");
        }
        input = source;
        return this;
    }

    public SandboxBuilder redirectOutput(Redirect destination) {
        output = requireDestination("redirectOutput", destination);
        return this;
    }

    public SandboxBuilder redirectError(Redirect destination) {
        error = requireDestination("redirectError", destination);
        return this;
    }

    /** Merges the program's standard error into its standard output, as {@link ProcessBuilder} does. */
    public SandboxBuilder redirectErrorStream(boolean merge) {
        redirectErrorStream = merge;
        return this;
    }

    /** The program's standard streams are the JVM's own. */
    public SandboxBuilder inheritIO() {
        input = Redirect.INHERIT;
        output = Redirect.INHERIT;
        error = Redirect.INHERIT;
        return this;
    }

    /**
     * Starts a long-lived environment with these settings (see {@link SandboxEnvironment}): its init holds the
     * namespaces (a pid namespace is added), the root and the cgroup, with no program of its own; programs run in it
     * with {@link SandboxEnvironment#exec}, by default with these settings (redirects included). A command set here is
     * not run: pass it to {@code exec}.
     */
    public SandboxEnvironment startEnvironment() throws IOException {
        List<String> program = command;
        command = List.of();
        SandboxSpec spec;
        try {
            namespaces.add(Namespace.PID);
            spec = build(true);
        } finally {
            command = program;
        }
        return SandboxEnvironment.start(spec);
    }

    /** Checks the settings together and freezes them. */
    public SandboxSpec build() {
        return build(false);
    }

    SandboxSpec build(boolean environmentSpec) {
        ImageDefaults defaults = image == null ? ImageDefaults.NONE : ImageDefaults.of(image);
        List<String> effectiveCommand = !command.isEmpty() || environmentSpec ? command : defaults.command();
        if (effectiveCommand.isEmpty() && !environmentSpec) {
            throw new InvalidSandboxSpecException("command", image == null ? "is not set"
                    : "is not set, and the image has no Entrypoint or Cmd");
        }
        boolean userNamespace = namespaces.contains(Namespace.USER);
        if (!userNamespace && !(uidMappings.isEmpty() && gidMappings.isEmpty())) {
            throw new InvalidSandboxSpecException(uidMappings.isEmpty() ? "gidMapping" : "uidMapping",
                    "needs a user namespace: add userNamespace()");
        }
        if (cgroups != null && limits == null) {
            throw new InvalidSandboxSpecException("cgroupManager", "is set but the sandbox has no cgroup: give it"
                    + " limits (ResourceLimits.none() for metering only)");
        }
        requireDisjoint("uidMapping", uidMappings);
        requireDisjoint("gidMapping", gidMappings);
        UserIdentity effectiveUser = user != null ? user : defaults.user().orElse(null);
        if (!groups.isEmpty() && effectiveUser == null) {
            throw new InvalidSandboxSpecException("groups", "need user(uid, gid) as well");
        }
        String effectiveHostname = namespaces.contains(Namespace.UTS) && hostname == null ? DEFAULT_HOSTNAME : hostname;
        long insideUid = effectiveUser == null ? 0 : effectiveUser.uid();
        long insideGid = effectiveUser == null ? 0 : effectiveUser.gid();
        List<IdMapping> uids = userNamespace && uidMappings.isEmpty()
                ? defaultMapping("uid", SubordinateIds.SUBUID, insideUid, Credentials.effectiveUid()) : uidMappings;
        List<IdMapping> gids = userNamespace && gidMappings.isEmpty()
                ? defaultMapping("gid", SubordinateIds.SUBGID, insideGid, Credentials.effectiveGid()) : gidMappings;
        FilesystemSpec effectiveFilesystem = filesystem;
        if (image != null) {
            effectiveFilesystem = defaults.filesystem(filesystem);
        } else if (namespaces.contains(Namespace.MOUNT) && filesystem == null) {
            effectiveFilesystem = FilesystemSpec.hostReadOnly();
        }
        Map<String, String> env = new LinkedHashMap<>(defaults.environment());
        env.putAll(environment);
        env.putIfAbsent("PATH", DEFAULT_PATH);
        String effectiveDirectory = directory != null ? directory : defaults.workingDirectory().orElse(null);
        EnumSet<Capability> capabilities = effectiveUser == null || effectiveUser.isRoot()
                ? EnumSet.copyOf(Capability.ROOT_DEFAULT) : EnumSet.noneOf(Capability.class);
        capabilities.addAll(addedCapabilities);
        capabilities.removeAll(droppedCapabilities);
        if (seccomp != null && !noNewPrivileges && !capabilities.contains(Capability.SYS_ADMIN)) {
            throw new InvalidSandboxSpecException("seccomp", "the kernel installs a filter only with no_new_privs or"
                    + " CAP_SYS_ADMIN: keep noNewPrivileges(true), add SYS_ADMIN, or noSeccomp()");
        }
        Map<String, ResourceLimit> effectiveRlimits = new LinkedHashMap<>();
        effectiveRlimits.put("core", new ResourceLimit("core", 0, 0)); // no core dumps unless asked
        effectiveRlimits.putAll(rlimits);
        return new SandboxSpec(this, effectiveCommand, effectiveHostname, uids, gids, env, effectiveFilesystem,
                effectiveDirectory, effectiveUser, limits, cgroups, capabilities,
                List.copyOf(effectiveRlimits.values()));
    }

    /**
     * Builds the spec and runs it to its end: {@code Sandbox.run(build())}. A failed start is the outcome
     * {@link Outcome.FailedToStart}; invalid settings still throw, before anything is started.
     */
    public SandboxResult run() throws InterruptedException {
        return Sandbox.run(build());
    }

    /** Builds the spec and starts it: {@code build().start()}. */
    public SandboxProcess start() throws IOException {
        return Sandbox.start(build());
    }

    /**
     * The map when none is given: the caller's own id as {@code insideId}; with {@link #subordinateIdMaps()}, the
     * caller's id as 0 and its subordinate ranges from 1 on (where the inside id then lies among them).
     */
    private List<IdMapping> defaultMapping(String kind, java.nio.file.Path file, long insideId, long ownId) {
        if (!subordinateIdMaps) {
            return List.of(IdMapping.single(insideId, ownId));
        }
        List<SubordinateIds.Range> ranges;
        try {
            ranges = SubordinateIds.of(file, System.getProperty("user.name", ""), ownId);
        } catch (IOException e) {
            throw new InvalidSandboxSpecException("subordinateIdMaps", "cannot read " + file + ": " + e.getMessage());
        }
        if (ranges.isEmpty()) {
            throw new InvalidSandboxSpecException("subordinateIdMaps", file + " grants user "
                    + System.getProperty("user.name", "") + " (" + kind + " " + ownId + ") no subordinate " + kind
                    + "s; an administrator adds them with usermod --add-sub" + kind + "s");
        }
        List<IdMapping> mappings = new ArrayList<>();
        mappings.add(IdMapping.single(0, ownId));
        long next = 1;
        for (SubordinateIds.Range range : ranges) {
            if (mappings.size() == MAX_MAP_LINES || next + range.count() - 1 > IdMapping.MAX_ID) {
                break;
            }
            mappings.add(new IdMapping(next, range.start(), range.count()));
            next += range.count();
        }
        return List.copyOf(mappings);
    }

    private static void requireDisjoint(String field, List<IdMapping> mappings) {
        if (mappings.size() > MAX_MAP_LINES) {
            throw new InvalidSandboxSpecException(field, mappings.size() + " lines are more than the kernel's "
                    + MAX_MAP_LINES);
        }
        for (int i = 0; i < mappings.size(); i++) {
            for (int j = i + 1; j < mappings.size(); j++) {
                if (mappings.get(i).overlaps(mappings.get(j))) {
                    throw new InvalidSandboxSpecException(field, mappings.get(i) + " overlaps " + mappings.get(j));
                }
            }
        }
    }

    private static Redirect requireDestination(String field, Redirect destination) {
        if (Objects.requireNonNull(destination, field).type() == Redirect.Type.READ) {
            throw new InvalidSandboxSpecException(field, destination.toString(), "is not a destination for output");
        }
        return destination;
    }

    private static void requireText(String field, String value) {
        Objects.requireNonNull(value, field);
        if (value.indexOf('\0') >= 0) {
            throw new InvalidSandboxSpecException(field, value, "contains a NUL character");
        }
    }
}
