package dev.isolation.cgroups;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The v1 freezer controller: freezer.state takes FROZEN or THAWED and reads THAWED, FREEZING or FROZEN. Freezing
 * is asynchronous: the group is frozen once the file reads FROZEN (each read retries the tasks not yet stopped).
 * Freezing a group freezes the groups below it too.
 */
final class V1Freezer {
    static final String STATE = "freezer.state";
    static final String FROZEN = "FROZEN";
    static final String THAWED = "THAWED";

    private V1Freezer() {
    }

    /** Freezes the group and waits until every task is frozen, at most {@code patience}. */
    static void freeze(Path dir, Duration patience) throws IOException {
        Path file = dir.resolve(STATE);
        V1Files.write("freeze", file, FROZEN);
        Backoff backoff = Backoff.within(patience, Duration.ofMillis(20));
        String state = state(dir);
        while (!state.equals(FROZEN)) {
            if (backoff.expired()) {
                throw new IOException("freeze: " + file + " still reads " + state + " after " + patience.toMillis()
                        + " ms (a task sleeps uninterruptibly, e.g. on a hung NFS or FUSE request)");
            }
            backoff.pause();
            state = state(dir);
        }
    }

    static void thaw(Path dir) throws IOException {
        V1Files.write("thaw", dir.resolve(STATE), THAWED);
    }

    static String state(Path dir) throws IOException {
        return ControlFiles.read(dir.resolve(STATE)).trim();
    }
}
