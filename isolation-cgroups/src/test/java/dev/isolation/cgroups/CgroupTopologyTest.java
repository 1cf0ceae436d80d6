package dev.isolation.cgroups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CgroupTopologyTest {

  /** Copied from a real hybrid host: v1 controllers plus cgroup2 at /sys/fs/cgroup/unified. */
  static final String HYBRID_MOUNTINFO =
      String.join(
          "\n",
          "22 27 0:21 / /proc rw,relatime - proc proc rw",
          "23 27 0:22 / /sys rw,relatime - sysfs sysfs rw",
          "24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12334492k,nr_inodes=3083623,mode=755",
          "25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24684092k",
          "26 24 0:24 / /dev/pts rw,relatime - devpts devpts rw,mode=600,ptmxmode=000",
          "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534",
          "28 27 0:25 / /mnt/sandboxing/model_tools_env/v1/python ro,nosuid,nodev,relatime - tmpfs model_tools_unavailable ro,size=4k,mode=755",
          "29 26 0:26 / /dev/pts rw,relatime - devpts devpts rw,mode=600,ptmxmode=000",
          "30 25 0:27 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24684092k",
          "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
          "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
          "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct",
          "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset",
          "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
          "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices",
          "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer",
          "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio",
          "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids",
          "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd",
          "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
          "");

  static final String HYBRID_CGROUP =
      String.join(
          "\n",
          "9:name=systemd:/",
          "8:pids:/",
          "7:blkio:/",
          "6:freezer:/",
          "5:devices:/",
          "4:memory:/process_api/08c6438e4a6162558efc33fc084ff92c",
          "3:cpuset:/",
          "2:cpuacct:/",
          "1:cpu:/",
          "0::/",
          "");

  /** A typical systemd host booted with the unified hierarchy only. */
  static final String UNIFIED_MOUNTINFO =
      String.join(
          "\n",
          "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro",
          "24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw",
          "25 22 0:23 / /proc rw,nosuid,nodev,noexec,relatime shared:13 - proc proc rw",
          "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2"
              + " rw,nsdelegate,memory_recursiveprot",
          "");

  static final String UNIFIED_CGROUP = "0::/user.slice/user-1000.slice/session-1.scope\n";

  /** A v1-only host (e.g. a 3.10 kernel: no "0::" line at all). */
  static final String LEGACY_MOUNTINFO =
      String.join(
          "\n",
          "18 62 0:17 / /sys rw,nosuid,nodev,noexec,relatime shared:6 - sysfs sysfs rw",
          "25 18 0:21 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755",
          "26 25 0:22 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:9 - cgroup"
              + " cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd",
          "29 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:10 -"
              + " cgroup cgroup rw,cpuacct,cpu",
          "30 25 0:26 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:11 - cgroup"
              + " cgroup rw,memory",
          "31 25 0:27 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:12 - cgroup"
              + " cgroup rw,cpuset,clone_children",
          "32 25 0:28 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:13"
              + " - cgroup cgroup rw,net_prio,net_cls",
          "");

  static final String LEGACY_CGROUP =
      String.join(
          "\n",
          "11:cpuset:/",
          "10:memory:/user.slice",
          "9:cpuacct,cpu:/user.slice",
          "8:net_prio,net_cls:/",
          "1:name=systemd:/user.slice/user-1000.slice/session-1.scope",
          "");

  @Nested
  class HybridHost {
    final CgroupTopology topology = CgroupTopology.parse(HYBRID_MOUNTINFO, HYBRID_CGROUP);

    @Test
    void modeIsHybrid() {
      assertThat(topology.mode()).isEqualTo(CgroupMode.HYBRID);
    }

    @Test
    void unifiedMountPointIsTheCgroup2Mount() {
      assertThat(topology.unifiedMountPoint()).contains(Path.of("/sys/fs/cgroup/unified"));
    }

    @Test
    void v1MountPointsComeFromSuperOptions() {
      assertThat(topology.v1MountPoints())
          .containsOnly(
              entry("cpu", Path.of("/sys/fs/cgroup/cpu")),
              entry("cpuacct", Path.of("/sys/fs/cgroup/cpuacct")),
              entry("cpuset", Path.of("/sys/fs/cgroup/cpuset")),
              entry("memory", Path.of("/sys/fs/cgroup/memory")),
              entry("devices", Path.of("/sys/fs/cgroup/devices")),
              entry("freezer", Path.of("/sys/fs/cgroup/freezer")),
              entry("blkio", Path.of("/sys/fs/cgroup/blkio")),
              entry("pids", Path.of("/sys/fs/cgroup/pids")),
              entry("name=systemd", Path.of("/sys/fs/cgroup/systemd")));
    }

    @Test
    void pathsComeFromProcSelfCgroup() {
      assertThat(topology.unifiedPath()).contains("/");
      assertThat(topology.v1Paths())
          .hasSize(9)
          .containsEntry("memory", "/process_api/08c6438e4a6162558efc33fc084ff92c")
          .containsEntry("cpu", "/")
          .containsEntry("name=systemd", "/");
    }

    @Test
    void ownDirectoriesJoinMountPointAndPath() {
      assertThat(topology.ownGroupDirectory("memory"))
          .contains(Path.of("/sys/fs/cgroup/memory/process_api/08c6438e4a6162558efc33fc084ff92c"));
      assertThat(topology.ownGroupDirectory("cpu")).contains(Path.of("/sys/fs/cgroup/cpu"));
      assertThat(topology.ownGroupDirectory("name=systemd"))
          .contains(Path.of("/sys/fs/cgroup/systemd"));
      assertThat(topology.ownUnifiedDirectory()).contains(Path.of("/sys/fs/cgroup/unified"));
    }

    @Test
    void unknownOrUnmountedControllerHasNoDirectory() {
      // hugetlb is attached to cgroup2 on this host, not to a v1 hierarchy.
      assertThat(topology.ownGroupDirectory("hugetlb")).isEmpty();
      assertThat(topology.ownGroupDirectory("")).isEmpty();
    }
  }

  @Nested
  class UnifiedHost {
    final CgroupTopology topology = CgroupTopology.parse(UNIFIED_MOUNTINFO, UNIFIED_CGROUP);

    @Test
    void modeIsUnified() {
      assertThat(topology.mode()).isEqualTo(CgroupMode.UNIFIED);
    }

    @Test
    void exposesOnlyTheUnifiedHierarchy() {
      assertThat(topology.unifiedMountPoint()).contains(Path.of("/sys/fs/cgroup"));
      assertThat(topology.unifiedPath()).contains("/user.slice/user-1000.slice/session-1.scope");
      assertThat(topology.v1MountPoints()).isEmpty();
      assertThat(topology.v1Paths()).isEmpty();
      assertThat(topology.ownGroupDirectory("memory")).isEmpty();
    }

    @Test
    void ownUnifiedDirectory() {
      assertThat(topology.ownUnifiedDirectory())
          .contains(Path.of("/sys/fs/cgroup/user.slice/user-1000.slice/session-1.scope"));
    }
  }

  @Nested
  class LegacyHost {
    final CgroupTopology topology = CgroupTopology.parse(LEGACY_MOUNTINFO, LEGACY_CGROUP);

    @Test
    void modeIsLegacy() {
      assertThat(topology.mode()).isEqualTo(CgroupMode.LEGACY);
      assertThat(topology.unifiedMountPoint()).isEmpty();
      assertThat(topology.unifiedPath()).isEmpty();
      assertThat(topology.ownUnifiedDirectory()).isEmpty();
    }

    @Test
    void coMountedControllersMapBothNames() {
      assertThat(topology.v1MountPoints())
          .containsEntry("cpu", Path.of("/sys/fs/cgroup/cpu,cpuacct"))
          .containsEntry("cpuacct", Path.of("/sys/fs/cgroup/cpu,cpuacct"))
          .containsEntry("net_cls", Path.of("/sys/fs/cgroup/net_cls,net_prio"))
          .containsEntry("net_prio", Path.of("/sys/fs/cgroup/net_cls,net_prio"));
      assertThat(topology.v1Paths())
          .containsEntry("cpu", "/user.slice")
          .containsEntry("cpuacct", "/user.slice");
    }

    @Test
    void mountOptionsAreNotControllers() {
      assertThat(topology.v1MountPoints())
          .containsOnlyKeys(
              "name=systemd", "cpu", "cpuacct", "memory", "cpuset", "net_cls", "net_prio");
    }

    @Test
    void ownGroupDirectories() {
      assertThat(topology.ownGroupDirectory("cpuacct"))
          .contains(Path.of("/sys/fs/cgroup/cpu,cpuacct/user.slice"));
      assertThat(topology.ownGroupDirectory("memory"))
          .contains(Path.of("/sys/fs/cgroup/memory/user.slice"));
      assertThat(topology.ownGroupDirectory("cpuset")).contains(Path.of("/sys/fs/cgroup/cpuset"));
      assertThat(topology.ownGroupDirectory("name=systemd"))
          .contains(Path.of("/sys/fs/cgroup/systemd/user.slice/user-1000.slice/session-1.scope"));
    }
  }

  @Nested
  class MountRootOtherThanSlash {
    static final String CONTAINER_MOUNTINFO =
        "1000 990 0:29 /foo /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime master:15"
            + " - cgroup cgroup rw,memory\n"
            + "1001 990 0:38 /foo /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime - cgroup2"
            + " cgroup2 rw\n";

    CgroupTopology withPaths(String memoryPath, String unifiedPath) {
      return CgroupTopology.parse(
          CONTAINER_MOUNTINFO, "4:memory:" + memoryPath + "\n0::" + unifiedPath + "\n");
    }

    @Test
    void pathEqualToRootIsTheMountPoint() {
      CgroupTopology topology = withPaths("/foo", "/foo");
      assertThat(topology.ownGroupDirectory("memory")).contains(Path.of("/sys/fs/cgroup/memory"));
      assertThat(topology.ownUnifiedDirectory()).contains(Path.of("/sys/fs/cgroup/unified"));
    }

    @Test
    void rootPrefixIsStripped() {
      CgroupTopology topology = withPaths("/foo/bar/baz", "/foo/bar");
      assertThat(topology.ownGroupDirectory("memory"))
          .contains(Path.of("/sys/fs/cgroup/memory/bar/baz"));
      assertThat(topology.ownUnifiedDirectory()).contains(Path.of("/sys/fs/cgroup/unified/bar"));
    }

    @Test
    void pathOutsideTheRootHasNoDirectory() {
      CgroupTopology topology = withPaths("/other", "/");
      assertThat(topology.ownGroupDirectory("memory")).isEmpty();
      assertThat(topology.ownUnifiedDirectory()).isEmpty();
      // the mount point itself is still known
      assertThat(topology.v1MountPoints()).containsEntry("memory", Path.of("/sys/fs/cgroup/memory"));
      assertThat(topology.unifiedMountPoint()).contains(Path.of("/sys/fs/cgroup/unified"));
    }

    @Test
    void sharedPrefixIsNotAComponentBoundary() {
      CgroupTopology topology = withPaths("/foobar", "/foo2/x");
      assertThat(topology.ownGroupDirectory("memory")).isEmpty();
      assertThat(topology.ownUnifiedDirectory()).isEmpty();
    }

    @Test
    void pathClimbingOutOfACgroupNamespaceHasNoDirectory() {
      CgroupTopology topology =
          CgroupTopology.parse(
              "41 31 0:38 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "0::/../sibling\n");
      assertThat(topology.unifiedPath()).contains("/../sibling");
      assertThat(topology.ownUnifiedDirectory()).isEmpty();
    }

    @Test
    void prefersTheMountWhoseRootContainsThePath() {
      String mountinfo =
          "50 31 0:32 /a /mnt/a rw - cgroup cgroup rw,memory\n"
              + "51 31 0:32 / /mnt/all rw - cgroup cgroup rw,memory\n";
      CgroupTopology topology = CgroupTopology.parse(mountinfo, "4:memory:/b/c\n");
      assertThat(topology.v1MountPoints()).containsEntry("memory", Path.of("/mnt/a"));
      assertThat(topology.ownGroupDirectory("memory")).contains(Path.of("/mnt/all/b/c"));
    }
  }

  @Nested
  class Escapes {
    @Test
    void octalEscapesInMountPointAndRootAreDecoded() {
      String mountinfo =
          "50 31 0:32 /my\\040root /mnt/cg\\040v1\\011tab\\012nl\\134bs rw - cgroup cgroup"
              + " rw,memory\n"
              + "51 31 0:38 / /mnt/caf\\303\\251\\040v2 rw - cgroup2 cgroup2 rw\n";
      CgroupTopology topology =
          CgroupTopology.parse(mountinfo, "4:memory:/my root/child\n0::/x\n");
      Path v1 = Path.of("/mnt/cg v1\ttab\nnl\\bs");
      assertThat(topology.v1MountPoints()).containsEntry("memory", v1);
      assertThat(topology.ownGroupDirectory("memory")).contains(v1.resolve("child"));
      assertThat(topology.unifiedMountPoint()).contains(Path.of("/mnt/café v2"));
      assertThat(topology.ownUnifiedDirectory()).contains(Path.of("/mnt/café v2/x"));
    }

    @Test
    void unescape() {
      assertThat(CgroupTopology.unescape("/plain")).isEqualTo("/plain");
      assertThat(CgroupTopology.unescape("/a\\040b")).isEqualTo("/a b");
      assertThat(CgroupTopology.unescape("\\134\\134")).isEqualTo("\\\\");
      assertThat(CgroupTopology.unescape("/\\303\\251")).isEqualTo("/é");
      // Not a complete escape: left as is.
      assertThat(CgroupTopology.unescape("/a\\04")).isEqualTo("/a\\04");
      assertThat(CgroupTopology.unescape("/a\\08x")).isEqualTo("/a\\08x");
      assertThat(CgroupTopology.unescape("/é\\040")).isEqualTo("/é ");
    }
  }

  @Nested
  class Modes {
    static final String NO_CGROUPS = "22 27 0:21 / /proc rw,relatime - proc proc rw\n";

    @Test
    void noneWhenNothingIsMounted() {
      CgroupTopology topology = CgroupTopology.parse(NO_CGROUPS, "0::/\n");
      assertThat(topology.mode()).isEqualTo(CgroupMode.NONE);
      assertThat(topology.unifiedMountPoint()).isEmpty();
      assertThat(topology.unifiedPath()).contains("/");
      assertThat(topology.ownUnifiedDirectory()).isEmpty();
      assertThat(topology.v1MountPoints()).isEmpty();
    }

    @Test
    void noneFromEmptyText() {
      CgroupTopology topology = CgroupTopology.parse("", "");
      assertThat(topology.mode()).isEqualTo(CgroupMode.NONE);
      assertThat(topology.unifiedPath()).isEmpty();
      assertThat(topology.v1Paths()).isEmpty();
    }

    @Test
    void namedHierarchyAloneIsNotAControllerHierarchy() {
      String systemdOnly = "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n";
      assertThat(CgroupTopology.parse(systemdOnly, "1:name=systemd:/\n").mode())
          .isEqualTo(CgroupMode.NONE);
      String withUnified = systemdOnly + "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
      CgroupTopology topology = CgroupTopology.parse(withUnified, "1:name=systemd:/a\n0::/a\n");
      assertThat(topology.mode()).isEqualTo(CgroupMode.UNIFIED);
      assertThat(topology.ownGroupDirectory("name=systemd"))
          .contains(Path.of("/sys/fs/cgroup/systemd/a"));
    }

    @Test
    void mountinfoDecidesTheModeNotProcSelfCgroup() {
      assertThat(CgroupTopology.parse(HYBRID_MOUNTINFO, "").mode()).isEqualTo(CgroupMode.HYBRID);
      assertThat(CgroupTopology.parse(LEGACY_MOUNTINFO, UNIFIED_CGROUP).mode())
          .isEqualTo(CgroupMode.LEGACY);
    }
  }

  @Nested
  class Malformed {
    @Test
    void mountinfoLineWithoutSeparator() {
      String bad = "41 31 0:38 / /sys/fs/cgroup rw cgroup2 cgroup2 rw";
      assertThatThrownBy(
              () -> CgroupTopology.parse(HYBRID_MOUNTINFO + bad + "\n", HYBRID_CGROUP))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("mountinfo line 21")
          .hasMessageContaining("\" - \"")
          .hasMessageContaining(bad);
    }

    @Test
    void mountinfoLineTruncatedAfterSeparator() {
      String bad = "41 31 0:38 / /sys/fs/cgroup rw - cgroup2";
      assertThatThrownBy(() -> CgroupTopology.parse(bad, ""))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("mountinfo line 1")
          .hasMessageContaining(bad);
    }

    @Test
    void relativeMountPoint() {
      String bad = "41 31 0:38 / sys/fs/cgroup rw - cgroup2 cgroup2 rw";
      assertThatThrownBy(() -> CgroupTopology.parse(bad, ""))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("absolute")
          .hasMessageContaining(bad);
    }

    @Test
    void cgroupLines() {
      for (String bad : List.of("garbage", "x:memory:/", "4:memory", "4:memory:relative", ":cpu:/")) {
        assertThatThrownBy(() -> CgroupTopology.parse("", "0::/\n" + bad + "\n"))
            .as(bad)
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("cgroup line 2")
            .hasMessageContaining("\"" + bad + "\"");
      }
    }

    @Test
    void nullArgumentsAreNamed() {
      assertThatThrownBy(() -> CgroupTopology.parse(null, ""))
          .isInstanceOf(NullPointerException.class)
          .hasMessage("mountinfo");
      assertThatThrownBy(() -> CgroupTopology.parse("", null))
          .isInstanceOf(NullPointerException.class)
          .hasMessage("procSelfCgroup");
      CgroupTopology topology = CgroupTopology.parse("", "");
      assertThatThrownBy(() -> topology.ownGroupDirectory(null))
          .isInstanceOf(NullPointerException.class)
          .hasMessage("controller");
    }

    @Test
    void unreadableFileIsNamed(@TempDir Path dir) throws IOException {
      Path mountinfo = dir.resolve("mountinfo");
      Path missing = dir.resolve("no-such-cgroup");
      Files.writeString(mountinfo, HYBRID_MOUNTINFO);
      assertThatThrownBy(() -> CgroupTopology.read(mountinfo, missing))
          .isInstanceOf(UncheckedIOException.class)
          .hasMessageContaining(missing.toString())
          .hasCauseInstanceOf(IOException.class);
    }
  }

  @Test
  void readsFiles(@TempDir Path dir) throws IOException {
    Path mountinfo = dir.resolve("mountinfo");
    Path cgroup = dir.resolve("cgroup");
    Files.writeString(mountinfo, LEGACY_MOUNTINFO);
    Files.writeString(cgroup, LEGACY_CGROUP);
    assertThat(CgroupTopology.read(mountinfo, cgroup))
        .isEqualTo(CgroupTopology.parse(LEGACY_MOUNTINFO, LEGACY_CGROUP));
  }

  @Test
  void valueSemantics() {
    CgroupTopology a = CgroupTopology.parse(HYBRID_MOUNTINFO, HYBRID_CGROUP);
    CgroupTopology b = CgroupTopology.parse(HYBRID_MOUNTINFO, HYBRID_CGROUP);
    assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
    assertThat(a).isNotEqualTo(CgroupTopology.parse(HYBRID_MOUNTINFO, UNIFIED_CGROUP));
    assertThat(a.toString()).contains("HYBRID").contains("/sys/fs/cgroup/unified");
  }

  @Test
  void mapsAreUnmodifiable() {
    CgroupTopology topology = CgroupTopology.parse(HYBRID_MOUNTINFO, HYBRID_CGROUP);
    Map<String, Path> mountPoints = topology.v1MountPoints();
    Map<String, String> paths = topology.v1Paths();
    assertThatThrownBy(() -> mountPoints.put("x", Path.of("/x")))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> paths.clear()).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void detectOnThisMachine() {
    CgroupTopology topology = CgroupTopology.detect();
    assertThat(topology.mode()).isIn((Object[]) CgroupMode.values());
    if (topology.mode() == CgroupMode.NONE) {
      return;
    }
    List<Path> ownDirectories = new ArrayList<>();
    topology.ownUnifiedDirectory().ifPresent(ownDirectories::add);
    for (String controller : topology.v1Paths().keySet()) {
      topology.ownGroupDirectory(controller).ifPresent(ownDirectories::add);
    }
    assertThat(ownDirectories)
        .as("own cgroup directories of %s", topology)
        .anySatisfy(directory -> assertThat(directory).isDirectory());
    Optional<Path> unified = topology.unifiedMountPoint();
    if (topology.mode() == CgroupMode.UNIFIED || topology.mode() == CgroupMode.HYBRID) {
      assertThat(unified).isPresent();
    }
  }
}
