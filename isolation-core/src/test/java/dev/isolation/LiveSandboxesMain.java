package dev.isolation;

import dev.isolation.cgroups.CgroupTopology;
import dev.isolation.cgroups.JvmLabel;
import dev.isolation.cgroups.ResourceLimits;
import dev.isolation.fs.FilesystemSpec;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Run in a child JVM by {@link CrashCleanupTest}: starts live environments, each with all namespaces, an overlay
 * root over a busybox directory (so there is an upper directory, into which the program exec'd into it writes a
 * directory it then locks itself out of), and, when asked, limits (so there is a cgroup); the last one, when asked,
 * maps subordinate ids and its program leaves a directory owned by one of them. Then prints what it created and
 * waits to be killed:
 *
 * <pre>
 * sandbox &lt;host pid&gt;       each environment's init and the program exec'd into it
 * cgroup &lt;directory&gt;        every group directory of every environment
 * directory &lt;path&gt;          this JVM's runtime directory, then each entry in it
 * ready
 * </pre>
 *
 * Arguments: the lower directory, the sleep's duration (a marker), how many environments, "limits" or "no",
 * "subordinate" or "no". The runtime directory is the one -Disolation.runtime.dir names.
 */
public final class LiveSandboxesMain {
    private LiveSandboxesMain() {
    }

    public static void main(String[] args) throws Exception {
        Path lower = Path.of(args[0]);
        String marker = args[1];
        int count = Integer.parseInt(args[2]);
        boolean limits = args[3].equals("limits");
        boolean subordinate = args[4].equals("subordinate");
        List<Long> pids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            pids.addAll(startLive(lower, marker, limits, subordinate && i == count - 1));
        }
        for (long pid : pids) {
            System.out.println("sandbox " + pid);
        }
        for (long pid : pids) {
            for (Path group : groupDirectories(pid)) {
                System.out.println("cgroup " + group);
            }
        }
        Path own = Sandboxes.ownRuntimeDirectory();
        System.out.println("directory " + own);
        try (Stream<Path> entries = Files.list(own)) {
            entries.sorted().forEach(entry -> System.out.println("directory " + entry));
        }
        System.out.println("ready");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }

    /**
     * Starts one environment and a program in it, waits until the program has written into the upper directory,
     * and returns the host pids of the environment's init and of the program.
     */
    private static List<Long> startLive(Path lower, String marker, boolean limits, boolean subordinate)
            throws IOException {
        String script = "mkdir -p /locked/in && echo x > /locked/in/file && chmod 000 /locked/in /locked"
                + (subordinate ? " && mkdir -p /owned/d && echo x > /owned/d/f && busybox chown -R 1000:1000 /owned/d"
                        : "")
                + " && echo ready && exec sleep " + marker;
        SandboxBuilder builder = Sandbox.builder().allNamespaces()
                .filesystem(FilesystemSpec.builder().rootDirectory(lower).build())
                .redirectErrorStream(true);
        if (limits) {
            builder.limits(ResourceLimits.builder().memoryMax(64 << 20).pidsMax(64).build());
        }
        if (subordinate) {
            builder.subordinateIdMaps();
        }
        SandboxEnvironment environment = builder.startEnvironment();
        SandboxProcess process = environment.exec("/bin/sh", "-c", script);
        String line = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))
                .readLine();
        if (!"ready".equals(line)) {
            throw new IllegalStateException("the sandbox said " + line + " instead of ready");
        }
        return List.of(environment.pid(), process.pid());
    }

    /** The group directories holding {@code pid} that this library made (their name is a JVM label). */
    private static List<Path> groupDirectories(long pid) throws IOException {
        CgroupTopology topology = CgroupTopology.detect();
        List<Path> groups = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "cgroup"))) {
            String[] fields = line.split(":", 3);
            Path path = Path.of(fields[2]);
            if (path.getFileName() == null || !JvmLabel.isLabelled(path.getFileName().toString())) {
                continue;
            }
            String controller = fields[1].split(",")[0];
            Path mount = controller.isEmpty() ? topology.unifiedMountPoint().orElseThrow()
                    : topology.v1MountPoints().get(controller);
            if (mount != null) {
                groups.add(mount.resolve(fields[2].substring(1)));
            }
        }
        return groups;
    }
}
