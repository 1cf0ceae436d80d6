package dev.isolation;

import java.util.Objects;

/**
 * A protection marked best-effort that the sandbox started without.
 *
 * @param protection which one
 * @param subject    what it was about: the rlimit's name, the cgroup file, the namespace
 * @param reason     why it could not be applied, with the step, path and errno where the helper reported one
 */
public record Downgrade(Protection protection, String subject, String reason) {
    public Downgrade {
        Objects.requireNonNull(protection, "protection");
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(reason, "reason");
    }

    @Override
    public String toString() {
        return protection + (subject.isEmpty() ? "" : " (" + subject + ")") + ": " + reason;
    }
}
