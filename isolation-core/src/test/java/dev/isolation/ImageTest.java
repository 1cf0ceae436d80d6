package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.isolation.fs.LayerStore;
import dev.isolation.fs.image.OciImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An image built by the test runs with its layers as the root and its config as defaults. */
class ImageTest {
    @TempDir
    Path temp;

    private OciImage busyboxImage(String configFields) throws Exception {
        ImageFixture fixture = new ImageFixture();
        fixture.directory("bin").file("bin/busybox", Files.readAllBytes(TestRoots.BUSYBOX), 0755);
        for (String applet : List.of("sh", "cat", "ls", "pwd", "env", "id", "test", "echo")) {
            fixture.symlink("bin/" + applet, "busybox");
        }
        fixture.directory("etc").file("etc/greeting", "hello\n".getBytes(StandardCharsets.UTF_8), 0644)
                .file("etc/remove-me", "bye\n".getBytes(StandardCharsets.UTF_8), 0644)
                .file("etc/passwd", "root:x:0:0::/:/bin/sh\napp:x:1000:1000::/work:/bin/sh\n"
                        .getBytes(StandardCharsets.UTF_8), 0644)
                .directory("work").directory("proc").directory("dev").directory("tmp");
        byte[] base = fixture.layer();
        byte[] top = fixture.directory("etc").file("etc/added", "new\n".getBytes(StandardCharsets.UTF_8), 0644)
                .file("etc/.wh.remove-me", new byte[0], 0644).layer();
        Path layout = ImageFixture.writeLayout(temp.resolve("image"), List.of(base, top), configFields);
        return OciImage.load(layout, new LayerStore(temp.resolve("layers")));
    }

    @Test
    void imageLayersAndConfigBecomeTheSandboxsRootAndDefaults() throws Exception {
        OciImage image = busyboxImage("\"Env\":[\"GREETING=from-image\",\"PATH=/bin\"],\"WorkingDir\":\"/work\","
                + "\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":[\"cat /etc/greeting /etc/added; "
                + "test -e /etc/remove-me || echo removed; pwd; echo $GREETING\"]");
        SandboxProcess process = Sandboxes.withNamespaces(Namespace.PID, Namespace.MOUNT).image(image)
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor()).isZero();
        assertThat(output).isEqualTo("hello\nnew\nremoved\n/work\nfrom-image\n");
    }

    @Test
    void builderSettingsOverrideTheImagesConfig() throws Exception {
        OciImage image = busyboxImage("\"Env\":[\"GREETING=from-image\",\"PATH=/bin\"],\"WorkingDir\":\"/work\","
                + "\"Cmd\":[\"/bin/false\"],\"User\":\"app\"");
        Sandboxes.Result result = Sandboxes.shell(Sandbox.builder().allNamespaces().image(image)
                .environment("GREETING", "from-builder").directory("/etc"),
                "pwd; echo $GREETING; id -u; id -g");
        assertThat(result.lines()).containsExactly("/etc", "from-builder", "1000", "1000");
        Sandboxes.Result asRoot = Sandboxes.shell(Sandbox.builder().allNamespaces().image(image).user(0, 0), "id -u");
        assertThat(asRoot.output()).isEqualTo("0\n");
    }

    @Test
    void layersAreUnpackedOnceAndSharedByEveryImageLoad() throws Exception {
        busyboxImage("\"Cmd\":[\"/bin/true\"]");
        Path store = temp.resolve("layers/sha256");
        long before = Files.list(store).count();
        OciImage again = OciImage.load(temp.resolve("image"), new LayerStore(temp.resolve("layers")));
        assertThat(Files.list(store).count()).isEqualTo(before).isEqualTo(2);
        assertThat(again.layers()).hasSize(2);
    }
}
