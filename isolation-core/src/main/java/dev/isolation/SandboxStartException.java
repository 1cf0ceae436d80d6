package dev.isolation;

import java.io.IOException;
import java.util.Optional;

/**
 * The sandboxed program could not be started. The message reads like {@link ProcessBuilder}'s
 * ({@code Cannot run program "x": error=2, No such file or directory}) and adds the step that failed;
 * the parts are also available as values. Nothing of the attempt is left behind when this is thrown.
 */
public final class SandboxStartException extends IOException {
    private final String step;
    private final String path;
    private final int errno;

    public SandboxStartException(String message, String step, String path, int errno) {
        super(message);
        this.step = step;
        this.path = path;
        this.errno = errno;
    }

    /** The setup step that failed, e.g. "exec", "chdir", "namespaces", "uid_map". */
    public String step() {
        return step;
    }

    /** The path or value the step acted on, when it had one. */
    public Optional<String> path() {
        return path == null || path.isEmpty() ? Optional.empty() : Optional.of(path);
    }

    /** The errno the kernel answered, or 0 when the failure was not a system call's. */
    public int errno() {
        return errno;
    }
}
