package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Long-lived environments: programs exec'd into a running sandbox share everything of it; close ends them all. */
class EnvironmentTest {
    private static SandboxBuilder fullyIsolated() {
        SandboxBuilder builder = Sandbox.builder().allNamespaces().utsNamespace("envbox");
        return Sandboxes.ROOT ? builder.memory(256L << 20).pids(200) : builder;
    }

    private static String output(SandboxProcess process) throws Exception {
        process.getOutputStream().close();
        String text = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return text;
    }

    @Test
    void aProgramExecdIntoAnEnvironmentSeesTheFirstOnesProcessesFilesHostnameAndLimits() throws Exception {
        try (SandboxEnvironment environment = fullyIsolated().startEnvironment()) {
            SandboxProcess first = environment.exec("/bin/sh", "-c", "echo written > /tmp/shared; exec sleep 1000");
            SandboxProcess second = environment.exec("/bin/sh", "-c",
                    "while [ ! -e /tmp/shared ]; do sleep 0.01; done; cat /tmp/shared; hostname;"
                            + " ps -o comm= 2>/dev/null || ls /proc | grep -c '^[0-9]'; cat /proc/1/comm;"
                            + " cat /proc/self/cgroup | head -1");
            String seen = output(second);
            assertThat(seen).startsWith("written\nenvbox\n").contains("sleep");
            assertThat(environment.programs()).contains(first);
            if (Sandboxes.ROOT) {
                // both are in the environment's cgroup, whose usage counts the sleeping first program
                assertThat(environment.usage()).isPresent();
                assertThat(environment.usage().get().memoryCurrent()).isPositive();
                String firstCgroup = java.nio.file.Files.readString(java.nio.file.Path.of("/proc",
                        Long.toString(first.pid()), "cgroup"));
                assertThat(firstCgroup).contains("isolation-");
            }
            assertThat(second.waitForOutcome()).isEqualTo(new Outcome.Exited(0));
        }
    }

    @Test
    void anEnvironmentWithoutAProgramRunsSeveralAtOnceAndEachHasItsOwnOutcome() throws Exception {
        try (SandboxEnvironment environment = fullyIsolated().startEnvironment()) {
            List<SandboxProcess> programs = new java.util.ArrayList<>();
            for (int i = 0; i < 5; i++) {
                programs.add(environment.exec("/bin/sh", "-c", "exit " + i));
            }
            for (int i = 0; i < 5; i++) {
                assertThat(programs.get(i).waitForOutcome()).isEqualTo(new Outcome.Exited(i));
            }
            SandboxProcess missing = null;
            assertThatThrownBy(() -> environment.exec("/no/such/program")).isInstanceOf(SandboxStartException.class)
                    .hasMessageContaining("(exec) failed on \"/no/such/program\": error=2");
            assertThat(missing).isNull();
            assertThat(environment.isAlive()).isTrue();
        }
    }

