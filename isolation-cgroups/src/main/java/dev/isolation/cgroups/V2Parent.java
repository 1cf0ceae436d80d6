package dev.isolation.cgroups;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * Where a {@link CgroupsV2} manager makes its groups, and which controllers those groups get there: the parent
 * directory, the controllers enabled in its cgroup.subtree_control, and for each controller that could not be
 * enabled, why. Deciding never moves the JVM.
 */
final class V2Parent {
    /** The controllers groups may need, in the order they are enabled. */
    static final List<String> WANTED = List.of("cpuset", "cpu", "io", "memory", "pids");

    /** The dedicated group, made beside the JVM's own (or in the root), whose children are the sandboxes' groups. */
    static final String DEDICATED = "isolation";

    static final String CONTROLLERS = "cgroup.controllers";
    static final String SUBTREE_CONTROL = "cgroup.subtree_control";

    private final Optional<Path> directory;
    private final Set<String> enabled;
    private final Map<String, String> missing;
    private final String unusable;

    private V2Parent(Optional<Path> directory, Set<String> enabled, Map<String, String> missing, String unusable) {
        this.directory = directory;
        this.enabled = Collections.unmodifiableSet(new LinkedHashSet<>(enabled));
        this.missing = Collections.unmodifiableMap(new TreeMap<>(missing));
        this.unusable = unusable;
    }

    /** The directory new groups are made in; empty when there is none ({@link #unusable()} says why). */
    Optional<Path> directory() {
        return directory;
    }

    /** The controllers new groups get. */
    Set<String> enabled() {
        return enabled;
    }

    /** Why a controller that is not enabled cannot be. */
    String whyMissing(String controller) {
        return missing.getOrDefault(controller, "it is not available");
    }

    /** Why no group can be made at all, or null when groups can be made. */
    String unusable() {
        return unusable;
    }

    /**
     * The parent for a JVM whose own group is {@code own}, in the cgroup2 hierarchy mounted at {@code mount}.
     *
     * <ul>
     *   <li>In the root group (which alone may hold processes and have controllers for its children):
     *       {@code <mount>/isolation}, with the controllers enabled in the root and in it.
     *   <li>Elsewhere the JVM's group holds processes, so no child of it can get a controller; if the group
     *       above it is writable: {@code <above>/isolation}, with what can be enabled there.
     *   <li>Else, if the JVM's own group is writable: groups are made inside it, with no controller (metering
     *       CPU time, freezing and killing work; every limit fails with the reason).
     *   <li>Else no group can be made.
     * </ul>
     *
     * @param writable whether this process may write into a directory (access(2) W_OK; injectable for tests)
     * @param uid the uid named in messages
     */
    static V2Parent forProcess(Path mount, Path own, Predicate<Path> writable, long uid) {
        boolean inRoot = own.equals(mount);
        if (!own.startsWith(mount)) {
            return unusable("this process's cgroup " + own + " is not inside the cgroup2 mount " + mount
                    + ": pass a parent with CgroupsV2.under(path)");
        }
        Path holder = inRoot ? mount : own.getParent();
        String holderProblem;
        if (!writable.test(holder)) {
            holderProblem = "its parent " + holder + " is not writable by uid " + uid;
        } else {
            Path dedicated = holder.resolve(DEDICATED);
            try {
                makeDirectory(dedicated);
                holderProblem = writable.test(dedicated) ? null
                        : dedicated + " exists and is not writable by uid " + uid;
            } catch (IOException e) {
                holderProblem = e.getMessage();
            }
            if (holderProblem == null) {
                Map<String, String> missing = new TreeMap<>();
                Set<String> inHolder = enable(holder, WANTED, missing);
                Set<String> inDedicated = enable(dedicated, List.copyOf(inHolder), missing);
                return new V2Parent(Optional.of(dedicated), inDedicated, missing, null);
            }
        }
        String why = inRoot ? holderProblem.replaceFirst("^its parent", "the root cgroup")
                : "the JVM's cgroup " + relative(mount, own) + " holds processes, so its children cannot get"
                        + " controllers (cgroup v2 no-internal-processes rule), and " + holderProblem
                        + ": run the JVM in a delegated cgroup (systemd-run --user -p Delegate=yes ...) and use"
                        + " CgroupsV2.movingJvmIntoLeaf, or pass a parent with CgroupsV2.under(path)";
        if (!inRoot && writable.test(own)) {
            Map<String, String> missing = new TreeMap<>();
            for (String controller : WANTED) {
                missing.put(controller, why);
            }
            return new V2Parent(Optional.of(own), Set.of(), missing, null);
        }
        return unusable(why + (inRoot ? "" : "; the JVM's own cgroup is not writable either"));
    }

