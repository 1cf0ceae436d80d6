package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SandboxSpecTest {
    @Test
    void specIsImmutableAndIndependentOfItsBuilder() {
        List<String> command = new ArrayList<>(List.of("/bin/echo", "a"));
        SandboxBuilder builder = Sandbox.builder().command(command).environment("K", "V");
        SandboxSpec spec = builder.build();
        command.add("b");
        builder.environment("L", "W").pidNamespace();
        assertThat(spec.command()).containsExactly("/bin/echo", "a");
        assertThat(spec.environment()).containsOnlyKeys("K", "PATH");
        assertThat(spec.namespaces()).isEmpty();
        assertThatThrownBy(() -> spec.namespaces().add(Namespace.PID)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> spec.environment().put("X", "Y")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void toBuilderRoundTrips() {
        SandboxSpec spec = Sandbox.builder().allNamespaces().utsNamespace("box").directory("/tmp")
                .command("/bin/true").environment("A", "1").redirectErrorStream(true).build();
        SandboxSpec copy = spec.toBuilder().build();
        assertThat(copy.toString()).isEqualTo(spec.toString());
        assertThat(copy.environment()).isEqualTo(spec.environment());
        assertThat(copy.redirectErrorStream()).isTrue();
        assertThat(spec.toBuilder().utsNamespace("other").build().hostname()).contains("other");
    }

    @Test
    void secureDefaults() {
        SandboxSpec spec = Sandbox.builder().allNamespaces().command("/bin/true").build();
        assertThat(spec.namespaces()).containsExactlyInAnyOrder(Namespace.values());
        assertThat(spec.hostname()).contains(SandboxBuilder.DEFAULT_HOSTNAME);
        assertThat(spec.uidMappings()).hasSize(1);
        assertThat(spec.uidMappings().get(0).insideId()).isZero();
        assertThat(spec.environment()).containsOnlyKeys("PATH");
    }

    @Test
    void environmentIsInheritedOnlyWhenAsked() {
        assertThat(Sandbox.builder().command("/bin/true").build().environment()).containsOnlyKeys("PATH");
        assertThat(Sandbox.builder().command("/bin/true").inheritEnvironment().build().environment())
                .containsAllEntriesOf(System.getenv());
    }
}
