package dev.isolation.launch;

import dev.isolation.Downgrade;
import dev.isolation.SandboxSpec;
import dev.isolation.SandboxStartException;
import dev.isolation.cgroups.Cgroup;
import dev.isolation.fs.SandboxFilesystem;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A sandbox set up ahead of its start ({@link Launcher#prepare}): its namespaces, root, mounts and cgroup exist, and
 * its child waits for the program's stdio. {@link #start()} opens the spec's redirects as a start would and hands
 * them over, and the program's phase runs (passed descriptors, identity, capabilities, seccomp, exec);
 * {@link #discard()} ends it instead. Each is started or discarded once.
 */
public final class ReadyLaunch {
    private final SandboxSpec spec;
    private final Plan plan;
    private final ControlChannel channel;
    private final long helperPid;
    private final SandboxFilesystem filesystem;
    private final Cgroup cgroup;
    private final List<Downgrade> downgraded;
    private final AtomicBoolean used = new AtomicBoolean();

    ReadyLaunch(SandboxSpec spec, Plan plan, ControlChannel channel, long helperPid, SandboxFilesystem filesystem,
            Cgroup cgroup, List<Downgrade> downgraded) {
        this.spec = spec;
        this.plan = plan;
        this.channel = channel;
        this.helperPid = helperPid;
        this.filesystem = filesystem;
        this.cgroup = cgroup;
        this.downgraded = downgraded;
    }

    /** Starts the program; a failure leaves nothing behind, as a failed {@link Launcher#start} does. */
    public LaunchedProgram start() throws IOException {
        if (!used.compareAndSet(false, true)) {
            throw new IllegalStateException("this ready sandbox was started or discarded already");
        }
        ProgramStdio stdio;
        try {
            stdio = Launcher.openStdio(spec);
        } catch (IOException | RuntimeException e) {
            end();
            throw e;
        }
        try {
            try {
                channel.sendCommand(Wire.COMMAND_GO, stdio.passed());
            } catch (IOException e) {
                // the helper is gone: its report, read below, says why if it said anything
            } finally {
                stdio.closePassed();
            }
            return Launcher.started(spec, plan, channel, helperPid, stdio, filesystem, cgroup, downgraded);
        } catch (IOException | RuntimeException e) {
            stdio.closeStreams();
            end();
            if (e instanceof IOException && !(e instanceof SandboxStartException)) {
                throw new SandboxStartException("Cannot run program \"" + spec.programName() + "\" in a ready"
                        + " sandbox: " + e.getMessage(), "ready", "", 0);
            }
            throw e;
        }
    }

    /** Ends the sandbox unstarted: its processes are killed and its filesystem and cgroup removed. */
    public void discard() throws IOException {
        if (used.compareAndSet(false, true)) {
            end();
        }
    }

    /** The helper kills the sandbox and exits (waited for), then its filesystem and cgroup go. */
    private void end() throws IOException {
        try {
            channel.sendCommand(Wire.COMMAND_KILL);
        } catch (IOException e) {
            // gone already
        }
        channel.awaitClosed();
        channel.close();
        Launcher.release(filesystem, cgroup);
    }

    /** The sandbox helper's pid on the host. */
    public long helperPid() {
        return helperPid;
    }
}
