package dev.isolation.launch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plan's frame on the wire, and the helper's refusal of a malformed one. */
class PlanTest {
    private static final int EPROTO = 71;
    private static final Plan TRUE = new Plan(List.of(new Op(OpType.CLONE, 0x20000000L, 0, List.of(), "pid"),
            new Op(OpType.EXEC, 1, 0, List.of("/bin/true", "", "/bin/true"), "/bin/true")));

    @Test
    void encodingIsOneFrameOfHeaderThenOpsWithLengthPrefixedNulTerminatedStrings() {
        ByteBuffer bytes = ByteBuffer.wrap(TRUE.encode()).order(ByteOrder.nativeOrder());
        assertThat(bytes.getInt()).isEqualTo(Wire.MAGIC);
        assertThat(bytes.getInt()).isEqualTo(Wire.VERSION);
        assertThat(bytes.getInt()).as("op count").isEqualTo(2);
        assertThat(bytes.getInt()).as("body length").isEqualTo(bytes.remaining());
        assertThat(bytes.getInt()).isEqualTo(1);            // CLONE
        assertThat(bytes.getInt()).isZero();                // no strings
        assertThat(bytes.getLong()).isEqualTo(0x20000000L);
        assertThat(bytes.getLong()).isZero();
        assertThat(bytes.getInt()).isEqualTo(9);            // EXEC
        assertThat(bytes.getInt()).isEqualTo(3);
        assertThat(bytes.getLong()).isEqualTo(1);
        assertThat(bytes.getLong()).isZero();
        assertThat(bytes.getInt()).isEqualTo(9);
        byte[] first = new byte[9];
        bytes.get(first);
        assertThat(new String(first, StandardCharsets.UTF_8)).isEqualTo("/bin/true");
        assertThat(bytes.get()).as("NUL after the string").isZero();
        assertThat(bytes.getInt()).isZero();
        assertThat(bytes.get()).isZero();
        assertThat(bytes.getInt()).isEqualTo(9);
        assertThat(bytes.remaining()).isEqualTo(10);
    }

    @Test
    void aStringWithANulCharacterIsRefusedBeforeItIsSent() {
        Plan plan = new Plan(List.of(new Op(OpType.CLONE, 0, 0, List.of(), "none"),
                new Op(OpType.EXEC, 1, 0, List.of("/bin/true", "", "/bin/tr\0ue"), "/bin/true")));
        assertThatThrownBy(plan::encode).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("step 1 (EXEC /bin/true): string 2 contains a NUL character");
    }

    @Test
    void theHelperRefusesAMalformedFrameWithEproto(@TempDir Path dir) throws Exception {
        byte[] good = TRUE.encode();
        int body = good.length - 16;
        List<UnaryOperator<byte[]>> corruptions = List.of(
                frame -> withInt(frame, 12, body - 1),                      // body shorter than its ops
                frame -> withInt(frame, 12, body + 1),                      // a byte too many (sent: a trailing 0)
                frame -> withInt(frame, 8, 3),                              // more ops than the body holds
                frame -> withInt(frame, 20, 1 << 30),                       // a string count beyond the body
                frame -> withInt(frame, 64, 10),                             // a string running into the next length
                frame -> { frame[frame.length - 1] = 'x'; return frame; },  // the last string without its NUL
                frame -> { frame[70] = 0; return frame; },                  // a NUL inside a string
                frame -> withInt(frame, 4, Wire.VERSION - 1),               // another version
                frame -> withInt(frame, 16, 0x1234));                       // an unknown op type
        for (UnaryOperator<byte[]> corruption : corruptions) {
            byte[] frame = corruption.apply(Arrays.copyOf(good, good.length));
            if (readInt(frame, 12) > body) {
                frame = Arrays.copyOf(frame, 16 + readInt(frame, 12));
            }
            ControlChannel.Report report = sendToHelper(dir, frame);
            assertThat(report.type()).as("report type for a corrupted frame").isEqualTo(Wire.REPORT_FAILED);
            assertThat(report.errno()).isEqualTo(EPROTO);
            assertThat(report.detail()).isEqualTo("plan");
        }
    }

    @Test
    void theHelperRunsAWellFormedFrame(@TempDir Path dir) throws Exception {
        ControlChannel.Report report = sendToHelper(dir, new Plan(List.of(new Op(OpType.CLONE, 0, 0, List.of(), "none"),
                new Op(OpType.EXEC, 1, 0, List.of("/bin/true", "", "/bin/true"), "/bin/true"))).encode());
        assertThat(report.type()).isEqualTo(Wire.REPORT_STARTED);
    }

    /** Has the resident launcher fork a helper, sends frame as its plan and returns its first report. */
    private static ControlChannel.Report sendToHelper(Path dir, byte[] frame) throws IOException {
        int[] pair = Posix.socketPair(Posix.SOCK_STREAM, "test control socket");
        ProgramStdio stdio = ProgramStdio.none();
        try (ControlChannel channel = new ControlChannel(pair[0])) {
            try {
                ResidentLauncher.spawn(pair[1], stdio.passed(), false);
            } finally {
                Posix.closeQuietly(pair[1]);
                stdio.closePassed();
            }
            channel.readHello("isolation-helper");
            channel.send(frame);
            ControlChannel.Report report = channel.readReport();
            if (report.type() == Wire.REPORT_STARTED) {
                channel.readReport(); // the exit report of /bin/true
            }
            channel.awaitClosed(); // the helper ends
            return report;
        }
    }

    private static byte[] withInt(byte[] frame, int offset, int value) {
        ByteBuffer.wrap(frame).order(ByteOrder.nativeOrder()).putInt(offset, value);
        return frame;
    }

    private static int readInt(byte[] frame, int offset) {
        return ByteBuffer.wrap(frame).order(ByteOrder.nativeOrder()).getInt(offset);
    }
}
