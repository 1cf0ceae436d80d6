package dev.isolation;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Wall-clock and CPU-time limits of one program or environment, watched by one timer thread shared by every
 * sandbox of the JVM (no thread per sandbox): the wall limit is one scheduled task, the CPU limit a check every
 * twentieth of it (10 to 100 ms), reading the cgroup's CPU time or, without one, the process tree's from /proc.
 */
final class TimeLimits {
    /** USER_HZ: the unit of the times in /proc/[pid]/stat, 100 on every Linux architecture. */
    private static final long TICKS_PER_SECOND = 100;
    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread thread = new Thread(task, "isolation-time-limits");
        thread.setDaemon(true);
        return thread;
    });

    private final ScheduledFuture<?> wall;
    private final ScheduledFuture<?> cpu;

    private TimeLimits(ScheduledFuture<?> wall, ScheduledFuture<?> cpu) {
        this.wall = wall;
        this.cpu = cpu;
    }

    static final TimeLimits NONE = new TimeLimits(null, null);

    /**
     * Watches the limits until {@link #cancel()}; {@code expire} is called once, with the limit that expired, from
     * the timer thread: it must kill and return quickly.
     */
    static TimeLimits watch(Optional<Duration> wallLimit, Optional<Duration> cpuLimit, Supplier<Duration> cpuMeter,
            Consumer<Outcome.TimedOut> expire) {
        if (wallLimit.isEmpty() && cpuLimit.isEmpty()) {
            return NONE;
        }
        java.util.concurrent.atomic.AtomicBoolean fired = new java.util.concurrent.atomic.AtomicBoolean();
        Consumer<Outcome.TimedOut> once = timedOut -> {
            if (fired.compareAndSet(false, true)) {
                expire.accept(timedOut);
            }
        };
        ScheduledFuture<?> wall = wallLimit.map(limit -> TIMER.schedule(
                () -> once.accept(new Outcome.TimedOut(Outcome.TimeLimit.WALL_CLOCK, limit)),
                limit.toNanos(), TimeUnit.NANOSECONDS)).orElse(null);
        ScheduledFuture<?> cpu = cpuLimit.map(limit -> {
            long period = Math.max(10, Math.min(100, limit.toMillis() / 20));
            return TIMER.scheduleWithFixedDelay(() -> {
                if (cpuMeter.get().compareTo(limit) >= 0) {
                    once.accept(new Outcome.TimedOut(Outcome.TimeLimit.CPU, limit));
                }
            }, period, period, TimeUnit.MILLISECONDS);
        }).orElse(null);
        return new TimeLimits(wall, cpu);
    }

    void cancel() {
        if (wall != null) {
            wall.cancel(false);
        }
        if (cpu != null) {
            cpu.cancel(false);
        }
    }

    /**
     * The CPU time of a process and everything below it, alive or reaped: for each live process its own time plus
     * that of the children it reaped (nothing is counted twice: a child's time joins its parent's only once reaped).
     */
    static Duration cpuOfTree(long rootPid) {
        Optional<ProcessHandle> root = ProcessHandle.of(rootPid);
        if (root.isEmpty()) {
            return Duration.ZERO;
        }
        long ticks = ticksOf(rootPid);
        try (Stream<ProcessHandle> below = root.get().descendants()) {
            ticks += below.mapToLong(handle -> ticksOf(handle.pid())).sum();
        }
        return Duration.ofMillis(ticks * 1000 / TICKS_PER_SECOND);
    }

    private static long ticksOf(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // after the command: state(3) ... utime(14) stime(15) cutime(16) cstime(17)
            return Long.parseLong(fields[11]) + Long.parseLong(fields[12]) + Long.parseLong(fields[13])
                    + Long.parseLong(fields[14]);
        } catch (IOException | RuntimeException e) {
            return 0; // it ended meanwhile: its time is now in its parent's
        }
    }
}
