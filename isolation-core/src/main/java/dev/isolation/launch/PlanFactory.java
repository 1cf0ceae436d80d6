package dev.isolation.launch;

import dev.isolation.IdMapping;
import dev.isolation.Namespace;
import dev.isolation.SandboxSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Turns a validated spec into the helper's plan. This is where the order of setup is decided: namespaces
 * (one clone), id maps, host name, loopback, mounts, then working directory and exec. Later layers
 * (filesystem, cgroups, security) add their operations here, in their place in that order.
 */
public final class PlanFactory {
    static final long MS_NOSUID = 0x2;
    static final long MS_NODEV = 0x4;
    static final long MS_NOEXEC = 0x8;
    static final long MS_REC = 0x4000;
    static final long MS_PRIVATE = 0x40000;

    private PlanFactory() {
    }

    /**
     * @param mayKeepSetgroups whether the caller may leave setgroups(2) allowed in the user namespace (it holds
     *                         CAP_SETGID); an unprivileged caller must write "deny" before its gid_map.
     */
    public static Plan forSpec(SandboxSpec spec, boolean mayKeepSetgroups) {
        List<Op> ops = new ArrayList<>();
        long flags = spec.namespaces().stream().mapToLong(Namespace::cloneFlag).reduce(0, (a, b) -> a | b);
        ops.add(new Op(OpType.CLONE, flags, 0, List.of(), describe(spec)));
        if (spec.has(Namespace.USER)) {
            if (!mayKeepSetgroups) {
                ops.add(Op.of(OpType.SETGROUPS, "deny", "deny"));
            }
            ops.add(Op.of(OpType.UID_MAP, mapText(spec.uidMappings()), mapText(spec.uidMappings())));
            ops.add(Op.of(OpType.GID_MAP, mapText(spec.gidMappings()), mapText(spec.gidMappings())));
        }
        spec.hostname().ifPresent(name -> ops.add(Op.of(OpType.HOSTNAME, name, name)));
        if (spec.has(Namespace.NETWORK)) {
            ops.add(Op.of(OpType.LOOPBACK_UP, "lo"));
        }
        if (spec.has(Namespace.MOUNT)) {
            // Nothing mounted inside may propagate back to the host's mount table.
            ops.add(mount("", "/", "", MS_REC | MS_PRIVATE, ""));
            if (spec.has(Namespace.PID)) {
                ops.add(mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, ""));
            }
        }
        spec.directory().ifPresent(dir -> ops.add(Op.of(OpType.CHDIR, dir, dir)));
        ops.add(exec(spec));
        return new Plan(ops);
    }

    private static Op mount(String source, String target, String fsType, long flags, String data) {
        return new Op(OpType.MOUNT, flags, 0, List.of(source, target, fsType, data), target);
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
