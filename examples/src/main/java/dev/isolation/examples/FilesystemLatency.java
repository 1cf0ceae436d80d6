package dev.isolation.examples;

import dev.isolation.Sandbox;
import dev.isolation.SandboxSpec;
import dev.isolation.fs.FilesystemSpec;
import dev.isolation.fs.LayerStore;
import dev.isolation.fs.image.OciImage;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Random;

/**
 * Start-up cost of an overlay root against the size of its lower layer, and the cost of unpacking an image's
 * layers the first and the second time. Builds its own lowers (a static busybox plus filler files) and its own
 * image (with the system's tar) under a work directory, and removes them at the end.
 *
 * <pre>java -cp examples/target/isolation-run.jar dev.isolation.examples.FilesystemLatency [runs] [large-MiB] [work-dir]</pre>
 */
public final class FilesystemLatency {
    private FilesystemLatency() {
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int largeMib = args.length > 1 ? Integer.parseInt(args[1]) : 1024;
        Path work = Files.createTempDirectory(args.length > 2 ? Path.of(args[2]) : Path.of("/var/tmp"), "fs-latency");
        try {
            Path small = lower(work.resolve("small"), 10);
            Path large = lower(work.resolve("large"), largeMib);
            SandboxSpec overSmall = spec(small);
            SandboxSpec overLarge = spec(large);
            long[] smallTimes = new long[runs];
            long[] largeTimes = new long[runs];
            for (int i = -100; i < runs; i++) {
                long begin = System.nanoTime();
                overSmall.start().waitFor();
                long middle = System.nanoTime();
                overLarge.start().waitFor();
                long end = System.nanoTime();
                if (i >= 0) {
                    smallTimes[i] = middle - begin;
                    largeTimes[i] = end - middle;
                }
            }
            System.out.printf(Locale.ROOT, "overlay root, all namespaces, start-to-exit of /bin/true, %d runs each%n", runs);
            System.out.printf(Locale.ROOT, "  lower of %5d MiB: median %.3f ms, p99 %.3f ms%n", du(small),
                    percentile(smallTimes, 0.5), percentile(smallTimes, 0.99));
            System.out.printf(Locale.ROOT, "  lower of %5d MiB: median %.3f ms, p99 %.3f ms%n", du(large),
                    percentile(largeTimes, 0.5), percentile(largeTimes, 0.99));

            Path image = image(work.resolve("image"), small);
            LayerStore store = new LayerStore(work.resolve("layers"));
            long begin = System.nanoTime();
            OciImage.load(image, store);
            long first = System.nanoTime() - begin;
            begin = System.nanoTime();
            OciImage.load(image, store);
            long second = System.nanoTime() - begin;
            System.out.printf(Locale.ROOT, "image of %d MiB in one layer: first load (verify + unpack) %.1f ms,"
                    + " second load (verify, layer already in the store) %.1f ms%n", du(small), first / 1e6,
                    second / 1e6);
        } finally {
            new ProcessBuilder("rm", "-rf", work.toString()).inheritIO().start().waitFor();
        }
    }

    private static SandboxSpec spec(Path lower) {
        return Sandbox.builder().allNamespaces().command("/bin/true")
                .filesystem(FilesystemSpec.builder().rootDirectory(lower).build())
                .redirectOutput(Redirect.DISCARD).redirectError(Redirect.DISCARD).build();
    }

    /** A busybox root with about {@code mib} MiB of filler files of 1 MiB. */
    private static Path lower(Path dir, int mib) throws IOException {
        Files.createDirectories(dir.resolve("bin"));
        Files.copy(Path.of("/bin/busybox"), dir.resolve("bin/busybox"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.createSymbolicLink(dir.resolve("bin/true"), Path.of("busybox"));
        for (String sub : new String[] {"proc", "dev", "tmp", "filler"}) {
            Files.createDirectories(dir.resolve(sub));
        }
        byte[] block = new byte[1 << 20];
        new Random(1).nextBytes(block);
        for (int i = 0; i < mib - 2; i++) {
            block[0] = (byte) i;
            Files.write(dir.resolve("filler/" + i), block);
        }
        return dir;
    }

    private static Path image(Path dir, Path root) throws Exception {
        Files.createDirectories(dir.resolve("blobs/sha256"));
        Path layer = dir.resolve("layer.tar");
        run("tar", "-C", root.toString(), "-cf", layer.toString(), ".");
        String layerDigest = move(dir, layer);
        String config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/true\"]},"
                + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + layerDigest + "\"]}}";
        String configDigest = write(dir, config);
        String manifest = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + configDigest
                + "\",\"size\":" + config.length() + "},\"layers\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" + layerDigest + "\",\"size\":"
                + Files.size(blob(dir, layerDigest)) + "}]}";
        String manifestDigest = write(dir, manifest);
        Files.writeString(dir.resolve("index.json"), "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" + manifestDigest + "\",\"size\":"
                + manifest.length() + "}]}");
        Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        return dir;
    }

    private static String write(Path dir, String content) throws Exception {
        Path file = dir.resolve("blob.tmp");
        Files.writeString(file, content);
        return move(dir, file);
    }

    private static String move(Path dir, Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (var in = Files.newInputStream(file); OutputStream out = OutputStream.nullOutputStream()) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        String name = "sha256:" + HexFormat.of().formatHex(digest.digest());
        Files.move(file, blob(dir, name));
        return name;
    }

    private static Path blob(Path dir, String digest) {
        return dir.resolve("blobs/sha256").resolve(digest.substring("sha256:".length()));
    }

    private static long du(Path dir) throws Exception {
        Process du = new ProcessBuilder("du", "-sm", dir.toString()).start();
        String out = new String(du.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        du.waitFor();
        return Long.parseLong(out.split("\\s+")[0]);
    }

    private static void run(String... command) throws Exception {
        if (new ProcessBuilder(command).inheritIO().start().waitFor() != 0) {
            throw new IOException("failed: " + Arrays.toString(command));
        }
    }

    private static double percentile(long[] times, double fraction) {
        long[] sorted = times.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(fraction * sorted.length) - 1)] / 1e6;
    }
}
