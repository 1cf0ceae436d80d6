package dev.isolation;

import java.io.File;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.time.Duration;
import java.util.Optional;

/**
 * Running a program to its end with nobody attached to it ({@code run()} of the builders): piped streams are
 * replaced (stdin reads /dev/null, piped output is discarded), so that no thread has to drain them, and a start
 * that fails becomes an {@link Outcome.FailedToStart} value instead of an exception.
 */
final class UnattendedRun {
    private static final File NO_INPUT = new File("/dev/null");

    interface Starter {
        SandboxProcess start(SandboxSpec spec) throws IOException;
    }

    private UnattendedRun() {
    }

    /** {@code spec} with its piped streams replaced: stdin by /dev/null, piped output discarded. */
    static SandboxSpec withoutPipes(SandboxSpec spec) {
        if (spec.redirectInput() != Redirect.PIPE && spec.redirectOutput() != Redirect.PIPE
                && spec.redirectError() != Redirect.PIPE) {
            return spec;
        }
        SandboxBuilder builder = spec.toBuilder();
        if (spec.redirectInput() == Redirect.PIPE) {
            builder.redirectInput(Redirect.from(NO_INPUT));
        }
        if (spec.redirectOutput() == Redirect.PIPE) {
            builder.redirectOutput(Redirect.DISCARD);
        }
        if (spec.redirectError() == Redirect.PIPE) {
            builder.redirectError(Redirect.DISCARD);
        }
        return builder.build();
    }

    /**
     * Starts {@code spec} without pipes, with {@code starter}, and waits for its result; a failed start is its
     * outcome. Invalid settings still throw, from building the spec, before anything is started.
     */
    static SandboxResult run(SandboxSpec piped, Starter starter) throws InterruptedException {
        SandboxSpec spec = withoutPipes(piped);
        long begin = System.nanoTime();
        SandboxProcess process;
        try {
            process = starter.start(spec);
        } catch (SandboxStartException e) {
            return failed(new Outcome.FailedToStart(e.step(), e.path().orElse(""), e.errno(), e.getMessage()), begin);
        } catch (IOException e) {
            return failed(new Outcome.FailedToStart("launch", "", 0, String.valueOf(e.getMessage())), begin);
        }
        return process.waitForResult();
    }

    private static SandboxResult failed(Outcome.FailedToStart outcome, long begin) {
        Duration tried = Duration.ofNanos(System.nanoTime() - begin);
        return new SandboxResult(outcome, new ProgramUsage(tried, Duration.ZERO, Duration.ZERO, 0), Optional.empty());
    }
}
