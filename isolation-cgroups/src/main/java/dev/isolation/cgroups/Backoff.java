package dev.isolation.cgroups;

import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * The pauses between polls of a kernel state that usually changes within microseconds (a killed task leaving its
 * group, a freezer settling, an rmdir no longer refused): the first pause is {@link #FIRST_PAUSE}, each next one
 * twice as long up to a ceiling, until a deadline. Millisecond sleeps would cost a start more than the kernel's work.
 */
final class Backoff {
    static final Duration FIRST_PAUSE = Duration.ofNanos(50_000);

    private final long deadline;
    private final long maxPauseNanos;
    private long pauseNanos = FIRST_PAUSE.toNanos();

    private Backoff(Duration patience, Duration maxPause) {
        this.deadline = System.nanoTime() + patience.toNanos();
        this.maxPauseNanos = Math.max(maxPause.toNanos(), pauseNanos);
    }

    /** Polls for at most {@code patience}, pausing at most {@code maxPause} at a time. */
    static Backoff within(Duration patience, Duration maxPause) {
        return new Backoff(patience, maxPause);
    }

    /** Whether the patience is used up. */
    boolean expired() {
        return System.nanoTime() - deadline > 0;
    }

    /** Pauses (never past the deadline by more than one pause), then lengthens the next pause. */
    void pause() throws InterruptedIOException {
        LockSupport.parkNanos(pauseNanos);
        if (Thread.currentThread().isInterrupted()) {
            throw new InterruptedIOException("interrupted while waiting for the kernel");
        }
        pauseNanos = Math.min(pauseNanos * 2, maxPauseNanos);
    }
}
