package dev.isolation;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.isolation.launch.KernelFeatures;
import dev.isolation.launch.Launcher;
import java.io.IOException;

/**
 * The entry point: {@code Sandbox.builder().command(...).allNamespaces().start()}.
 */
public final class Sandbox {
    /** Namespaces a kernel may lack, with the protection under which a caller may let a sandbox start without them. */
    private static final Map<Namespace, Protection> OPTIONAL_NAMESPACES = Map.of(Namespace.TIME,
            Protection.TIME_NAMESPACE, Namespace.CGROUP, Protection.CGROUP_NAMESPACE);

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
        List<Downgrade> downgrades = new ArrayList<>();
        SandboxSpec effective = withoutMissingNamespaces(spec, downgrades);
        return new SandboxProcess(Launcher.start(effective, downgrades), effective);
    }

    /**
     * Runs the program described by {@code spec} to its end and returns how it ended with what it used. A start that
     * fails is not thrown: its outcome is {@link Outcome.FailedToStart} (step, path, errno). Nobody is attached to
     * the program: piped standard streams become /dev/null for input and are discarded for output (redirect them to
     * files, or to the JVM's with {@link SandboxBuilder#inheritIO()}, to keep them).
     */
    public static SandboxResult run(SandboxSpec spec) throws InterruptedException {
        return UnattendedRun.run(spec, Sandbox::start);
    }

    /** Best-effort namespaces this kernel does not have are left out (and reported); the others are checked later. */
    static SandboxSpec withoutMissingNamespaces(SandboxSpec spec, List<Downgrade> downgrades) {
        SandboxSpec effective = spec;
        for (Map.Entry<Namespace, Protection> optional : OPTIONAL_NAMESPACES.entrySet()) {
            Namespace namespace = optional.getKey();
            if (spec.has(namespace) && spec.isBestEffort(optional.getValue())
                    && !KernelFeatures.hasNamespace(namespace)) {
                effective = effective.withoutNamespace(namespace);
                downgrades.add(new Downgrade(optional.getValue(), namespace.procName(), "this kernel has no "
                        + namespace.procName() + " namespace (" + KernelFeatures.namespaceLink(namespace)
                        + " is missing)"));
            }
        }
        return effective;
    }
}
