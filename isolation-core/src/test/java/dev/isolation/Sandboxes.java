package dev.isolation;

import dev.isolation.cgroups.JvmLabel;
import dev.isolation.launch.Credentials;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Test support: builders that work as root and as an unprivileged user, running a program to completion. */
final class Sandboxes {
    static final boolean ROOT = "0".equals(run("id", "-u").trim());

    private Sandboxes() {
    }

    /** A builder with the given namespaces, plus a user namespace when the tests run unprivileged. */
    static SandboxBuilder withNamespaces(Namespace... namespaces) {
        SandboxBuilder builder = Sandbox.builder();
        for (Namespace namespace : namespaces) {
            builder.namespace(namespace);
        }
        if (!ROOT && namespaces.length > 0) {
            builder.userNamespace();
        }
        return builder;
    }

    /** Runs {@code sh -c script} in a sandbox built by {@code builder}, stderr merged into the output. */
    static Result shell(SandboxBuilder builder, String script) {
        try {
            SandboxProcess process = builder.command("/bin/sh", "-c", script).redirectErrorStream(true).start();
            process.getOutputStream().close();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("sandbox did not end within 30 s; output so far: " + output);
            }
            return new Result(output, process.waitForOutcome());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The output of a host command, for facts about the test machine. */
    static String run(String... command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            process.waitFor();
            return output;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Host pids of live processes whose command line contains {@code marker}. */
    static List<Long> pidsWithCommandLine(String marker) {
        List<Long> pids = new ArrayList<>();
        try (Stream<Path> entries = Files.list(Path.of("/proc"))) {
            for (Path entry : (Iterable<Path>) entries::iterator) {
                String name = entry.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String cmdline = new String(Files.readAllBytes(entry.resolve("cmdline")), StandardCharsets.UTF_8)
                            .replace('\0', ' ');
                    String state = Files.readString(entry.resolve("stat"));
                    boolean zombie = state.substring(state.lastIndexOf(')') + 2).startsWith("Z");
                    if (cmdline.contains(marker) && !zombie) {
                        pids.add(Long.parseLong(name));
                    }
                } catch (IOException vanished) {
                    // the process ended while we looked
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return pids;
    }

    /** This JVM's runtime directory: where its sandboxes' private directories and control sockets are. */
    static Path ownRuntimeDirectory() {
        String configured = System.getProperty("isolation.runtime.dir");
        Path base = configured != null ? Path.of(configured)
                : Path.of(System.getProperty("java.io.tmpdir"), "isolation-" + Credentials.effectiveUid());
        return base.resolve(JvmLabel.thisJvm());
    }

    /** Where this JVM's sandboxes with discarded overlay changes keep their directories: a tmpfs by default. */
    static Path ownDiscardedRuntimeDirectory() {
        return System.getProperty("isolation.runtime.dir") != null ? ownRuntimeDirectory()
                : Path.of("/dev/shm", "isolation-" + Credentials.effectiveUid()).resolve(JvmLabel.thisJvm());
    }

    /** Whether {@code pid} is a process that has not ended (a zombie has). */
    static boolean isRunning(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return !stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (IOException gone) {
            return false;
        }
    }

    /** A sleep duration unique to this call, so its process can be found by its command line. */
    static String uniqueSleepSeconds() {
        return "9" + (System.nanoTime() % 1_000_000) + ".5";
    }

    record Result(String output, Outcome outcome) {
        List<String> lines() {
            return output.lines().toList();
        }
    }
}
