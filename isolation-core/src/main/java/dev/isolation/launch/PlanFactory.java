package dev.isolation.launch;

import dev.isolation.Capability;
import dev.isolation.IdMapping;
import dev.isolation.Namespace;
import dev.isolation.PassedDescriptor;
import dev.isolation.Protection;
import dev.isolation.ResourceLimit;
import dev.isolation.SandboxSpec;
import dev.isolation.UserIdentity;
import dev.isolation.fs.FsStep;
import dev.isolation.seccomp.Arch;
import dev.isolation.seccomp.SeccompCompiler;
import dev.isolation.seccomp.SeccompPolicy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.stream.Collectors;

/**
 * Turns a validated spec into the helper's plan. This is where the order of setup is decided: namespaces
 * (one clone), id maps, host name, loopback, mounts, then working directory and exec. Later layers
 * (filesystem, cgroups, security) add their operations here, in their place in that order.
 */
public final class PlanFactory {
    static final String MAX_USER_NAMESPACES = "/proc/sys/user/max_user_namespaces";
    static final long MS_REC = 0x4000;
    static final long MS_PRIVATE = 0x40000;
    /** helper.h CLONE_ENVIRONMENT: init holds the namespaces with no program of its own. */
    static final long CLONE_ENVIRONMENT = 1;
    /** helper.h CLONE_READY: set up ahead, the child waits for the program's stdio before it goes on to exec. */
    static final long CLONE_READY = 2;
    private static final Op MAKE_MOUNTS_PRIVATE =
            new Op(OpType.MOUNT, MS_REC | MS_PRIVATE, 0, List.of("", "/", "", ""), "/");
    /** Each spec's {@link SpecSteps}, kept while the spec is in use (a spec is equal only to itself). */
    private static final Map<SandboxSpec, SpecSteps> SPEC_STEPS = Collections.synchronizedMap(new WeakHashMap<>());

    private PlanFactory() {
    }

    /**
     * @param mayKeepSetgroups whether the caller may leave setgroups(2) allowed in the user namespace (it holds
     *                         CAP_SETGID); an unprivileged caller must write "deny" before its gid_map.
     */
    public static Plan forSpec(SandboxSpec spec, boolean mayKeepSetgroups) {
        return forSpec(spec, mayKeepSetgroups, List.of(), List.of());
    }

    /**
     * The plan of a sandbox whose filesystem is built by {@code filesystemSteps} (empty: no new root) and which
     * joins its cgroup by {@code cgroupProcsFiles} (empty: none) before it runs anything.
     */
    public static Plan forSpec(SandboxSpec spec, boolean mayKeepSetgroups, List<FsStep> filesystemSteps,
            List<Path> cgroupProcsFiles) {
        SpecSteps steps = stepsOf(spec);
        List<Op> ops = new ArrayList<>();
        ops.add(steps.cloneNamespaces());
        ops.addAll(steps.passedDescriptors());
        if (spec.has(Namespace.USER)) {
            Path gidMapper = IdMapWriters.gidMapper(spec);
            if (!mayKeepSetgroups && gidMapper == null) {
                ops.add(Op.of(OpType.SETGROUPS, "deny", "deny"));
            }
            ops.add(idMap(OpType.UID_MAP, steps.uidMap(), IdMapWriters.uidMapper(spec)));
            ops.add(idMap(OpType.GID_MAP, steps.gidMap(), gidMapper));
        }
        for (Path procs : cgroupProcsFiles) {
            // a v1 tasks file is written by the child for itself (see Cgroup.selfJoinFiles)
            long byChild = procs.getFileName().toString().equals("tasks") ? Wire.JOIN_BY_CHILD : 0;
            ops.add(bestEffort(spec, Protection.CGROUP_LIMITS, new Op(OpType.JOIN_CGROUP, byChild, 0,
                    List.of(procs.toString()), procs.toString())));
        }
        ops.addAll(steps.namespaceSetup());
        if (spec.has(Namespace.MOUNT)) {
            // Nothing mounted inside may propagate back to the host's mount table.
            ops.add(MAKE_MOUNTS_PRIVATE);
            filesystemSteps.forEach(step -> ops.add(toOp(step)));
        }
        ops.addAll(steps.afterRoot());
        if (!spec.isEnvironment()) {
            addProgram(ops, spec, steps, mayKeepSetgroups);
        }
        return new Plan(ops);
    }

