package dev.isolation;

import dev.isolation.launch.BackgroundWork;
import dev.isolation.launch.Launcher;
import dev.isolation.launch.ReadyLaunch;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Sandboxes of one spec, set up ahead of their start ({@link SandboxSpec#keepReady(int)}): their namespaces, root,
 * mounts, cgroup and limits exist, and each waits for the program's stdio. {@link #start()} takes one, hands it the
 * stdio (opened as {@link SandboxSpec#start()} opens the spec's redirects) and runs the program's own last steps
 * (passed descriptors, identity, capabilities, seccomp, exec): most of a start's work is done before it is asked
 * for. A background thread ({@code isolation-ready-sandboxes}) sets up the next one, one at a time.
 *
 * <p>Nothing is shared or reused: each ready sandbox is made exactly as {@code spec.start()} makes one (fresh
 * namespaces, its own root, its own cgroup) and is started once. What differs is when: a ready sandbox was set up
 * when it was prepared, so a bind mount shows the directory its source named then, and its cgroup's CPU time and peak
 * memory include its setup (a few milliseconds of the helper's work). Each costs while it waits what an idle sandbox
 * costs (its helper and init, about 300 KiB of host memory, and its kernel objects).
 *
 * <p>{@link #start()} never waits for a sandbox being set up: with none ready it starts one as {@code spec.start()}
 * does, and a ready one that fails to start is discarded for such a start, so a start throws only what
 * {@code spec.start()} would throw. A failed preparation is not retried until the next start. {@link #close()} ends
 * the sandboxes still waiting (their processes killed, their filesystems and cgroups removed); those started run on.
 */
public final class ReadySandboxes implements AutoCloseable {
    /** The most sandboxes kept ready for one spec. */
    public static final int MAX_READY = 64;
    /** How long after a start the next sandbox's setup waits, unless the program has ended sooner. */
    private static final long GRACE_MILLIS = 10;
    private static final System.Logger LOG = System.getLogger(ReadySandboxes.class.getName());

    private final SandboxSpec spec;
    private final SandboxSpec effective;
    private final List<Downgrade> missingNamespaces = new ArrayList<>();
    private final int count;
    private final Deque<ReadyLaunch> ready = new ArrayDeque<>();
    private final Thread preparer;
    private boolean closed;
    private boolean preparationFailed;

    ReadySandboxes(SandboxSpec spec, int count) {
        if (count < 1 || count > MAX_READY) {
            throw new IllegalArgumentException("count: sandboxes kept ready must be 1 to " + MAX_READY + ", was "
                    + count);
        }
        if (spec.isEnvironment()) {
            throw new IllegalArgumentException("command: an environment's spec cannot be kept ready (it has no"
                    + " program to start); keep a program's spec ready");
        }
        this.spec = spec;
        this.effective = Sandbox.withoutMissingNamespaces(spec, missingNamespaces);
        this.count = count;
        try {
            Launcher.startResidentLauncher(); // here: the preparer runs at the lowest priority, which it would inherit
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "no resident launcher yet; the first start starts one", e);
        }
        this.preparer = new Thread(this::keepPreparing, "isolation-ready-sandboxes");
        preparer.setDaemon(true);
        preparer.start();
    }

    /**
     * Starts the program in a ready sandbox, or as {@link SandboxSpec#start()} does when none is ready. Returns once
     * the program has been exec'd, as {@link Sandbox#start(SandboxSpec)} does.
     *
     * @throws IllegalStateException after {@link #close()}
     */
    public SandboxProcess start() throws IOException {
        ReadyLaunch launch;
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("these ready sandboxes are closed");
            }
            launch = ready.poll();
        }
        SandboxProcess started = null;
        try {
            if (launch != null) {
                try {
                    started = new SandboxProcess(launch.start(), effective);
                } catch (IOException | RuntimeException e) {
                    LOG.log(System.Logger.Level.DEBUG, "a ready sandbox did not start; starting a new one", e);
                }
            }
            if (started == null) {
                started = Sandbox.start(spec);
            }
            return started;
        } finally {
            if (started == null) {
                prepareNext();
            } else {
                // not while the program just started begins: both would want the same CPUs and kernel locks
                CompletableFuture.anyOf(started.onExit(), CompletableFuture.runAsync(() -> { },
                        CompletableFuture.delayedExecutor(GRACE_MILLIS, TimeUnit.MILLISECONDS)))
                        .thenRun(this::prepareNext);
            }
        }
    }

    private synchronized void prepareNext() {
        preparationFailed = false;
        notifyAll();
    }

    /** How many sandboxes are set up and waiting now. */
    public synchronized int readyCount() {
        return ready.size();
    }

    /** Stops preparing and ends the sandboxes still waiting; those started run on. Closing twice does nothing. */
    @Override
    public void close() throws IOException {
        List<ReadyLaunch> waiting;
        synchronized (this) {
            closed = true;
            notifyAll();
            waiting = new ArrayList<>(ready);
            ready.clear();
        }
        boolean interrupted = false;
        while (preparer.isAlive()) {
            try {
                preparer.join(); // it discards what it was preparing
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        IOException failure = discardAll(waiting);
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (failure != null) {
            throw failure;
        }
    }

    private static IOException discardAll(List<ReadyLaunch> launches) {
        IOException failure = null;
        for (ReadyLaunch launch : launches) {
            try {
                launch.discard();
            } catch (IOException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        return failure;
    }

    private void keepPreparing() {
        BackgroundWork.lowerThisThreadsPriority(); // setting up ahead takes only CPUs that would idle
        while (awaitRoom()) {
            ReadyLaunch launch;
            try {
                launch = Launcher.prepare(effective, missingNamespaces);
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "cannot prepare a sandbox; the next start starts one itself", e);
                synchronized (this) {
                    preparationFailed = true;
                }
                continue;
            }
            synchronized (this) {
                if (!closed) {
                    ready.add(launch);
                    continue;
                }
            }
            discardAll(List.of(launch));
        }
    }

    /** Waits until one more is wanted (true) or this is closed (false). */
    private synchronized boolean awaitRoom() {
        while (!closed && (ready.size() >= count || preparationFailed)) {
            try {
                wait();
            } catch (InterruptedException e) {
                return false;
            }
        }
        return !closed;
    }
}
