package dev.isolation.launch;

/** Constants of the protocol between the JVM and the native helper; helper.h holds the same numbers. */
final class Wire {
    static final int MAGIC = 0x49534F4C; // "ISOL"
    static final int VERSION = 2;

    static final int REPORT_STARTED = 1;
    static final int REPORT_FAILED = 2;
    static final int REPORT_EXITED = 3;
    static final int REPORT_DOWNGRADED = 4;

    /** Or'ed into an operation's type: its failure is reported as a downgrade and setup goes on. */
    static final int OP_FLAG_BEST_EFFORT = 0x10000;

    static final int COMMAND_KILL = 1;

    private Wire() {
    }
}