    /**
     * The plan of a program exec'd into a running environment: join the namespaces of its init (pid
     * whose descriptors its helper {@code holderPid} holds, as {@code heldNamespaces}), fork, join its cgroup, then the same program steps as a first program would take.
     */
    public static Plan forExec(SandboxSpec spec, boolean mayKeepSetgroups, long holderPid, String heldNamespaces,
            List<Path> cgroupProcsFiles) {
        SpecSteps steps = stepsOf(spec);
        List<Op> ops = new ArrayList<>();
        long flags = spec.namespaces().stream().mapToLong(Namespace::cloneFlag).reduce(0, (a, b) -> a | b);
        boolean nested = spec.has(Namespace.MOUNT) && spec.has(Namespace.USER);
        ops.add(new Op(OpType.JOIN_NAMESPACES, holderPid, flags, List.of(nested ? "nested" : "flat", heldNamespaces),
                "/proc/" + holderPid + "/fd"));
        ops.add(new Op(OpType.CLONE, 0, 0, List.of(), "joined " + steps.cloneNamespaces().subject()));
        ops.addAll(steps.passedDescriptors());
        for (Path procs : cgroupProcsFiles) {
            ops.add(Op.of(OpType.JOIN_CGROUP, procs.toString(), procs.toString()));
        }
        addProgram(ops, spec, steps, mayKeepSetgroups);
        return new Plan(ops);
    }

    /** The spec's steps, derived on its first start. */
    private static SpecSteps stepsOf(SandboxSpec spec) {
        SpecSteps steps = SPEC_STEPS.get(spec);
        if (steps == null) {
            steps = SpecSteps.of(spec);
            SPEC_STEPS.put(spec, steps);    // two first starts at once may both derive them: the same steps
        }
        return steps;
    }

