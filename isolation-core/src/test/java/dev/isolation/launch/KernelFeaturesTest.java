package dev.isolation.launch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.isolation.Namespace;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** The kernel's namespace types and filesystems, as /proc lists them, found again from the JVM's memory. */
class KernelFeaturesTest {

    @Test
    void namespacesAreThoseWithALinkInProc() {
        for (Namespace namespace : Namespace.values()) {
            boolean linked = Files.exists(KernelFeatures.namespaceLink(namespace));
            assertThat(KernelFeatures.hasNamespace(namespace)).as(namespace.procName()).isEqualTo(linked);
            assertThat(KernelFeatures.hasNamespace(namespace)).as("%s again", namespace.procName()).isEqualTo(linked);
        }
    }

    @Test
    void filesystemsAreThoseProcListsAndAMissingOneIsLookedUpAgain() {
        assertThat(KernelFeatures.hasFilesystem("proc")).isTrue();
        assertThat(KernelFeatures.hasFilesystem("proc")).isTrue();
        assertThat(KernelFeatures.hasFilesystem("no-such-filesystem")).isFalse();
        assertThat(KernelFeatures.hasFilesystem("no-such-filesystem")).isFalse();
        assertThat(KernelFeatures.hasFilesystem("pro")).as("a whole name only").isFalse();
    }

    @Test
    void kernelReleasesCompareByMajorThenMinor() {
        assertThat(KernelFeatures.releaseAtLeast("6.18.44-fc-v595", 6, 6)).isTrue();
        assertThat(KernelFeatures.releaseAtLeast("6.6.0", 6, 6)).isTrue();
        assertThat(KernelFeatures.releaseAtLeast("6.1.0-13-amd64", 6, 6)).isFalse();
        assertThat(KernelFeatures.releaseAtLeast("5.19.1", 6, 6)).isFalse();
        assertThat(KernelFeatures.releaseAtLeast("7.0", 6, 6)).isTrue();
        assertThat(KernelFeatures.releaseAtLeast("unknown", 6, 6)).isFalse();
    }
}
