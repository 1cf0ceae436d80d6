package dev.isolation;

import dev.isolation.cgroups.Cgroup;
import dev.isolation.cgroups.CgroupRemover;
import dev.isolation.cgroups.ResourceUsage;
import dev.isolation.fs.ChangeSet;
import dev.isolation.fs.SandboxFilesystem;
import dev.isolation.launch.BackgroundWork;
import dev.isolation.launch.LaunchedProgram;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A running sandboxed program, as a {@link Process}. Its streams are the program's; {@link #pid()} is the
 * program's pid on the host; {@link #destroy()} sends SIGTERM to the program (its init forwards it) and
 * {@link #destroyForcibly()} kills every process of the sandbox at once. Besides the exit value, the
 * {@link Outcome} says exactly how it ended.
 */
public final class SandboxProcess extends Process {
    private static final System.Logger REMOVAL_LOG = System.getLogger(SandboxProcess.class.getName());
    private final LaunchedProgram launched;
    private final SandboxSpec spec;
    private final CompletableFuture<Outcome> outcome;
    private Outcome finished; // guarded by this: see finish
    private volatile SandboxFilesystem.Result filesystemResult;
    private volatile IOException filesystemFailure;
    /** The cgroup's usage at the end (empty without a group of its own or its environment's, or if unreadable). */
    private final CompletableFuture<Optional<ResourceUsage>> finalUsage = new CompletableFuture<>();
    private volatile ProgramUsage programUsage;
    private volatile boolean destroyed;
    private final java.util.concurrent.atomic.AtomicReference<Outcome.TimedOut> timedOut =
            new java.util.concurrent.atomic.AtomicReference<>();
    private final long startNanos = System.nanoTime();
    private final TimeLimits timeLimits;
    private final Cgroup environmentGroup;
    private final long oomKillsBefore;

    SandboxProcess(LaunchedProgram launched, SandboxSpec spec) {
        this(launched, spec, null, 0);
    }

    /**
     * A program exec'd into an environment whose cgroup is {@code environmentGroup} (null without one), which had
     * counted {@code oomKillsBefore} OOM kills before the program started.
     */
    SandboxProcess(LaunchedProgram launched, SandboxSpec spec, Cgroup environmentGroup, long oomKillsBefore) {
        this.launched = launched;
        this.spec = spec;
        this.environmentGroup = environmentGroup;
        this.oomKillsBefore = oomKillsBefore;
        this.timeLimits = TimeLimits.watch(spec.wallTimeLimit(), spec.cpuTimeLimit(), this::cpuTime, expired -> {
            timedOut.compareAndSet(null, expired);
            launched.kill();
        });
        this.outcome = launched.onExit().thenApply(this::finish);
        outcome.whenComplete((ended, failure) -> finishUsage());
    }

    /**
     * How the sandbox ended, worked out once (by the pool thread that completes {@link #outcome}, or by a caller of
     * {@code waitFor} that heard of the end first): usage, cgroup, filesystem, and the limit or kill behind it.
     */
    private synchronized Outcome finish(LaunchedProgram.Exit exit) {
        if (finished != null) {
            return finished;
        }
        timeLimits.cancel();
        programUsage = new ProgramUsage(java.time.Duration.ofNanos(System.nanoTime() - startNanos),
                java.time.Duration.ofNanos(exit.userMicros() * 1000),
                java.time.Duration.ofNanos(exit.systemMicros() * 1000), exit.maxRssKib() * 1024);
        Outcome ended = finishCgroup(Outcome.fromWaitStatus(exit.waitStatus()));
        finishFilesystem();
        Outcome.TimedOut expired = timedOut.get();
        finished = expired != null ? expired : destroyed ? new Outcome.Destroyed(ended) : ended;
        return finished;
    }

    /**
     * Waits (at most {@code nanos}; forever if negative) for the helper's report of the end and completes the
     * outcome in this thread, rather than waiting for the pool thread that would: one thread handoff less between
     * the end and a waiting caller. Returns false on timeout.
     */
    private boolean awaitOutcome(long nanos) throws InterruptedException {
        if (outcome.isDone()) {
            return true;
        }
        LaunchedProgram.Exit exit = launched.awaitReported(nanos);
        if (exit == null) {
            return false;
        }
        try {
            outcome.complete(finish(exit));
        } catch (RuntimeException e) {
            outcome.completeExceptionally(e);
        }
        return true;
    }

    /** CPU time so far of the program and all it started: the cgroup's when it has its own, else the process tree's. */
    private java.time.Duration cpuTime() {
        Optional<Cgroup> cgroup = launched.cgroup();
        if (cgroup.isPresent()) {
            try {
                ResourceUsage usage = cgroup.get().usage();
                return usage.cpuUser().plus(usage.cpuSystem());
            } catch (IOException e) {
                // removed while it ended: the tree below says what is left
            }
        }
        return TimeLimits.cpuOfTree(launched.helperPid());
    }

    /** Ends the program because a limit of its environment expired: its outcome names that limit. */
    void expire(Outcome.TimedOut limit) {
        if (isAlive()) {
            timedOut.compareAndSet(null, limit);
            launched.kill();
        }
    }

    /** Marks the program as ended by the caller (its environment is being closed), before it is killed. */
    void markDestroyed() {
        destroyed = true;
    }

    /** What the program used, once it has ended (wall time, CPU time, peak memory). */
    public Optional<ProgramUsage> programUsage() {
        if (!outcome.isDone()) {
            return Optional.empty();
        }
        outcome.join();
        return Optional.ofNullable(programUsage);
    }

    /** Live CPU time of the program and everything it started (the cgroup's, when the sandbox has its own). */
    public java.time.Duration cpuTimeSoFar() {
        return cpuTime();
    }

    /**
     * Reads the group's final usage, tells an OOM kill from another SIGKILL, and hands the group to
     * {@link CgroupRemover#shared()}, which removes it off the exit path ({@code flush} waits for it). A program exec'd
     * into an environment shares its group, which stays: its usage is read as the program ends, and a SIGKILL is an
     * OOM kill when the group counted one more while the program ran (the kernel does not say which process of the
     * group it chose: with several programs at once, each one SIGKILLed meanwhile is reported as OOM-killed).
     */
    private Outcome finishCgroup(Outcome ended) {
        boolean killed = ended instanceof Outcome.Signaled signaled && signaled.signal() == 9;
        if (environmentGroup != null) {
            ResourceUsage usage;
            try {
                usage = environmentGroup.usage();
            } catch (IOException e) {
                finalUsage.complete(Optional.empty());
                return ended;               // the environment was closed meanwhile: its group is gone
            }
            finalUsage.complete(Optional.of(usage));
            return killed && usage.oomKills() > oomKillsBefore ? new Outcome.OutOfMemory(9) : ended;
        }
        Optional<Cgroup> cgroup = launched.cgroup();
        if (cgroup.isEmpty()) {
            finalUsage.complete(Optional.empty());
            return ended;
        }
        if (!killed) {
            return ended; // the usage is read, and the group removed, once the outcome is out (finishUsage)
        }
        Optional<ResourceUsage> usage = readFinalUsageAndRemove(cgroup.get());
        return usage.isPresent() && usage.get().oomKills() > 0 ? new Outcome.OutOfMemory(9) : ended;
    }

    /**
     * After the outcome: the final usage of the sandbox's own group, if not read yet (it is only needed for the
     * outcome after a SIGKILL, to tell an OOM kill), is read on the remover's thread, at the lowest priority, just
     * before it removes the group: neither delays the end, nor whoever waits for it.
     */
    private void finishUsage() {
        Optional<Cgroup> cgroup = launched.cgroup();
        if (cgroup.isPresent() && environmentGroup == null && !finalUsage.isDone()) {
            remove(cgroup.get(), () -> {
                BackgroundWork.lowerThisThreadsPriority();
                finalUsage.complete(readUsage(cgroup.get()));
            });
        } else {
            finalUsage.complete(Optional.empty()); // read already, or nothing to read
        }
    }

    /** After a SIGKILL: the usage is read now (the outcome needs it), then the group is removed off the exit path. */
    private Optional<ResourceUsage> readFinalUsageAndRemove(Cgroup cgroup) {
        Optional<ResourceUsage> usage = readUsage(cgroup);
        // queued before the usage is out, so that whoever has the result and then flushes the remover finds it gone
        remove(cgroup, BackgroundWork::lowerThisThreadsPriority);
        finalUsage.complete(usage);
        return usage;
    }

    private Optional<ResourceUsage> readUsage(Cgroup cgroup) {
        try {
            return Optional.of(cgroup.usage());
        } catch (IOException e) {
            REMOVAL_LOG.log(System.Logger.Level.WARNING, "cannot read the final usage of the cgroup of " + this
                    + ": " + e.getMessage());
            return Optional.empty();
        }
    }

    /** Hands the group to the JVM's remover, {@code first} on its thread before the removal. */
    private void remove(Cgroup cgroup, Runnable first) {
        try {
            CgroupRemover.shared().submit(cgroup, first).exceptionally(failure -> {
                REMOVAL_LOG.log(System.Logger.Level.WARNING, "cannot remove the cgroup of " + this
                        + ": " + failure.getMessage());
                return null;
            });
        } catch (IllegalStateException closed) { // the JVM is shutting down: what is left is stale for the next one
            first.run();
        }
    }

    /**
     * What the sandbox's cgroup has used: live while it runs, final once it ended. Empty without limits. For a
     * program exec'd into an environment, the environment's group (everything in it), as it was when the program
     * ended. {@link ResourceUsage#pidsLimitHits()} says whether the pids limit stopped a fork.
     */
    public Optional<ResourceUsage> resourceUsage() throws IOException {
        if (outcome.isDone()) {
            outcome.join();
            return finalUsage.join();
        }
        if (environmentGroup != null) {
            return Optional.of(environmentGroup.usage());
        }
        Optional<Cgroup> cgroup = launched.cgroup();
        return cgroup.isPresent() ? Optional.of(cgroup.get().usage()) : Optional.empty();
    }

    /**
     * What is in force for the program now, read back from the kernel: namespaces, capabilities, no_new_privs,
     * seccomp, rlimits, masked kernel files, cgroup limits. Only while the program runs.
     */
    public AppliedProtections protections() throws IOException {
        if (!isAlive()) {
            throw new IllegalStateException("sandboxed process " + pid() + " has exited: its protections are gone");
        }
        return AppliedProtections.read(pid(), spec, launched.cgroup().isPresent(), launched.downgrades());
    }

    /**
     * The protections marked best-effort that this sandbox started without (empty unless
     * {@link SandboxBuilder#bestEffort} was used and the host could not apply one). Available after the end too.
     */
    public java.util.List<Downgrade> downgrades() {
        return launched.downgrades();
    }

    /** Freezes every process of the sandbox (needs limits, i.e. a cgroup of its own). */
    public void pause() throws IOException {
        requireCgroup("pause").freeze();
    }

    /** Thaws what {@link #pause()} froze. */
    public void resume() throws IOException {
        requireCgroup("resume").thaw();
    }

    private Cgroup requireCgroup(String operation) {
        return launched.cgroup().orElseThrow(() -> new IllegalStateException(operation + " needs a cgroup of the"
                + " sandbox's own: give it limits (ResourceLimits.none() is enough)"));
    }

    /** Lists the changes, applies the filesystem's ChangesPolicy and removes its private directory. */
    private void finishFilesystem() {
        Optional<SandboxFilesystem> filesystem = launched.filesystem();
        if (filesystem.isPresent()) {
            try {
                filesystemResult = filesystem.get().finish();
            } catch (IOException e) {
                filesystemFailure = e;
            }
        }
    }

    @Override
    public OutputStream getOutputStream() {
        return launched.stdin();
    }

    @Override
    public InputStream getInputStream() {
        return launched.stdout();
    }

    @Override
    public InputStream getErrorStream() {
        return launched.stderr();
    }

    @Override
    public int waitFor() throws InterruptedException {
        return waitForOutcome().exitValue();
    }

    @Override
    public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
        try {
            if (!awaitOutcome(Math.max(0, unit.toNanos(timeout)))) {
                return false;
            }
            outcome.get();
            return true;
        } catch (ExecutionException e) {
            throw new IllegalStateException("collecting the outcome of " + this + " failed", e.getCause());
        }
    }

    /** Waits for the program to end and returns how it ended. */
    public Outcome waitForOutcome() throws InterruptedException {
        try {
            awaitOutcome(-1);
            return outcome.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("collecting the outcome of " + this + " failed", e.getCause());
        }
    }

    /** Waits for the program to end; returns how it ended and what its sandbox used. */
    public SandboxResult waitForResult() throws InterruptedException {
        Outcome ended = waitForOutcome();
        return new SandboxResult(ended, programUsage, finalUsage.join());
    }

    /** Completes with the outcome and final usage when the sandbox has ended. */
    public CompletableFuture<SandboxResult> result() {
        // on the exit pool, handed over by the thread that completes the outcome: never on the remover's thread, which
        // completes the final usage at the lowest priority
        return outcome.thenApplyAsync(ended -> new SandboxResult(ended, programUsage, finalUsage.join()),
                LaunchedProgram.completions());
    }

    /** Completes with the outcome when the sandbox has ended. */
    public CompletableFuture<Outcome> outcome() {
        return outcome.copy();
    }

    /**
     * What the program changed in its copy-on-write root: live while it runs, as it was when it ended afterwards.
     * Empty when the sandbox has no overlay root.
     */
    public Optional<ChangeSet> changes() throws IOException {
        if (outcome.isDone()) {
            return filesystemResult().flatMap(SandboxFilesystem.Result::changes);
        }
        Optional<SandboxFilesystem> filesystem = launched.filesystem();
        return filesystem.isPresent() ? filesystem.get().changes() : Optional.empty();
    }

    /**
     * Once the program has ended: what became of its filesystem (changes listed, kept or committed as a layer).
     * Empty while it runs, or when the sandbox has no root of its own.
     */
    public Optional<SandboxFilesystem.Result> filesystemResult() throws IOException {
        if (!outcome.isDone()) {
            return Optional.empty();
        }
        outcome.join();
        if (filesystemFailure != null) {
            throw new IOException("finishing the filesystem of " + this + " failed: " + filesystemFailure.getMessage(),
                    filesystemFailure);
        }
        return Optional.ofNullable(filesystemResult);
    }

    @Override
    public int exitValue() {
        Outcome done = outcome.getNow(null);
        if (done == null) {
            throw new IllegalThreadStateException("sandboxed process " + pid() + " has not exited");
        }
        return done.exitValue();
    }

    @Override
    public boolean isAlive() {
        return !outcome.isDone();
    }

    /**
     * Sends SIGTERM to the program (through the helper and its init); when the program exits, the rest of the
     * sandbox is killed. Unlike {@link Process#destroy()} of the JDK, the streams stay open, so that what the
     * program writes while it ends can still be read.
     */
    @Override
    public void destroy() {
        if (isAlive()) {
            destroyed = true;
            launched.terminate();
        }
    }

    /** Kills every process of the sandbox with SIGKILL. */
    @Override
    public Process destroyForcibly() {
        if (isAlive()) {
            destroyed = true;
            launched.kill();
        }
        return this;
    }

    @Override
    public boolean supportsNormalTermination() {
        return true;
    }

    /** The program's pid as the host sees it. */
    @Override
    public long pid() {
        return launched.programPid();
    }

    @Override
    public CompletableFuture<Process> onExit() {
        return outcome.thenApply(done -> this);
    }

    /** The program's process handle, while it exists. */
    @Override
    public ProcessHandle toHandle() {
        return ProcessHandle.of(pid()).orElseThrow(() -> new IllegalStateException(
                "sandboxed process " + pid() + " no longer exists"));
    }

    @Override
    public String toString() {
        Outcome done = outcome.getNow(null);
        return "SandboxProcess[pid=" + pid() + ", " + (done == null ? "alive" : done) + "]";
    }
}
