package dev.isolation;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Starts another JVM on the test classpath, running one of the test mains. */
final class ChildJvm {
    private ChildJvm() {
    }

    static ProcessBuilder builder(Class<?> main, String... args) {
        return builder(List.of(), main, args);
    }

    /** With extra JVM options, e.g. {@code -Disolation.runtime.dir=...}. */
    static ProcessBuilder builder(List<String> jvmOptions, Class<?> main, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("-Xshare:auto");
        command.add("-XX:TieredStopAtLevel=1");
        String cacheDir = System.getProperty("isolation.cache.dir");
        if (cacheDir != null) {
            command.add("-Disolation.cache.dir=" + cacheDir);
        }
        command.addAll(jvmOptions);
        command.add(main.getName());
        command.addAll(List.of(args));
        return new ProcessBuilder(command);
    }

    static Process start(Class<?> main, String... args) throws IOException {
        return start(List.of(), main, args);
    }

    static Process start(List<String> jvmOptions, Class<?> main, String... args) throws IOException {
        return builder(jvmOptions, main, args).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }
}
