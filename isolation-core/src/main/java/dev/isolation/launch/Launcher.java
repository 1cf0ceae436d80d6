package dev.isolation.launch;

import dev.isolation.Downgrade;
import dev.isolation.Namespace;
import dev.isolation.Protection;
import dev.isolation.SandboxSpec;
import dev.isolation.cgroups.Cgroup;
import dev.isolation.fs.ChangesPolicy;
import dev.isolation.fs.FilesystemSpec;
import dev.isolation.fs.MountCompiler;
import dev.isolation.fs.RootMode;
import dev.isolation.fs.SandboxFilesystem;
import dev.isolation.SandboxStartException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts a sandbox: checks what the host allows, builds the plan, has the {@link ResidentLauncher} fork a sandbox
 * helper with a fresh control socket and the program's stdio (opened here as {@link ProcessBuilder}'s redirects
 * would be), hands it the plan and waits until it reports that the program was exec'd, or which step failed.
 */
public final class Launcher {
    private Launcher() {
    }

    public static LaunchedProgram start(SandboxSpec spec) throws IOException {
        return start(spec, List.of());
    }

    /**
     * @param downgrades best-effort protections already left out (the caller's), to which this start adds those
     *                   the host cannot apply
     */
    public static LaunchedProgram start(SandboxSpec spec, List<Downgrade> downgrades) throws IOException {
        return withResources(spec, downgrades, false, Launcher::launchProgram);
    }

    /**
     * Sets a sandbox up ahead of its start: everything {@link #start} does but the program's phase (stdio, passed
     * descriptors, identity, capabilities, seccomp, exec), for which its child waits until {@link ReadyLaunch#start()}.
     * Its stdio is /dev/null until then. An environment cannot be made ready (it has no program to wait for).
     */
    public static ReadyLaunch prepare(SandboxSpec spec, List<Downgrade> downgrades) throws IOException {
        if (spec.isEnvironment()) {
            throw new IllegalArgumentException("an environment cannot be kept ready: it has no program to start");
        }
        return withResources(spec, downgrades, true, Launcher::launchReady);
    }

    /**
     * Starts the resident launcher now, from the calling thread, unless it runs: for a caller about to have a
     * background thread (at the lowest priority, which a launcher it started would inherit) prepare sandboxes.
     */
    public static void startResidentLauncher() throws IOException {
        ResidentLauncher.ensureRunning();
    }

    /** What is done with a sandbox's plan and resources, which are released if it throws. */
    private interface Launch<T> {
        T launch(SandboxSpec spec, Plan plan, boolean newNetworkNamespace, SandboxFilesystem filesystem,
                Cgroup cgroup, List<Downgrade> downgraded) throws IOException;
    }

    private static <T> T withResources(SandboxSpec spec, List<Downgrade> downgrades, boolean ready, Launch<T> launch)
            throws IOException {
        List<Downgrade> downgraded = new ArrayList<>(downgrades);
        Preflight.check(spec);
        SandboxFilesystem filesystem = spec.filesystem().isPresent()
                ? SandboxFilesystem.prepare(spec.filesystem().get(), sandboxDirectoryParent(spec),
                        new MountCompiler.Namespaces(spec.has(Namespace.USER), spec.has(Namespace.PID),
                                spec.has(Namespace.NETWORK), Credentials.hasCapability(Credentials.CAP_SYS_ADMIN)))
                : null;
        Cgroup cgroup = null;
        try {
            if (spec.limits().isPresent()) {
                cgroup = createCgroup(spec, downgraded);
            }
            Plan plan = PlanFactory.forSpec(spec, IdMapWriters.setgroupsAllowed(spec),
                    filesystem == null ? List.of() : filesystem.steps(), cgroup == null ? List.of()
                            : cgroup.selfJoinFiles().isEmpty() ? cgroup.procsFiles() : cgroup.selfJoinFiles());
            return launch.launch(spec, ready ? plan.readied() : plan,
                    spec.has(Namespace.NETWORK) && !spec.has(Namespace.USER), filesystem, cgroup, downgraded);
        } catch (IOException | RuntimeException e) {
            release(filesystem, cgroup);
            if (e instanceof IOException && !(e instanceof SandboxStartException)) {
                throw new SandboxStartException("Cannot run program \"" + spec.programName() + "\" in a sandbox: "
                        + e.getMessage(), "cgroup", "", 0);
            }
            throw e;
        }
    }

