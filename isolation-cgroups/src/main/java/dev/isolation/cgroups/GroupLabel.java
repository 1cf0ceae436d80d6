package dev.isolation.cgroups;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names of groups that say which JVM created them: {@code isolation-<pid>-<start time>-<sequence>}, the start
 * time being field 22 of /proc/<pid>/stat, so that a recycled pid is not mistaken for the JVM that died.
 */
public final class GroupLabel {
    private static final Pattern NAME = Pattern.compile("isolation-([0-9]+)-([0-9]+)-([0-9]+)");
    private static final AtomicLong SEQUENCE = new AtomicLong();
    private static final String OWN_PREFIX = "isolation-" + ProcessHandle.current().pid() + "-"
            + startTime(ProcessHandle.current().pid()).orElse(0L) + "-";

    private GroupLabel() {
    }

    /** A fresh name for a group of this JVM. */
    public static String next() {
        return OWN_PREFIX + SEQUENCE.incrementAndGet();
    }

    /** Whether {@code name} is a group name of this library. */
    public static boolean isLabelled(String name) {
        return NAME.matcher(name).matches();
    }

    /** Whether {@code name} was made by a JVM that is no longer running (labelled names only). */
    public static boolean ownerIsGone(String name) {
        Matcher matcher = NAME.matcher(name);
        if (!matcher.matches()) {
            return false;
        }
        long pid = Long.parseLong(matcher.group(1));
        long started = Long.parseLong(matcher.group(2));
        return startTime(pid).map(now -> now != started).orElse(true);
    }

    static Optional<Long> startTime(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Optional.of(Long.parseLong(fields[19])); // field 22 overall; fields here start at 3
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
