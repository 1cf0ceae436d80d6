package dev.isolation.launch;

import dev.isolation.IdMapping;
import dev.isolation.SandboxSpec;
import java.nio.file.Path;
import java.util.List;

/**
 * Who writes a user namespace's id maps: the helper itself (the caller's own id, or any ids with CAP_SETUID /
 * CAP_SETGID), or, when the caller opted in with {@code subordinateIdMaps()} and lacks the capability, the host's
 * setuid newuidmap / newgidmap, which allow the ranges of /etc/subuid and /etc/subgid.
 */
final class IdMapWriters {
    private IdMapWriters() {
    }

    /** The setuid uid mapper to run, or null when the helper writes uid_map itself. */
    static Path uidMapper(SandboxSpec spec) {
        return usesMapper(spec, Credentials.CAP_SETUID) ? SubordinateIds.mapper(SubordinateIds.NEWUIDMAP) : null;
    }

    /** The setuid gid mapper to run, or null when the helper writes gid_map itself. */
    static Path gidMapper(SandboxSpec spec) {
        return usesMapper(spec, Credentials.CAP_SETGID) ? SubordinateIds.mapper(SubordinateIds.NEWGIDMAP) : null;
    }

    static boolean usesMapper(SandboxSpec spec, int capability) {
        return spec.subordinateIdMaps() && !ThreadCredentials.hasCapability(capability);
    }

    /**
     * Whether setgroups(2) stays allowed in the user namespace: with CAP_SETGID, or when newgidmap maps more than
     * the caller's own gid (it then leaves /proc/pid/setgroups at "allow"; an unprivileged writer must deny it).
     */
    static boolean setgroupsAllowed(SandboxSpec spec) {
        if (ThreadCredentials.hasCapability(Credentials.CAP_SETGID)) {
            return true;
        }
        List<IdMapping> gids = spec.gidMappings();
        boolean onlyOwn = gids.size() == 1 && gids.get(0).count() == 1
                && gids.get(0).outsideId() == ThreadCredentials.effectiveGid();
        return usesMapper(spec, Credentials.CAP_SETGID) && !onlyOwn;
    }
}
