package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.isolation.cgroups.JvmLabel;
import dev.isolation.fs.FilesystemSpec;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A JVM killed with SIGKILL takes the processes of its live environments with it, but leaves their cgroups, their
 * private directories (with upper directories the programs locked themselves out of) and any socket bound for a
 * start in progress. The next JVM removes all of it, by {@link SandboxCleanup#removeAbandoned()} or on its first
 * start, and never anything of a JVM still running. Each test has a runtime directory of its own
 * ({@code -Disolation.runtime.dir}), so that other tests' JVMs are not involved.
 */
class CrashCleanupTest {
    /** Groups (v1 needs root; v2 may have none delegated to an unprivileged user) only when root. */
    private static final boolean LIMITS = Sandboxes.ROOT;

    @TempDir
    Path temp;

    private Path runtime;
    private Path lower;
    private List<String> jvmOptions;
    private final List<Process> jvms = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        runtime = temp.resolve("run");
        lower = TestRoots.busybox(temp.resolve("lower"));
        jvmOptions = List.of("-Disolation.runtime.dir=" + runtime);
    }

    @AfterEach
    void killChildJvms() throws Exception {
        for (Process jvm : jvms) {
            jvm.destroyForcibly().waitFor();
        }
        removeSubordinateUsersDirectories();    // so that the temporary directory can go, even after a failure
    }

    @Test
    void whatAKilledJvmLeftIsRemovedByTheNextJvmAndASecondCallFindsNothing() throws Exception {
        boolean subordinate = SubordinateIdMapsTest.rootlessWithRanges();
        String marker = Sandboxes.uniqueSleepSeconds();
        Created victim = Created.read(startJvm(jvmOptions, LiveSandboxesMain.class, lower.toString(), marker, "5",
                LIMITS ? "limits" : "no", subordinate ? "subordinate" : "no"));
        assertThat(victim.pids()).as("five inits, and a program in each").hasSize(10);
        assertThat(victim.directories()).as("its runtime directory and five environments' directories").hasSize(6);
        assertThat(victim.cgroups().isEmpty()).isEqualTo(!LIMITS);

        String bystanderMarker = Sandboxes.uniqueSleepSeconds();
        Created bystander = Created.read(startJvm(jvmOptions, LiveSandboxesMain.class, lower.toString(),
                bystanderMarker, "1", LIMITS ? "limits" : "no", "no"));

        Process stuck = startJvm(List.of(jvmOptions.get(0), "-Disolation.helper=" + neverConnectingHelper()),
                StuckStartMain.class);
        Path socket = awaitSocketOf(stuck);
        Path stuckDirectory = socket.getParent();

        victim.jvm().destroyForcibly().waitFor();
        stuck.destroyForcibly().waitFor();
        awaitGone(marker, victim.pids());
        assertThat(victim.directories()).as("nobody has cleaned up yet").allMatch(CrashCleanupTest::exists);
        assertThat(victim.cgroups()).allMatch(CrashCleanupTest::exists);
        assertThat(socket).exists();

        List<Report> reports = Report.readAll(startJvm(jvmOptions, NextJvmMain.class, "explicit"));
        Report first = reports.get(0);
        assertThat(first.cgroups()).containsAll(names(victim.cgroups()));
        assertThat(first.sockets()).containsExactly(socket);
        assertThat(first.files()).isEmpty();
        List<Path> stuckDirectories = new ArrayList<>(List.of(stuckDirectory));
        first.directories().stream().filter(dir -> dir.startsWith(stuckDirectory) && !dir.equals(stuckDirectory))
                .forEach(stuckDirectories::add);
        assertThat(stuckDirectories).as("the stuck start had made its sandbox directory").hasSize(2);
        List<Path> removable = new ArrayList<>(victim.directories());
        if (subordinate) {
            // one program left a directory of a subordinate user in its upper directory: this user can delete
            // neither it nor what holds it, and it is reported instead
            assertThat(inRuntime(first.notRemoved())).singleElement().satisfies(left -> {
                Path owned = Path.of(left.what());
                assertThat(owned.getFileName()).hasToString("d");
                assertThat(owned.getParent().getFileName()).hasToString("owned");
                Path sandbox = owned.getParent().getParent().getParent();
                assertThat(victim.directories()).contains(sandbox);
                assertThat(left.reason()).contains("not writable");
                removable.removeAll(List.of(sandbox, victim.runtimeDirectory()));
            });
        } else {
            assertThat(inRuntime(first.notRemoved())).isEmpty();
        }
        removable.addAll(stuckDirectories);
        assertThat(first.directories()).containsExactlyInAnyOrderElementsOf(removable);
        assertThat(removable).noneMatch(CrashCleanupTest::exists);
        assertThat(victim.cgroups()).noneMatch(CrashCleanupTest::exists);

        Report second = reports.get(1);
        assertThat(second.removedNothing()).as("a second call removes nothing: %s", second).isTrue();
        assertThat(inRuntime(second.notRemoved())).isEqualTo(inRuntime(first.notRemoved()));

        assertThat(bystander.pids()).as("the live JVM's sandbox runs on").allMatch(Sandboxes::isRunning);
        assertThat(bystander.directories()).as("the live JVM's directories are kept")
                .allMatch(CrashCleanupTest::exists);
        assertThat(bystander.cgroups()).as("the live JVM's group is kept").allMatch(CrashCleanupTest::exists);

        removeSubordinateUsersDirectories();
        bystander.jvm().destroyForcibly().waitFor();
        awaitGone(bystanderMarker, bystander.pids());
        Report last = Report.readAll(startJvm(jvmOptions, NextJvmMain.class, "explicit")).get(0);
        assertThat(last.directories()).containsAll(bystander.directories());
        assertThat(inRuntime(last.notRemoved())).isEmpty();
        assertThat(entries(runtime)).isEmpty();
    }

    @Test
    void theFirstStartOfTheNextJvmRemovesWhatAKilledJvmLeft() throws Exception {
        String marker = Sandboxes.uniqueSleepSeconds();
        Created victim = Created.read(startJvm(jvmOptions, LiveSandboxesMain.class, lower.toString(), marker, "2",
                LIMITS ? "limits" : "no", "no"));
        victim.jvm().destroyForcibly().waitFor();
        awaitGone(marker, victim.pids());
        assertThat(victim.directories()).allMatch(CrashCleanupTest::exists);

        Process next = startJvm(jvmOptions, NextJvmMain.class, "start", LIMITS ? "limits" : "no");
        String said = new String(next.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(next.waitFor()).isZero();
        assertThat(said).isEqualTo("exited 0\n");

        assertThat(victim.directories()).noneMatch(CrashCleanupTest::exists);
        assertThat(victim.cgroups()).noneMatch(CrashCleanupTest::exists);
        assertThat(entries(runtime)).as("the next JVM removed its own empty directory as it exited").isEmpty();
    }

    @Test
    void aHelperCopyThatADeadJvmWasWritingIsRemoved() throws Exception {
        Path cache = Files.createDirectories(temp.resolve("cache"));
        Process exited = new ProcessBuilder("/bin/true").start();
        exited.waitFor();
        Path abandoned = Files.writeString(cache.resolve(JvmLabel.of(exited.pid(), 1) + "-1.helper.tmp"), "half");
        Path live = Files.writeString(cache.resolve(JvmLabel.next() + ".helper.tmp"), "being written");
        Path helper = Files.writeString(cache.resolve("isolation-helper-0123456789abcdef"), "a complete copy");

        List<Report> reports = Report.readAll(startJvm(List.of(jvmOptions.get(0), "-Disolation.cache.dir=" + cache),
                NextJvmMain.class, "explicit"));

        assertThat(reports.get(0).files()).containsExactly(abandoned);
        assertThat(abandoned).doesNotExist();
        assertThat(live).as("this JVM is alive").exists();
        assertThat(helper).exists();
        assertThat(reports.get(1).removedNothing()).isTrue();
    }

    /** The directories a subordinate user made go through a sandbox that maps that user (root inside may). */
    private void removeSubordinateUsersDirectories() throws IOException {
        if (!Files.isDirectory(runtime)) {
            return;
        }
        for (Path jvm : entries(runtime)) {
            for (Path sandbox : Files.isDirectory(jvm, LinkOption.NOFOLLOW_LINKS) ? entries(jvm) : List.<Path>of()) {
                Path owned = sandbox.resolve("upper/owned");
                if (Files.isDirectory(owned, LinkOption.NOFOLLOW_LINKS)) {
                    Sandboxes.Result removed = Sandboxes.shell(Sandbox.builder().allNamespaces().subordinateIdMaps()
                            .filesystem(FilesystemSpec.builder().rootDirectory(lower).bind(owned, "/x").build()),
                            "rm -rf /x/d && echo removed");
                    assertThat(removed.output()).isEqualTo("removed\n");
                }
            }
        }
    }

    private Process startJvm(List<String> options, Class<?> main, String... args) throws IOException {
        Process jvm = ChildJvm.start(options, main, args);
        jvms.add(jvm);
        return jvm;
    }

    /** A "helper" that never connects and ends when its JVM does. */
    private Path neverConnectingHelper() throws IOException {
        Path script = temp.resolve("never-connects");
        Files.writeString(script, "#!/bin/sh\nwhile kill -0 \"$PPID\" 2>/dev/null; do /bin/sleep 0.1; done\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        return script;
    }

    /** The socket the stuck JVM bound in its runtime directory, once it is there. */
    private Path awaitSocketOf(Process jvm) throws Exception {
        String prefix = "isolation-" + jvm.pid() + "-";
        for (int i = 0; i < 3000; i++) {
            if (Files.isDirectory(runtime)) {
                try (Stream<Path> found = Files.find(runtime, 2, (path, attributes) -> attributes.isOther()
                        && path.getParent().getFileName().toString().startsWith(prefix))) {
                    Optional<Path> socket = found.findFirst();
                    if (socket.isPresent()) {
                        return socket.get();
                    }
                }
            }
            assertThat(jvm.isAlive()).as("the stuck JVM is waiting in accept").isTrue();
            Thread.sleep(10);
        }
        throw new AssertionError("no socket appeared in " + runtime + " within 30 s");
    }

    /** Waits (up to 5 s) until the killed JVM's environments have no process left: inits, programs, sleeps. */
    private static void awaitGone(String marker, List<Long> pids) throws InterruptedException {
        for (int i = 0; i < 500 && !(Sandboxes.pidsWithCommandLine("sleep " + marker).isEmpty()
                && pids.stream().noneMatch(Sandboxes::isRunning)); i++) {
            Thread.sleep(10);
        }
        assertThat(pids).as("inits and programs of the killed JVM").noneMatch(Sandboxes::isRunning);
        assertThat(Sandboxes.pidsWithCommandLine("sleep " + marker)).as("its sleeps").isEmpty();
    }

    /** What could not be removed in this test's runtime directory (not, say, another user's stale groups). */
    private List<CleanupReport.NotRemoved> inRuntime(List<CleanupReport.NotRemoved> notRemoved) {
        return notRemoved.stream().filter(left -> left.what().startsWith(runtime.toString())).toList();
    }

    private static boolean exists(Path path) {
        return Files.exists(path, LinkOption.NOFOLLOW_LINKS);
    }

    private static List<String> names(List<Path> groups) {
        return groups.stream().map(group -> group.getFileName().toString()).distinct().toList();
    }

    private static List<Path> entries(Path dir) throws IOException {
        try (Stream<Path> list = Files.list(dir)) {
            return list.toList();
        }
    }

    /** What {@link LiveSandboxesMain} printed; the first directory is the JVM's runtime directory. */
    private record Created(Process jvm, List<Long> pids, List<Path> cgroups, List<Path> directories) {
        static Created read(Process jvm) throws IOException {
            BufferedReader out = new BufferedReader(new InputStreamReader(jvm.getInputStream(),
                    StandardCharsets.UTF_8));
            List<Long> pids = new ArrayList<>();
            List<Path> cgroups = new ArrayList<>();
            List<Path> directories = new ArrayList<>();
            for (String line = out.readLine(); !"ready".equals(line); line = out.readLine()) {
                assertThat(line).as("the child JVM ended before it was ready").isNotNull();
                String value = line.substring(line.indexOf(' ') + 1);
                switch (line.substring(0, line.indexOf(' '))) {
                    case "sandbox" -> pids.add(Long.parseLong(value));
                    case "cgroup" -> cgroups.add(Path.of(value));
                    case "directory" -> directories.add(Path.of(value));
                    default -> throw new AssertionError("unexpected line " + line);
                }
            }
            return new Created(jvm, pids, cgroups, directories);
        }

        Path runtimeDirectory() {
            return directories.get(0);
        }
    }

    /** One report as {@link NextJvmMain} printed it. */
    private record Report(List<String> cgroups, List<Path> directories, List<Path> sockets, List<Path> files,
            List<CleanupReport.NotRemoved> notRemoved) {
        static List<Report> readAll(Process jvm) throws IOException {
            List<Report> reports = new ArrayList<>();
            Report current = null;
            String printed = new String(jvm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            for (String line : printed.lines().toList()) {
                if (line.equals("report")) {
                    current = new Report(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>(),
                            new ArrayList<>());
                } else if (line.equals("end")) {
                    reports.add(current);
                } else {
                    String value = line.substring(line.indexOf(' ') + 1);
                    switch (line.substring(0, line.indexOf(' '))) {
                        case "cgroup" -> current.cgroups().add(value);
                        case "directory" -> current.directories().add(Path.of(value));
                        case "socket" -> current.sockets().add(Path.of(value));
                        case "file" -> current.files().add(Path.of(value));
                        case "left" -> current.notRemoved().add(new CleanupReport.NotRemoved(
                                value.substring(0, value.indexOf('\t')), value.substring(value.indexOf('\t') + 1)));
                        default -> throw new AssertionError("unexpected line " + line);
                    }
                }
            }
            try {
                assertThat(jvm.waitFor()).as("the cleaning JVM's exit code").isZero();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
            return reports;
        }

        boolean removedNothing() {
            return cgroups.isEmpty() && directories.isEmpty() && sockets.isEmpty() && files.isEmpty();
        }
    }
}
