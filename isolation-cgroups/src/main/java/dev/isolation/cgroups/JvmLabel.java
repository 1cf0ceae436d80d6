package dev.isolation.cgroups;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Names that say which JVM made something, so that what a JVM leaves behind when it dies can be recognised and
 * removed without a daemon: {@code isolation-<pid>-<start time>-ns<pid namespace>}, for the one thing of its kind a
 * JVM has (its runtime directory, in isolation-core), or the same followed by {@code -<sequence>} for the many (its
 * cgroups, half-written files). The start time is field 22 of /proc/<pid>/stat, so that a recycled pid is not
 * mistaken for the JVM that died; the pid namespace is the inode of /proc/self/ns/pid, so that a JVM in another
 * pid namespace (a container sharing /tmp or a cgroup parent) is never judged by a pid that means something else
 * here.
 *
 * <p>It lives here because this module, usable alone, labels its groups; isolation-core labels what it creates
 * with the same names rather than a second scheme.
 *
 * <p>Liveness is judged only for labels of this pid namespace; those of others are never gone, whatever their pid.
 */
public final class JvmLabel {
    private static final Pattern NAME = Pattern.compile("isolation-([0-9]+)-([0-9]+)-ns([0-9]+)(-[0-9]+)?");
    private static final String PID_NAMESPACE = pidNamespace();
    private static final AtomicLong SEQUENCE = new AtomicLong();
    private static final String THIS_JVM = of(ProcessHandle.current().pid(),
            startTime(ProcessHandle.current().pid()).orElse(0L));

    private JvmLabel() {
    }

    /** The label of the process {@code pid} of this pid namespace, started at {@code startTime} (clock ticks). */
    public static String of(long pid, long startTime) {
        return "isolation-" + pid + "-" + startTime + "-ns" + PID_NAMESPACE;
    }

    /** This JVM's label, {@code isolation-<pid>-<start time>-ns<pid namespace>}. */
    public static String thisJvm() {
        return THIS_JVM;
    }

    /** A fresh name for one more thing of this JVM: its label followed by {@code -<n>}. */
    public static String next() {
        return THIS_JVM + "-" + SEQUENCE.incrementAndGet();
    }

    /** Whether {@code name} is a label, with or without a sequence number. */
    public static boolean isLabelled(String name) {
        return NAME.matcher(name).matches();
    }

    /**
     * Whether {@code name} was made by a JVM that is no longer running: its pid is free, or taken by a process
     * with another start time, or a zombie. False for names that are not labels, labels of another pid namespace,
     * and when in doubt: a label whose start time is unknown (0) while its pid exists, or a /proc entry that cannot
     * be parsed.
     */
    public static boolean ownerIsGone(String name) {
        Matcher matcher = NAME.matcher(name);
        if (!matcher.matches() || !matcher.group(3).equals(PID_NAMESPACE) || PID_NAMESPACE.equals("0")) {
            return false;
        }
        long started = Long.parseLong(matcher.group(2));
        String stat;
        try {
            stat = Files.readString(Path.of("/proc", matcher.group(1), "stat"));
        } catch (IOException e) {
            return true;                                            // no such process (any more)
        }
        try {
            String[] fields = fieldsAfterName(stat);
            if (fields[0].equals("Z") || fields[0].equals("X")) {
                return true;                                        // dead, not yet reaped: it holds nothing
            }
            return started != 0 && Long.parseLong(fields[19]) != started;
        } catch (RuntimeException e) {
            return false;
        }
    }

    static Optional<Long> startTime(long pid) {
        try {
            return Optional.of(Long.parseLong(fieldsAfterName(Files.readString(Path.of("/proc", Long.toString(pid),
                    "stat")))[19]));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The inode of this process's pid namespace; "0" where /proc does not show it (no label is then ever gone). */
    private static String pidNamespace() {
        try {
            String link = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();     // pid:[4026531836]
            Matcher inode = Pattern.compile("pid:\\[([0-9]+)\\]").matcher(link);
            return inode.matches() ? inode.group(1) : "0";
        } catch (IOException | RuntimeException e) {
            return "0";
        }
    }

    /** The fields of a /proc/<pid>/stat line after the command name: [0] is field 3 (state), [19] field 22 (start). */
    private static String[] fieldsAfterName(String stat) {
        return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    }
}
