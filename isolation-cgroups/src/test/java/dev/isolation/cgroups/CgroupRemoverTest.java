package dev.isolation.cgroups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@link CgroupRemover} with fake groups: order, flush, failures, closing. The real kernel: V1CgroupsTest. */
class CgroupRemoverTest {
    private final List<String> removed = new CopyOnWriteArrayList<>();

    /** A group whose removal records its name, waits for {@code gate} and fails with {@code failure} if set. */
    private Cgroup group(String name, CountDownLatch gate, IOException failure) {
        return new Cgroup() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public List<Path> directories() {
                return List.of();
            }

            @Override
            public List<Path> procsFiles() {
                return List.of();
            }

            @Override
            public void addProcess(long pid) {
                throw new UnsupportedOperationException();
            }

            @Override
            public List<Long> processes() {
                return List.of();
            }

            @Override
            public ResourceUsage usage() {
                throw new UnsupportedOperationException();
            }

            @Override
            public void freeze() {
                throw new UnsupportedOperationException();
            }

            @Override
            public void thaw() {
                throw new UnsupportedOperationException();
            }

            @Override
            public void killAll() {
                throw new UnsupportedOperationException();
            }

            @Override
            public void remove() throws IOException {
                try {
                    gate.await();
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
                removed.add(name);
                if (failure != null) {
                    throw failure;
                }
            }

            @Override
            public void close() throws IOException {
                remove();
            }
        };
    }

    @Test
    void removalsRunInTheOrderSubmittedAndFlushWaitsForThem() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        try (CgroupRemover remover = new CgroupRemover("test-remover")) {
            CompletableFuture<Void> a = remover.submit(group("a", gate, null));
            CompletableFuture<Void> b = remover.submit(group("b", gate, null));
            assertThat(remover.pending()).isEqualTo(2);
            assertThat(remover.flush(Duration.ofMillis(50))).as("held at the gate").isFalse();

            gate.countDown();

            assertThat(remover.flush(Duration.ofSeconds(10))).isTrue();
            assertThat(removed).containsExactly("a", "b");
            assertThat(a).isCompleted();
            assertThat(b).isCompleted();
            assertThat(remover.pending()).isZero();
        }
    }

    @Test
    void aFailedRemovalFailsItsFutureOnlyAndTheNextOnesStillRun() throws Exception {
        CountDownLatch open = new CountDownLatch(0);
        IOException busy = new IOException("cannot remove the group directory /x: Device or resource busy");
        try (CgroupRemover remover = new CgroupRemover("test-remover")) {
            CompletableFuture<Void> failing = remover.submit(group("failing", open, busy));
            CompletableFuture<Void> next = remover.submit(group("next", open, null));
            assertThatThrownBy(() -> failing.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCause(busy);
            next.get(10, TimeUnit.SECONDS);
            assertThat(removed).containsExactly("failing", "next");
        }
    }

    @Test
    void closeFinishesWhatIsQueuedThenRefusesMore() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        CgroupRemover remover = new CgroupRemover("test-remover");
        CompletableFuture<Void> queued = remover.submit(group("queued", gate, null));
        new Thread(gate::countDown).start();

        remover.close();

        assertThat(queued).isCompleted();
        assertThat(removed).containsExactly("queued");
        assertThat(remover.flush(Duration.ofSeconds(1))).isTrue();
        assertThatThrownBy(() -> remover.submit(group("late", gate, null)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("this CgroupRemover is closed: cannot remove late");
    }
}
