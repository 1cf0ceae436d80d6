package dev.isolation;

/**
 * The Linux namespaces a sandbox can be given. Each one isolates one kind of kernel resource; see namespaces(7).
 */
public enum Namespace {
    /** User and group ids, and the capabilities that go with them. Lets an unprivileged caller create the others. */
    USER("user", 0x10000000L),
    /** Process ids: the sandbox's first process is PID 1 (an init the library provides) and sees only its own. */
    PID("pid", 0x20000000L),
    /** The mount table: mounts made inside do not reach the host. */
    MOUNT("mnt", 0x00020000L),
    /** Host name and NIS domain name. */
    UTS("uts", 0x04000000L),
    /** System V IPC objects and POSIX message queues. */
    IPC("ipc", 0x08000000L),
    /** Network devices, addresses, ports and routes: only a loopback device inside. */
    NETWORK("net", 0x40000000L),
    /** The cgroup root the sandbox sees in /proc/self/cgroup. */
    CGROUP("cgroup", 0x02000000L),
    /** The boot-time and monotonic clocks. */
    TIME("time", 0x00000080L);

    private final String procName;
    private final long cloneFlag;

    Namespace(String procName, long cloneFlag) {
        this.procName = procName;
        this.cloneFlag = cloneFlag;
    }

    /** The name of this namespace's link in {@code /proc/<pid>/ns}. */
    public String procName() {
        return procName;
    }

    /** The {@code CLONE_NEW*} flag that creates it. */
    public long cloneFlag() {
        return cloneFlag;
    }
}
