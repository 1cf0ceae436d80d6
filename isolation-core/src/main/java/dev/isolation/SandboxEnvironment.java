package dev.isolation;

import dev.isolation.cgroups.Cgroup;
import dev.isolation.cgroups.ResourceUsage;
import dev.isolation.fs.SandboxFilesystem;
import dev.isolation.launch.LaunchedProgram;
import dev.isolation.launch.Launcher;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A long-lived sandbox: its init holds the namespaces, the root filesystem and the cgroup until {@link #close()},
 * and programs run in it with {@link #exec}, several at once, each joining all of that (like {@code docker exec})
 * with the environment's identity and security settings, its own redirects, and its own outcome. Started by
 * {@link SandboxBuilder#startEnvironment()}.
 *
 * <p>Thread-safe. {@link #close()} ends every program in it, then removes what it created (cgroup, private
 * directories); closing twice, while programs are starting, or from another thread is safe: a start in progress
 * completes first, and later ones are refused.
 */
public final class SandboxEnvironment implements AutoCloseable {
    private final SandboxSpec spec;
    private final LaunchedProgram init;
    private final Set<SandboxProcess> programs = ConcurrentHashMap.newKeySet();
    private final ReentrantReadWriteLock startsAndClose = new ReentrantReadWriteLock();
    private final TimeLimits timeLimits;
    private volatile boolean closed;
    private volatile Outcome.TimedOut expired;
    private volatile SandboxFilesystem.Result filesystemResult;

    private SandboxEnvironment(SandboxSpec spec, LaunchedProgram init) {
        this.spec = spec;
        this.init = init;
        this.timeLimits = TimeLimits.watch(spec.wallTimeLimit(), spec.cpuTimeLimit(), this::cpuTime, this::expire);
    }

    static SandboxEnvironment start(SandboxSpec spec) throws IOException {
        List<Downgrade> downgrades = new ArrayList<>();
        return new SandboxEnvironment(spec, Launcher.start(spec, downgrades));
    }

    /** Runs a program in the environment with its settings; see {@link #newExec()} to change some for this one. */
    public SandboxProcess exec(String... command) throws IOException {
        return newExec().command(command).start();
    }

    public SandboxProcess exec(List<String> command) throws IOException {
        return newExec().command(command).start();
    }

    /** A program to run in the environment, with the environment's settings (redirects too) until changed. */
    public Exec newExec() {
        return new Exec(spec.toBuilder());
    }

    private SandboxProcess startProgram(SandboxSpec programSpec) throws IOException {
        startsAndClose.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException("the environment " + pid() + " is closed");
            }
            if (!init.isAlive()) {
                throw new IllegalStateException("the environment " + pid() + " has ended");
            }
            Cgroup group = init.cgroup().orElse(null);
            long oomKillsBefore = group == null ? 0 : group.usage().oomKills();
            SandboxProcess program = new SandboxProcess(Launcher.exec(programSpec, init,
                    group == null ? List.of() : group.procsFiles()), programSpec, group, oomKillsBefore);
            programs.add(program);
            program.onExit().thenRun(() -> programs.remove(program));
            return program;
        } finally {
            startsAndClose.readLock().unlock();
        }
    }

    /** The host pid of the environment's init (PID 1 inside). */
    public long pid() {
        return init.programPid();
    }

    /** Whether the environment is up: not closed, and its init alive. */
    public boolean isAlive() {
        return !closed && init.isAlive();
    }

    /** The programs running in it now. */
    public List<SandboxProcess> programs() {
        return List.copyOf(programs);
    }

    /** The settings programs get by default. */
    public SandboxSpec spec() {
        return spec;
    }

    /** The best-effort protections it started without. */
    public List<Downgrade> downgrades() {
        return init.downgrades();
    }

    /** Live usage of the whole environment (its cgroup); empty without limits. */
    public Optional<ResourceUsage> usage() throws IOException {
        Optional<Cgroup> cgroup = init.cgroup();
        return cgroup.isPresent() && !closed ? Optional.of(cgroup.get().usage()) : Optional.empty();
    }

    /** CPU time so far of everything in the environment: its cgroup's, else init's and each program's tree. */
    public Duration cpuTime() {
        Optional<Cgroup> cgroup = init.cgroup();
        if (cgroup.isPresent()) {
            try {
                ResourceUsage usage = cgroup.get().usage();
                return usage.cpuUser().plus(usage.cpuSystem());
            } catch (IOException e) {
                // being removed: the trees below
            }
        }
        Duration total = TimeLimits.cpuOfTree(init.helperPid());
        for (SandboxProcess program : programs) {
            total = total.plus(program.cpuTimeSoFar());
        }
        return total;
    }

    /** Freezes every process of the environment (needs limits, i.e. a cgroup). */
    public void pause() throws IOException {
        requireCgroup("pause").freeze();
    }

    public void resume() throws IOException {
        requireCgroup("resume").thaw();
    }

    private Cgroup requireCgroup(String operation) {
        return init.cgroup().orElseThrow(() -> new IllegalStateException(operation + " needs a cgroup of the"
                + " environment's own: give it limits (ResourceLimits.none() is enough)"));
    }

    /** After {@link #close()}: what became of its filesystem (changes listed, kept or committed). */
    public Optional<SandboxFilesystem.Result> filesystemResult() {
        return Optional.ofNullable(filesystemResult);
    }

    private void expire(Outcome.TimedOut limit) {
        expired = limit;
        for (SandboxProcess program : programs) {
            program.expire(limit);
        }
        init.kill();
    }

    /** Which of its own time limits ended the environment, if one did. */
    public Optional<Outcome.TimedOut> timedOut() {
        return Optional.ofNullable(expired);
    }

    /**
     * Ends every program in the environment (their outcome: {@link Outcome.Destroyed}) and init, waits for them, then
     * removes the cgroup and applies the filesystem's changes policy. Idempotent and thread-safe.
     */
    @Override
    public void close() {
        startsAndClose.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
        } finally {
            startsAndClose.writeLock().unlock();
        }
        timeLimits.cancel();
        List<SandboxProcess> running = List.copyOf(programs);
        running.forEach(SandboxProcess::markDestroyed);
        init.kill(); // SIGKILL to init ends its pid namespace: every program in it goes too
        boolean interrupted = false;
        for (SandboxProcess program : running) {
            program.destroyForcibly();
            while (true) {
                try {
                    program.waitFor();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        init.collectExit();
        init.cgroup().ifPresent(cgroup -> {
            try {
                cgroup.remove();
            } catch (IOException e) {
                // left for the stale-group cleanup of a later JVM; nothing runs in it
            }
        });
        init.filesystem().ifPresent(filesystem -> {
            try {
                filesystemResult = filesystem.finish();
            } catch (IOException e) {
                // its private directory is removed by the abandoned-sandbox cleanup
            }
        });
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "SandboxEnvironment[pid=" + pid() + ", " + (isAlive() ? "alive" : "ended") + ", programs="
                + programs.size() + "]";
    }

    /** One program to exec into the environment: its settings, changed from the environment's where set. */
    public final class Exec {
        private final SandboxBuilder builder;

        private Exec(SandboxBuilder builder) {
            this.builder = builder;
            builder.wallTimeLimit = null; // the environment's limits are its own, not each program's
            builder.cpuTimeLimit = null;
        }

        public Exec command(String... command) {
            builder.command(command);
            return this;
        }

        public Exec command(List<String> command) {
            builder.command(command);
            return this;
        }

        /** The working directory inside. */
        public Exec directory(String directory) {
            builder.directory(directory);
            return this;
        }

        public Exec environment(String name, String value) {
            builder.environment(name, value);
            return this;
        }

        /** Runs the program as this user inside (mapped in the environment's user namespace). */
        public Exec user(long uid, long gid) {
            builder.user(uid, gid);
            return this;
        }

        public Exec redirectInput(Redirect source) {
            builder.redirectInput(source);
            return this;
        }

        public Exec redirectOutput(Redirect destination) {
            builder.redirectOutput(destination);
            return this;
        }

        public Exec redirectError(Redirect destination) {
            builder.redirectError(destination);
            return this;
        }

        public Exec redirectErrorStream(boolean merge) {
            builder.redirectErrorStream(merge);
            return this;
        }

        public Exec inheritIO() {
            builder.inheritIO();
            return this;
        }

        /** A wall-clock limit for this program alone. */
        public Exec wallTimeLimit(Duration limit) {
            builder.wallTimeLimit(limit);
            return this;
        }

        /** A CPU-time limit for this program and what it starts (its process tree). */
        public Exec cpuTimeLimit(Duration limit) {
            builder.cpuTimeLimit(limit);
            return this;
        }

        /**
         * Runs it to its end, like {@link SandboxBuilder#run()}: a failed start (or a closed environment) is the
         * outcome {@link Outcome.FailedToStart}, and piped streams are replaced by /dev/null and discarded output.
         */
        public SandboxResult run() throws InterruptedException {
            return UnattendedRun.run(builder.build(), spec -> {
                try {
                    return startProgram(spec);
                } catch (IllegalStateException closed) {
                    throw new SandboxStartException(closed.getMessage(), "environment", "", 0);
                }
            });
        }

        /** Starts it; returns once it is exec'd, like {@link SandboxBuilder#start()}. */
        public SandboxProcess start() throws IOException {
            return startProgram(builder.build());
        }
    }
}
