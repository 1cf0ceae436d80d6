package dev.isolation.fs.image.tar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.isolation.fs.TarFixture;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TarReaderTest {

    private static List<TarEntry> entries(byte[] tar) throws IOException {
        TarReader reader = new TarReader(new ByteArrayInputStream(tar), "test.tar");
        List<TarEntry> entries = new ArrayList<>();
        Optional<TarEntry> next;
        while ((next = reader.next()).isPresent()) {
            entries.add(next.get());
        }
        return entries;
    }

    @Test
    void readsUstarMembersAndTheirData() throws IOException {
        byte[] tar = new TarFixture().dir("etc/").file("etc/greeting", "hello\n", 04755).symlink("etc/link", "greeting")
                .hardLink("etc/hard", "etc/greeting").charDevice("dev/null", 1, 3).fifo("run/pipe").bytes();
        TarReader reader = new TarReader(new ByteArrayInputStream(tar), "test.tar");

        TarEntry dir = reader.next().orElseThrow();
        assertThat(dir.type()).isEqualTo(TarEntry.Type.DIRECTORY);
        assertThat(dir.name()).isEqualTo("etc/");
        TarEntry file = reader.next().orElseThrow();
        assertThat(file.type()).isEqualTo(TarEntry.Type.REGULAR);
        assertThat(file.mode()).isEqualTo(04755);
        assertThat(file.size()).isEqualTo(6);
        assertThat(file.dataOffset()).isEqualTo(1024);
        assertThat(new String(reader.data().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("hello\n");
        TarEntry link = reader.next().orElseThrow();
        assertThat(link.type()).isEqualTo(TarEntry.Type.SYMLINK);
        assertThat(link.linkName()).isEqualTo("greeting");
        assertThat(reader.next().orElseThrow().type()).isEqualTo(TarEntry.Type.HARD_LINK);
        TarEntry device = reader.next().orElseThrow();
        assertThat(device.type()).isEqualTo(TarEntry.Type.CHAR_DEVICE);
        assertThat(device.devMajor()).isEqualTo(1);
        assertThat(device.devMinor()).isEqualTo(3);
        assertThat(reader.next().orElseThrow().type()).isEqualTo(TarEntry.Type.FIFO);
        assertThat(reader.next()).isEmpty();
        assertThat(reader.next()).isEmpty();
        assertThat(reader.position()).isEqualTo(tar.length);
    }

    @Test
    void skipsDataThatWasNotRead() throws IOException {
        byte[] tar = new TarFixture().file("a", "x".repeat(1000)).file("b", "bee").bytes();
        TarReader reader = new TarReader(new ByteArrayInputStream(tar), "test.tar");
        reader.next();
        assertThat(reader.data().read()).isEqualTo('x');
        assertThat(reader.next().orElseThrow().name()).isEqualTo("b");
        assertThat(reader.data().readAllBytes()).isEqualTo("bee".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void appliesPaxPathsAndLinkPathsAndGnuLongNames() throws IOException {
        String longName = "very/" + "long/".repeat(40) + "name.txt";
        String longTarget = "/" + "target/".repeat(30) + "file";
        byte[] tar = new TarFixture().paxGlobal("path", "ignored").paxFile(longName, "pax")
                .paxSymlink("short", longTarget).gnuLongNameFile(longName + ".gnu", "gnu").bytes();

        List<TarEntry> entries = entries(tar);

        assertThat(entries).extracting(TarEntry::name).containsExactly(longName, "short", longName + ".gnu");
        assertThat(entries.get(1).linkName()).isEqualTo(longTarget);
    }

    @Test
    void acceptsASingleZeroBlockAtTheVeryEnd() throws IOException {
        byte[] members = new TarFixture().file("a", "a").bytesWithoutEnd();
        byte[] tar = Arrays.copyOf(members, members.length + 512);

        assertThat(entries(tar)).extracting(TarEntry::name).containsExactly("a");
    }

    @Test
    void refusesAMissingEndOfArchiveMarker() {
        byte[] tar = new TarFixture().file("a", "a").bytesWithoutEnd();

        assertThatThrownBy(() -> entries(tar)).isInstanceOf(IOException.class)
                .hasMessageContaining("test.tar").hasMessageContaining("end-of-archive");
    }

    @Test
    void refusesDataCutShort() {
        byte[] whole = new TarFixture().file("etc/passwd", "x".repeat(600)).bytes();
        byte[] tar = Arrays.copyOf(whole, 512 + 100);

        assertThatThrownBy(() -> {
            TarReader reader = new TarReader(new ByteArrayInputStream(tar), "test.tar");
            reader.next();
            reader.data().readAllBytes();
        }).isInstanceOf(EOFException.class).hasMessageContaining("etc/passwd").hasMessageContaining("100 of its 600");
        assertThatThrownBy(() -> entries(tar)).isInstanceOf(EOFException.class).hasMessageContaining("etc/passwd");
    }

    @Test
    void refusesAHeaderCutShort() {
        byte[] whole = new TarFixture().file("a", "a").file("b", "b").bytes();
        byte[] tar = Arrays.copyOf(whole, 1024 + 300);

        assertThatThrownBy(() -> entries(tar)).hasMessageContaining("ends inside a header");
    }

    @Test
    void refusesABadChecksum() {
        byte[] tar = new TarFixture().file("etc/passwd", "x").bytes();
        tar[0] = 'E';

        assertThatThrownBy(() -> entries(tar)).isInstanceOf(IOException.class)
                .hasMessageContaining("test.tar: header at offset 0").hasMessageContaining("checksum");
    }

    @Test
    void refusesAHeaderAfterASingleZeroBlock() {
        byte[] tar = new TarFixture().file("a", "a").raw(new byte[512]).file("b", "b").bytes();

        assertThatThrownBy(() -> entries(tar)).hasMessageContaining("single zero block");
    }

    @Test
    void refusesAnExtendedHeaderWithoutAMember() {
        byte[] tar = new TarFixture().member("PaxHeaders/x", 'x', 0644, "12 path=abc\n".getBytes(StandardCharsets.UTF_8),
                "", 0, 0).bytes();

        assertThatThrownBy(() -> entries(tar)).hasMessageContaining("instead of a member");
    }

    @Test
    void refusesMalformedPaxRecords() {
        byte[] tar = new TarFixture().member("PaxHeaders/x", 'x', 0644, "99 path=abc\n".getBytes(StandardCharsets.UTF_8),
                "", 0, 0).file("a", "a").bytes();

        assertThatThrownBy(() -> entries(tar)).hasMessageContaining("malformed pax record");
    }

    @Test
    void refusesSparseAndUnknownTypes() {
        byte[] sparse = new TarFixture().member("s", 'S', 0644, new byte[0], "", 0, 0).bytes();
        byte[] unknown = new TarFixture().member("u", 'Z', 0644, new byte[0], "", 0, 0).bytes();

        assertThatThrownBy(() -> entries(sparse)).hasMessageContaining("entry 's'").hasMessageContaining("sparse");
        assertThatThrownBy(() -> entries(unknown)).hasMessageContaining("entry 'u'").hasMessageContaining("'Z'");
    }

    @Test
    void refusesAnUnknownMagic() {
        byte[] tar = new TarFixture().file("a", "a").bytes();
        byte[] header = TarFixture.header("a", '0', 0644, 1, "", 0, 0);
        header[257] = 'X';
        long sum = 0;
        Arrays.fill(header, 148, 156, (byte) ' ');
        for (byte b : header) {
            sum += b & 0xff;
        }
        byte[] checksum = (String.format("%06o", sum) + "\0 ").getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(checksum, 0, header, 148, 8);
        System.arraycopy(header, 0, tar, 0, 512);

        assertThatThrownBy(() -> entries(tar)).hasMessageContaining("unknown magic");
    }

    @Test
    void linksAndDirectoriesNeverHaveData() throws IOException {
        byte[] header = TarFixture.header("d/", '5', 0755, 512, "", 0, 0);
        byte[] tar = new TarFixture().raw(header).file("after", "x").bytes();

        assertThat(entries(tar)).extracting(TarEntry::name).containsExactly("d/", "after");
    }
}
