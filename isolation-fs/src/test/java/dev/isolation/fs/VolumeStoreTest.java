package dev.isolation.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Named volumes: their life cycle, names, leases within and across processes, and concurrent creation. */
class VolumeStoreTest {
    @TempDir
    Path temp;
    VolumeStore store;

    @BeforeEach
    void store() throws IOException {
        store = new VolumeStore(temp.resolve("parent/volumes"));
    }

    @Test
    void createListGetAndRemove() throws IOException {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(store.root()))).isEqualTo("rwx------");
        assertThat(store.list()).isEmpty();
        Volume cache = store.create("cache");
        Volume data = store.create("data.v2");

        assertThat(cache).isEqualTo(new Volume("cache", store.root().resolve("cache/data")));
        assertThat(cache.directory()).isDirectory().isEmptyDirectory();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(cache.directory())))
                .isEqualTo("rwxr-xr-x");
        assertThat(store.list()).containsExactly(cache, data);
        assertThat(store.get("cache")).contains(cache);
        assertThat(store.get("other")).isEmpty();
        assertThat(store.getOrCreate("cache")).isEqualTo(cache);
        assertThat(new VolumeStore(store.root()).list()).as("another store on the same root")
                .containsExactly(cache, data);
        Files.writeString(cache.directory().resolve("file"), "kept\n");
        assertThat(Files.readString(store.getOrCreate("cache").directory().resolve("file"))).isEqualTo("kept\n");

        store.remove("cache");

        assertThat(store.list()).containsExactly(data);
        assertThat(store.get("cache")).isEmpty();
        assertThat(cache.directory()).doesNotExist();
        assertThat(entries(store.root())).containsExactly("data.v2");
        assertThatThrownBy(() -> store.remove("cache")).isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("cache");
        assertThatThrownBy(() -> store.create("data.v2")).isInstanceOf(FileAlreadyExistsException.class)
                .hasMessageContaining("data.v2");
    }

    @Test
    void badNamesAreRejectedNamingThem() throws IOException {
        for (String bad : List.of("", "-x", ".hidden", "..", "_x", "a/b", "a b", "caf\u00e9", "x".repeat(65),
                "a\u0000b")) {
            assertThatThrownBy(() -> store.create(bad)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("\"" + bad + "\"");
            assertThatThrownBy(() -> store.get(bad)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> store.remove(bad)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> store.acquire(bad)).isInstanceOf(IllegalArgumentException.class);
        }
        for (String good : List.of("0", "a", "x".repeat(64), "A.b_c-d", "9-._")) {
            assertThat(store.create(good).name()).isEqualTo(good);
        }
        assertThat(store.list()).hasSize(5);
        assertThatThrownBy(() -> new Volume("ok", Path.of("relative"))).hasMessageContaining("relative");
    }

    @Test
    void aLeasedVolumeCannotBeRemovedUntilEveryLeaseIsClosed() throws IOException {
        store.create("shared");
        VolumeStore sameRoot = new VolumeStore(store.root());
        VolumeStore.Lease first = store.acquire("shared");
        VolumeStore.Lease second = sameRoot.acquire("shared");
        assertThat(first.volume()).isEqualTo(second.volume());

        assertThatThrownBy(() -> store.remove("shared")).isInstanceOf(IOException.class)
                .hasMessageContaining("volume \"shared\" is in use");
        first.close();
        first.close();
        assertThatThrownBy(() -> sameRoot.remove("shared")).hasMessageContaining("in use");
        second.close();

        store.remove("shared");
        assertThat(store.list()).isEmpty();
        assertThatThrownBy(() -> store.acquire("shared")).isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("shared");
    }

    @Test
    void aLeaseOfAnotherProcessPreventsRemovalAndSharesWithOurs() throws Exception {
        store.create("shared");
        Process holder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), HoldLease.class.getName(), store.root().toString(),
                "shared").redirectErrorStream(true).start();
        try {
            BufferedReader output = new BufferedReader(new InputStreamReader(holder.getInputStream(),
                    StandardCharsets.UTF_8));
            assertThat(output.readLine()).isEqualTo("leased");

            assertThatThrownBy(() -> store.remove("shared")).hasMessageContaining("volume \"shared\" is in use");
            try (VolumeStore.Lease ours = store.acquire("shared")) {
                assertThat(ours.volume().name()).isEqualTo("shared");
            }
            assertThatThrownBy(() -> store.remove("shared")).hasMessageContaining("in use");

            holder.getOutputStream().close();
            assertThat(holder.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(holder.exitValue()).isZero();
        } finally {
            holder.destroyForcibly();
        }
        store.remove("shared");
        assertThat(store.get("shared")).isEmpty();
    }

    @Test
    void removeDeletesWhatSandboxesLeftUnwritableAndNeverFollowsLinksOut() throws IOException {
        Path outside = Files.createDirectory(temp.resolve("outside"));
        Path hostFile = Files.writeString(outside.resolve("host-file"), "host\n");
        Volume volume = store.create("messy");
        Path deep = Files.createDirectories(volume.directory().resolve("a/b/c"));
        Files.writeString(deep.resolve("file"), "x");
        Files.setPosixFilePermissions(deep.resolve("file"), PosixFilePermissions.fromString("---------"));
        Files.setPosixFilePermissions(deep, PosixFilePermissions.fromString("r-x------"));
        Files.setPosixFilePermissions(deep.getParent(), PosixFilePermissions.fromString("---------"));
        Files.createSymbolicLink(volume.directory().resolve("to-dir"), outside);
        Files.createSymbolicLink(volume.directory().resolve("to-file"), hostFile);
        Files.setPosixFilePermissions(volume.directory(), PosixFilePermissions.fromString("r-x------"));

        store.remove("messy");

        assertThat(store.get("messy")).isEmpty();
        assertThat(entries(store.root())).isEmpty();
        assertThat(Files.readString(hostFile)).isEqualTo("host\n");
        assertThat(entries(outside)).containsExactly("host-file");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(outside))).isEqualTo("rwxr-xr-x");
    }

    @Test
    void getOrCreateFromEightThreadsAtOnceYieldsOneVolume() throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(8);
        try {
            for (int round = 0; round < 20; round++) {
                String name = "v" + round;
                CountDownLatch start = new CountDownLatch(1);
                List<Future<Volume>> results = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    results.add(threads.submit((Callable<Volume>) () -> {
                        start.await();
                        return store.getOrCreate(name);
                    }));
                }
                start.countDown();
                for (Future<Volume> result : results) {
                    assertThat(result.get(30, TimeUnit.SECONDS)).isEqualTo(store.get(name).orElseThrow());
                }
            }
        } finally {
            threads.shutdownNow();
        }
        assertThat(store.list()).hasSize(20);
        assertThat(entries(store.root())).as("no staging directory is left").hasSize(20)
                .allMatch(name -> name.startsWith("v"));
    }

    @Test
    void createFromEightThreadsAtOnceSucceedsOnce() throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(8);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                results.add(threads.submit(() -> {
                    start.await();
                    try {
                        store.create("once");
                        return true;
                    } catch (FileAlreadyExistsException e) {
                        return false;
                    }
                }));
            }
            start.countDown();
            int created = 0;
            for (Future<Boolean> result : results) {
                created += result.get(30, TimeUnit.SECONDS) ? 1 : 0;
            }
            assertThat(created).isEqualTo(1);
        } finally {
            threads.shutdownNow();
        }
        assertThat(entries(store.root())).containsExactly("once");
    }

    private static List<String> entries(Path directory) throws IOException {
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.map(path -> path.getFileName().toString()).sorted().toList();
        }
    }

    /** Run in a second JVM: holds a lease on volume args[1] of the store args[0] until its stdin closes. */
    static final class HoldLease {
        public static void main(String[] args) throws IOException {
            try (VolumeStore.Lease lease = new VolumeStore(Path.of(args[0])).acquire(args[1])) {
                System.out.println(lease.volume().directory() != null ? "leased" : "no directory");
                System.out.flush();
                while (System.in.read() >= 0) {
                    // until the test closes our stdin
                }
            }
        }
    }
}
