package dev.isolation.launch;

import dev.isolation.Downgrade;
import java.util.List;

import dev.isolation.cgroups.Cgroup;
import dev.isolation.fs.SandboxFilesystem;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A started sandbox as the launcher hands it over: its sandbox helper (pid, control channel, end), the program's
 * stdio streams (the JVM's ends of its pipes), and the program's host pid.
 */
public final class LaunchedProgram {
    private final long helperPid;
    private final ControlChannel channel;
    private final ProgramStdio stdio;
    private final long programPid;
    private final SandboxFilesystem filesystem;
    private final Cgroup cgroup;
    private final List<Downgrade> downgrades;
    private final String heldNamespaces;
    private final CompletableFuture<Exit> exit = new CompletableFuture<>();
    /** The same end, completed on the exit watcher's thread; only ever waited on (no stages run on that thread). */
    private final CompletableFuture<Exit> reported = new CompletableFuture<>();

    LaunchedProgram(long helperPid, ControlChannel channel, ProgramStdio stdio, long programPid,
            SandboxFilesystem filesystem, Cgroup cgroup, List<Downgrade> downgrades, String heldNamespaces) {
        this.helperPid = helperPid;
        this.channel = channel;
        this.stdio = stdio;
        this.downgrades = List.copyOf(downgrades);
        this.heldNamespaces = heldNamespaces;
        this.cgroup = cgroup;
        this.programPid = programPid;
        this.filesystem = filesystem;
    }

    /** Hands the control channel to the exit watcher, which completes {@link #onExit()}. */
    void watchExit() throws IOException {
        ExitWatcher.watch(channel, report -> reported.complete(exitOf(report)), report -> {
            exit.complete(reported.join());
            stdio.processExited(); // after: a reader holding a stream (orphans keep its pipe open) never delays the end
        });
    }

    /** The host side of the sandbox's filesystem, when it has its own root. */
    public Optional<SandboxFilesystem> filesystem() {
        return Optional.ofNullable(filesystem);
    }

    /** An environment's: the helper's descriptors of its init's namespaces, "user=5,mnt=6,..." ("" otherwise). */
    public String heldNamespaces() {
        return heldNamespaces;
    }

    /** The best-effort protections the sandbox started without. */
    public List<Downgrade> downgrades() {
        return downgrades;
    }

    /** The host pid of the sandbox helper: the parent of the sandbox's first process, alive until it ends. */
    public long helperPid() {
        return helperPid;
    }

    public long programPid() {
        return programPid;
    }

    /** The sandbox's own cgroup, when it has limits. */
    public Optional<Cgroup> cgroup() {
        return Optional.ofNullable(cgroup);
    }

    /** The program's stdin: the JVM's end of its pipe, or a closed stream when it is redirected elsewhere. */
    public OutputStream stdin() {
        return stdio.stdin();
    }

    public InputStream stdout() {
        return stdio.stdout();
    }

    public InputStream stderr() {
        return stdio.stderr();
    }

    /** Whether the sandbox helper has not reported the end yet. */
    public boolean isAlive() {
        return !exit.isDone();
    }

    /**
     * Waits until the helper has reported the end, at most {@code nanos} (forever if negative); null if it has not
     * by then. Sooner than {@link #onExit()}, which completes on a pool thread after it: this one is completed by the
     * exit watcher's own thread, so that a caller waiting for the end does not wait for a second thread too.
     */
    public Exit awaitReported(long nanos) throws InterruptedException {
        try {
            return nanos < 0 ? reported.get() : reported.get(nanos, TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            return null;
        } catch (ExecutionException e) {
            throw new IllegalStateException("the end of the sandbox helper " + helperPid + " was not read", e);
        }
    }

    /**
     * The pool that runs what follows sandboxes' ends: for stages that should not run on whichever thread completes
     * their input (a background thread at the lowest priority, say). Call it from a thread of normal priority: the
     * pool's threads are made by the threads that hand it work.
     */
    public static java.util.concurrent.Executor completions() {
        return ExitWatcher.completions();
    }

    /** Completes when the sandbox has ended, with the program's end as its helper reported it. */
    public CompletableFuture<Exit> onExit() {
        return exit;
    }

    /** Asks the helper to SIGKILL every process of the sandbox. */
    public void kill() {
        if (cgroup != null) {
            try {
                cgroup.killAll(); // every process of the group at once, wherever it double-forked to
            } catch (IOException e) {
                // the helper's kill below still ends the sandbox
            }
        }
        try {
            channel.sendCommand(Wire.COMMAND_KILL);
        } catch (IOException e) {
            // the helper is gone: so is its sandbox
        }
    }

    /** Asks the helper to send SIGTERM to the program (through init, which forwards it). */
    public void terminate() {
        try {
            channel.sendCommand(Wire.COMMAND_TERMINATE);
        } catch (IOException e) {
            // the helper is gone: so is its sandbox
        }
    }

    /** The program's end as the helper reports it: the wait status, and its CPU times and peak resident set. */
    public record Exit(int waitStatus, long userMicros, long systemMicros, long maxRssKib) {
    }

    /** Waits for the end; see {@link #onExit()}. */
    public Exit collectExit() {
        return exit.join();
    }

    /** A helper that died without reporting was killed: SIGKILL, with no usage. */
    private static Exit exitOf(ControlChannel.Report report) {
        if (report == null) {
            return new Exit(9, 0, 0, 0);
        }
        String[] usage = report.detail().trim().split(" ");
        try {
            return usage.length == 3 ? new Exit(report.value(), Long.parseLong(usage[0]), Long.parseLong(usage[1]),
                    Long.parseLong(usage[2])) : new Exit(report.value(), 0, 0, 0);
        } catch (NumberFormatException e) {
            return new Exit(report.value(), 0, 0, 0);
        }
    }
}
