package dev.isolation;

/**
 * How a sandboxed program ended. A sealed type: a {@code switch} over it can be exhaustive.
 * Later kinds (out of memory, time limits, destroyed) join this hierarchy.
 */
public sealed interface Outcome permits Outcome.Exited, Outcome.Signaled, Outcome.OutOfMemory {

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

    /** Decodes a wait status as waitpid(2) returns it. */
    static Outcome fromWaitStatus(int status) {
        int termSignal = status & 0x7f;
        if (termSignal == 0) {
            return new Exited((status >> 8) & 0xff);
        }
        return new Signaled(termSignal, (status & 0x80) != 0);
    }
}
