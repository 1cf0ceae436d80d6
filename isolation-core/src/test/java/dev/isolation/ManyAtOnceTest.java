package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.isolation.cgroups.CgroupTopology;
import dev.isolation.cgroups.JvmLabel;
import dev.isolation.cgroups.ResourceLimits;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Many sandboxes started from many threads at once all start, and the JVM's threads and descriptors grow only with
 * the sandboxes alive: once they have ended, both are back where they were, and no process, cgroup, mount or
 * directory of theirs is left. This test shares its JVM with others, so "back" means no thread, descriptor, process,
 * group or directory that was not there before: one that an earlier test left and that ended meanwhile is no leak.
 *
 * <p>Threads: the library starts none of its own per sandbox. One thread watches the control sockets of all live
 * sandboxes for their ends (epoll), and hands each end to a pool ("isolation-sandbox-exit") where the outcome stages
 * run; like the JDK's pools (the common fork-join pool, "process reaper" threads of the one resident helper process)
 * it keeps idle threads for 60 s, and its size follows the number of sandboxes ending at once, not the number
 * started, but an idle one may outlive this test. So the baseline is taken after a warm-up round at the same
 * concurrency; every other thread must be gone afterwards, and the pooled ones are checked for what matters: no
 * more of them are busy than before, and there are at most twice as many as sandboxes can be alive at once (one
 * per thread), far from the number started.
 */
class ManyAtOnceTest {
    private static final int SANDBOXES = 200;
    private static final int THREADS = 16;
    private static final List<String> JDK_POOLS = List.of("process reaper", "ForkJoinPool.commonPool-worker-",
            "isolation-sandbox-exit", "isolation-cgroup-remover");

    private final String marker = "many-at-once-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
    private final AtomicInteger alive = new AtomicInteger();
    private final AtomicInteger peakAlive = new AtomicInteger();

    @Test
    void twoHundredSandboxesFromSixteenThreadsAllStartAndLeaveNothing() throws Exception {
        assertThat(runAll(2 * THREADS)).allMatch(output -> output.equals("ok 0"));
        Snapshot before = Snapshot.take();
        peakAlive.set(0);

        List<String> outputs = runAll(SANDBOXES);

        assertThat(outputs).hasSize(SANDBOXES).allMatch(output -> output.equals("ok 0"));
        assertThat(peakAlive.get()).as("sandboxes alive at once").isGreaterThan(1).isLessThanOrEqualTo(THREADS);
        assertThat(dev.isolation.cgroups.CgroupRemover.shared().flush(java.time.Duration.ofSeconds(30)))
                .as("groups removed off the exit path").isTrue();
        Snapshot after = Snapshot.settled(before);
        assertThat(before.threads()).as("threads other than the JDK's pools").containsAll(after.threads());
        assertThat(after.descriptors()).as("open descriptors (/proc/self/fd)")
                .isLessThanOrEqualTo(before.descriptors());
        assertThat(after.pooledBusy().size()).as("JDK pool threads waiting for a process")
                .isLessThanOrEqualTo(before.pooledBusy().size());
        // a reaper still finishing a sandbox's outcome stage as the next start comes may make the pool grow a little
        assertThat(after.pooledCount()).as("JDK pool threads: they follow the sandboxes alive, not the %d started",
                SANDBOXES).isLessThanOrEqualTo(Math.max(before.pooledCount(), 2 * THREADS));
        assertThat(before.children()).as("processes of this JVM").containsAll(after.children());
        assertThat(Sandboxes.pidsWithCommandLine(marker)).as("processes of the sandboxes").isEmpty();
        assertThat(after.mounts()).as("this JVM's mounts").isEqualTo(before.mounts());
        assertThat(before.groups()).as("this JVM's cgroups").containsAll(after.groups());
        assertThat(before.runtimeEntries()).as("this JVM's runtime directory").containsAll(after.runtimeEntries());
    }

