package dev.isolation.examples;

import dev.isolation.InvalidSandboxSpecException;
import dev.isolation.Outcome;
import dev.isolation.Sandbox;
import dev.isolation.SandboxBuilder;
import dev.isolation.SandboxProcess;
import dev.isolation.SandboxSpec;
import java.io.IOException;
import java.io.PrintStream;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs one program in a sandbox from the command line, in the manner of {@code bwrap} or {@code docker run}:
 *
 * <pre>java -jar examples/target/isolation-run.jar --unshare-all --hostname box -- /bin/sh -c hostname</pre>
 *
 * The runner exits with the program's exit value (its exit code, or 128 + the signal that killed it); with 2 for
 * bad usage or a setting the sandbox rejects; with 125 when the sandbox cannot be started. SIGINT and SIGTERM sent
 * to the runner are passed on to the program. See {@link RunOptions#usage()} for the options.
 */
public final class Run {
    /** Exit status for bad usage and rejected settings. */
    static final int EXIT_USAGE = 2;
    /** Exit status when the sandbox could not be started, as {@code docker run} has it. */
    static final int EXIT_START_FAILED = 125;
    /** How long the shutdown hook lets the program end after SIGTERM before killing the sandbox. */
    private static final long GRACE_MILLIS = 5_000;

    private Run() {
    }

    public static void main(String[] args) {
        int status = run(args, System.out, System.err);
        System.out.flush();
        System.err.flush();
        System.exit(status);
    }

    /** {@link #run(String[], PrintStream, PrintStream)} with the help text going to {@code System.out}. */
    public static int run(String[] args, PrintStream err) {
        return run(args, System.out, err);
    }

    /**
     * Parses {@code args}, runs the program and waits for it. The runner's own messages go to {@code err} (the help
     * text to {@code out}); the program's streams are the JVM's unless redirected.
     *
     * @return the runner's exit status
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        RunOptions options;
        try {
            options = RunOptions.parse(args);
        } catch (UsageException e) {
            err.println(RunOptions.NAME + ": " + e.getMessage());
            err.println("Try '" + RunOptions.NAME + " --help' for more information.");
            return EXIT_USAGE;
        }
        if (options.help()) {
            out.print(RunOptions.usage());
            out.flush();
            return 0;
        }

        // Registered before the start, so that a signal arriving while the sandbox starts is not lost on it.
        AtomicReference<SandboxProcess> running = new AtomicReference<>();
        Thread forwarder = new Thread(() -> stop(running.get()), RunOptions.NAME + "-signal-forwarder");
        Runtime.getRuntime().addShutdownHook(forwarder);
        try {
            SandboxProcess process = spec(options).start();
            running.set(process);
            Outcome outcome = process.waitForOutcome();
            if (options.printOutcome()) {
                err.println(RunOptions.NAME + ": " + describe(outcome));
            }
            return outcome.exitValue();
        } catch (InvalidSandboxSpecException e) {
            err.println(RunOptions.NAME + ": invalid setting: " + e.getMessage());
            return EXIT_USAGE;
        } catch (IOException e) {
            err.println(RunOptions.NAME + ": " + e.getMessage());
            return EXIT_START_FAILED;
        } catch (InterruptedException e) {
            stop(running.get());
            Thread.currentThread().interrupt();
            err.println(RunOptions.NAME + ": interrupted; the program was stopped");
            return 128 + 2; // as if SIGINT had ended it
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(forwarder);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or has run: it stops the program
            }
        }
    }

    /** The sandbox the options describe. Throws {@link InvalidSandboxSpecException} for settings it rejects. */
    static SandboxSpec spec(RunOptions options) {
        SandboxBuilder builder = Sandbox.builder().command(options.command());
        options.namespaces().forEach(builder::namespace);
        options.hostname().ifPresent(builder::utsNamespace);
        options.uidMappings().forEach(builder::uidMapping);
        options.gidMappings().forEach(builder::gidMapping);
        options.directory().ifPresent(builder::directory);
        if (options.inheritEnvironment()) {
            builder.inheritEnvironment();
        }
        builder.inheritEnvironment(options.inheritedVariables().toArray(String[]::new));
        options.environment().forEach(builder::environment);
        return builder.inheritIO()
                .redirectInput(options.stdin())
                .redirectOutput(options.stdout())
                .redirectError(options.stderr())
                .redirectErrorStream(options.mergeStderr())
                .build();
    }

    /**
     * One line saying how the program ended, e.g. "exited with code 3" or "killed by signal 9 (core dumped)".
     * Java 17 has pattern matching in {@code switch} only as a preview, so the sealed type is matched with
     * {@code instanceof}; a kind added to {@link Outcome} later reaches the last line.
     */
    static String describe(Outcome outcome) {
        if (outcome instanceof Outcome.Exited exited) {
            return "exited with code " + exited.code();
        }
        if (outcome instanceof Outcome.Signaled signaled) {
            return "killed by signal " + signaled.signal() + (signaled.coreDumped() ? " (core dumped)" : "");
        }
        return "ended: " + outcome + " (exit value " + outcome.exitValue() + ")";
    }

    /** Passes SIGTERM on to the program; if it has not ended within the grace period, kills the whole sandbox. */
    private static void stop(SandboxProcess process) {
        if (process == null || !process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(GRACE_MILLIS, TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(1, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
