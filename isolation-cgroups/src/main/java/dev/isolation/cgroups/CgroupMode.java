package dev.isolation.cgroups;

/**
 * How control groups are mounted on a host, as seen by the current process.
 *
 * <p>A "v1 controller hierarchy" is a {@code cgroup} (version 1) mount carrying at least one
 * resource controller such as {@code memory} or {@code cpu}; named hierarchies without a
 * controller (e.g. {@code name=systemd}) do not count.
 */
public enum CgroupMode {
  /** Only the cgroup2 hierarchy is mounted with controllers; no v1 controller hierarchy. */
  UNIFIED,
  /** Only v1 controller hierarchies are mounted; there is no cgroup2 mount. */
  LEGACY,
  /**
   * v1 controller hierarchies plus a cgroup2 mount, usually at {@code /sys/fs/cgroup/unified}
   * (systemd's "hybrid" layout).
   */
  HYBRID,
  /** Neither a cgroup2 mount nor any v1 controller hierarchy is visible. */
  NONE
}