    /** Starts {@code count} sandboxes from {@link #THREADS} threads; each returns its output and exit code. */
    private List<String> runAll(int count) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                results.add(pool.submit(this::runOne));
            }
            List<String> outputs = new ArrayList<>();
            for (Future<String> result : results) {
                outputs.add(result.get(120, TimeUnit.SECONDS));
            }
            return outputs;
        } finally {
            pool.shutdown();
            assertThat(pool.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
        }
    }

    private String runOne() throws Exception {
        SandboxBuilder builder = Sandbox.builder().allNamespaces()
                .command("/bin/sh", "-c", "echo ok", marker);   // $0 is the marker: found by its command line
        if (Sandboxes.ROOT) {
            builder.limits(ResourceLimits.none());              // a cgroup each (v1 groups need root)
        }
        peakAlive.accumulateAndGet(alive.incrementAndGet(), Math::max);
        try {
            SandboxProcess process = builder.start();
            process.getOutputStream().close();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            // the result: its final usage is read, and its group's removal queued, once the outcome is out
            return output + " " + process.result().join().outcome().exitValue();
        } finally {
            alive.decrementAndGet();
        }
    }

    /** What the JVM holds at one moment. */
    private record Snapshot(Set<String> threads, int pooledCount, List<String> pooledBusy, int descriptors,
            List<Long> children, String mounts, Set<String> groups, List<Path> runtimeEntries) {

        static Snapshot take() throws IOException {
            Set<String> threads = new TreeSet<>();
            int pooledCount = 0;
            List<String> pooledBusy = new ArrayList<>();
            for (Map.Entry<Thread, StackTraceElement[]> entry : Thread.getAllStackTraces().entrySet()) {
                Thread thread = entry.getKey();
                if (JDK_POOLS.stream().noneMatch(thread.getName()::startsWith)) {
                    threads.add(thread.getName() + "#" + thread.getId());
                    continue;
                }
                pooledCount++;
                // an idle pool thread waits for work (parked); a reaper waiting for a child is RUNNABLE in waitpid
                if (thread.getState() == Thread.State.RUNNABLE) {
                    pooledBusy.add(thread.getName() + " " + List.of(entry.getValue()));
                }
            }
            int descriptors;
            try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
                descriptors = (int) fds.count();
            }
            List<Long> children = ProcessHandle.current().descendants().map(ProcessHandle::pid).sorted().toList();
            return new Snapshot(threads, pooledCount, pooledBusy, descriptors, children,
                    Files.readString(Path.of("/proc/self/mountinfo")), ownGroups(), ownRuntimeEntries());
        }

        /** Polls (up to 10 s) until threads, descriptors and child processes are back to {@code before}'s. */
        static Snapshot settled(Snapshot before) throws Exception {
            Snapshot now = take();
            for (int i = 0; i < 1000 && !(before.threads().containsAll(now.threads())
                    && now.descriptors() <= before.descriptors() && before.children().containsAll(now.children())
                    && now.pooledBusy().size() <= before.pooledBusy().size()); i++) {
                Thread.sleep(10);
                now = take();
            }
            return now;
        }

        /** The groups named after this JVM below its own group, in every hierarchy. */
        private static Set<String> ownGroups() throws IOException {
            CgroupTopology topology = CgroupTopology.detect();
            Set<Path> parents = new java.util.LinkedHashSet<>();
            topology.ownUnifiedDirectory().ifPresent(parents::add);
            for (String controller : topology.v1MountPoints().keySet()) {
                topology.ownGroupDirectory(controller).ifPresent(parents::add);
            }
            Set<String> groups = new TreeSet<>();
            for (Path parent : parents) {
                try (Stream<Path> entries = Files.list(parent)) {
                    entries.map(entry -> entry.getFileName().toString())
                            .filter(name -> name.startsWith(JvmLabel.thisJvm() + "-"))
                            .forEach(name -> groups.add(parent.resolve(name).toString()));
                } catch (IOException unreadable) {
                    // a hierarchy this user cannot list holds no group of this JVM
                }
            }
            return groups;
        }

        /** What is in this JVM's runtime directory (sockets, sandboxes' private directories). */
        private static List<Path> ownRuntimeEntries() throws IOException {
            Path own = Sandboxes.ownRuntimeDirectory();
            if (!Files.isDirectory(own)) {
                return List.of();
            }
            try (Stream<Path> entries = Files.list(own)) {
                return entries.sorted().collect(Collectors.toList());
            }
        }
    }
}
