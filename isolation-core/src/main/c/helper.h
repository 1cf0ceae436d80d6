/*
 * isolation-helper: executes a launch plan built and validated by the Java side.
 *
 * The plan is an ordered list of operations. Each operation belongs to one phase, fixed by its type:
 *   PHASE_HELPER  run by the helper before the clone, on the host (the files and sockets passed to the program),
 *   PHASE_PARENT  run by the helper after the clone (uid/gid maps of the child),
 *   PHASE_SETUP   run by the cloned child inside the new namespaces (hostname, loopback, mounts),
 *   PHASE_PROGRAM run in the process that becomes the program (working directory, exec).
 * Every failure is reported to the JVM as {step index, errno, detail} over the control socket,
 * never on the program's stdout/stderr.
 *
 * The numbers below are part of the wire protocol; dev.isolation.launch.Wire mirrors them.
 */
#ifndef ISOLATION_HELPER_H
#define ISOLATION_HELPER_H

#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#define WIRE_MAGIC 0x49534F4CU /* "ISOL" */
#define WIRE_VERSION 3U /* 2: a resident launcher forks sandbox helpers; the plan is one length-prefixed frame;
                           3: ready sandboxes (CLONE_READY, REPORT_READY, COMMAND_GO) */

/* Operation types. */
enum op_type {
    OP_CLONE = 1,        /* num0: clone flags (0 = plain fork); num1: CLONE_ENVIRONMENT or 0; the first op but joins */
    OP_UID_MAP = 2,      /* str0: uid_map text */
    OP_GID_MAP = 3,      /* str0: gid_map text */
    OP_SETGROUPS = 4,    /* str0: "deny" or "allow" */
    OP_HOSTNAME = 5,     /* str0: host name */
    OP_LOOPBACK_UP = 6,  /* no arguments */
    OP_MOUNT = 7,        /* str0 source, str1 target, str2 fstype, str3 data; num0 flags */
    OP_CHDIR = 8,        /* str0: directory */
    OP_EXEC = 9,         /* num0 argc, num1 envc; strings: path, argv..., env... ; always the last op */
    OP_ROOT = 10,        /* str0 source, str1 staging dir, str2 fstype, str3 data; num0 flags: mount the new root;
                          * num1 ROOT_BY_HELPER: the helper makes it before the namespaces, the child attaches it */
    OP_MOUNT_IN_ROOT = 11, /* like OP_MOUNT, str1 resolved inside the root; num1: CREATE_* for a missing target */
    OP_MKDIR_IN_ROOT = 12, /* str0 path inside the root; num0 mode */
    OP_SYMLINK_IN_ROOT = 13, /* str0 link target (not resolved), str1 path of the link inside the root */
    OP_READONLY_IN_ROOT = 14, /* str0 path inside the root; num0: 1 = recursive */
    OP_PIVOT_ROOT = 15,  /* no arguments: the root becomes "/", the old root is detached */
    OP_LOCK_MOUNTS = 16, /* no arguments: enter a nested user+mount namespace, which locks every mount's flags */
    OP_IDENTITY = 17,    /* num0 uid, num1 gid, str0 "", "clear-groups" or "groups:G1,G2": become them */
    OP_JOIN_CGROUP = 18, /* str0: a cgroup.procs file; the helper writes the child's pid before it runs anything;
                          * num0 JOIN_BY_CHILD: a v1 tasks file, the child writes "0" itself, first thing */
    OP_UNSHARE = 19,     /* num0: CLONE_NEW* flags to unshare in the child (the cgroup namespace, once it joined) */
    OP_CAPABILITIES = 20, /* num0: the capabilities kept (bounding, permitted, effective, inheritable), num1: ambient */
    OP_RLIMIT = 21,      /* num0: resource; str0 soft, str1 hard: decimal or "unlimited" */
    OP_NO_NEW_PRIVS = 22, /* no arguments */
    OP_SECCOMP = 23,     /* str0: the filter, struct sock_filter[] in hex; installed last, just before exec */
    OP_REBIND_IN_ROOT = 24, /* str0: a path inside the root, bound onto itself (recursively) so it can be re-flagged */
    OP_SYSCTL = 25,      /* str0: a /proc/sys file, str1: the value written (e.g. user.max_user_namespaces) */
    OP_PASS_FD = 26,     /* num0: the program's fd number; num1: PASS_*; str0: host path; str1: "r", "w", "a" or "rw" */
    OP_JOIN_NAMESPACES = 27, /* num0: host pid of an environment's helper, num1: CLONE_NEW* flags; str0: "nested" if
                              * its user and mount namespaces are the mount lock's, nested in the sandbox's user
                              * namespace; str1: "user=5,mnt=6,...": the helper's descriptors of init's namespaces */
    OP_MAX = 28
};

