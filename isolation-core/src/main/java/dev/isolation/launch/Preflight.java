package dev.isolation.launch;

import dev.isolation.IdMapping;
import dev.isolation.Namespace;
import dev.isolation.SandboxSpec;
import dev.isolation.SandboxStartException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Checks what the running kernel and the caller's privileges allow before anything is spawned, so that what
 * cannot work fails with the reason rather than with a bare errno from the helper.
 */
final class Preflight {
    private Preflight() {
    }

    static void check(SandboxSpec spec) throws IOException {
        for (Namespace namespace : spec.namespaces()) {
            Path link = Path.of("/proc/self/ns", namespace.procName());
            if (!Files.exists(link)) {
                throw failure(spec, "this kernel has no " + namespace.procName() + " namespace (" + link
                        + " is missing)", link.toString());
            }
        }
        if (spec.namespaces().isEmpty() || Credentials.hasCapability(Credentials.CAP_SYS_ADMIN)) {
            return;
        }
        if (!spec.has(Namespace.USER)) {
            String names = spec.namespaces().stream().map(Namespace::procName).collect(Collectors.joining(", "));
            throw failure(spec, "creating the namespaces [" + names + "] needs CAP_SYS_ADMIN, which uid "
                    + Credentials.effectiveUid() + " does not have; add userNamespace() to create them unprivileged"
                    + " (the caller is then root inside)", "");
        }
        requireSysctl(spec, "/proc/sys/user/max_user_namespaces");
        requireSysctl(spec, "/proc/sys/kernel/unprivileged_userns_clone");
        if (!Credentials.hasCapability(Credentials.CAP_SETUID)) {
            requireOwnIdOnly(spec, "uidMapping", spec.uidMappings(), Credentials.effectiveUid());
        }
        if (!Credentials.hasCapability(Credentials.CAP_SETGID)) {
            requireOwnIdOnly(spec, "gidMapping", spec.gidMappings(), Credentials.effectiveGid());
        }
    }

    private static void requireSysctl(SandboxSpec spec, String file) throws IOException {
        Path path = Path.of(file);
        if (Files.isReadable(path) && Files.readString(path).trim().equals("0")) {
            throw failure(spec, "unprivileged user namespaces are disabled on this host (" + file + " is 0); "
                    + "an administrator can enable them, or run as root", file);
        }
    }

    private static void requireOwnIdOnly(SandboxSpec spec, String field, List<IdMapping> mappings, long ownId)
            throws IOException {
        if (mappings.size() != 1 || mappings.get(0).count() != 1 || mappings.get(0).outsideId() != ownId) {
            throw failure(spec, field + " " + mappings + ": without CAP_SETUID/CAP_SETGID a user namespace can map"
                    + " only the caller's own id " + ownId + " (one id); mapping more needs privileges", "");
        }
    }

    private static SandboxStartException failure(SandboxSpec spec, String why, String path) {
        return new SandboxStartException("Cannot run program \"" + spec.command().get(0) + "\" in a sandbox: " + why,
                "preflight", path, 0);
    }
}
