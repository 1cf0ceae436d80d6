package dev.isolation.launch;

/**
 * Work done beside the starts and ends that callers wait for (setting up ready sandboxes, reading the final usage of
 * a group and removing it): it runs at the lowest priority, so that it takes only CPUs that would otherwise idle and
 * never delays a caller's start or end.
 */
public final class BackgroundWork {
    private static final ThreadLocal<Boolean> LOWERED = ThreadLocal.withInitial(() -> false);

    private BackgroundWork() {
    }

    /**
     * Lowers the calling thread's priority to the lowest (nice 19); best effort: work is the same either way. It
     * cannot be raised again without privileges, and what the thread starts inherits it: such a thread never starts
     * the resident launcher ({@link #isLowered()}).
     */
    public static void lowerThisThreadsPriority() {
        if (!LOWERED.get() && Posix.lowerThisThreadsPriority()) {
            LOWERED.set(true);
        }
    }

    /** Whether the calling thread runs at the lowest priority (a process it started would too). */
    static boolean isLowered() {
        return LOWERED.get();
    }
}