/* The namespaces an environment's init hands to its helper, in this order, for programs that join it later. */
#define ENV_NAMESPACES {"user", "mnt", "pid", "net", "uts", "ipc", "cgroup", "time"}
#define ENV_NAMESPACE_COUNT 8

/* OP_CLONE num1: an environment: init holds the namespaces with no program of its own; programs join it later. */
#define CLONE_ENVIRONMENT 1
/* OP_CLONE num1: a ready sandbox, set up ahead of its start: once set up, the child waits for the program's stdin,
 * stdout and stderr (COMMAND_GO) and only then goes on to exec. */
#define CLONE_READY 2

/* What init (or the helper, without a pid namespace) knows of the program's end: sent on the sync socket. */
struct exit_report {
    int32_t status;      /* the raw wait status */
    int32_t rest_ended;  /* 1: init killed and reaped every other process of the sandbox before it sent this */
    int64_t user_usec;   /* CPU time of the program and the children it waited for */
    int64_t system_usec;
    int64_t max_rss_kib; /* the largest resident set among them */
};

/* Or'ed into an operation's type on the wire: a failure of this step is reported as a downgrade, and setup goes on. */
#define OP_FLAG_BEST_EFFORT 0x10000U

/* Returned by an operation whose failure left the process half changed: the start fails even if best-effort. */
#define OP_FAILED_HARD (-2)

/* What OP_PASS_FD opens on the host, before any namespace is made. */
enum pass_kind { PASS_FILE = 0, PASS_UNIX_SOCKET = 1 };

/* OP_JOIN_CGROUP num0: the child moves itself (a v1 tasks file): a thread moving itself does not take the kernel's
 * threadgroup lock, whose first writer after a pause waits for an RCU grace period (milliseconds). */
#define JOIN_BY_CHILD 1

/* OP_ROOT num1: the helper makes the root's filesystem with its host privileges, as a detached mount (an overlay over
 * the host root, which the kernel refuses inside a user namespace). */
#define ROOT_BY_HELPER 1

/* What OP_MOUNT_IN_ROOT creates when its target is missing. */
enum create_kind { CREATE_NOTHING = 0, CREATE_DIRECTORY = 1, CREATE_FILE = 2, SKIP_IF_MISSING = 3 };

enum op_phase { PHASE_HELPER, PHASE_PARENT, PHASE_SETUP, PHASE_PROGRAM };

/* Messages from the helper to the JVM. */
enum report_type {
    REPORT_STARTED = 1, /* value: host pid of the program */
    REPORT_FAILED = 2,  /* step, err, detail, errno text */
    REPORT_EXITED = 3,  /* value: raw wait status of the program; detail: "user_usec system_usec max_rss_kib" */
    REPORT_DOWNGRADED = 4, /* step, err, detail: a best-effort step failed and was skipped; sent before STARTED */
    REPORT_READY = 5       /* a ready sandbox is set up and waits for COMMAND_GO */
};

/* Commands from the JVM to the helper. */
enum command_type {
    COMMAND_KILL = 1,     /* SIGKILL the whole sandbox */
    COMMAND_TERMINATE = 2, /* SIGTERM to the program (through init, which forwards it) */
    COMMAND_GO = 3         /* a ready sandbox starts: with the program's stdin, stdout and stderr (SCM_RIGHTS) */
};