    /** The filesystem and cgroup of a sandbox that did not start (its helper has exited). */
    static void release(SandboxFilesystem filesystem, Cgroup cgroup) throws IOException {
        try {
            if (filesystem != null) {
                filesystem.discard();
            }
        } finally {
            if (cgroup != null) {
                cgroup.remove();
            }
        }
    }

    /**
     * A tmpfs for an overlay whose changes are discarded (see {@link RuntimeDirectory#discardedSandboxes()}), unless
     * the overlay is mounted inside a user namespace (with user.* xattrs) on a kernel whose tmpfs has none (before 6.6).
     */
    private static Path sandboxDirectoryParent(SandboxSpec spec) throws IOException {
        FilesystemSpec filesystem = spec.filesystem().orElseThrow();
        boolean userXattrs = spec.has(Namespace.USER) && !Credentials.hasCapability(Credentials.CAP_SYS_ADMIN);
        return filesystem.mode() == RootMode.OVERLAY && filesystem.changes() instanceof ChangesPolicy.Discard
                && (!userXattrs || KernelFeatures.tmpfsHasUserXattrs()) ? RuntimeDirectory.discardedSandboxes()
                : RuntimeDirectory.sandboxes();
    }

    /** The sandbox's cgroup with its limits; null (and a downgrade) if that fails and the caller allowed it. */
    private static Cgroup createCgroup(SandboxSpec spec, List<Downgrade> downgraded) throws IOException {
        try {
            return spec.cgroupManager().isPresent() ? spec.cgroupManager().get().create(spec.limits().get())
                    : SandboxCgroups.create(spec.limits().get());
        } catch (IOException | RuntimeException e) {
            if (!spec.isBestEffort(Protection.CGROUP_LIMITS)) {
                throw e;
            }
            downgraded.add(new Downgrade(Protection.CGROUP_LIMITS, spec.limits().get().toString(),
                    String.valueOf(e.getMessage())));
            return null;
        }
    }

    /**
     * Starts a program in a running environment: a helper of its own joins the namespaces of the environment's init
     * ({@code initPid}) and puts the program in the environment's cgroup ({@code cgroupProcsFiles}). The
     * environment's filesystem and cgroup stay the environment's: the program's LaunchedProgram has neither.
     */
    public static LaunchedProgram exec(SandboxSpec spec, LaunchedProgram environment, List<Path> cgroupProcsFiles)
            throws IOException {
        Plan plan = PlanFactory.forExec(spec, IdMapWriters.setgroupsAllowed(spec), environment.helperPid(),
                environment.heldNamespaces(), cgroupProcsFiles);
        return launchProgram(spec, plan, false, null, null, new ArrayList<>());
    }

    private static LaunchedProgram launchProgram(SandboxSpec spec, Plan plan, boolean newNetworkNamespace,
            SandboxFilesystem filesystem, Cgroup cgroup, List<Downgrade> downgraded) throws IOException {
        ProgramStdio stdio = openStdio(spec);
        ControlChannel channel = spawnHelper(spec, stdio, newNetworkNamespace);
        try {
            long helperPid = sendPlan(plan, channel);
            return started(spec, plan, channel, helperPid, stdio, filesystem, cgroup, downgraded);
        } catch (IOException | RuntimeException e) {
            channel.awaitClosed(); // the helper has killed the sandbox and exits: wait so that nothing is left
            channel.close();
            stdio.closeStreams();
            throw e;
        }
    }

