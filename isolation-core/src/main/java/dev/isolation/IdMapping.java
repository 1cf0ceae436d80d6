package dev.isolation;

/**
 * One line of a user namespace's uid_map or gid_map: {@code count} ids starting at {@code insideId} inside the
 * namespace are ids starting at {@code outsideId} outside it (user_namespaces(7)).
 */
public record IdMapping(long insideId, long outsideId, long count) {
    /** The largest valid id; 4294967295 is (uid_t) -1 and never a valid id. */
    static final long MAX_ID = 0xFFFF_FFFEL;

    public IdMapping {
        requireId("insideId", insideId);
        requireId("outsideId", outsideId);
        if (count < 1 || count > MAX_ID + 1) {
            throw new InvalidSandboxSpecException("count", count, "must be between 1 and " + (MAX_ID + 1));
        }
        if (insideId + count - 1 > MAX_ID || outsideId + count - 1 > MAX_ID) {
            throw new InvalidSandboxSpecException("count", count, "runs past the largest id " + MAX_ID
                    + " (insideId " + insideId + ", outsideId " + outsideId + ")");
        }
    }

    /** Maps the single id {@code outsideId} to {@code insideId}. */
    public static IdMapping single(long insideId, long outsideId) {
        return new IdMapping(insideId, outsideId, 1);
    }

    boolean overlaps(IdMapping other) {
        return insideId < other.insideId + other.count && other.insideId < insideId + count
                || outsideId < other.outsideId + other.count && other.outsideId < outsideId + count;
    }

    private static void requireId(String field, long id) {
        if (id < 0 || id > MAX_ID) {
            throw new InvalidSandboxSpecException(field, id, "must be between 0 and " + MAX_ID);
        }
    }
}