/* The one request the JVM sends the resident launcher: {REQUEST_SANDBOX, flags}, with REQUEST_FDS descriptors: the
 * sandbox helper's control socket, then the program's stdin, stdout and stderr. */
#define REQUEST_SANDBOX 1U
/* Flag: the sandbox gets a new network namespace and no user namespace: the launcher's ready one will do. */
#define REQUEST_NETWORK_NAMESPACE 1U
#define REQUEST_FDS 4

/* The most descriptors one message of ours carries (an environment's namespaces). */
#define MAX_PASSED_AT_ONCE 8

struct op {
    uint32_t type;
    int best_effort;  /* OP_FLAG_BEST_EFFORT was set */
    int fd;           /* OP_PASS_FD: the descriptor the helper opened, inherited by the child */
    uint64_t num[2];
    uint32_t nstr;
    char **str;
};

struct plan {
    uint32_t count;
    struct op *ops;
};

/* What a struct failure on the error pipe says. */
enum failure_kind {
    FAILURE_FATAL = 0,      /* the start failed */
    FAILURE_DOWNGRADED = 1, /* a best-effort step failed, setup went on */
    FAILURE_NONE_READY = 2  /* no failure: a ready sandbox is set up and waits for its stdio */
};

/* A failure inside the sandbox's processes, sent to the helper over the error pipe. */
struct failure {
    int32_t kind;       /* enum failure_kind */
    int32_t step;
    int32_t err;
    char detail[512];
};

/* plan.c */
int plan_read(int fd, struct plan *plan);
enum op_phase op_phase(uint32_t type);
const char *op_name(uint32_t type);
int op_run_helper(struct op *op);
int op_run_setup(const struct op *op);
int op_run_parent(struct op *op, pid_t child, char *detail, size_t detail_size);
int op_run_program(const struct op *op);
int join_namespaces(const struct op *op);
int highest_passed_fd(const struct plan *plan);
int move_fd_above(int fd, int above);
int place_passed_fds(const struct plan *plan);
void close_passed_fds(const struct plan *plan);
void close_cgroup_fds(const struct plan *plan);
void join_cgroups_by_child(const struct plan *plan, int error_fd);
void warm_program(const struct plan *plan);

/* security.c */
int security_op(const struct op *op);
int may_raise_priority(void);

/* root.c */
int root_op(const struct op *op);
int root_prepare(struct op *op);

/* wire.c */
int read_full(int fd, void *buf, size_t len);
int write_full(int fd, const void *buf, size_t len);
int connect_unix(const char *path);
int connect_unix_typed(const char *path, int type);
int report(int fd, uint32_t type, int32_t value, int32_t step, int32_t err, const char *detail);
int send_with_fds(int fd, char byte, const int *fds, int count);
int receive_with_fds(int fd, void *buf, size_t len, int *fds, int max);

/* child.c */
struct child_channels {
    int sync_fd;   /* SOCK_SEQPACKET to the helper: "go", the program's credentials, the program's status */
    int error_fd;  /* close-on-exec pipe: a struct failure, or EOF once the program is exec'd */
};
/* How the child runs: */
enum child_role {
    CHILD_IS_PROGRAM,     /* no pid namespace of its own: it becomes the program */
    CHILD_IS_INIT,        /* PID 1 of a new pid namespace: forks the program, and its end ends the sandbox */
    CHILD_IS_ENVIRONMENT, /* PID 1 of an environment: holds the namespaces, with no program of its own */
    CHILD_IS_REAPER,      /* joined an environment: forks the program, and its orphans come back to it */
};
void child_main(const struct plan *plan, struct child_channels ch, enum child_role role) __attribute__((noreturn));
void exit_report_of(struct exit_report *report, int status, const struct rusage *usage);
void fail(int fd, int step, int err, const char *detail) __attribute__((noreturn));
void downgrade(int fd, int step, int err, const char *detail);
const struct op *clone_op_of(const struct plan *plan);

#endif
