package dev.isolation;

/**
 * How a sandboxed program ended. A sealed type: a {@code switch} over it can be exhaustive.
 * Together with what the program used, it is a {@link SandboxResult}; a start that failed throws a
 * {@link SandboxStartException} from {@code start()}, or is {@link FailedToStart} from {@link Sandbox#run}.
 */
public sealed interface Outcome permits Outcome.Exited, Outcome.Signaled, Outcome.OutOfMemory, Outcome.TimedOut,
        Outcome.Destroyed, Outcome.FailedToStart {

    /** The value {@link Process#exitValue()} reports: the exit code, or 128 + the signal number. */
    int exitValue();

    /** The program called exit with {@code code}. */
    record Exited(int code) implements Outcome {
        public Exited {
            if (code < 0 || code > 255) {
                throw new IllegalArgumentException("code: " + code + " is not an exit code (0 to 255)");
            }
        }

        @Override
        public int exitValue() {
            return code;
        }
    }

    /** The program was killed by {@code signal}; {@code coreDumped} when the kernel wrote a core dump. */
    record Signaled(int signal, boolean coreDumped) implements Outcome {
        public Signaled {
            if (signal < 1 || signal > 127) {
                throw new IllegalArgumentException("signal: " + signal + " is not a signal number");
            }
        }

        @Override
        public int exitValue() {
            return 128 + signal;
        }
    }

    /**
     * The kernel's OOM killer ended the program (its cgroup's memory limit was reached); {@code signal} is the
     * signal that killed it (SIGKILL).
     */
    record OutOfMemory(int signal) implements Outcome {
        @Override
        public int exitValue() {
            return 128 + signal;
        }
    }

    /** Which time limit ended a program. */
    enum TimeLimit {
        /** Elapsed time since the start. */
        WALL_CLOCK,
        /** CPU time (user + system) of the program and everything it started. */
        CPU
    }

    /**
     * A time limit expired and the program (with everything it started) was killed.
     *
     * @param limit which limit
     * @param after the limit's value
     */
    record TimedOut(TimeLimit limit, java.time.Duration after) implements Outcome {
        @Override
        public int exitValue() {
            return 128 + 9;
        }
    }

    /**
     * The caller ended the program ({@code destroy()}, {@code destroyForcibly()}, or closing its environment)
     * before it ended by itself; {@code how} is what the kernel then reported.
     */
    record Destroyed(Outcome how) implements Outcome {
        @Override
        public int exitValue() {
            return how.exitValue();
        }
    }

    /**
     * The program never ran: a step of its start failed.
     *
     * @param step  the failed step's name ("mount", "exec", "preflight", ...)
     * @param path  the path or value it acted on ("" if none)
     * @param errno the error number (0 when the library refused it before asking the kernel)
     * @param message the whole explanation, as {@link SandboxStartException#getMessage()} gives it
     */
    record FailedToStart(String step, String path, int errno, String message) implements Outcome {
        /** What a shell reports for a command that could not be run. */
        @Override
        public int exitValue() {
            return 127;
        }
    }

    /** Decodes a wait status as waitpid(2) returns it. */
    static Outcome fromWaitStatus(int status) {
        int termSignal = status & 0x7f;
        if (termSignal == 0) {
            return new Exited((status >> 8) & 0xff);
        }
        return new Signaled(termSignal, (status & 0x80) != 0);
    }
}
