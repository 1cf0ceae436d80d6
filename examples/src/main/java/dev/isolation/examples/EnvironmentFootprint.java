package dev.isolation.examples;

import dev.isolation.Sandbox;
import dev.isolation.SandboxBuilder;
import dev.isolation.SandboxEnvironment;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Locale;

/**
 * What idle long-lived sandboxes cost, and how many this machine holds at once. Starts environments with all
 * namespaces and the default root (the host's, read-only, with a fresh /proc, a minimal /dev and a private /tmp),
 * with no program in them, until {@code count} are up or a start fails; then reports, per environment:
 * <ul>
 *   <li>host RSS and PSS of its processes (the helper and init, with whatever else is in their tree), from
 *       /proc/&lt;pid&gt;/smaps_rollup: the memory outside any program run in it;</li>
 *   <li>the drop of MemAvailable per environment, which also counts the kernel's share (namespaces, mounts,
 *       kernel stacks, page tables, cgroups): noisy, since the rest of the machine moves it too;</li>
 *   <li>the JVM heap retained per live environment, after a full collection;</li>
 * </ul>
 * and the time to close them all. {@code --limits} gives each a cgroup (memory and pids limits).
 *
 * <pre>java -cp examples/target/isolation-run.jar dev.isolation.examples.EnvironmentFootprint [count] [--limits]</pre>
 */
public final class EnvironmentFootprint {
    private EnvironmentFootprint() {
    }

    /**
     * What {@code held} idle environments cost each (medians): host RSS and PSS of their processes, the drop of
     * MemAvailable, the JVM heap retained; {@code stoppedBy} is the failure that ended the starts early, if one did.
     */
    public record Footprint(int held, double startSeconds, String stoppedBy, long rssKib, long maxRssKib, long pssKib,
            double processes, long availableDropKib, long heapBytes, double closeSeconds) {
    }

    public static void main(String[] args) throws Exception {
        int count = args.length > 0 && !args[0].startsWith("--") ? Integer.parseInt(args[0]) : 1000;
        boolean limits = Arrays.asList(args).contains("--limits");
        SandboxBuilder builder = Sandbox.builder().allNamespaces();
        if (limits) {
            builder.memory(64L << 20).pids(64);
        }
        System.out.printf(Locale.ROOT, "idle environments: all namespaces, host root read-only%s; %s %s, java %s%n",
                limits ? ", memory and pids limits" : "", System.getProperty("os.name"),
                System.getProperty("os.version"), System.getProperty("java.version"));
        Footprint measured = measure(builder, count);
        int held = measured.held();
        System.out.printf(Locale.ROOT, "held %d of %d asked at once%s; started in %.2f s (%.2f ms each)%n", held,
                count, measured.stoppedBy() == null ? "" : ", then a start failed: " + measured.stoppedBy(),
                measured.startSeconds(), held == 0 ? 0 : measured.startSeconds() * 1000 / held);
        System.out.printf(Locale.ROOT, "processes per environment outside its programs: %.1f%n",
                measured.processes());
        System.out.printf(Locale.ROOT, "host RSS per environment:  median %d KiB, max %d KiB%n", measured.rssKib(),
                measured.maxRssKib());
        System.out.printf(Locale.ROOT, "host PSS per environment:  median %d KiB%n", measured.pssKib());
        System.out.printf(Locale.ROOT, "MemAvailable drop per environment (kernel included): %d KiB%n",
                measured.availableDropKib());
        System.out.printf(Locale.ROOT, "JVM heap retained per live environment: %d bytes%n", measured.heapBytes());
        System.out.printf(Locale.ROOT, "closed all %d in %.2f s%n", held, measured.closeSeconds());
    }

    /** Starts up to {@code count} environments from {@code builder}, holds them all, measures them, closes them. */
    public static Footprint measure(SandboxBuilder builder, int count) throws IOException {
        long heapBefore = usedHeapAfterCollection();
        long availableBefore = memAvailableKib();
        List<SandboxEnvironment> environments = new ArrayList<>();
        String stoppedBy = null;
        long begin = System.nanoTime();
        try {
            while (environments.size() < count) {
                environments.add(builder.startEnvironment());
            }
        } catch (IOException | RuntimeException e) {
            stoppedBy = e.toString();
        }
        double startSeconds = (System.nanoTime() - begin) / 1e9;
        int held = environments.size();
        long[] rss = new long[held];
        long[] pss = new long[held];
        int processes = 0;
        long availableDrop;
        long heapRetained;
        double closeSeconds;
        try {
            for (int i = 0; i < held; i++) {
                for (long pid : tree(parentOf(environments.get(i).pid()))) {
                    long[] memory = rssAndPssKib(pid);
                    rss[i] += memory[0];
                    pss[i] += memory[1];
                    processes++;
                }
            }
            availableDrop = availableBefore - memAvailableKib();
            heapRetained = usedHeapAfterCollection() - heapBefore;
        } finally {
            long closing = System.nanoTime();
            environments.parallelStream().forEach(SandboxEnvironment::close);
            closeSeconds = (System.nanoTime() - closing) / 1e9;
        }
        int divisor = Math.max(1, held);
        return new Footprint(held, startSeconds, stoppedBy, held == 0 ? 0 : median(rss),
                Arrays.stream(rss).max().orElse(0), held == 0 ? 0 : median(pss), (double) processes / divisor,
                availableDrop / divisor, heapRetained / divisor, closeSeconds);
    }

    /** The parent of {@code pid}: for an environment's init, the helper that started it and waits for it. */
    private static long parentOf(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1]);
    }

    /** {@code root} and its descendants, from /proc/&lt;pid&gt;/task/&lt;tid&gt;/children. */
    private static List<Long> tree(long root) {
        List<Long> found = new ArrayList<>();
        Deque<Long> pending = new ArrayDeque<>(List.of(root));
        while (!pending.isEmpty()) {
            long pid = pending.pop();
            found.add(pid);
            try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
                for (Path task : (Iterable<Path>) tasks::iterator) {
                    String children = Files.readString(task.resolve("children")).trim();
                    if (!children.isEmpty()) {
                        Arrays.stream(children.split(" ")).map(Long::parseLong).forEach(pending::push);
                    }
                }
            } catch (IOException | java.io.UncheckedIOException e) {
                // ended meanwhile
            }
        }
        return found;
    }

    private static long[] rssAndPssKib(long pid) {
        long[] memory = new long[2];
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps_rollup"))) {
                if (line.startsWith("Rss:")) {
                    memory[0] = kib(line);
                } else if (line.startsWith("Pss:")) {
                    memory[1] = kib(line);
                }
            }
        } catch (IOException e) {
            // ended meanwhile
        }
        return memory;
    }

    private static long memAvailableKib() throws IOException {
        return Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(line -> line.startsWith("MemAvailable:"))
                .mapToLong(EnvironmentFootprint::kib).findFirst().orElseThrow();
    }

    private static long kib(String line) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
    }

    private static long usedHeapAfterCollection() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static long median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
