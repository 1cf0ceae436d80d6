package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class OutcomeTest {
    @Test
    void decodesWaitStatuses() {
        assertThat(Outcome.fromWaitStatus(0)).isEqualTo(new Outcome.Exited(0));
        assertThat(Outcome.fromWaitStatus(255 << 8)).isEqualTo(new Outcome.Exited(255));
        assertThat(Outcome.fromWaitStatus(9)).isEqualTo(new Outcome.Signaled(9, false));
        assertThat(Outcome.fromWaitStatus(11 | 0x80)).isEqualTo(new Outcome.Signaled(11, true));
    }

    @Test
    void exitValueFollowsTheJdkConvention() {
        assertThat(new Outcome.Exited(3).exitValue()).isEqualTo(3);
        assertThat(new Outcome.Signaled(9, false).exitValue()).isEqualTo(137);
    }

    @Test
    void outcomesAreExhaustiveInASwitch() {
        Outcome outcome = new Outcome.Signaled(15, false);
        String described;
        if (outcome instanceof Outcome.Exited exited) {
            described = "exit " + exited.code();
        } else if (outcome instanceof Outcome.Signaled signaled) {
            described = "signal " + signaled.signal();
        } else if (outcome instanceof Outcome.OutOfMemory oom) {
            described = "out of memory " + oom.signal();
        } else if (outcome instanceof Outcome.TimedOut timedOut) {
            described = "timed out " + timedOut.limit();
        } else if (outcome instanceof Outcome.Destroyed destroyed) {
            described = "destroyed " + destroyed.how();
        } else if (outcome instanceof Outcome.FailedToStart failed) {
            described = "failed " + failed.step();
        } else {
            throw new AssertionError("sealed: no other kind");
        }
        assertThat(described).isEqualTo("signal 15");
        assertThat(Outcome.class.getPermittedSubclasses()).hasSize(6);
    }

    @Test
    void rejectsImpossibleValues() {
        assertThatThrownBy(() -> new Outcome.Exited(256)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Outcome.Signaled(0, false)).isInstanceOf(IllegalArgumentException.class);
    }
}