    @Test
    void closingEndsEveryProgramAndLeavesNothing() throws Exception {
        SandboxEnvironment environment = fullyIsolated().startEnvironment();
        SandboxProcess a = environment.exec("sleep", "1000");
        SandboxProcess b = environment.exec("/bin/sh", "-c", "sleep 1000 & sleep 1000");
        long init = environment.pid();
        Thread closer = new Thread(environment::close);
        closer.start();
        environment.close();
        closer.join();
        environment.close();
        assertThat(a.waitForOutcome()).isInstanceOf(Outcome.Destroyed.class);
        assertThat(b.waitForOutcome()).isInstanceOf(Outcome.Destroyed.class);
        assertThat(ProcessHandle.of(init)).isEmpty();
        assertThat(ProcessHandle.of(a.pid())).isEmpty();
        assertThatThrownBy(() -> environment.exec("true")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        assertThat(environment.isAlive()).isFalse();
    }

    @Test
    void aWallClockLimitEndsSleepAtAboutOneSecondWithTheTimeoutOutcome() throws Exception {
        long start = System.nanoTime();
        SandboxProcess sleep = Sandbox.builder().allNamespaces().wallTimeLimit(Duration.ofSeconds(1))
                .command("sleep", "10").start();
        SandboxResult result = sleep.waitForResult();
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(result.outcome()).isEqualTo(new Outcome.TimedOut(Outcome.TimeLimit.WALL_CLOCK,
                Duration.ofSeconds(1)));
        assertThat(took).isBetween(Duration.ofMillis(950), Duration.ofSeconds(3));
        assertThat(result.program().wallTime()).isBetween(Duration.ofMillis(950), Duration.ofSeconds(3));
    }

    @Test
    void aCpuLimitCountsChildrenAndEndsABusyLoopWithTheCpuOutcome() throws Exception {
        // the loop runs in a child of the shell: the program itself uses no CPU
        SandboxProcess busy = Sandbox.builder().allNamespaces().cpuTimeLimit(Duration.ofSeconds(1))
                .command("/bin/sh", "-c", "sh -c 'while :; do :; done'; echo never").start();
        SandboxResult result = busy.waitForResult();
        assertThat(result.outcome()).isEqualTo(new Outcome.TimedOut(Outcome.TimeLimit.CPU, Duration.ofSeconds(1)));
        assertThat(result.program().wallTime()).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void destroyGivesTheDestroyedOutcomeAndTheUsageIsMeasured() throws Exception {
        SandboxProcess sleep = Sandbox.builder().allNamespaces().command("sleep", "100").start();
        sleep.destroy();
        Outcome outcome = sleep.waitForOutcome();
        assertThat(outcome).isEqualTo(new Outcome.Destroyed(new Outcome.Signaled(15, false)));
        SandboxResult busy = Sandbox.builder().allNamespaces()
                .command("/bin/sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done").start().waitForResult();
        assertThat(busy.outcome()).isEqualTo(new Outcome.Exited(0));
        assertThat(busy.program().cpuTime()).isGreaterThan(Duration.ofMillis(50));
        assertThat(busy.program().peakMemoryBytes()).isGreaterThan(100_000);
    }

    @Test
    void anEnvironmentsOwnWallLimitEndsItAndItsProgramsWithTheTimeoutOutcome() throws Exception {
        try (SandboxEnvironment environment = fullyIsolated().wallTimeLimit(Duration.ofMillis(800))
                .startEnvironment()) {
            SandboxProcess sleep = environment.exec("sleep", "100");
            assertThat(sleep.waitForOutcome()).isEqualTo(new Outcome.TimedOut(Outcome.TimeLimit.WALL_CLOCK,
                    Duration.ofMillis(800)));
            assertThat(environment.timedOut()).isPresent();
        }
    }

    @Test
    void runGivesAFailedStartAsAnOutcomeAndNeedsNobodyToReadThePipes() throws Exception {
        SandboxResult missing = Sandbox.builder().allNamespaces().command("/no/such/program").run();
        assertThat(missing.outcome()).isInstanceOfSatisfying(Outcome.FailedToStart.class, failed -> {
            assertThat(failed.step()).isEqualTo("exec");
            assertThat(failed.path()).isEqualTo("/no/such/program");
            assertThat(failed.errno()).isEqualTo(2);
            assertThat(failed.message()).contains("/no/such/program");
        });
        assertThat(missing.outcome().exitValue()).isEqualTo(127);

        // 4 MiB on each piped stream, far more than a pipe holds: it ends only because nobody needs to read them
        SandboxResult loud = Sandbox.builder().allNamespaces().command("/bin/sh", "-c",
                "head -c 4194304 /dev/zero; head -c 4194304 /dev/zero >&2; read line; exit 3").run();
        assertThat(loud.outcome()).isEqualTo(new Outcome.Exited(3));

        SandboxEnvironment environment = fullyIsolated().startEnvironment();
        SandboxEnvironment.Exec exec = environment.newExec().command("/bin/sh", "-c", "exit 4");
        assertThat(exec.run().outcome()).isEqualTo(new Outcome.Exited(4));
        environment.close();
        assertThat(exec.run().outcome()).isInstanceOfSatisfying(Outcome.FailedToStart.class,
                failed -> assertThat(failed.message()).contains("closed"));
    }

    @Test
    void destroyingAnExecdProgramEndsWhatItLeftBehindButAnEndedOnesOrphansLiveOn() throws Exception {
        String killedMarker = Sandboxes.uniqueSleepSeconds();
        String keptMarker = Sandboxes.uniqueSleepSeconds() + "1";
        try (SandboxEnvironment environment = fullyIsolated().startEnvironment()) {
            // the subshell exits at once: its sleep is an orphan, in a session of its own
            SandboxProcess program = environment.exec("/bin/sh", "-c",
                    "(setsid sleep " + killedMarker + " &); echo started; exec sleep 1000");
            assertThat(new java.io.BufferedReader(new java.io.InputStreamReader(program.getInputStream(),
                    StandardCharsets.UTF_8)).readLine()).isEqualTo("started");
            awaitProcess(killedMarker);
            program.destroyForcibly();
            assertThat(program.waitForOutcome()).isInstanceOf(Outcome.Destroyed.class);
            assertThat(Sandboxes.pidsWithCommandLine(killedMarker)).as("the orphan of the destroyed program")
                    .isEmpty();

            SandboxProcess ended = environment.exec("/bin/sh", "-c", "(setsid sleep " + keptMarker + " &); exit 0");
            assertThat(ended.waitForOutcome()).isEqualTo(new Outcome.Exited(0));
            awaitProcess(keptMarker);
            assertThat(Sandboxes.pidsWithCommandLine(keptMarker)).as("left running in the environment").hasSize(1);
            assertThat(environment.isAlive()).isTrue();
        }
        assertThat(Sandboxes.pidsWithCommandLine(keptMarker)).as("ended with the environment").isEmpty();
    }

    private static void awaitProcess(String marker) throws InterruptedException {
        for (int i = 0; i < 500 && Sandboxes.pidsWithCommandLine(marker).isEmpty(); i++) {
            Thread.sleep(10);
        }
        assertThat(Sandboxes.pidsWithCommandLine(marker)).hasSize(1);
    }
}
