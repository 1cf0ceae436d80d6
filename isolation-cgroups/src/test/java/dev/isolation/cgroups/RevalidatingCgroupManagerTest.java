package dev.isolation.cgroups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link RevalidatingCgroupManager} on text and fake managers: detected once, rebuilt when /proc/self/cgroup
 * changes, retried on a new manager when a create fails after the mounts changed, never retried otherwise.
 */
class RevalidatingCgroupManagerTest {
    private static final ResourceLimits LIMITS = ResourceLimits.builder().pidsMax(8).build();
    private static final String MOVED_CGROUP = CgroupTopologyTest.HYBRID_CGROUP
            .replace("4:memory:/process_api/08c6438e4a6162558efc33fc084ff92c", "4:memory:/elsewhere");
    private static final String PIDS_UNMOUNTED_MOUNTINFO = CgroupTopologyTest.HYBRID_MOUNTINFO
            .replace("39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n", "");

    /** /proc/self files that the test changes, counting how often each is read. */
    private static final class FakeProcess implements RevalidatingCgroupManager.ProcessView {
        String membership = CgroupTopologyTest.HYBRID_CGROUP;
        String mountinfo = CgroupTopologyTest.HYBRID_MOUNTINFO;
        int mountinfoReads;

        @Override
        public String membership() {
            return membership;
        }

        @Override
        public String mountinfo() {
            mountinfoReads++;
            return mountinfo;
        }
    }

    /** A manager that records the topology it was built for and fails its creates while told to. */
    private static final class FakeManager implements CgroupManager {
        final CgroupTopology topology;
        IOException failure;
        int creates;

        FakeManager(CgroupTopology topology) {
            this.topology = topology;
        }

        @Override
        public CgroupMode mode() {
            return topology.mode();
        }

        @Override
        public Set<String> controllers() {
            return topology.v1MountPoints().keySet();
        }

        @Override
        public Cgroup create(ResourceLimits limits) throws IOException {
            creates++;
            if (failure != null) {
                throw failure;
            }
            return new V1Group("g" + creates, java.util.Map.of("freezer", Path.of("/nonexistent/g")));
        }

        @Override
        public StaleGroups removeStale() {
            return new StaleGroups(List.of(), java.util.Map.of());
        }
    }

    private final FakeProcess process = new FakeProcess();
    private final List<FakeManager> built = new ArrayList<>();

    private RevalidatingCgroupManager manager() throws IOException {
        return RevalidatingCgroupManager.of(process, topology -> {
            FakeManager made = new FakeManager(topology);
            built.add(made);
            return made;
        });
    }

    @Test
    void theTopologyIsDetectedOnceAndReusedWhileNothingChanges() throws IOException {
        RevalidatingCgroupManager manager = manager();
        for (int i = 0; i < 5; i++) {
            manager.create(LIMITS);
        }
        assertThat(built).hasSize(1);
        assertThat(built.get(0).creates).isEqualTo(5);
        assertThat(process.mountinfoReads).as("mountinfo is read only at detection").isEqualTo(1);
    }

    @Test
    void aMoveToAnotherGroupIsNoticedAtTheNextCreate() throws IOException {
        RevalidatingCgroupManager manager = manager();
        manager.create(LIMITS);
        process.membership = MOVED_CGROUP;

        manager.create(LIMITS);

        assertThat(built).hasSize(2);
        assertThat(built.get(1).topology.v1Paths()).containsEntry("memory", "/elsewhere");
        assertThat(built.get(1).creates).isEqualTo(1);
        assertThat(manager.current()).isSameAs(built.get(1));
    }

    @Test
    void aCreateThatFailsAfterAnUnmountIsRetriedOnTheNewTopology() throws IOException {
        RevalidatingCgroupManager manager = manager();
        built.get(0).failure = new IOException("the pids hierarchy is no longer mounted at /sys/fs/cgroup/pids");
        process.mountinfo = PIDS_UNMOUNTED_MOUNTINFO;

        Cgroup group = manager.create(LIMITS);

        assertThat(group.name()).isEqualTo("g1");
        assertThat(built).hasSize(2);
        assertThat(built.get(1).topology.v1MountPoints()).doesNotContainKey("pids");
        assertThat(manager.current()).isSameAs(built.get(1));
    }

    @Test
    void aFailureOnAnUnchangedTopologyIsTheCallersAndNotRetried() throws IOException {
        RevalidatingCgroupManager manager = manager();
        IOException refused = new IOException("cpusetCpus: cannot write \"63\" to ...: Invalid argument");
        built.get(0).failure = refused;

        assertThatThrownBy(() -> manager.create(LIMITS)).isSameAs(refused);

        assertThat(built).hasSize(1);
        assertThat(built.get(0).creates).isEqualTo(1);
    }

    @Test
    void whenTheRetryFailsTooItsFailureCarriesTheFirst() throws IOException {
        IOException first = new IOException("first");
        IOException second = new IOException("second");
        RevalidatingCgroupManager manager = RevalidatingCgroupManager.of(process, topology -> {
            FakeManager made = new FakeManager(topology);
            made.failure = built.isEmpty() ? first : second;
            built.add(made);
            return made;
        });
        process.mountinfo = PIDS_UNMOUNTED_MOUNTINFO;

        assertThatThrownBy(() -> manager.create(LIMITS)).isSameAs(second);

        assertThat(second.getSuppressed()).containsExactly(first);
        assertThat(built).hasSize(2);
    }

    @Test
    void aTopologyWithoutHierarchiesFailsTheDetectionNamingIt() {
        process.mountinfo = "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n";
        assertThatThrownBy(() -> RevalidatingCgroupManager.of(process, RevalidatingCgroupManager::managerFor))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("no cgroup hierarchy is mounted");
    }
}
