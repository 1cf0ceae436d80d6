package dev.isolation.examples;

import dev.isolation.ReadySandboxes;
import dev.isolation.Sandbox;
import dev.isolation.SandboxSpec;
import dev.isolation.fs.FilesystemSpec;
import dev.isolation.seccomp.SeccompPolicy;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The start benchmark: start-to-exit of {@code /bin/true} from this JVM, for a plain {@link ProcessBuilder},
 * Isolation with more and more isolation, and, when installed, {@code bwrap} and {@code crun} doing the same work
 * (Debian: {@code apt-get install bubblewrap crun}). For each: latency (median and p99 over {@code runs} starts,
 * the configurations interleaved one start each in turn so that drift of the machine affects them alike),
 * throughput with 1 and 2 threads (starts completed in {@code seconds}), and the JVM's own CPU time per start
 * (from the 1-thread phase). Then the memory of idle long-lived sandboxes ({@link EnvironmentFootprint}). It
 * prints ratios to ProcessBuilder and to bwrap, and the targets beside what was measured.
 *
 * <p>Run as root: the overlay over the host root in a user namespace needs it (the helper makes the overlay before
 * the user namespace exists; the kernel refuses it inside one), as do v1 cgroups. The fully isolated row is every
 * namespace (user included), an overlay over the host root with /proc and /dev, memory, pids and cpu limits, the
 * default seccomp filter and the default capabilities (root's default set, the rest dropped). The row after it
 * starts the same spec from {@link ReadySandboxes} ({@code keepReady(1)}): set up ahead, each used once; the next is
 * set up once a start returns, so its work overlaps that row's own program and is in that row's figures (between
 * latency samples the harness waits, untimed, until it is ready again, so the other rows do not pay for it).
 *
 * <pre>java -cp examples/target/isolation-run.jar dev.isolation.examples.StartBenchmark [runs] [warmup] [seconds]</pre>
 */
public final class StartBenchmark {
    private static final String FULL = "+ default seccomp, dropped capabilities";
    private static final String BWRAP = "bwrap --unshare-all";
    private static final String READY = "the same, kept ready (keepReady(1))";

    /** The ready row's sandboxes, closed at the end. */
    private static ReadySandboxes keptReady;

    private StartBenchmark() {
    }

    interface Start {
        void runOnce() throws IOException, InterruptedException;

        /** After a timed start, untimed: waits until what it left to do is done, so the next row does not pay. */
        default void settle() throws InterruptedException {
        }
    }

    /** Waits (up to 1 s) until a sandbox is set up again. */
    private static void awaitReady(ReadySandboxes ready) throws InterruptedException {
        for (int i = 0; i < 1000 && ready.readyCount() == 0; i++) {
            Thread.sleep(0, 200_000);
        }
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 3;
        Map<String, Start> starts = configurations();
        System.out.printf(Locale.ROOT, "start-to-exit of /bin/true: %d runs each after %d warm-up, throughput over"
                + " %.1f s; %s %s, %d cpus, java %s%n", runs, warmup, seconds, System.getProperty("os.name"),
                System.getProperty("os.version"), Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"));

        Map<String, long[]> latencies = latencies(starts, runs, warmup);
        Map<String, double[]> throughput = new LinkedHashMap<>();
        for (Map.Entry<String, Start> start : starts.entrySet()) {
            throughput.put(start.getKey(), new double[] {
                throughput(start.getValue(), 1, seconds), throughput(start.getValue(), 2, seconds),
                lastCpuMillisPerStart});
        }
        printTable(latencies, throughput);
        EnvironmentFootprint.Footprint idle = EnvironmentFootprint.measure(Sandbox.builder().allNamespaces(), 100);
        System.out.printf(Locale.ROOT, "idle long-lived sandbox (all namespaces, host root; 100 held): host RSS %d KiB"
                + " (PSS %d KiB) outside the program; JVM heap per live sandbox %d bytes%n", idle.rssKib(),
                idle.pssKib(), idle.heapBytes());
        printTargets(latencies, throughput, idle, FULL);
        printTargets(latencies, throughput, null, READY);
        keptReady.close();
    }

    private static Map<String, Start> configurations() throws IOException {
        SandboxSpec nothing = Sandbox.builder().command("/bin/true").noSeccomp()
                .redirectOutput(Redirect.DISCARD).redirectError(Redirect.DISCARD).build();
        SandboxSpec allNamespaces = nothing.toBuilder().allNamespaces().build();
        // all 8 namespaces: as root, the helper makes the overlay over the host root before the user namespace
        SandboxSpec overlaid = nothing.toBuilder().allNamespaces()
                .filesystem(FilesystemSpec.builder().overlay().build()).build();
        SandboxSpec limited = overlaid.toBuilder().memory(256L << 20).pids(64).cpus(1).build();
        SandboxSpec full = limited.toBuilder().seccomp(SeccompPolicy.defaultPolicy()).build();

        Map<String, Start> starts = new LinkedHashMap<>();
        ProcessBuilder plain = new ProcessBuilder("/bin/true").redirectOutput(Redirect.DISCARD)
                .redirectError(Redirect.DISCARD);
        starts.put("ProcessBuilder", () -> plain.start().waitFor());
        starts.put("Isolation, no isolation", () -> nothing.start().waitFor());
        starts.put("all 8 namespaces, host root r/o", () -> allNamespaces.start().waitFor());
        starts.put("all 8 namespaces, overlay root", () -> overlaid.start().waitFor());
        starts.put("+ memory, pids, cpu limits", () -> limited.start().waitFor());
        starts.put(FULL, () -> full.start().waitFor());
        // set up ahead: a start hands over the stdio and runs the program's last steps; the next one is set up once
        // this start returns, while the program runs and ends (its cost is in this row's own latency and throughput)
        ReadySandboxes ready = full.keepReady(1);
        keptReady = ready;
        starts.put(READY, new Start() {
            @Override
            public void runOnce() throws IOException, InterruptedException {
                ready.start().waitFor();
            }

            @Override
            public void settle() throws InterruptedException {
                awaitReady(ready);
            }
        });
        external(starts, BWRAP, List.of("bwrap", "--unshare-all", "--ro-bind", "/", "/", "--proc", "/proc", "--dev",
                "/dev", "/bin/true"));
        Path bundle = CrunBundle.create();
        external(starts, "crun run", List.of("crun", "--cgroup-manager=disabled", "run", "--bundle",
                bundle.toString(), "@id"));
        return starts;
    }

    /** Adds a command-line tool when it is installed and runs here; says why not otherwise. */
    private static void external(Map<String, Start> starts, String name, List<String> command) {
        AtomicLong ids = new AtomicLong();
        Start start = () -> {
            List<String> actual = new ArrayList<>(command);
            actual.replaceAll(word -> word.equals("@id") ? "bench-" + ProcessHandle.current().pid() + "-"
                    + ids.incrementAndGet() : word);
            Process process = new ProcessBuilder(actual).redirectOutput(Redirect.DISCARD)
                    .redirectError(Redirect.PIPE).start();
            String error = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            int code = process.waitFor();
            if (code != 0) {
                throw new IOException(command.get(0) + " exited " + code + ": " + error);
            }
        };
        try {
            start.runOnce();
            starts.put(name, start);
        } catch (IOException | InterruptedException e) {
            System.out.printf(Locale.ROOT, "left out %s: %s%n", name, e.getMessage());
        }
    }

    private static Map<String, long[]> latencies(Map<String, Start> starts, int runs, int warmup) throws Exception {
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
                start.getValue().settle();
            }
        }
        return samples;
    }

    private static double lastCpuMillisPerStart;

    /** Starts per second with {@code threads} threads starting one after another for {@code seconds}. */
    private static double throughput(Start start, int threads, double seconds) throws Exception {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        AtomicLong done = new AtomicLong();
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        List<Thread> workers = new ArrayList<>();
        List<Exception> failures = new ArrayList<>();
        long cpuBefore = os.getProcessCpuTime();
        long begin = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            Thread worker = new Thread(() -> {
                try {
                    while (System.nanoTime() < deadline) {
                        start.runOnce();
                        done.incrementAndGet();
                    }
                } catch (Exception e) {
                    synchronized (failures) {
                        failures.add(e);
                    }
                }
            });
            workers.add(worker);
            worker.start();
        }
        for (Thread worker : workers) {
            worker.join();
        }
        double elapsed = (System.nanoTime() - begin) / 1e9;
        if (!failures.isEmpty()) {
            throw failures.get(0);
        }
        if (threads == 1) {
            lastCpuMillisPerStart = (os.getProcessCpuTime() - cpuBefore) / 1e6 / done.get();
        }
        return done.get() / elapsed;
    }

    private static void printTable(Map<String, long[]> latencies, Map<String, double[]> throughput) {
        double baseline = median(latencies.get("ProcessBuilder"));
        long[] bwrap = latencies.get(BWRAP);
        System.out.printf(Locale.ROOT, "| %-40s | %9s | %9s | %7s | %8s | %10s | %10s | %11s |%n", "configuration",
                "median ms", "p99 ms", "/ PB", "/ bwrap", "starts/s 1", "starts/s 2", "JVM CPU ms");
        System.out.println("|" + "-".repeat(42) + "|" + "----------:|".repeat(2) + "--------:|".repeat(2)
                + "-----------:|".repeat(2) + "------------:|");
        for (Map.Entry<String, long[]> entry : latencies.entrySet()) {
            double median = median(entry.getValue());
            double[] rates = throughput.get(entry.getKey());
            System.out.printf(Locale.ROOT, "| %-40s | %9.3f | %9.3f | %7.2f | %8s | %10.0f | %10.0f | %11.3f |%n",
                    entry.getKey(), median / 1e6, percentile(entry.getValue(), 0.99) / 1e6, median / baseline,
                    bwrap == null ? "-" : String.format(Locale.ROOT, "%.2f", median / median(bwrap)), rates[0],
                    rates[1], rates[2]);
        }
    }

    /** The targets for the fully isolated row {@code row}, cold or kept ready; the memory one with idle. */
    private static void printTargets(Map<String, long[]> latencies, Map<String, double[]> throughput,
            EnvironmentFootprint.Footprint idle, String row) {
        String which = row.equals(FULL) ? "fully isolated" : "fully isolated, kept ready";
        double full = median(latencies.get(row));
        System.out.printf(Locale.ROOT, "target: %s median / ProcessBuilder <= 1.20: %.2f%n", which,
                full / median(latencies.get("ProcessBuilder")));
        if (latencies.containsKey(BWRAP)) {
            System.out.printf(Locale.ROOT, "target: %s median / bwrap <= 0.40: %.2f%n", which,
                    full / median(latencies.get(BWRAP)));
            System.out.printf(Locale.ROOT, "target: %s 2-thread throughput / bwrap's >= 3.0: %.2f%n", which,
                    throughput.get(row)[1] / throughput.get(BWRAP)[1]);
        }
        if (idle != null) {
            System.out.printf(Locale.ROOT, "target: idle sandbox host RSS <= 1024 KiB: %d KiB%n", idle.rssKib());
        }
    }

    private static double median(long[] times) {
        return percentile(times, 0.5);
    }

    private static double percentile(long[] times, double fraction) {
        long[] sorted = times.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(fraction * sorted.length) - 1)];
    }

    /** An OCI bundle for crun: the host root read-only, /proc, /dev; the same namespaces bwrap has, but user. */
    static final class CrunBundle {
        private CrunBundle() {
        }

        static Path create() throws IOException {
            Path bundle = Files.createTempDirectory("isolation-bench-crun");
            bundle.toFile().deleteOnExit();
            String config = """
                    {"ociVersion": "1.0.2",
                     "process": {"terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["/bin/true"],
                                 "env": ["PATH=/usr/bin:/bin"], "cwd": "/"},
                     "root": {"path": "/", "readonly": true},
                     "hostname": "bench",
                     "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
                                {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
                                 "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}],
                     "linux": {"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"},
                                              {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}]}}
                    """;
            Path file = bundle.resolve("config.json");
            Files.writeString(file, config);
            file.toFile().deleteOnExit();
            return bundle;
        }
    }
}
