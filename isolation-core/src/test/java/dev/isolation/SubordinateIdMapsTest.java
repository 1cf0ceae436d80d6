package dev.isolation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.isolation.launch.Credentials;
import dev.isolation.launch.SubordinateIds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several ids in an unprivileged user namespace, through the host's setuid newuidmap/newgidmap and /etc/subuid,
 * only when the caller opts in. The real runs need an unprivileged user with subordinate ranges and the uidmap
 * package (the rootless lane of .ci/run sets both up).
 */
class SubordinateIdMapsTest {
    @TempDir
    Path temp;

    private static String user() {
        return System.getProperty("user.name");
    }

    private static List<SubordinateIds.Range> ranges(Path file, long id) throws Exception {
        return SubordinateIds.of(file, user(), id);
    }

    /** Unprivileged, with /etc/subuid and /etc/subgid ranges and newuidmap: subordinateIdMaps() can work. */
    static boolean rootlessWithRanges() throws Exception {
        return !Sandboxes.ROOT && SubordinateIds.mapper(SubordinateIds.NEWUIDMAP) != null
                && !ranges(SubordinateIds.SUBUID, Credentials.effectiveUid()).isEmpty()
                && !ranges(SubordinateIds.SUBGID, Credentials.effectiveGid()).isEmpty();
    }

    @Test
    void rangesAreReadByNameOrByIdAndMalformedLinesGrantNothing() throws Exception {
        Path file = Files.writeString(temp.resolve("subuid"), "alice:100000:65536\n"
                + "1001:300000:10\n" + "alice:garbage:5\n" + "bob:200000:65536\n" + "alice:500000:100\n");
        assertThat(SubordinateIds.of(file, "alice", 1000)).containsExactly(new SubordinateIds.Range(100000, 65536),
                new SubordinateIds.Range(500000, 100));
        assertThat(SubordinateIds.of(file, "carol", 1001)).containsExactly(new SubordinateIds.Range(300000, 10));
        assertThat(SubordinateIds.of(temp.resolve("absent"), "alice", 1000)).isEmpty();
    }

    @Test
    void withTheOptInTheCallerIsRootInsideAndItsRangesFollow() throws Exception {
        assumeTrue(rootlessWithRanges(), "needs an unprivileged user with /etc/subuid ranges and newuidmap");
        SubordinateIds.Range uids = ranges(SubordinateIds.SUBUID, Credentials.effectiveUid()).get(0);
        SubordinateIds.Range gids = ranges(SubordinateIds.SUBGID, Credentials.effectiveGid()).get(0);
        SandboxProcess cat = Sandbox.builder().allNamespaces().subordinateIdMaps().command("/bin/cat").start();
        try {
            // read from the host: the program's ids as the host sees them
            assertThat(mapLines(cat.pid(), "uid_map")).containsExactly("0 " + Credentials.effectiveUid() + " 1",
                    "1 " + uids.start() + " " + uids.count());
            assertThat(mapLines(cat.pid(), "gid_map")).containsExactly("0 " + Credentials.effectiveGid() + " 1",
                    "1 " + gids.start() + " " + gids.count());
        } finally {
            cat.getOutputStream().close();
            cat.waitFor();
        }
        Sandboxes.Result inside = Sandboxes.shell(Sandbox.builder().allNamespaces().subordinateIdMaps(),
                "cat /proc/self/uid_map | tr -s ' ' | sed 's/^ //'");
        assertThat(inside.lines()).as("inside, every id keeps its meaning").containsExactly("0 0 1",
                "1 1 " + uids.count());
    }

    private static List<String> mapLines(long pid, String file) throws Exception {
        return Files.readAllLines(Path.of("/proc", Long.toString(pid), file)).stream()
                .map(line -> line.trim().replaceAll("\\s+", " ")).toList();
    }

    @Test
    void aProgramRunsAsAnotherMappedUserWithSupplementaryGroups() throws Exception {
        assumeTrue(rootlessWithRanges(), "needs an unprivileged user with /etc/subuid ranges and newuidmap");
        Sandboxes.Result result = Sandboxes.shell(Sandbox.builder().allNamespaces().subordinateIdMaps()
                .user(1000, 1000).groups(1000, 2000), "id -u; id -g; id -G; touch /tmp/f; stat -c %u:%g /tmp/f");
        assertThat(result.lines()).containsExactly("1000", "1000", "1000 2000", "1000:1000");
    }

    @Test
    void withoutTheOptInSeveralIdsAreRefusedToAnUnprivilegedCaller() {
        assumeTrue(!Sandboxes.ROOT, "root may map any ids itself");
        assertThatThrownBy(() -> Sandbox.builder().userNamespace().uidMapping(new IdMapping(0,
                Credentials.effectiveUid(), 1)).uidMapping(new IdMapping(1, 100000, 10)).command("/bin/true").start())
                .isInstanceOf(SandboxStartException.class).hasMessageContaining("mapping more needs privileges");
    }

    @Test
    void idsOutsideTheGrantedRangesAreRefusedBeforeAnythingStarts() throws Exception {
        assumeTrue(rootlessWithRanges(), "needs an unprivileged user with /etc/subuid ranges and newuidmap");
        assertThatThrownBy(() -> Sandbox.builder().subordinateIdMaps()
                .uidMapping(IdMapping.single(0, Credentials.effectiveUid()))
                .uidMapping(new IdMapping(1, 5, 10)).command("/bin/true").start())
                .isInstanceOf(SandboxStartException.class).hasMessageContaining("neither the caller's own");
    }

    @Test
    void aCallerWithoutRangesIsToldSoWhenItOptsIn() throws Exception {
        assumeTrue(ranges(SubordinateIds.SUBUID, Credentials.effectiveUid()).isEmpty(), "the caller has ranges");
        assertThatThrownBy(() -> Sandbox.builder().subordinateIdMaps().command("/bin/true").build())
                .isInstanceOf(InvalidSandboxSpecException.class).hasMessageStartingWith("subordinateIdMaps")
                .hasMessageContaining("no subordinate uids");
    }
}
