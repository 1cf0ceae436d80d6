package dev.isolation.launch;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The calling thread's credentials by system call are those /proc/thread-self/status shows. */
class ThreadCredentialsTest {

    @Test
    void capabilitiesAndIdsAreThoseOfTheThreadsStatus() throws IOException {
        List<String> status = Files.readAllLines(Path.of("/proc/thread-self/status"));
        long effective = Long.parseUnsignedLong(field(status, "CapEff:"), 16);
        assertThat(ThreadCredentials.effectiveCapabilities()).isEqualTo(effective);
        for (int capability = 0; capability < 64; capability++) {
            assertThat(ThreadCredentials.hasCapability(capability)).as("capability %d", capability)
                    .isEqualTo((effective >>> capability & 1) != 0);
        }
        // "Uid:" and "Gid:" list real, effective, saved and filesystem ids
        assertThat(ThreadCredentials.effectiveUid()).isEqualTo(Long.parseLong(field(status, "Uid:").split("\\s+")[1]));
        assertThat(ThreadCredentials.effectiveGid()).isEqualTo(Long.parseLong(field(status, "Gid:").split("\\s+")[1]));
    }

    private static String field(List<String> status, String name) {
        return status.stream().filter(line -> line.startsWith(name)).findFirst().orElseThrow()
                .substring(name.length()).trim();
    }
}
