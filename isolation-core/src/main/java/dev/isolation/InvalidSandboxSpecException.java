package dev.isolation;

/**
 * A sandbox's configuration was rejected before anything was started. {@link #field()} names the setting.
 */
public final class InvalidSandboxSpecException extends IllegalArgumentException {
    private final String field;

    public InvalidSandboxSpecException(String field, String message) {
        super(field + ": " + message);
        this.field = field;
    }

    public InvalidSandboxSpecException(String field, Object value, String message) {
        this(field, describe(value) + " " + message);
    }

    /** The name of the rejected setting, as the builder method that sets it. */
    public String field() {
        return field;
    }

    private static String describe(Object value) {
        return value instanceof CharSequence ? "\"" + value.toString().replace("\0", "\\0") + "\"" : String.valueOf(value);
    }
}
