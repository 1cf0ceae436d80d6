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
    private final String heldNamespaces;

    LaunchedProgram(Process helper, ControlChannel channel, long programPid, SandboxFilesystem filesystem,
            Cgroup cgroup, List<Downgrade> downgrades, String heldNamespaces) {
        this.downgrades = List.copyOf(downgrades);
        this.heldNamespaces = heldNamespaces;
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

    /** An environment's: the helper's descriptors of its init's namespaces, "user=5,mnt=6,..." ("" otherwise). */
    public String heldNamespaces() {
        return heldNamespaces;
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

    /** The program's end as the helper reports it: the wait status, and its CPU times and peak resident set. */
    public record Exit(int waitStatus, long userMicros, long systemMicros, long maxRssKib) {
    }

    /**
     * Once the helper has exited: the program's wait status and usage as the helper reported them. A helper that
     * died without reporting (it was killed) yields the status its own exit code stands for, and no usage.
     */
    public Exit collectExit() {
        try {
            while (true) {
                ControlChannel.Report report = channel.readReport();
                if (report.type() == Wire.REPORT_EXITED) {
                    String[] usage = report.detail().trim().split(" ");
                    return usage.length == 3 ? new Exit(report.value(), Long.parseLong(usage[0]),
                            Long.parseLong(usage[1]), Long.parseLong(usage[2])) : new Exit(report.value(), 0, 0, 0);
                }
            }
        } catch (IOException | NumberFormatException e) {
            int code = helper.exitValue();
            return new Exit(code > 128 ? code - 128 : (code & 0xff) << 8, 0, 0, 0);
        } finally {
            channel.close();
        }
    }
}
