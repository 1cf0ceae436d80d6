package dev.isolation;

/** The user and group ids a sandboxed program runs as, inside its user namespace (or on the host without one). */
public record UserIdentity(long uid, long gid) {
    public UserIdentity {
        if (uid < 0 || uid > IdMapping.MAX_ID) {
            throw new InvalidSandboxSpecException("user", uid, "is not a uid (0 to " + IdMapping.MAX_ID + ")");
        }
        if (gid < 0 || gid > IdMapping.MAX_ID) {
            throw new InvalidSandboxSpecException("user", gid, "is not a gid (0 to " + IdMapping.MAX_ID + ")");
        }
    }

    public boolean isRoot() {
        return uid == 0;
    }
}