    /**
     * The steps that follow from the spec alone, in their order in the plan, derived once per spec (a spec is
     * immutable): everything except the id map writers, the cgroup, the filesystem and what depends on the caller's
     * credentials, which a start decides on its own.
     *
     * @param cloneNamespaces   the clone of the namespaces but the cgroup one; its subject names them all
     * @param passedDescriptors the descriptors the program gets besides 0, 1 and 2
     * @param namespaceSetup    after the cgroup is joined: cgroup namespace, host name, nested user namespace limit,
     *                          loopback
     * @param afterRoot         once the root is built: the mount lock
     * @param capabilities      the program's capabilities as a mask, and {@code capabilityNames} as a person reads them
     * @param programEnd        after identity and capabilities: rlimits, no_new_privs, directory, seccomp, exec
     */
    private record SpecSteps(Op cloneNamespaces, List<Op> passedDescriptors, String uidMap, String gidMap,
            List<Op> namespaceSetup, List<Op> afterRoot, long capabilities, String capabilityNames,
            List<Op> programEnd) {

        static SpecSteps of(SandboxSpec spec) {
            // The cgroup namespace is made once the child is in its cgroup, so that the cgroup is its root.
            long flags = spec.namespaces().stream().filter(ns -> ns != Namespace.CGROUP)
                    .mapToLong(Namespace::cloneFlag).reduce(0, (a, b) -> a | b);
            Op clone = new Op(OpType.CLONE, flags, spec.isEnvironment() ? CLONE_ENVIRONMENT : 0, List.of(),
                    describe(spec));
            List<Op> passed = new ArrayList<>();
            for (PassedDescriptor descriptor : spec.passedDescriptors()) {
                passed.add(new Op(OpType.PASS_FD, descriptor.fd(), descriptor.kind().ordinal(),
                        List.of(descriptor.path().toString(), descriptor.access().wireMode()),
                        descriptor.path().toString()));
            }
            List<Op> setup = new ArrayList<>();
            if (spec.has(Namespace.CGROUP)) {
                setup.add(bestEffort(spec, Protection.CGROUP_NAMESPACE,
                        new Op(OpType.UNSHARE, Namespace.CGROUP.cloneFlag(), 0, List.of(), "cgroup")));
            }
            spec.hostname().ifPresent(name -> setup.add(Op.of(OpType.HOSTNAME, name, name)));
            boolean lockMounts = spec.has(Namespace.MOUNT) && spec.has(Namespace.USER);
            if (spec.has(Namespace.USER) && !spec.nestedUserNamespaces()) {
                // per user namespace: the sandbox can create none, except the one that locks its mounts
                setup.add(bestEffort(spec, Protection.NESTED_USER_NAMESPACE_LIMIT,
                        Op.of(OpType.SYSCTL, MAX_USER_NAMESPACES, MAX_USER_NAMESPACES, lockMounts ? "1" : "0")));
            }
            if (spec.has(Namespace.NETWORK)) {
                setup.add(Op.of(OpType.LOOPBACK_UP, "lo"));
            }
            // root inside could otherwise remount a read-only bind writable: lock every mount's flags. Done by init
            // (or the child) once the root is built, while it holds the capabilities it needs to map every id of the
            // sandbox into the lock; everything that runs in the sandbox, exec'd programs too, lives in it.
            List<Op> afterRoot = lockMounts ? List.of(bestEffort(spec, Protection.MOUNT_LOCK,
                    Op.of(OpType.LOCK_MOUNTS, "/"))) : List.of();
            return new SpecSteps(clone, List.copyOf(passed), mapText(spec.uidMappings()),
                    mapText(spec.gidMappings()), List.copyOf(setup), afterRoot, Capability.mask(spec.capabilities()),
                    spec.capabilities().toString(), spec.isEnvironment() ? List.of() : programEnd(spec));
        }

        private static List<Op> programEnd(SandboxSpec spec) {
            List<Op> ops = new ArrayList<>();
            for (ResourceLimit limit : spec.rlimits()) {
                ops.add(bestEffort(spec, Protection.RLIMITS, new Op(OpType.RLIMIT, limit.resource(), 0,
                        List.of(limit.wireValue(limit.soft()), limit.wireValue(limit.hard())), limit.name())));
            }
            if (spec.noNewPrivileges()) {
                ops.add(new Op(OpType.NO_NEW_PRIVS, 0, 0, List.of(), "no_new_privs"));
            }
            spec.directory().ifPresent(dir -> ops.add(Op.of(OpType.CHDIR, dir, dir)));
            spec.seccomp().ifPresent(policy -> ops.add(bestEffort(spec, Protection.SECCOMP,
                    new Op(OpType.SECCOMP, 0, 0, List.of(filterInHex(policy)), "seccomp filter"))));
            ops.add(exec(spec));
            return List.copyOf(ops);
        }
    }

    /** The steps of the program's own process: identity, capabilities, rlimits, no_new_privs, directory, seccomp. */
    private static void addProgram(List<Op> ops, SandboxSpec spec, SpecSteps steps, boolean mayKeepSetgroups) {
        spec.user().ifPresent(user -> ops.add(new Op(OpType.IDENTITY, user.uid(), user.gid(),
                List.of(groupsArgument(spec, mayKeepSetgroups)), user.uid() + ":" + user.gid())));
        if (spec.has(Namespace.USER) || ThreadCredentials.hasCapability(Credentials.CAP_SETPCAP)) {
            // all five sets, explicitly; a non-root program keeps its capabilities only through the ambient set
            long keep = steps.capabilities();
            boolean root = spec.user().map(UserIdentity::isRoot).orElse(spec.has(Namespace.USER)
                    || ThreadCredentials.effectiveUid() == 0);
            ops.add(new Op(OpType.CAPABILITIES, keep, root ? 0 : keep, List.of(), steps.capabilityNames()));
        }
        ops.addAll(steps.programEnd());
    }

