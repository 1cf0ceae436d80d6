package dev.isolation.examples;

import dev.isolation.Sandbox;
import dev.isolation.SandboxSpec;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Start-to-exit latency of {@code /bin/true}: a plain {@link ProcessBuilder}, Isolation without namespaces,
 * Isolation with all of them, and the same with a cgroup holding memory, pids and cpu limits. The configurations are interleaved, one run of each in turn, so that drift of the
 * machine affects them alike.
 *
 * <pre>java -cp examples/target/isolation-run.jar dev.isolation.examples.StartLatency [runs] [warmup]</pre>
 */
public final class StartLatency {
    private StartLatency() {
    }

    interface Start {
        void runOnce() throws IOException, InterruptedException;
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        SandboxSpec none = Sandbox.builder().command("/bin/true")
                .redirectOutput(Redirect.DISCARD).redirectError(Redirect.DISCARD).build();
        SandboxSpec all = none.toBuilder().allNamespaces().build();
        SandboxSpec allWithoutSeccomp = all.toBuilder().noSeccomp().build();
        boolean withLimits = !"false".equals(System.getProperty("limits"));
        SandboxSpec limited = all.toBuilder().memory(256L << 20).pids(64).cpus(1).build();
        ProcessBuilder plain = new ProcessBuilder("/bin/true")
                .redirectOutput(Redirect.DISCARD).redirectError(Redirect.DISCARD);

        Map<String, Start> starts = new LinkedHashMap<>();
        starts.put("ProcessBuilder", () -> plain.start().waitFor());
        starts.put("Isolation, no namespaces", () -> none.start().waitFor());
        starts.put("  all, without seccomp", () -> allWithoutSeccomp.start().waitFor());
        starts.put("Isolation, all namespaces", () -> all.start().waitFor());
        if (withLimits) { // needs root on cgroup v1, a delegated subtree on v2; -Dlimits=false leaves it out
            starts.put("  + memory, pids, cpu group", () -> limited.start().waitFor());
        }

        Map<String, long[]> samples = new LinkedHashMap<>();
        starts.keySet().forEach(name -> samples.put(name, new long[runs]));
        for (int i = -warmup; i < runs; i++) {
            for (Map.Entry<String, Start> start : starts.entrySet()) {
                long begin = System.nanoTime();
                start.getValue().runOnce();
                long elapsed = System.nanoTime() - begin;
                if (i >= 0) {
                    samples.get(start.getKey())[i] = elapsed;
                }
            }
        }

        double baseline = median(samples.get("ProcessBuilder"));
        System.out.printf(Locale.ROOT, "start-to-exit of /bin/true, %d runs each (after %d warm-up), %s, java %s%n",
                runs, warmup, System.getProperty("os.name") + " " + System.getProperty("os.version"),
                System.getProperty("java.version"));
        System.out.printf(Locale.ROOT, "%-28s %12s %12s %16s %16s%n", "configuration", "median ms", "p99 ms",
                "median / PB", "- previous row");
        List<String> lines = new ArrayList<>();
        double previous = Double.NaN;
        for (Map.Entry<String, long[]> entry : samples.entrySet()) {
            long[] times = entry.getValue();
            double median = median(times);
            lines.add(String.format(Locale.ROOT, "%-28s %12.3f %12.3f %16.2f %16s", entry.getKey(), median / 1e6,
                    percentile(times, 0.99) / 1e6, median / baseline,
                    Double.isNaN(previous) ? "" : String.format(Locale.ROOT, "%+.3f ms", (median - previous) / 1e6)));
            previous = median;
        }
        lines.forEach(System.out::println);
    }

    private static double median(long[] times) {
        return percentile(times, 0.5);
    }

    private static double percentile(long[] times, double fraction) {
        long[] sorted = times.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(fraction * sorted.length) - 1)];
    }
}
