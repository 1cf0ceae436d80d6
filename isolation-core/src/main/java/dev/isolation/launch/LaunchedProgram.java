package dev.isolation.launch;

import dev.isolation.Downgrade;
import java.util.List;

import dev.isolation.cgroups.Cgroup;
import dev.isolation.fs.SandboxFilesystem;
import java.io.IOException;
import java.util.Optional;

/**
 * A started sandbox as the launcher hands it over: the helper process (whose stdio are the program's), its
 * control channel, and the program's host pid.
 */
public final class LaunchedProgram {
    private final Process helper;
    private final ControlChannel channel;
    private final long programPid;
    private final SandboxFilesystem filesystem;
    private final Cgroup cgroup;
    private final List<Downgrade> downgrades;

    LaunchedProgram(Process helper, ControlChannel channel, long programPid, SandboxFilesystem filesystem,
            Cgroup cgroup, List<Downgrade> downgrades) {
        this.downgrades = List.copyOf(downgrades);
        this.cgroup = cgroup;
        this.helper = helper;
        this.channel = channel;
        this.programPid = programPid;
        this.filesystem = filesystem;
    }

    /** The host side of the sandbox's filesystem, when it has its own root. */
    public Optional<SandboxFilesystem> filesystem() {
        return Optional.ofNullable(filesystem);
    }

    /** The best-effort protections the sandbox started without. */
    public List<Downgrade> downgrades() {
        return downgrades;
    }

    public Process helper() {
        return helper;
    }

    public long programPid() {
        return programPid;
    }

    /** The sandbox's own cgroup, when it has limits. */
    public Optional<Cgroup> cgroup() {
        return Optional.ofNullable(cgroup);
    }

    /** Asks the helper to SIGKILL every process of the sandbox; if it cannot be asked, kills the helper. */
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
            helper.destroyForcibly();
        }
    }

    /**
     * Once the helper has exited: the program's wait status as the helper reported it. A helper that died
     * without reporting (it was killed) yields the status its own exit code stands for.
     */
    public int collectExitStatus() {
        try {
            while (true) {
                ControlChannel.Report report = channel.readReport();
                if (report.type() == Wire.REPORT_EXITED) {
                    return report.value();
                }
            }
        } catch (IOException e) {
            int code = helper.exitValue();
            return code > 128 ? code - 128 : (code & 0xff) << 8;
        } finally {
            channel.close();
        }
    }
}
