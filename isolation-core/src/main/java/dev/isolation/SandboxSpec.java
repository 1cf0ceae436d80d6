package dev.isolation;

import dev.isolation.cgroups.CgroupManager;
import dev.isolation.cgroups.ResourceLimits;
import dev.isolation.fs.FilesystemSpec;
import dev.isolation.seccomp.SeccompPolicy;
import java.lang.ProcessBuilder.Redirect;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The complete, validated description of a sandboxed program: immutable, built only by {@link SandboxBuilder}.
 * The same spec can be started many times.
 */
public final class SandboxSpec {
    private final List<String> command;
    private final Set<Namespace> namespaces;
    private final String hostname;
    private final List<IdMapping> uidMappings;
    private final List<IdMapping> gidMappings;
    private final String directory;
    private final Map<String, String> environment;
    private final FilesystemSpec filesystem;
    private final UserIdentity user;
    private final List<Long> supplementaryGroups;
    private final ResourceLimits limits;
    private final CgroupManager cgroupManager;
    private final Set<Capability> capabilities;
    private final boolean noNewPrivileges;
    private final boolean nestedUserNamespaces;
    private final SeccompPolicy seccomp;
    private final List<ResourceLimit> rlimits;
    private final Redirect input;
    private final Redirect output;
    private final Redirect error;
    private final boolean redirectErrorStream;
    private final Set<Protection> bestEffort;
    private final List<PassedDescriptor> passedDescriptors;
    private final boolean subordinateIdMaps;
    private final java.time.Duration wallTimeLimit;
    private final java.time.Duration cpuTimeLimit;

    SandboxSpec(SandboxBuilder builder, List<String> command, String hostname, List<IdMapping> uidMappings,
            List<IdMapping> gidMappings, Map<String, String> environment, FilesystemSpec filesystem, String directory,
            UserIdentity user, ResourceLimits limits, CgroupManager cgroupManager, Set<Capability> capabilities,
            List<ResourceLimit> rlimits) {
        this.command = List.copyOf(command);
        this.namespaces = Collections.unmodifiableSet(EnumSet.copyOf(builder.namespaces));
        this.hostname = hostname;
        this.uidMappings = List.copyOf(uidMappings);
        this.gidMappings = List.copyOf(gidMappings);
        this.directory = directory;
        this.user = user;
        this.supplementaryGroups = List.copyOf(builder.groups);
        this.limits = limits;
        this.cgroupManager = cgroupManager;
        this.capabilities = Collections.unmodifiableSet(capabilities.isEmpty() ? EnumSet.noneOf(Capability.class)
                : EnumSet.copyOf(capabilities));
        this.noNewPrivileges = builder.noNewPrivileges;
        this.nestedUserNamespaces = builder.nestedUserNamespaces;
        this.seccomp = builder.seccomp;
        this.rlimits = List.copyOf(rlimits);
        this.environment = Collections.unmodifiableMap(new LinkedHashMap<>(environment));
        this.filesystem = filesystem;
        this.input = builder.input;
        this.output = builder.output;
        this.error = builder.error;
        this.redirectErrorStream = builder.redirectErrorStream;
        this.bestEffort = Collections.unmodifiableSet(builder.bestEffort.isEmpty() ? EnumSet.noneOf(Protection.class)
                : EnumSet.copyOf(builder.bestEffort));
        this.passedDescriptors = List.copyOf(builder.passed.values());
        this.subordinateIdMaps = builder.subordinateIdMaps;
        this.wallTimeLimit = builder.wallTimeLimit;
        this.cpuTimeLimit = builder.cpuTimeLimit;
    }

    /** The wall-clock limit of the program (of the environment, for an environment's spec). */
    public Optional<java.time.Duration> wallTimeLimit() {
        return Optional.ofNullable(wallTimeLimit);
    }

    /** The CPU-time limit of the program and everything it starts. */
    public Optional<java.time.Duration> cpuTimeLimit() {
        return Optional.ofNullable(cpuTimeLimit);
    }

    /** The protections the caller let the sandbox start without, when the host cannot apply them. */
    public Set<Protection> bestEffort() {
        return bestEffort;
    }

    public boolean isBestEffort(Protection protection) {
        return bestEffort.contains(protection);
    }

    /** The descriptors the program gets besides 0, 1 and 2, by number. */
    public List<PassedDescriptor> passedDescriptors() {
        return passedDescriptors;
    }

    /** Whether the id maps may be written by the host's setuid newuidmap/newgidmap (an opt-in). */
    public boolean subordinateIdMaps() {
        return subordinateIdMaps;
    }

