package dev.isolation.cgroups;

import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Removes groups on a thread of its own, so that whoever is done with a group (a sandbox that has just ended, once
 * its final usage is read) need not wait for the kernel. Removals run one at a time, in the order submitted;
 * {@link #flush} waits for all those submitted before it, {@link #close} for all of them. The thread exists only
 * while there is something to remove.
 *
 * <p>A group submitted here is removed exactly as {@link Cgroup#remove()} would: whatever is still in it is killed
 * first. So submit a group only once nothing in it should run any more.
 */
public final class CgroupRemover implements AutoCloseable {
    /** How long the JVM's shutdown waits for the removals of {@link #shared()} still queued. */
    static final Duration SHUTDOWN_PATIENCE = Duration.ofSeconds(2);
    private static final Duration IDLE_THREAD_LIFETIME = Duration.ofSeconds(5);

    private final ThreadPoolExecutor thread;
    private final AtomicInteger pending = new AtomicInteger();

    /** A remover with its own thread, named {@code threadName} while it runs. */
    public CgroupRemover(String threadName) {
        Objects.requireNonNull(threadName, "threadName");
        thread = new ThreadPoolExecutor(1, 1, IDLE_THREAD_LIFETIME.toMillis(), TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), task -> {
                    Thread removing = new Thread(task, threadName);
                    removing.setDaemon(true);
                    return removing;
                });
        thread.allowCoreThreadTimeOut(true);
    }

    /**
     * The JVM's remover: at the JVM's shutdown, the removals still queued get {@link #SHUTDOWN_PATIENCE} to finish
     * (what is left then is a stale group, which {@link CgroupManager#removeStale()} of a later JVM removes).
     */
    public static CgroupRemover shared() {
        return Shared.INSTANCE;
    }

    private static final class Shared {
        static final CgroupRemover INSTANCE = new CgroupRemover("isolation-cgroup-remover");

        static {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    INSTANCE.flush(SHUTDOWN_PATIENCE);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "isolation-cgroup-remover-shutdown"));
        }
    }

    /**
     * Queues the removal of {@code group}. The future completes when it is removed, or exceptionally with the
     * {@link IOException} of {@link Cgroup#remove()}.
     *
     * @throws IllegalStateException if this remover is closed
     */
    public CompletableFuture<Void> submit(Cgroup group) {
        return submit(group, () -> { });
    }

    /**
     * Queues {@code first} and then the removal of {@code group}, both on the remover's thread: for what must happen
     * to the group before it goes (reading its final usage), off the caller's path. If {@code first} throws, the group
     * is removed all the same and the future completes exceptionally with what it threw; else as
     * {@link #submit(Cgroup)}'s.
     *
     * @throws IllegalStateException if this remover is closed
     */
    public CompletableFuture<Void> submit(Cgroup group, Runnable first) {
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(first, "first");
        CompletableFuture<Void> removed = new CompletableFuture<>();
        pending.incrementAndGet();
        try {
            thread.execute(() -> {
                RuntimeException firstFailed = null;
                try {
                    first.run();
                } catch (RuntimeException e) {
                    firstFailed = e;
                }
                try {
                    group.remove();
                    if (firstFailed != null) {
                        removed.completeExceptionally(firstFailed);
                    } else {
                        removed.complete(null);
                    }
                } catch (IOException | RuntimeException e) {
                    if (firstFailed != null) {
                        e.addSuppressed(firstFailed);
                    }
                    removed.completeExceptionally(e);
                } finally {
                    pending.decrementAndGet();
                }
            });
        } catch (RejectedExecutionException e) {
            pending.decrementAndGet();
            throw new IllegalStateException("this CgroupRemover is closed: cannot remove " + group.name(), e);
        }
        return removed;
    }

    /** The removals submitted and not finished yet. */
    public int pending() {
        return pending.get();
    }

    /**
     * Waits until every removal submitted before this call has finished (removed or failed), at most
     * {@code timeout}.
     *
     * @return false if some were still running or queued when the timeout passed
     */
    public boolean flush(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        CompletableFuture<Void> reached = new CompletableFuture<>();
        try {
            thread.execute(() -> reached.complete(null));
        } catch (RejectedExecutionException e) {
            return thread.awaitTermination(timeout.toNanos(), TimeUnit.NANOSECONDS);
        }
        try {
            reached.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            throw new AssertionError("the flush marker only ever completes normally", e);
        }
    }

    /** Takes no more removals and waits until those queued have finished. */
    @Override
    public void close() throws InterruptedException {
        thread.shutdown();
        // each removal is bounded (killing, then rmdir with a patience): this ends
        thread.awaitTermination(Long.MAX_VALUE, TimeUnit.NANOSECONDS);
    }

    @Override
    public String toString() {
        return "CgroupRemover[" + pending.get() + " pending]";
    }
}
