package dev.isolation.launch;

import dev.isolation.IdMapping;
import dev.isolation.Namespace;
import dev.isolation.SandboxSpec;
import dev.isolation.SandboxStartException;
import dev.isolation.UserIdentity;
import dev.isolation.fs.FilesystemSpec;
import dev.isolation.fs.RootMode;
import dev.isolation.fs.RootSource;
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
            if (!KernelFeatures.hasNamespace(namespace)) {
                Path link = KernelFeatures.namespaceLink(namespace);
                throw failure(spec, "this kernel has no " + namespace.procName() + " namespace (" + link
                        + " is missing)", link.toString());
            }
        }
        if (spec.filesystem().isPresent()) {
            checkFilesystem(spec, spec.filesystem().get());
        }
        if (spec.user().isPresent()) {
            checkIdentity(spec, spec.user().get());
        }
        if (spec.namespaces().isEmpty() || ThreadCredentials.hasCapability(Credentials.CAP_SYS_ADMIN)) {
            return;
        }
        if (!spec.has(Namespace.USER)) {
            String names = spec.namespaces().stream().map(Namespace::procName).collect(Collectors.joining(", "));
            throw failure(spec, "creating the namespaces [" + names + "] needs CAP_SYS_ADMIN, which uid "
                    + ThreadCredentials.effectiveUid() + " does not have; add userNamespace() to create them"
                    + " unprivileged (the caller is then root inside)", "");
        }
        requireSysctl(spec, "/proc/sys/user/max_user_namespaces");
        requireSysctl(spec, "/proc/sys/kernel/unprivileged_userns_clone");
        if (IdMapWriters.usesMapper(spec, Credentials.CAP_SETUID)) {
            requireSubordinate(spec, "uidMapping", spec.uidMappings(), ThreadCredentials.effectiveUid(),
                    SubordinateIds.NEWUIDMAP, SubordinateIds.SUBUID);
        } else if (!ThreadCredentials.hasCapability(Credentials.CAP_SETUID)) {
            requireOwnIdOnly(spec, "uidMapping", spec.uidMappings(), ThreadCredentials.effectiveUid());
        }
        if (IdMapWriters.usesMapper(spec, Credentials.CAP_SETGID)) {
            requireSubordinate(spec, "gidMapping", spec.gidMappings(), ThreadCredentials.effectiveGid(),
                    SubordinateIds.NEWGIDMAP, SubordinateIds.SUBGID);
        } else if (!ThreadCredentials.hasCapability(Credentials.CAP_SETGID)) {
            requireOwnIdOnly(spec, "gidMapping", spec.gidMappings(), ThreadCredentials.effectiveGid());
        }
    }

    /**
     * With the setuid mapper: it must be there, setuid root, and every mapped host id must be the caller's own or in
     * its subordinate ranges (which the mapper checks too; here it fails before anything is spawned, with the why).
     */
    private static void requireSubordinate(SandboxSpec spec, String field, List<IdMapping> mappings, long ownId,
            List<Path> mapperCandidates, Path rangesFile) throws IOException {
        Path mapper = SubordinateIds.mapper(mapperCandidates);
        if (mapper == null) {
            throw failure(spec, field + ": subordinateIdMaps() needs the setuid " + mapperCandidates.get(0)
                    + ", which is not installed (Debian package uidmap)", mapperCandidates.get(0).toString());
        }
        int mode = (Integer) Files.getAttribute(mapper, "unix:mode");
        int owner = (Integer) Files.getAttribute(mapper, "unix:uid");
        if ((mode & 04000) == 0 || owner != 0) {
            throw failure(spec, field + ": " + mapper + " is not setuid root, so it cannot write the map",
                    mapper.toString());
        }
        List<SubordinateIds.Range> ranges = SubordinateIds.of(rangesFile, System.getProperty("user.name", ""), ownId);
        for (IdMapping mapping : mappings) {
            boolean own = mapping.count() == 1 && mapping.outsideId() == ownId;
            boolean granted = ranges.stream().anyMatch(r -> mapping.outsideId() >= r.start()
                    && mapping.outsideId() + mapping.count() <= r.start() + r.count());
            if (!own && !granted) {
                throw failure(spec, field + " " + mapping + " maps host ids that are neither the caller's own ("
                        + ownId + ") nor granted to it in " + rangesFile + " " + ranges, rangesFile.toString());
            }
        }
    }

    private static void checkIdentity(SandboxSpec spec, UserIdentity user) throws SandboxStartException {
        if (!spec.supplementaryGroups().isEmpty() && spec.has(Namespace.USER) && !IdMapWriters.setgroupsAllowed(spec)) {
            throw failure(spec, "supplementary groups " + spec.supplementaryGroups() + " need setgroups(2), which the"
                    + " kernel denies in a user namespace made by an unprivileged caller", "");
        }
        for (long group : spec.supplementaryGroups()) {
            if (spec.has(Namespace.USER) && !mapped(spec.gidMappings(), group)) {
                throw failure(spec, "supplementary group " + group + " is not mapped in the user namespace (gid map "
                        + spec.gidMappings() + ")", "");
            }
        }
        if (spec.has(Namespace.USER)) {
            if (!mapped(spec.uidMappings(), user.uid()) || !mapped(spec.gidMappings(), user.gid())) {
                throw failure(spec, "user " + user.uid() + ":" + user.gid() + " is not mapped in the user namespace"
                        + " (uid map " + spec.uidMappings() + ", gid map " + spec.gidMappings() + ")", "");
            }
        } else if ((user.uid() != ThreadCredentials.effectiveUid()
                || user.gid() != ThreadCredentials.effectiveGid())
                && !ThreadCredentials.hasCapability(Credentials.CAP_SETUID)) {
            throw failure(spec, "switching to user " + user.uid() + ":" + user.gid() + " needs CAP_SETUID and"
                    + " CAP_SETGID; add userNamespace() to run as that user inside one", "");
        }
    }

    private static boolean mapped(List<IdMapping> mappings, long id) {
        return mappings.stream().anyMatch(m -> id >= m.insideId() && id < m.insideId() + m.count());
    }

    private static void checkFilesystem(SandboxSpec spec, FilesystemSpec filesystem) throws SandboxStartException {
        if (filesystem.mode() != RootMode.OVERLAY) {
            return;
        }
        if (!KernelFeatures.hasFilesystem("overlay")) {
            throw failure(spec, "this kernel has no overlayfs (not in /proc/filesystems): ask for a copied root"
                    + " instead (FilesystemSpec.builder().copiedRoot())", "");
        }
        // As root, the helper makes such an overlay itself, before the user namespace exists (MountCompiler).
        if (filesystem.root() instanceof RootSource.HostRoot && spec.has(Namespace.USER)
                && !Credentials.hasCapability(Credentials.CAP_SYS_ADMIN)) {
            throw failure(spec, "overlayfs refuses the host root as a lower layer inside a user namespace (the"
                    + " host root has mounts below it that a user namespace cannot expose), and without CAP_SYS_ADMIN"
                    + " the overlay cannot be made outside it; use the read-only host root (the default), a directory"
                    + " or image root", "/");
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
        return new SandboxStartException("Cannot run program \"" + spec.programName() + "\" in a sandbox: " + why,
                "preflight", path, 0);
    }
}