    private static ReadyLaunch launchReady(SandboxSpec spec, Plan plan, boolean newNetworkNamespace,
            SandboxFilesystem filesystem, Cgroup cgroup, List<Downgrade> downgraded) throws IOException {
        ControlChannel channel = spawnHelper(spec, ProgramStdio.none(), newNetworkNamespace);
        try {
            long helperPid = sendPlan(plan, channel);
            awaitReport(Wire.REPORT_READY, spec, plan, channel, downgraded);
            return new ReadyLaunch(spec, plan, channel, helperPid, filesystem, cgroup, downgraded);
        } catch (IOException | RuntimeException e) {
            channel.awaitClosed();
            channel.close();
            throw e;
        }
    }

    /**
     * Has the resident launcher fork a sandbox helper with {@code stdio} (whose passed ends are closed here once it
     * has them) and returns the JVM's end of its control socket.
     */
    private static ControlChannel spawnHelper(SandboxSpec spec, ProgramStdio stdio, boolean newNetworkNamespace)
            throws IOException {
        try {
            int[] pair = Posix.socketPair(Posix.SOCK_STREAM, "control socket of a sandbox helper");
            ControlChannel channel = new ControlChannel(pair[0]);
            try {
                ResidentLauncher.spawn(pair[1], stdio.passed(), newNetworkNamespace);
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            } finally {
                Posix.closeQuietly(pair[1]);
                stdio.closePassed();
            }
            return channel;
        } catch (IOException | RuntimeException e) {
            stdio.closePassed();
            stdio.closeStreams();
            throw new SandboxStartException("Cannot run program \"" + spec.programName() + "\" in a sandbox: "
                    + e.getMessage(), "helper", "", 0);
        }
    }

    /** Sends the plan and returns the helper's pid, from its greeting. */
    private static long sendPlan(Plan plan, ControlChannel channel) throws IOException {
        IOException unsent = null;
        try {
            channel.send(plan.encode()); // queued in the socket while the launcher forks the helper
        } catch (IOException e) {
            unsent = e; // the helper is gone already: its report, if any, says why
        }
        long helperPid = channel.readHello(ResidentLauncher.helperPath());
        if (unsent != null && helperPid != 0) {
            throw unsent;
        }
        return helperPid;
    }

    /** Reads the helper's reports until the program runs, and watches for its end from then on. */
    static LaunchedProgram started(SandboxSpec spec, Plan plan, ControlChannel channel, long helperPid,
            ProgramStdio stdio, SandboxFilesystem filesystem, Cgroup cgroup, List<Downgrade> downgraded)
            throws IOException {
        ControlChannel.Report report = awaitReport(Wire.REPORT_STARTED, spec, plan, channel, downgraded);
        LaunchedProgram launched = new LaunchedProgram(helperPid, channel, stdio, report.value(), filesystem, cgroup,
                downgraded, report.detail());
        launched.watchExit();
        return launched;
    }

    /** Reads the helper's reports, adding its downgrades, until {@code expected}; a failure report is thrown. */
    private static ControlChannel.Report awaitReport(int expected, SandboxSpec spec, Plan plan,
            ControlChannel channel, List<Downgrade> downgraded) throws IOException {
        ControlChannel.Report report = channel.readReport();
        while (report.type() == Wire.REPORT_DOWNGRADED) {
            downgraded.add(StartFailures.downgradeFromReport(plan, report));
            report = channel.readReport();
        }
        if (report.type() == expected) {
            return report;
        }
        if (report.type() == Wire.REPORT_FAILED) {
            throw StartFailures.fromReport(spec, plan, report);
        }
        throw new IOException("unexpected report " + report.type() + " from the native helper");
    }

    /** The program's redirects (an environment's init has no stdio: /dev/null). */
    static ProgramStdio openStdio(SandboxSpec spec) throws IOException {
        if (spec.isEnvironment()) {
            return ProgramStdio.none();
        }
        try {
            return ProgramStdio.of(spec.redirectInput(), spec.redirectOutput(), spec.redirectError(),
                    spec.redirectErrorStream());
        } catch (ProgramStdio.RedirectFailure e) {
            throw new SandboxStartException("Cannot run program \"" + spec.programName() + "\" in a sandbox: "
                    + "cannot open a redirect: " + e.getMessage(), "redirect", "", 0);
        }
    }
}
