package dev.isolation.launch;

import dev.isolation.Downgrade;
import java.io.IOException;

import dev.isolation.Namespace;
import dev.isolation.SandboxSpec;
import dev.isolation.SandboxStartException;

/** Turns a helper's failure report into the message a person reads, with a hint where the errno alone says little. */
final class StartFailures {
    private static final int EPERM = 1;
    private static final int ENOENT = 2;
    private static final int EACCES = 13;
    private static final int EINVAL = 22;
    private static final int ENOSPC = 28;

    private StartFailures() {
    }

    static SandboxStartException fromReport(SandboxSpec spec, Plan plan, ControlChannel.Report report) {
        Op op = report.step() >= 0 && report.step() < plan.ops().size() ? plan.step(report.step()) : null;
        String step = op == null ? "helper" : op.type().stepName();
        String path = report.detail().isEmpty() && op != null ? op.subject() : report.detail();
        StringBuilder message = new StringBuilder("Cannot run program \"").append(spec.programName()).append('"');
        spec.directory().ifPresent(dir -> message.append(" (in directory \"").append(dir).append("\")"));
        message.append(" in a sandbox: step ").append(report.step()).append(" (").append(step).append(") failed");
        if (!path.isEmpty()) {
            message.append(" on \"").append(path).append('"');
        }
        message.append(": error=").append(report.errno()).append(", ").append(report.errnoText());
        String hint = op == null ? null : hint(spec, op, report.errno());
        if (hint != null) {
            message.append(" (").append(hint).append(')');
        }
        return new SandboxStartException(message.toString(), step, path, report.errno());
    }

    /** A best-effort step the helper skipped, as the caller reads it. */
    static Downgrade downgradeFromReport(Plan plan, ControlChannel.Report report) throws IOException {
        if (report.step() < 0 || report.step() >= plan.ops().size() || plan.step(report.step()).bestEffortFor() == null) {
            throw new IOException("the native helper reported a downgrade of step " + report.step()
                    + ", which is not best-effort");
        }
        Op op = plan.step(report.step());
        String path = report.detail().isEmpty() ? op.subject() : report.detail();
        return new Downgrade(op.bestEffortFor(), op.subject(), "step " + report.step() + " (" + op.type().stepName()
                + ") failed on \"" + path + "\": error=" + report.errno() + ", " + report.errnoText());
    }

    private static String hint(SandboxSpec spec, Op op, int errno) {
        switch (op.type()) {
            case CLONE:
                if (errno == EPERM && spec.has(Namespace.USER)) {
                    return "the kernel refused a new user namespace: unprivileged user namespaces may be disabled by"
                            + " sysctl or by an AppArmor/SELinux policy, or this process is in a chroot";
                }
                if (errno == EPERM) {
                    return "creating namespaces needs CAP_SYS_ADMIN; add userNamespace() to run unprivileged";
                }
                if (errno == ENOSPC) {
                    return "a namespace limit in /proc/sys/user/max_*_namespaces was reached";
                }
                return errno == EINVAL ? "this kernel does not support one of the namespaces asked for" : null;
            case MOUNT:
            case MOUNT_IN_ROOT:
                return errno == EPERM ? "mounting here is not allowed in this user namespace" : null;
            case ROOT:
                boolean overlay = "overlay".equals(op.strings().get(2));
                return overlay && (errno == EINVAL || errno == EPERM) ? "overlayfs refused these directories: an upper directory"
                        + " cannot be on overlayfs itself (set -Disolation.runtime.dir to a directory on tmpfs or"
                        + " disk), and some filesystems cannot be lowers; FilesystemSpec.builder().copiedRoot()"
                        + " builds the root without overlayfs" : null;
            case EXEC:
                if (errno == ENOENT) {
                    return "no such program in the sandbox's PATH or at that path";
                }
                return errno == EACCES ? "the file is not executable, or its filesystem is mounted noexec" : null;
            case CHDIR:
                return errno == ENOENT ? "no such directory inside the sandbox" : null;
            default:
                return null;
        }
    }
}
