package dev.isolation.launch;

import dev.isolation.Downgrade;
import dev.isolation.Namespace;
import dev.isolation.Protection;
import dev.isolation.SandboxSpec;
import dev.isolation.cgroups.Cgroup;
import dev.isolation.fs.MountCompiler;
import dev.isolation.fs.SandboxFilesystem;
import dev.isolation.SandboxStartException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Starts a sandbox: checks what the host allows, builds the plan, starts the native helper through
 * {@link ProcessBuilder} (so the program's redirects are the JDK's own), hands it the plan over a private
 * Unix socket and waits until it reports that the program was exec'd, or which step failed.
 */
public final class Launcher {
    private static final SecureRandom RANDOM = new SecureRandom();

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
        List<Downgrade> downgraded = new ArrayList<>(downgrades);
        Preflight.check(spec);
        Path helper = HelperBinary.path();
        SandboxFilesystem filesystem = spec.filesystem().isPresent()
                ? SandboxFilesystem.prepare(spec.filesystem().get(), RuntimeDirectory.sandboxes(),
                        new MountCompiler.Namespaces(spec.has(Namespace.USER), spec.has(Namespace.PID),
                                spec.has(Namespace.NETWORK)))
                : null;
        Cgroup cgroup = null;
        try {
            if (spec.limits().isPresent()) {
                cgroup = createCgroup(spec, downgraded);
            }
            return start(spec, helper, filesystem, cgroup, downgraded);
        } catch (IOException | RuntimeException e) {
            if (filesystem != null) {
                filesystem.discard();
            }
            if (cgroup != null) {
                cgroup.remove();
            }
            if (e instanceof IOException && !(e instanceof SandboxStartException)) {
                throw new SandboxStartException("Cannot run program \"" + spec.programName() + "\" in a sandbox: "
                        + e.getMessage(), "cgroup", "", 0);
            }
            throw e;
        }
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
        Plan plan = PlanFactory.forExec(spec, IdMapWriters.setgroupsAllowed(spec), environment.helper().pid(),
                environment.heldNamespaces(), cgroupProcsFiles);
        return launch(spec, HelperBinary.path(), plan, null, null, new ArrayList<>());
    }

    private static LaunchedProgram start(SandboxSpec spec, Path helper, SandboxFilesystem filesystem, Cgroup cgroup,
            List<Downgrade> downgraded) throws IOException {
        Plan plan = PlanFactory.forSpec(spec, IdMapWriters.setgroupsAllowed(spec),
                filesystem == null ? List.of() : filesystem.steps(), cgroup == null ? List.of() : cgroup.procsFiles());
        return launch(spec, helper, plan, filesystem, cgroup, downgraded);
    }

    private static LaunchedProgram launch(SandboxSpec spec, Path helper, Plan plan, SandboxFilesystem filesystem,
            Cgroup cgroup, List<Downgrade> downgraded) throws IOException {
        byte[] name = new byte[9];
        RANDOM.nextBytes(name);
        Path socketPath = RuntimeDirectory.sockets().resolve(HexFormat.of().formatHex(name) + ".sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socketPath), 1);
            Process process = startHelper(spec, helper, socketPath);
            ControlChannel channel = null;
            try {
                channel = accept(server, process, spec);
                Files.deleteIfExists(socketPath);
                channel.readHello(helper.toString());
                channel.send(plan.encode());
                ControlChannel.Report report = channel.readReport();
                while (report.type() == Wire.REPORT_DOWNGRADED) {
                    downgraded.add(StartFailures.downgradeFromReport(plan, report));
                    report = channel.readReport();
                }
                if (report.type() == Wire.REPORT_STARTED) {
                    return new LaunchedProgram(process, channel, report.value(), filesystem, cgroup, downgraded,
                            report.detail());
                }
                if (report.type() == Wire.REPORT_FAILED) {
                    throw StartFailures.fromReport(spec, plan, report);
                }
                throw new IOException("unexpected report " + report.type() + " from the native helper");
            } catch (IOException | RuntimeException e) {
                abandon(process, channel);
                throw e;
            }
        } finally {
            Files.deleteIfExists(socketPath);
        }
    }

    private static Process startHelper(SandboxSpec spec, Path helper, Path socketPath) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(List.of(helper.toString(), socketPath.toString()));
        if (!spec.isEnvironment()) { // an environment's helper has no program: its pipes are closed at once
            builder.redirectInput(spec.redirectInput()).redirectOutput(spec.redirectOutput())
                    .redirectError(spec.redirectError()).redirectErrorStream(spec.redirectErrorStream());
        }
        builder.environment().clear(); // the program's environment travels in the plan, nothing else
        try {
            return builder.start();
        } catch (IOException e) {
            // The JDK opens the redirect files itself; its message would name the helper instead of the file.
            boolean redirect = e.getCause() instanceof java.io.FileNotFoundException;
            String why = redirect ? "cannot open a redirect: " + e.getCause().getMessage() : e.getMessage();
            throw new SandboxStartException("Cannot run program \"" + spec.programName() + "\" in a sandbox: "
                    + why, redirect ? "redirect" : "helper", redirect ? "" : helper.toString(), 0);
        }
    }

    /** Accepts the helper's connection; if the helper dies first, its exit closes the server socket. */
    private static ControlChannel accept(ServerSocketChannel server, Process process, SandboxSpec spec)
            throws IOException {
        process.onExit().thenRun(() -> closeQuietly(server));
        try {
            SocketChannel channel = server.accept();
            return new ControlChannel(channel);
        } catch (ClosedChannelException e) {
            throw new SandboxStartException("Cannot run program \"" + spec.programName() + "\" in a sandbox: the"
                    + " native helper exited with code " + process.exitValue() + " before it connected",
                    "helper", "", 0);
        }
    }

    /** After a failed start: the helper has already killed the sandbox; wait for it so that nothing is left. */
    private static void abandon(Process process, ControlChannel channel) {
        if (channel != null) {
            channel.close();
        }
        closeStreams(process);
        boolean interrupted = false;
        while (true) {
            try {
                process.waitFor();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeStreams(Process process) {
        for (java.io.Closeable stream : List.of(process.getOutputStream(), process.getInputStream(),
                process.getErrorStream())) {
            try {
                stream.close();
            } catch (IOException ignored) {
                // a pipe to a process that is gone
            }
        }
    }

    private static void closeQuietly(ServerSocketChannel server) {
        try {
            server.close();
        } catch (IOException ignored) {
            // the accept that waits on it gets the error instead
        }
    }
}
