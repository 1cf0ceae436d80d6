package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The init that is PID 1 of a pid namespace, and exact reporting of how programs end, with and without it. */
class InitAndOutcomeTest {

    @Test
    void orphanedZombiesAreReapedByInit() {
        // The subshell starts sleep in the background and exits at once: sleep is re-parented to PID 1 and, once
        // it ends, is a zombie unless init reaps it.
        Sandboxes.Result result = Sandboxes.shell(Sandboxes.withNamespaces(Namespace.PID, Namespace.MOUNT),
                "(sleep 0.2 &); sleep 1; echo orphan-parent=$(cat /proc/[0-9]*/stat 2>/dev/null | grep -c 'sleep'); "
                        + "echo zombies=$(grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null | wc -l)");
        assertThat(result.lines()).containsExactly("orphan-parent=0", "zombies=0");
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void destroySendsSigtermThatReachesTheProgram(boolean pidNamespace) throws Exception {
        SandboxBuilder builder = pidNamespace ? Sandboxes.withNamespaces(Namespace.PID, Namespace.MOUNT) : Sandbox.builder();
        SandboxProcess process = builder.command("/bin/sh", "-c",
                "trap 'echo got-term; exit 42' TERM; echo ready; while :; do sleep 0.05; done").start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).isEqualTo("ready");
        process.destroy();
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).as("the program ended after SIGTERM").isTrue();
        assertThat(out.readLine()).isEqualTo("got-term");
        assertThat(process.waitForOutcome()).isEqualTo(new Outcome.Destroyed(new Outcome.Exited(42)));
        assertThat(process.exitValue()).isEqualTo(42);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 255})
    void exitCodesAreReportedExactly(int code) {
        for (SandboxBuilder builder : new SandboxBuilder[] {Sandbox.builder(), Sandbox.builder().allNamespaces()}) {
            Sandboxes.Result result = Sandboxes.shell(builder, "exit " + code);
            assertThat(result.outcome()).isEqualTo(new Outcome.Exited(code));
        }
    }

    @ParameterizedTest
    @CsvSource({"KILL,9", "SEGV,11", "TERM,15"})
    void deathBySignalIsReportedAsThatSignal(String signal, int number) throws Exception {
        for (SandboxBuilder builder : new SandboxBuilder[] {Sandbox.builder(), Sandbox.builder().allNamespaces()}) {
            SandboxProcess process = builder.command("/bin/sh", "-c", "ulimit -c 0; kill -" + signal + " $$").start();
            Outcome outcome = process.waitForOutcome();
            assertThat(outcome).isEqualTo(new Outcome.Signaled(number, false));
            assertThat(process.exitValue()).isEqualTo(128 + number);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void whenTheProgramExitsEveryProcessItLeftIsKilled(boolean pidNamespace) throws Exception {
        String marker = Sandboxes.uniqueSleepSeconds();
        SandboxBuilder builder = pidNamespace ? Sandbox.builder().allNamespaces() : Sandbox.builder();
        // one sleep stays in the background, another one escapes through a double fork into a new session
        Sandboxes.Result result = Sandboxes.shell(builder,
                "sleep " + marker + " & (setsid sleep " + marker + " &); sleep 0.3; echo left");
        assertThat(result.lines()).containsExactly("left");
        assertThat(Sandboxes.pidsWithCommandLine("sleep " + marker)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void destroyForciblyKillsEveryProcessOfTheSandbox(boolean pidNamespace) throws Exception {
        String marker = Sandboxes.uniqueSleepSeconds();
        SandboxBuilder builder = pidNamespace ? Sandbox.builder().allNamespaces() : Sandbox.builder();
        SandboxProcess process = builder.command("/bin/sh", "-c",
                "sleep " + marker + " & (setsid sleep " + marker + " &); echo ready; exec sleep " + marker).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).isEqualTo("ready");
        for (int i = 0; i < 500 && Sandboxes.pidsWithCommandLine("sleep " + marker).size() < 3; i++) {
            Thread.sleep(10);
        }
        assertThat(Sandboxes.pidsWithCommandLine("sleep " + marker)).hasSize(3);
        process.destroyForcibly();
        assertThat(process.waitForOutcome()).isEqualTo(new Outcome.Destroyed(new Outcome.Signaled(9, false)));
        assertThat(Sandboxes.pidsWithCommandLine("sleep " + marker)).isEmpty();
    }

    @Test
    void sandboxedPidIsTheProgramsHostPid() throws Exception {
        SandboxProcess process = Sandbox.builder().allNamespaces().command("/bin/sh", "-c", "read line").start();
        try {
            String status = java.nio.file.Files.readString(java.nio.file.Path.of("/proc", Long.toString(process.pid()), "status"));
            assertThat(status).contains("Name:\tsh");
            assertThat(status.lines().filter(l -> l.startsWith("NSpid:")).findFirst().orElseThrow())
                    .as("a small pid after init's (2, or 3 after the mount lock's short-lived map writer)")
                    .matches("NSpid:\t" + process.pid() + "\t[23]");
            assertThat(process.isAlive()).isTrue();
        } finally {
            process.getOutputStream().close();
            process.waitFor();
        }
        assertThat(process.isAlive()).isFalse();
        assertThat(process.onExit().get()).isSameAs(process);
    }
}
