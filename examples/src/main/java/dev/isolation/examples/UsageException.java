package dev.isolation.examples;

import java.util.Optional;

/**
 * The command line could not be understood: an unknown option, a missing or malformed value, no program.
 * The message names the option at fault; {@link #option()} gives it on its own.
 */
public final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String option;

    UsageException(String option, String message) {
        super(message);
        this.option = option;
    }

    /** The option at fault as it was written (e.g. {@code --uid-map}), empty when no single option is. */
    public Optional<String> option() {
        return Optional.ofNullable(option);
    }
}
