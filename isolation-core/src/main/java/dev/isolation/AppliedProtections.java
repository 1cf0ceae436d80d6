package dev.isolation;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What is in force for a running sandboxed program, read back from the kernel (/proc/&lt;pid&gt;), not from what was
 * asked: its own namespaces, its capability sets, no_new_privs, its seccomp filters and its resource limits, with
 * the masked and read-only kernel files and the cgroup limits its start applied. {@link #downgraded()} lists
 * requested protections that were not applied: empty unless the caller marked some best-effort
 * ({@link SandboxBuilder#bestEffort}) and the host could not apply them; otherwise such a protection fails the start.
 *
 * @param namespaces      the namespaces the program does not share with the JVM
 * @param effective       its effective capabilities
 * @param bounding        its bounding set
 * @param ambient         its ambient set
 * @param noNewPrivileges no_new_privs is set
 * @param seccompFilters  how many seccomp filters are installed (0: none)
 * @param rlimits         soft and hard limits by resource name, as the kernel reports them ("unlimited" or a number)
 * @param maskedPaths     kernel files masked or made read-only in the sandbox's /proc and /sys
 * @param cgroupLimits    the limits of the sandbox's cgroup, applied at start ("" when it has none)
 * @param downgraded      requested protections that are not in force
 */
public record AppliedProtections(Set<Namespace> namespaces, Set<Capability> effective, Set<Capability> bounding,
        Set<Capability> ambient, boolean noNewPrivileges, int seccompFilters, Map<String, String> rlimits,
        List<String> maskedPaths, String cgroupLimits, List<Downgrade> downgraded) {

    static AppliedProtections read(long pid, SandboxSpec spec, boolean hasCgroup, List<Downgrade> downgraded)
            throws IOException {
        Path proc = Path.of("/proc", Long.toString(pid));
        Map<String, String> status = new LinkedHashMap<>();
        for (String line : Files.readAllLines(proc.resolve("status"))) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                status.put(line.substring(0, colon), line.substring(colon + 1).trim());
            }
        }
        EnumSet<Namespace> own = EnumSet.noneOf(Namespace.class);
        for (Namespace namespace : Namespace.values()) {
            Path jvm = Path.of("/proc/self/ns", namespace.procName());
            Path program = proc.resolve("ns").resolve(namespace.procName());
            if (Files.exists(jvm) && !Files.readSymbolicLink(jvm).equals(Files.readSymbolicLink(program))) {
                own.add(namespace);
            }
        }
        Map<String, String> limits = new LinkedHashMap<>();
        for (String line : Files.readAllLines(proc.resolve("limits"))) {
            // fixed columns: the name in the first 26 characters, then soft, hard and units
            if (line.startsWith("Max ") && line.length() > 26) {
                String[] values = line.substring(26).trim().split("\\s+");
                if (values.length >= 2) {
                    limits.put(line.substring(4, 26).trim(), values[0] + "/" + values[1]);
                }
            }
        }
        List<String> masked = spec.filesystem().filter(fs -> fs.protectKernelFiles())
                .map(fs -> List.copyOf(concat(dev.isolation.fs.MountCompiler.MASKED_PATHS,
                        dev.isolation.fs.MountCompiler.READ_ONLY_PATHS)))
                .orElse(List.of());
        return new AppliedProtections(Set.copyOf(own), capabilities(status.get("CapEff")),
                capabilities(status.get("CapBnd")), capabilities(status.get("CapAmb")),
                "1".equals(status.get("NoNewPrivs")), Integer.parseInt(status.getOrDefault("Seccomp_filters", "0")),
                Map.copyOf(limits), masked, hasCgroup ? spec.limits().map(Object::toString).orElse("") : "",
                List.copyOf(downgraded));
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new java.util.ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private static Set<Capability> capabilities(String hex) {
        EnumSet<Capability> set = EnumSet.noneOf(Capability.class);
        long mask = hex == null ? 0 : Long.parseUnsignedLong(hex, 16);
        for (Capability capability : Capability.values()) {
            if ((mask >>> capability.number() & 1) != 0) {
                set.add(capability);
            }
        }
        return Set.copyOf(set);
    }
}
