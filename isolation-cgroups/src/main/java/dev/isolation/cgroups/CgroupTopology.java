package dev.isolation.cgroups;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Where control groups are mounted and which group the current process belongs to.
 *
 * <p>Built from the text of {@code /proc/self/mountinfo} (see proc(5)) and {@code
 * /proc/self/cgroup} (see cgroups(7)). Instances are immutable; {@link #detect()} reads the live
 * files once, {@link #parse(String, String)} works from text.
 *
 * <p>Only mounts of filesystem type {@code cgroup} (v1) and {@code cgroup2} are considered. For a
 * v1 mount, the controllers are taken from its super options ({@code "rw,cpu,cpuacct"} carries
 * {@code cpu} and {@code cpuacct}; a named hierarchy appears as e.g. {@code "name=systemd"}). When
 * several mounts carry the same controller, {@link #v1MountPoints()} reports the first one listed.
 */
public final class CgroupTopology {

  /** Location of the mount table of the current process. */
  public static final Path PROC_SELF_MOUNTINFO = Path.of("/proc/self/mountinfo");

  /** Location of the cgroup membership of the current process. */
  public static final Path PROC_SELF_CGROUP = Path.of("/proc/self/cgroup");

  private static final String MOUNTINFO_SEPARATOR = "-";

  /** v1 super options that are not controllers (key=value options other than name= are too). */
  private static final Set<String> V1_NON_CONTROLLER_OPTIONS =
      Set.of(
          "rw", "ro", "none", "all", "noprefix", "clone_children", "xattr", "cpuset_v2_mode",
          "favordynmods");

  private final CgroupMode mode;
  private final List<CgroupMount> unifiedMounts;
  private final List<CgroupMount> v1Mounts;
  private final Map<String, Path> v1MountPoints;
  private final String unifiedPath;
  private final Map<String, String> v1Paths;

  private CgroupTopology(
      List<CgroupMount> unifiedMounts,
      List<CgroupMount> v1Mounts,
      String unifiedPath,
      Map<String, String> v1Paths) {
    this.unifiedMounts = List.copyOf(unifiedMounts);
    this.v1Mounts = List.copyOf(v1Mounts);
    this.unifiedPath = unifiedPath;
    this.v1Paths = Collections.unmodifiableMap(new TreeMap<>(v1Paths));

    Map<String, Path> mountPoints = new TreeMap<>();
    for (CgroupMount mount : this.v1Mounts) {
      for (String controller : mount.controllers()) {
        mountPoints.putIfAbsent(controller, mount.mountPoint());
      }
    }
    this.v1MountPoints = Collections.unmodifiableMap(mountPoints);

    boolean hasUnified = !this.unifiedMounts.isEmpty();
    boolean hasV1Controllers =
        this.v1Mounts.stream()
            .flatMap(mount -> mount.controllers().stream())
            .anyMatch(controller -> !controller.startsWith("name="));
    if (hasUnified && hasV1Controllers) {
      this.mode = CgroupMode.HYBRID;
    } else if (hasUnified) {
      this.mode = CgroupMode.UNIFIED;
    } else if (hasV1Controllers) {
      this.mode = CgroupMode.LEGACY;
    } else {
      this.mode = CgroupMode.NONE;
    }
  }

  /**
   * Reads {@link #PROC_SELF_MOUNTINFO} and {@link #PROC_SELF_CGROUP} of the calling process.
   *
   * @return the topology as the calling process sees it
   * @throws UncheckedIOException if either file cannot be read; the message names the file
   * @throws IllegalArgumentException if either file is malformed
   */
  public static CgroupTopology detect() {
    return read(PROC_SELF_MOUNTINFO, PROC_SELF_CGROUP);
  }

  /** Like {@link #detect()} but from the given files; for tests of the failure path. */
  static CgroupTopology read(Path mountinfo, Path procSelfCgroup) {
    return parse(readText(mountinfo), readText(procSelfCgroup));
  }

  private static String readText(Path file) {
    try {
      // Not Files.readString: mount points need not be valid UTF-8, and this must not fail on them.
      return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Builds a topology from the text of {@code /proc/self/mountinfo} and {@code /proc/self/cgroup}.
   *
   * @param mountinfo the full text of a {@code mountinfo} file
   * @param procSelfCgroup the full text of a {@code /proc/<pid>/cgroup} file
   * @return the parsed topology
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if a line is malformed; the message names the file, the line
   *     number and quotes the line
   */
  public static CgroupTopology parse(String mountinfo, String procSelfCgroup) {
    Objects.requireNonNull(mountinfo, "mountinfo");
    Objects.requireNonNull(procSelfCgroup, "procSelfCgroup");

    List<CgroupMount> unifiedMounts = new ArrayList<>();
    List<CgroupMount> v1Mounts = new ArrayList<>();
    String[] mountLines = mountinfo.split("\n");
    for (int i = 0; i < mountLines.length; i++) {
      String line = mountLines[i];
      if (line.isBlank()) {
        continue;
      }
      parseMountLine(line, i + 1, unifiedMounts, v1Mounts);
    }

    String unifiedPath = null;
    Map<String, String> v1Paths = new TreeMap<>();
    String[] cgroupLines = procSelfCgroup.split("\n");
    for (int i = 0; i < cgroupLines.length; i++) {
      String line = cgroupLines[i];
      if (line.isBlank()) {
        continue;
      }
      String[] fields = line.split(":", 3);
      if (fields.length != 3 || !isDecimal(fields[0]) || !fields[2].startsWith("/")) {
        throw malformed(
            "cgroup", i + 1, line, "expected \"hierarchy-ID:controller-list:/path\"");
      }
      String controllers = fields[1];
      String path = fields[2];
      if (fields[0].equals("0") && controllers.isEmpty()) {
        unifiedPath = path;
        continue;
      }
      for (String controller : controllers.split(",")) {
        if (!controller.isEmpty()) {
          v1Paths.putIfAbsent(controller, path);
        }
      }
    }
    return new CgroupTopology(unifiedMounts, v1Mounts, unifiedPath, v1Paths);
  }

  private static void parseMountLine(
      String line, int lineNumber, List<CgroupMount> unifiedMounts, List<CgroupMount> v1Mounts) {
    String[] fields = line.split(" ", -1);
    int separator = -1;
    for (int i = 6; i < fields.length; i++) {
      if (fields[i].equals(MOUNTINFO_SEPARATOR)) {
        separator = i;
        break;
      }
    }
    if (separator < 0) {
      throw malformed("mountinfo", lineNumber, line, "no \" - \" separator after field 6");
    }
    if (fields.length < separator + 4) {
      throw malformed(
          "mountinfo",
          lineNumber,
          line,
          "expected filesystem type, source and super options after \" - \"");
    }
    String fsType = fields[separator + 1];
    if (!fsType.equals("cgroup") && !fsType.equals("cgroup2")) {
      return;
    }
    String root = unescape(fields[3]);
    String mountPointText = unescape(fields[4]);
    if (!root.startsWith("/") || !mountPointText.startsWith("/")) {
      throw malformed(
          "mountinfo", lineNumber, line, "root and mount point (fields 4 and 5) must be absolute");
    }
    Path mountPoint = Path.of(mountPointText);
    if (fsType.equals("cgroup2")) {
      unifiedMounts.add(new CgroupMount(root, mountPoint, Set.of()));
      return;
    }
    Set<String> controllers = new LinkedHashSet<>();
    for (String option : fields[separator + 3].split(",")) {
      if (option.isEmpty() || V1_NON_CONTROLLER_OPTIONS.contains(option)) {
        continue;
      }
      if (option.contains("=") && !option.startsWith("name=")) {
        continue;
      }
      controllers.add(option);
    }
    v1Mounts.add(
        new CgroupMount(root, mountPoint, Collections.unmodifiableSet(controllers)));
  }

  /** Decodes the octal escapes ({@code \040} for space and so on) the kernel uses in mountinfo. */
  static String unescape(String field) {
    if (field.indexOf('\\') < 0) {
      return field;
    }
    byte[] in = field.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream(in.length);
    for (int i = 0; i < in.length; i++) {
      if (in[i] == '\\'
          && i + 3 < in.length
          && isOctal(in[i + 1])
          && isOctal(in[i + 2])
          && isOctal(in[i + 3])) {
        int value = (in[i + 1] - '0') * 64 + (in[i + 2] - '0') * 8 + (in[i + 3] - '0');
        if (value <= 0xFF) {
          out.write(value);
          i += 3;
          continue;
        }
      }
      out.write(in[i]);
    }
    return new String(out.toByteArray(), StandardCharsets.UTF_8);
  }

  private static boolean isOctal(byte b) {
    return b >= '0' && b <= '7';
  }

  private static boolean isDecimal(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }

  private static IllegalArgumentException malformed(
      String file, int lineNumber, String line, String why) {
    return new IllegalArgumentException(
        "malformed " + file + " line " + lineNumber + " (" + why + "): \"" + line + "\"");
  }

  /** How cgroups are mounted: see {@link CgroupMode} for the rule. */
  public CgroupMode mode() {
    return mode;
  }

  /** The mount point of the first {@code cgroup2} mount, if any. */
  public Optional<Path> unifiedMountPoint() {
    return unifiedMounts.isEmpty()
        ? Optional.empty()
        : Optional.of(unifiedMounts.get(0).mountPoint());
  }

  /**
   * Controller name to the mount point of the v1 hierarchy carrying it; unmodifiable, sorted by
   * name. Named hierarchies appear under their full option, e.g. {@code "name=systemd"}.
   */
  public Map<String, Path> v1MountPoints() {
    return v1MountPoints;
  }

  /**
   * The process's path in the cgroup2 hierarchy: the path of the {@code "0::/..."} line of {@code
   * /proc/self/cgroup}, if present.
   */
  public Optional<String> unifiedPath() {
    return Optional.ofNullable(unifiedPath);
  }

  /**
   * Controller name to the process's path in that controller's v1 hierarchy, from the {@code
   * "N:ctrl1,ctrl2:/path"} lines of {@code /proc/self/cgroup}; unmodifiable, sorted by name.
   */
  public Map<String, String> v1Paths() {
    return v1Paths;
  }

  /**
   * The directory of the process's own group in the v1 hierarchy of {@code controller}: the mount
   * point joined with the process's path relative to the mount's root.
   *
   * @param controller a v1 controller such as {@code "memory"}, or e.g. {@code "name=systemd"}
   * @return the directory, or empty if the controller is not mounted, the process has no path in
   *     it, or the process's group lies outside every mount of that hierarchy
   * @throws NullPointerException if {@code controller} is null
   */
  public Optional<Path> ownGroupDirectory(String controller) {
    Objects.requireNonNull(controller, "controller");
    String path = v1Paths.get(controller);
    if (path == null) {
      return Optional.empty();
    }
    for (CgroupMount mount : v1Mounts) {
      if (mount.controllers().contains(controller)) {
        Optional<Path> directory = mount.directoryOf(path);
        if (directory.isPresent()) {
          return directory;
        }
      }
    }
    return Optional.empty();
  }

  /**
   * The directory of the process's own group in the cgroup2 hierarchy: a cgroup2 mount point
   * joined with {@link #unifiedPath()} relative to the mount's root.
   *
   * @return the directory, or empty if there is no cgroup2 mount or {@code "0::"} line, or the
   *     process's group lies outside every cgroup2 mount
   */
  public Optional<Path> ownUnifiedDirectory() {
    if (unifiedPath == null) {
      return Optional.empty();
    }
    for (CgroupMount mount : unifiedMounts) {
      Optional<Path> directory = mount.directoryOf(unifiedPath);
      if (directory.isPresent()) {
        return directory;
      }
    }
    return Optional.empty();
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof CgroupTopology)) {
      return false;
    }
    CgroupTopology other = (CgroupTopology) o;
    return unifiedMounts.equals(other.unifiedMounts)
        && v1Mounts.equals(other.v1Mounts)
        && Objects.equals(unifiedPath, other.unifiedPath)
        && v1Paths.equals(other.v1Paths);
  }

  @Override
  public int hashCode() {
    return Objects.hash(unifiedMounts, v1Mounts, unifiedPath, v1Paths);
  }

  @Override
  public String toString() {
    return "CgroupTopology[mode=" + mode
        + ", unifiedMounts=" + unifiedMounts
        + ", v1Mounts=" + v1Mounts
        + ", unifiedPath=" + unifiedPath
        + ", v1Paths=" + v1Paths + "]";
  }

  /**
   * One cgroup mount: the root of the mount within its hierarchy (mountinfo field 4), where it is
   * mounted, and for v1 the controllers it carries.
   */
  private record CgroupMount(String root, Path mountPoint, Set<String> controllers) {

    /** The directory for a group path of this hierarchy, if the group is visible in this mount. */
    Optional<Path> directoryOf(String groupPath) {
      String relative;
      if (root.equals("/")) {
        relative = groupPath.substring(1);
      } else if (groupPath.equals(root)) {
        relative = "";
      } else if (groupPath.startsWith(root + "/")) {
        relative = groupPath.substring(root.length() + 1);
      } else {
        return Optional.empty();
      }
      for (String component : relative.split("/")) {
        if (component.equals("..")) {
          // e.g. "/../sibling" from inside a cgroup namespace: outside this mount.
          return Optional.empty();
        }
      }
      return Optional.of(mountPoint.resolve(relative));
    }
  }
}
