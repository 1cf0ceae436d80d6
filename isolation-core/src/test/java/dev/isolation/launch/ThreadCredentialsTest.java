package dev.isolation.launch;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The calling thread's credentials by system call agree with what /proc/self/status and JNA's libc say. */
class ThreadCredentialsTest {

    @Test
    void capabilitiesAndIdsAreTheProcessStatusOnes() {
        assertThat(ThreadCredentials.effectiveCapabilities()).isEqualTo(Credentials.effectiveCapabilities());
        for (int capability : new int[] {Credentials.CAP_SETGID, Credentials.CAP_SETUID, Credentials.CAP_SETPCAP,
                Credentials.CAP_SYS_ADMIN}) {
            assertThat(ThreadCredentials.hasCapability(capability)).as("capability %d", capability)
                    .isEqualTo(Credentials.hasCapability(capability));
        }
        assertThat(ThreadCredentials.effectiveUid()).isEqualTo(Credentials.effectiveUid());
        assertThat(ThreadCredentials.effectiveGid()).isEqualTo(Credentials.effectiveGid());
    }
}
