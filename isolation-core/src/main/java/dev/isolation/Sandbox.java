package dev.isolation;

import dev.isolation.launch.Launcher;
import java.io.IOException;

/**
 * The entry point: {@code Sandbox.builder().command(...).allNamespaces().start()}.
 */
public final class Sandbox {
    private Sandbox() {
    }

    /** A new builder with no namespaces, piped standard streams and an environment holding only a default PATH. */
    public static SandboxBuilder builder() {
        return new SandboxBuilder();
    }

    /**
     * Starts the program described by {@code spec}. Returns once the program has been exec'd; any failure before
     * that throws a {@link SandboxStartException} naming the step, the path and the errno, and leaves nothing behind.
     */
    public static SandboxProcess start(SandboxSpec spec) throws IOException {
        return new SandboxProcess(Launcher.start(spec), spec);
    }
}
