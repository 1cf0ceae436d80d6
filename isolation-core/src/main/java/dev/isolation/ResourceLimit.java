package dev.isolation;

import java.util.Locale;

/** A resource limit of setrlimit(2), by name, with the kernel's resource numbers. */
public record ResourceLimit(String name, long soft, long hard) {
    /** RLIM_INFINITY. */
    public static final long UNLIMITED = -1;

    private static final String[] NAMES = {"cpu", "fsize", "data", "stack", "core", "rss", "nproc", "nofile",
        "memlock", "as", "locks", "sigpending", "msgqueue", "nice", "rtprio", "rttime"};

    public ResourceLimit {
        name = name.toLowerCase(Locale.ROOT).replaceFirst("^rlimit_", "");
        resource(name);
        if (soft < UNLIMITED || hard < UNLIMITED) {
            throw new InvalidSandboxSpecException("rlimit", soft + "/" + hard, "for " + name
                    + " is negative (use ResourceLimit.UNLIMITED for no limit)");
        }
        if (hard != UNLIMITED && (soft == UNLIMITED || soft > hard)) {
            throw new InvalidSandboxSpecException("rlimit", soft + "/" + hard, "for " + name
                    + ": the soft limit is above the hard one");
        }
    }

    /** The resource number of setrlimit(2) (RLIMIT_CPU is 0, ...). */
    public int resource() {
        return resource(name);
    }

    private static int resource(String name) {
        for (int i = 0; i < NAMES.length; i++) {
            if (NAMES[i].equals(name)) {
                return i;
            }
        }
        throw new InvalidSandboxSpecException("rlimit", name, "is not a resource of setrlimit(2): one of "
                + String.join(", ", NAMES));
    }

    /** The value as the helper reads it. */
    public String wireValue(long value) {
        return value == UNLIMITED ? "unlimited" : Long.toString(value);
    }
}