    /** An explicit parent: a writable cgroup2 directory; every wanted controller it can get is enabled in it. */
    static V2Parent under(Path parent, Predicate<Path> writable, long uid) throws IOException {
        if (!Files.isRegularFile(parent.resolve(CONTROLLERS))) {
            throw new IOException(parent + " is not a cgroup v2 directory (it has no " + CONTROLLERS + ")");
        }
        if (!writable.test(parent)) {
            throw new IOException(parent + " is not writable by uid " + uid + ": groups cannot be made in it");
        }
        Map<String, String> missing = new TreeMap<>();
        Set<String> enabled = enable(parent, WANTED, missing);
        return new V2Parent(Optional.of(parent), enabled, missing, null);
    }

    private static V2Parent unusable(String why) {
        return new V2Parent(Optional.empty(), Set.of(), Map.of(), why);
    }

    private static void makeDirectory(Path dir) throws IOException {
        try {
            Files.createDirectory(dir);
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(dir)) {
                throw new IOException(dir + " exists and is not a directory", e);
            }
        } catch (IOException e) {
            throw new IOException("cannot create " + dir + ": " + V2Files.reason(e), e);
        }
    }

    /**
     * Enables each of {@code controllers} in {@code dir}'s cgroup.subtree_control, one by one so that each
     * failure has its own reason; returns those enabled (already or now) and records the others in
     * {@code missing} (a reason already there is kept: it is the first, real one).
     */
    static Set<String> enable(Path dir, List<String> controllers, Map<String, String> missing) {
        Path subtreeControl = dir.resolve(SUBTREE_CONTROL);
        Path offeredFile = dir.resolve(CONTROLLERS);
        Set<String> enabled = new LinkedHashSet<>();
        Set<String> offered;
        Set<String> active;
        try {
            offered = words(V2Files.read(offeredFile));
            active = words(V2Files.read(subtreeControl));
        } catch (IOException e) {
            for (String controller : controllers) {
                missing.putIfAbsent(controller, e.getMessage());
            }
            return enabled;
        }
        for (String controller : controllers) {
            if (active.contains(controller)) {
                enabled.add(controller);
            } else if (!offered.contains(controller)) {
                missing.putIfAbsent(controller, offeredFile + " does not offer it (the group above " + dir
                        + " has not delegated it"
                        + (offered.isEmpty() ? "" : "; it offers " + String.join(" ", offered)) + ")");
            } else {
                try {
                    V2Files.write(subtreeControl, "+" + controller, "enabling " + controller);
                    enabled.add(controller);
                } catch (IOException e) {
                    String hint = V2Files.isBusy(e)
                            ? " (" + dir + " holds processes: only the root cgroup may both hold processes and give"
                                    + " its children controllers)"
                            : "";
                    missing.putIfAbsent(controller, e.getMessage() + hint);
                }
            }
        }
        return enabled;
    }

    private static Set<String> words(String text) {
        Set<String> words = new LinkedHashSet<>();
        for (String word : text.split("\\s+")) {
            if (!word.isEmpty()) {
                words.add(word);
            }
        }
        return words;
    }

    private static String relative(Path mount, Path group) {
        String relative = mount.relativize(group).toString();
        return "/" + relative;
    }

    @Override
    public String toString() {
        return directory.map(d -> d + " with " + String.join(" ", enabled) + (missing.isEmpty() ? ""
                : "; not enabled: " + String.join(" ", missing.keySet()))).orElse("no parent: " + unusable);
    }
}