    /** The same spec without one namespace: for a best-effort namespace the kernel lacks. */
    SandboxSpec withoutNamespace(Namespace namespace) {
        SandboxBuilder builder = toBuilder();
        builder.namespaces.remove(namespace);
        return builder.build();
    }

    /** A builder holding this spec's settings, to derive a variant from it. */
    public SandboxBuilder toBuilder() {
        return new SandboxBuilder(this);
    }

    /** Runs the program to its end. Same as {@code Sandbox.run(this)}. */
    public SandboxResult run() throws InterruptedException {
        return Sandbox.run(this);
    }

    /** Starts the program. Same as {@code Sandbox.start(this)}. */
    public SandboxProcess start() throws java.io.IOException {
        return Sandbox.start(this);
    }

    /**
     * Keeps {@code count} sandboxes of this spec set up ahead of their start, so that a start only hands over the
     * program's stdio and runs the program's own last steps: see {@link ReadySandboxes}. Close it to end those not
     * started.
     *
     * @throws IllegalArgumentException if {@code count} is not 1 to {@value ReadySandboxes#MAX_READY}, or this is an
     *                                  environment's spec
     */
    public ReadySandboxes keepReady(int count) {
        return new ReadySandboxes(this, count);
    }

    /** The program and its arguments; empty for an environment's own spec (its programs come with exec). */
    public List<String> command() {
        return command;
    }

    /** Whether this describes an environment: namespaces, root, cgroup and settings held by init, no program yet. */
    public boolean isEnvironment() {
        return command.isEmpty();
    }

    /** The program's name for messages ("environment" for an environment). */
    public String programName() {
        return command.isEmpty() ? "environment" : command.get(0);
    }

    /** The namespaces the program gets of its own. */
    public Set<Namespace> namespaces() {
        return namespaces;
    }

    public boolean has(Namespace namespace) {
        return namespaces.contains(namespace);
    }

    /** The host name inside, when the sandbox has a UTS namespace. */
    public Optional<String> hostname() {
        return Optional.ofNullable(hostname);
    }

    /** The uid_map of the user namespace (empty without one). */
    public List<IdMapping> uidMappings() {
        return uidMappings;
    }

    /** The gid_map of the user namespace (empty without one). */
    public List<IdMapping> gidMappings() {
        return gidMappings;
    }

    /** The working directory inside the sandbox; empty means the helper's (the JVM's) working directory. */
    public Optional<String> directory() {
        return Optional.ofNullable(directory);
    }

    /** The program's supplementary groups. */
    public List<Long> supplementaryGroups() {
        return supplementaryGroups;
    }

    /** The limits of the sandbox's own cgroup; empty: no cgroup of its own. */
    public Optional<ResourceLimits> limits() {
        return Optional.ofNullable(limits);
    }

    /** The capabilities the program runs with (all five sets are set to exactly these before exec). */
    public Set<Capability> capabilities() {
        return capabilities;
    }

    public boolean noNewPrivileges() {
        return noNewPrivileges;
    }

    /** The seccomp filter installed before exec; empty: none. */
    public Optional<SeccompPolicy> seccomp() {
        return Optional.ofNullable(seccomp);
    }

    /** Whether the program may create user namespaces of its own. */
    public boolean nestedUserNamespaces() {
        return nestedUserNamespaces;
    }

    /** The resource limits set before exec. */
    public List<ResourceLimit> rlimits() {
        return rlimits;
    }

    /** Where the sandbox's cgroup is created; empty: the detected default. */
    public Optional<CgroupManager> cgroupManager() {
        return Optional.ofNullable(cgroupManager);
    }

    /** The ids the program runs as; empty: the caller's (root inside a user namespace). */
    public Optional<UserIdentity> user() {
        return Optional.ofNullable(user);
    }

    /** The filesystem the program sees; present exactly when the sandbox has a mount namespace. */
    public Optional<FilesystemSpec> filesystem() {
        return Optional.ofNullable(filesystem);
    }

    /** The program's whole environment: nothing else is passed. */
    public Map<String, String> environment() {
        return environment;
    }

    public Redirect redirectInput() {
        return input;
    }

    public Redirect redirectOutput() {
        return output;
    }

    public Redirect redirectError() {
        return error;
    }

    public boolean redirectErrorStream() {
        return redirectErrorStream;
    }

    @Override
    public String toString() {
        return "SandboxSpec{command=" + command + ", namespaces=" + namespaces
                + (hostname == null ? "" : ", hostname=" + hostname)
                + (uidMappings.isEmpty() ? "" : ", uidMappings=" + uidMappings + ", gidMappings=" + gidMappings)
                + (directory == null ? "" : ", directory=" + directory)
                + (filesystem == null ? "" : ", filesystem=" + filesystem)
                + (limits == null ? "" : ", limits=" + limits) + "}";
    }
}
