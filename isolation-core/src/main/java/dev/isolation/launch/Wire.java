package dev.isolation.launch;

/** Constants of the protocol between the JVM and the native helper; helper.h holds the same numbers. */
final class Wire {
    static final int MAGIC = 0x49534F4C; // "ISOL"
    static final int VERSION = 3;

    static final int REPORT_STARTED = 1;
    static final int REPORT_FAILED = 2;
    static final int REPORT_EXITED = 3;
    static final int REPORT_DOWNGRADED = 4;
    /** A ready sandbox is set up and waits for {@link #COMMAND_GO}. */
    static final int REPORT_READY = 5;

    /** Or'ed into an operation's type: its failure is reported as a downgrade and setup goes on. */
    static final int OP_FLAG_BEST_EFFORT = 0x10000;

    /** OP_ROOT's second number: the helper makes the root's filesystem before the namespaces, the child attaches it. */
    static final int ROOT_BY_HELPER = 1;

    /** OP_JOIN_CGROUP's first number: the child writes "0" to the (v1 tasks) file itself. */
    static final int JOIN_BY_CHILD = 1;

    static final int COMMAND_KILL = 1;
    static final int COMMAND_TERMINATE = 2;
    /** A ready sandbox starts: the command comes with the program's stdin, stdout and stderr attached. */
    static final int COMMAND_GO = 3;

    /** The request to the resident launcher: fork a sandbox helper for the four descriptors attached. */
    static final int REQUEST_SANDBOX = 1;
    /** Request flag: the sandbox gets a new network namespace and no user namespace. */
    static final int REQUEST_NETWORK_NAMESPACE = 1;

    private Wire() {
    }
}