    /** The step as it is, or marked best-effort if the caller allowed {@code protection} to be skipped. */
    private static Op bestEffort(SandboxSpec spec, Protection protection, Op op) {
        return spec.isBestEffort(protection) ? op.bestEffort(protection) : op;
    }

    /** An id map, written by the helper or, with {@code mapper}, by that setuid program of the host. */
    private static Op idMap(OpType type, String text, Path mapper) {
        return mapper == null ? Op.of(type, text, text) : Op.of(type, mapper + " " + text, text, mapper.toString());
    }

    /** What becomes of the supplementary groups: exactly the ones asked for, none, or (setgroups denied) as they are. */
    private static String groupsArgument(SandboxSpec spec, boolean mayKeepSetgroups) {
        if (spec.has(Namespace.USER) && !mayKeepSetgroups) {
            return "";
        }
        if (spec.supplementaryGroups().isEmpty()) {
            return "clear-groups";
        }
        return "groups:" + spec.supplementaryGroups().stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    /** The filter for this machine, in hex. */
    private static String filterInHex(SeccompPolicy policy) {
        return HexFormat.of().formatHex(SeccompCompiler.compile(policy, Arch.current()).bytes());
    }

    private static Op toOp(FsStep step) {
        if (step instanceof FsStep.MountRoot root) {
            return new Op(OpType.ROOT, root.flags(), root.madeByHelper() ? Wire.ROOT_BY_HELPER : 0,
                    List.of(root.source(), root.stagingDirectory(), root.fsType(), root.data()), "/");
        }
        if (step instanceof FsStep.MountInside mount) {
            return new Op(OpType.MOUNT_IN_ROOT, mount.flags(), mount.create().ordinal(),
                    List.of(mount.source(), mount.target(), mount.fsType(), mount.data()), mount.target());
        }
        if (step instanceof FsStep.MakeDirectory mkdir) {
            return new Op(OpType.MKDIR_IN_ROOT, mkdir.mode(), 0, List.of(mkdir.path()), mkdir.path());
        }
        if (step instanceof FsStep.MakeSymlink link) {
            return new Op(OpType.SYMLINK_IN_ROOT, 0, 0, List.of(link.linkTarget(), link.path()), link.path());
        }
        if (step instanceof FsStep.SetReadOnly readOnly) {
            return new Op(OpType.READONLY_IN_ROOT, readOnly.recursive() ? 1 : 0,
                    readOnly.skipIfMissing() ? FsStep.Create.SKIP_IF_MISSING.ordinal() : 0, List.of(readOnly.path()),
                    readOnly.path());
        }
        if (step instanceof FsStep.RebindInside rebind) {
            return new Op(OpType.REBIND_IN_ROOT, 0, 0, List.of(rebind.path()), rebind.path());
        }
        if (step instanceof FsStep.PivotRoot) {
            return new Op(OpType.PIVOT_ROOT, 0, 0, List.of(), "/");
        }
        throw new IllegalArgumentException("unknown filesystem step " + step);
    }

    private static Op exec(SandboxSpec spec) {
        List<String> strings = new ArrayList<>();
        String program = spec.command().get(0);
        strings.add(program);
        strings.add(spec.environment().getOrDefault("PATH", ""));
        strings.addAll(spec.command());
        spec.environment().forEach((name, value) -> strings.add(name + "=" + value));
        return new Op(OpType.EXEC, spec.command().size(), spec.environment().size(), strings, program);
    }

    private static String mapText(List<IdMapping> mappings) {
        return mappings.stream()
                .map(m -> m.insideId() + " " + m.outsideId() + " " + m.count() + "\n")
                .collect(Collectors.joining());
    }

    private static String describe(SandboxSpec spec) {
        return spec.namespaces().isEmpty() ? "none"
                : spec.namespaces().stream().map(Namespace::procName).collect(Collectors.joining(","));
    }
}
