/*
 * isolation-helper <launcher-socket-path>
 *
 * Started once per JVM, it stays resident: it connects to the JVM's launcher socket and, for each request
 * (a control socket and the program's stdin, stdout and stderr, passed as descriptors), forks a sandbox
 * helper. That one reads the plan from its control socket, clones the sandbox, writes its id maps, waits
 * until the program is exec'd (or reports the failed step), then monitors: forwards signals, obeys "kill"
 * and "terminate", kills the whole sandbox when the JVM's end of the socket closes (the JVM died), and
 * reports the program's exact wait status before exiting. The resident launcher exits when the JVM's end
 * of the launcher socket closes; sandbox helpers it forked live on until their own sandboxes end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"

/* The host's /proc, opened before any namespace is joined: a helper that joins an environment's mount namespace
 * sees the sandbox's /proc there, where the host pids it works with do not exist. */
static int host_proc = -1;

static FILE *open_proc_file(const char *path) {
    int fd = openat(host_proc, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "r");
    if (!f) close(fd);
    return f;
}

static const int MONITORED_SIGNALS[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

struct sandbox {
    int control_fd;
    int ready_network_fd; /* a fresh network namespace the launcher made ahead of time, or -1 */
    int sync_fd;
    int error_fd;
    int signal_fd;
    pid_t child;         /* init with a pid namespace, the reaper when joining an environment, else the program */
    int pid_namespace;
    int environment;     /* the child is an environment's init, with no program of its own */
    int reaper;          /* the child joined an environment's pid namespace to wait for the program there */
    int child_done;      /* the child has been reaped, with this status and usage: */
    int child_status;
    struct rusage child_usage;
    int niced;           /* a ready sandbox set up at the lowest priority, raised again when it starts */
    int exit_reported;   /* REPORT_EXITED was sent (as soon as init said nothing of the sandbox runs any more) */
};

static void reaped(struct sandbox *s, pid_t pid, int status, const struct rusage *usage) {
    if (pid == s->child) {
        s->child_done = 1;
        s->child_status = status;
        s->child_usage = *usage;
    }
}

/* Kill our children until none is left. As a subreaper, orphaned descendants become our children. */
static void kill_descendants(struct sandbox *s) {
    char path[64];
    snprintf(path, sizeof path, "%d/task/%d/children", (int)getpid(), (int)getpid());
    for (;;) {
        FILE *f = open_proc_file(path);
        if (f) {
            int pid;
            while (fscanf(f, "%d", &pid) == 1) kill(pid, SIGKILL);
            fclose(f);
        }
        int status;
        struct rusage usage;
        pid_t pid = wait4(-1, &status, __WALL, &usage);
        if (pid < 0 && errno == ECHILD) return;
        if (pid > 0) reaped(s, pid, status, &usage);
    }
}

static int is_zombie(pid_t pid) {
    char path[64], stat[512];
    snprintf(path, sizeof path, "%d/stat", (int)pid);
    int fd = openat(host_proc, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 1; /* reaped already */
    ssize_t n = read(fd, stat, sizeof stat - 1);
    close(fd);
    if (n <= 0) return 1;
    stat[n] = 0;
    char *end = strrchr(stat, ')');
    return !end || end[1] != ' ' || end[2] == 'Z' || end[2] == 'X';
}

/* SIGKILLs the live processes below pid (the children of each of its threads, recursively up to a depth: deeper ones
 * come back to the reaper as their parents die); returns how many it found alive. */
static int kill_below(pid_t pid, int depth) {
    char path[64];
    snprintf(path, sizeof path, "%d/task", (int)pid);
    int tasks_fd = openat(host_proc, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *tasks = tasks_fd < 0 ? NULL : fdopendir(tasks_fd);
    if (!tasks) {
        if (tasks_fd >= 0) close(tasks_fd);
        return 0;
    }
    int alive = 0;
    struct dirent *task;
    while ((task = readdir(tasks)) != NULL) {
        int tid = atoi(task->d_name);
        if (tid <= 0) continue;
        char children_path[80];
        snprintf(children_path, sizeof children_path, "%d/task/%d/children", (int)pid, tid);
        FILE *children = open_proc_file(children_path);
        if (!children) continue;
        int child;
        while (fscanf(children, "%d", &child) == 1) {
            if (is_zombie(child)) continue;
            kill(child, SIGKILL);
            alive += 1 + (depth < 64 ? kill_below(child, depth + 1) : 0);
        }
        fclose(children);
    }
    closedir(tasks);
    return alive;
}

/* A program exec'd into an environment, and all it started: its orphans are the reaper's children. The reaper is
 * stopped first, so that it does not exit when the program dies (its orphans would go to the environment's init)
 * before they are all dead; a bounded wait, as a process in uninterruptible sleep dies only when it wakes. */
static void kill_below_reaper(pid_t reaper) {
    kill(reaper, SIGSTOP);
    for (int round = 0; round < 5000 && kill_below(reaper, 0) > 0; round++) {
        struct timespec pause = {.tv_sec = 0, .tv_nsec = 1000000};
        nanosleep(&pause, NULL);
    }
}

static void kill_sandbox(struct sandbox *s) {
    if (s->reaper && !s->child_done) kill_below_reaper(s->child);
    if (!s->child_done) kill(s->child, SIGKILL);
    if (!s->pid_namespace) kill_descendants(s);
}

static pid_t clone_child(uint64_t flags) {
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = flags;
    args.exit_signal = SIGCHLD;
    return (pid_t)syscall(SYS_clone3, &args, sizeof args);
}

/* The program's pid in our pid namespace, from the credentials of the message it sent before exec. */
static pid_t receive_program_pid(int sync_fd) {
    char byte;
    union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(struct ucred))]; } control;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
    if (recvmsg(sync_fd, &msg, MSG_DONTWAIT) != 1) return -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
            struct ucred cred;
            memcpy(&cred, CMSG_DATA(c), sizeof cred);
            return cred.pid;
        }
    }
    return -1;
}

/* An environment's namespaces, from its init: kept open here (programs that join later open them through
 * /proc/<helper>/fd), and listed as "user=5,mnt=6,..." for the JVM. */
static int receive_namespaces(int sync_fd, char *list, size_t size) {
    static const char *const names[ENV_NAMESPACE_COUNT] = ENV_NAMESPACES;
    int fds[ENV_NAMESPACE_COUNT];
    char byte;
    /* SO_PASSCRED is on: the kernel adds the sender's credentials beside the descriptors */
    union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof fds) + CMSG_SPACE(sizeof(struct ucred))]; } control;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
    if (recvmsg(sync_fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) != 1) return -1;
    int found = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof fds)) {
            memcpy(fds, CMSG_DATA(c), sizeof fds);
            found = 1;
        }
    }
    if (!found || (msg.msg_flags & MSG_CTRUNC)) { errno = EPROTO; return -1; }
    size_t used = 0;
    for (int i = 0; i < ENV_NAMESPACE_COUNT; i++)
        used += (size_t)snprintf(list + used, size - used, "%s%s=%d", i ? "," : "", names[i], fds[i]);
    return 0;
}

static int exit_code_of(int status) {
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* After a failed start: make sure no process of the sandbox survives, then report and leave. */
static void __attribute__((noreturn)) abort_start(struct sandbox *s, int step, int err, const char *detail) {
    if (s->child > 0) {
        kill_sandbox(s);
        int status;
        struct rusage usage;
        while (!s->child_done && wait4(s->child, &status, __WALL, &usage) == s->child) reaped(s, s->child, status, &usage);
    }
    report(s->control_fd, REPORT_FAILED, 0, step, err, detail);
    _exit(127);
}

/* A ready sandbox is set up: the JVM hears so, and its COMMAND_GO brings the program's stdin, stdout and stderr,
 * which go on to the child (it makes them its 0, 1 and 2 and goes on to exec). Anything else discards the sandbox. */
static void hand_over_stdio(struct sandbox *s) {
    if (report(s->control_fd, REPORT_READY, 0, 0, 0, "") < 0) abort_start(s, 0, errno, "control socket");
    uint32_t command = 0;
    int stdio[3];
    int received = receive_with_fds(s->control_fd, &command, sizeof command, stdio, 3);
    if (received < 0) abort_start(s, 0, errno == EPIPE ? ECANCELED : errno, "ready sandbox discarded");
    /* init forked the program ahead, and it sent its pid before it said it was ready */
    pid_t program = s->pid_namespace ? receive_program_pid(s->sync_fd) : s->child;
    if (program <= 0) abort_start(s, 0, EPROTO, "pid of the ready program");
    if (s->niced && received == 3 && command == COMMAND_GO) {
        if (setpriority(PRIO_PROCESS, 0, 0) < 0 || setpriority(PRIO_PROCESS, (id_t)s->child, 0) < 0
            || setpriority(PRIO_PROCESS, (id_t)program, 0) < 0)
            abort_start(s, 0, errno, "priority of the ready sandbox");
    }
    int sent = received == 3 && command == COMMAND_GO ? send_with_fds(s->sync_fd, 'S', stdio, 3) : -1;
    int err = received == 3 && command == COMMAND_GO ? errno : ECANCELED;
    for (int i = 0; i < received; i++) close(stdio[i]);
    if (sent < 0) abort_start(s, 0, err, command == COMMAND_GO ? "stdio of the ready sandbox" : "ready sandbox discarded");
}

static void start(struct sandbox *s, const struct plan *plan) {
    int sync_pair[2], error_pipe[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync_pair) < 0) abort_start(s, 0, errno, "socketpair");
    if (pipe2(error_pipe, O_CLOEXEC) < 0) abort_start(s, 0, errno, "pipe");
    int on = 1;
    if (setsockopt(sync_pair[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof on) < 0) abort_start(s, 0, errno, "SO_PASSCRED");

    /* The cgroup files are opened on the host, before any namespace is joined (a program exec'd into an
     * environment runs in its mount namespace, where the host's cgroup tree is not). */
    for (uint32_t i = 0; i < plan->count; i++) {
        struct op *op = &plan->ops[i];
        if (op->type == OP_JOIN_CGROUP && (op->fd = openat(AT_FDCWD, op->str[0], O_WRONLY | O_CLOEXEC)) < 0)
            abort_start(s, (int)i, errno, op->str[0]);
        if (op->type == OP_ROOT && op->num[1] == ROOT_BY_HELPER && root_prepare(op) < 0)
            abort_start(s, (int)i, errno, op->str[3]);
    }
    for (uint32_t i = 0; i < plan->count; i++) {
        struct op *op = &plan->ops[i];
        if (op_phase(op->type) != PHASE_HELPER || op_run_helper(op) == 0) continue;
        char detail[64];
        int err = errno;
        if (op->type == OP_JOIN_NAMESPACES) snprintf(detail, sizeof detail, "/proc/%d/fd", (int)op->num[0]);
        abort_start(s, (int)i, err, op->type == OP_JOIN_NAMESPACES ? detail : op->str[0]);
    }

    const struct op *clone_op = clone_op_of(plan);
    uint64_t flags = clone_op->num[0];
    /* The launcher's ready network namespace, made ahead off the start path, used instead of a new one: owned by the
     * same user namespace as one the clone would make (none is cloned with it), and used by this sandbox only. */
    if (s->ready_network_fd >= 0 && (flags & CLONE_NEWNET) && !(flags & CLONE_NEWUSER)
        && setns(s->ready_network_fd, CLONE_NEWNET) == 0)
        flags &= ~(uint64_t)CLONE_NEWNET;
    if (s->ready_network_fd >= 0) close(s->ready_network_fd);
    s->ready_network_fd = -1;
    s->pid_namespace = (flags & CLONE_NEWPID) != 0;
    s->environment = clone_op->num[1] == CLONE_ENVIRONMENT;
    s->reaper = plan->ops[0].type == OP_JOIN_NAMESPACES && (plan->ops[0].num[1] & CLONE_NEWPID) != 0;
    s->child = clone_child(flags);
    if (s->child < 0) abort_start(s, 0, errno, "namespaces");
    if (s->child == 0) {
        close(host_proc); /* nothing of the host's /proc goes into the sandbox */
        close(s->control_fd);
        close(s->signal_fd);
        close(sync_pair[0]);
        close(error_pipe[0]);
        enum child_role role = s->environment ? CHILD_IS_ENVIRONMENT
                             : s->pid_namespace ? CHILD_IS_INIT
                             : s->reaper ? CHILD_IS_REAPER
                             : CHILD_IS_PROGRAM;
        child_main(plan, (struct child_channels){.sync_fd = sync_pair[1], .error_fd = error_pipe[1]}, role);
    }
    close(sync_pair[1]);
    close(error_pipe[1]);
    close_passed_fds(plan); /* the child has its own copies */
    s->sync_fd = sync_pair[0];
    s->error_fd = error_pipe[0];

    for (uint32_t i = 0; i < plan->count; i++) {
        struct op *op = &plan->ops[i];
        char detail[512];
        if (op_phase(op->type) != PHASE_PARENT || op_run_parent(op, s->child, detail, sizeof detail) == 0) continue;
        int err = errno;
        if (!*detail && op->type == OP_JOIN_CGROUP) snprintf(detail, sizeof detail, "%s", op->str[0]);
        else if (!*detail) snprintf(detail, sizeof detail, "/proc/%d/%s", (int)s->child, op_name(op->type));
        if (!op->best_effort) abort_start(s, (int)i, err, detail);
        report(s->control_fd, REPORT_DOWNGRADED, 0, (int)i, err, detail);
    }
    char go = 'G';
    if (send(s->sync_fd, &go, 1, MSG_NOSIGNAL) != 1) abort_start(s, 0, errno, "sync with the sandbox");

    /* Downgraded steps, then either a failure or EOF (the program is exec'd). Each record is written whole. */
    for (;;) {
        struct failure f;
        ssize_t n;
        do n = read(s->error_fd, &f, sizeof f); while (n < 0 && errno == EINTR);
        if (n == 0) break;
        if (n != (ssize_t)sizeof f) abort_start(s, 0, n < 0 ? errno : EPROTO, "error pipe");
        if (f.kind == FAILURE_NONE_READY) {
            hand_over_stdio(s);
            continue;
        }
        if (f.kind != FAILURE_DOWNGRADED) abort_start(s, f.step, f.err, f.detail);
        report(s->control_fd, REPORT_DOWNGRADED, 0, f.step, f.err, f.detail);
    }
    close(s->error_fd);
    /* EOF: the program is exec'd (an environment: set up), or the sandbox died before it could say anything. */
    char namespaces[256] = "";
    if (s->environment && receive_namespaces(s->sync_fd, namespaces, sizeof namespaces) < 0)
        abort_start(s, 0, errno, "namespaces of the environment");
    pid_t program = s->environment ? s->child : receive_program_pid(s->sync_fd);
    if (program <= 0) abort_start(s, (int)plan->count - 1, ECHILD, "sandbox ended before exec");
    report(s->control_fd, REPORT_STARTED, program, 0, 0, namespaces);
}

static void report_exit(struct sandbox *s, struct exit_report ended) {
    char usage[96];
    snprintf(usage, sizeof usage, "%lld %lld %lld", (long long)ended.user_usec, (long long)ended.system_usec,
             (long long)ended.max_rss_kib);
    report(s->control_fd, REPORT_EXITED, ended.status, 0, 0, usage);
    s->exit_reported = 1;
}

/* Wait for the sandbox to end, obeying the JVM and forwarding signals; returns how the program ended. */
static struct exit_report monitor(struct sandbox *s) {
    struct exit_report program = {.status = -1};
    int waits_in_namespace = s->pid_namespace || s->reaper; /* init or the reaper reports the program's end */
    int control_open = 1, sync_open = waits_in_namespace;
    while (!s->child_done) {
        struct pollfd fds[3] = {
            {.fd = s->signal_fd, .events = POLLIN},
            {.fd = control_open ? s->control_fd : -1, .events = POLLIN},
            {.fd = sync_open ? s->sync_fd : -1, .events = POLLIN},
        };
        if (poll(fds, 3, -1) < 0) continue;
        if (fds[1].revents) {
            uint32_t command;
            ssize_t n = recv(s->control_fd, &command, sizeof command, MSG_WAITALL);
            if (n == (ssize_t)sizeof command && command == COMMAND_TERMINATE) kill(s->child, SIGTERM);
            else if (n != (ssize_t)sizeof command || command == COMMAND_KILL) kill_sandbox(s);
            if (n <= 0) control_open = 0; /* the JVM is gone: the sandbox goes with it */
        }
        if (fds[2].revents) {
            struct exit_report report;
            if (recv(s->sync_fd, &report, sizeof report, MSG_DONTWAIT) == (ssize_t)sizeof report) program = report;
            else sync_open = 0; /* init is gone; its SIGCHLD follows */
            /* Nothing of the sandbox runs any more: the JVM hears of the end now, not after the kernel has taken
             * down the namespaces (init's exit does that, and is still waited for here). */
            if (program.status >= 0 && program.rest_ended && !s->exit_reported) report_exit(s, program);
        }
        if (fds[0].revents) {
            struct signalfd_siginfo info;
            if (read(s->signal_fd, &info, sizeof info) != (ssize_t)sizeof info) continue;
            if (info.ssi_signo != SIGCHLD) {
                kill(s->child, (int)info.ssi_signo);
                continue;
            }
            int status;
            pid_t pid;
            struct rusage usage;
            while ((pid = wait4(-1, &status, WNOHANG | __WALL, &usage)) > 0) reaped(s, pid, status, &usage);
        }
    }
    if (waits_in_namespace) {
        struct exit_report report; /* init sends it before it exits: it is queued if it was not read yet */
        if (program.status < 0 && recv(s->sync_fd, &report, sizeof report, MSG_DONTWAIT) == (ssize_t)sizeof report)
            program = report;
    } else {
        kill_descendants(s);
    }
    if (program.status < 0) exit_report_of(&program, s->child_status, &s->child_usage);
    return program;
}

/* One sandbox, from its plan to its end, on the control socket the JVM passed; returns the exit code. */
static int serve_sandbox(int control_fd, int ready_network_fd) {
    struct sandbox s = {.control_fd = control_fd, .ready_network_fd = ready_network_fd, .sync_fd = -1, .error_fd = -1,
                        .signal_fd = -1, .child = -1};
    uint32_t hello[3] = {WIRE_MAGIC, WIRE_VERSION, (uint32_t)getpid()};
    if (write_full(s.control_fd, hello, sizeof hello) < 0) return 2;

    host_proc = openat(AT_FDCWD, "/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (host_proc < 0) abort_start(&s, -1, errno, "/proc");
    struct plan plan;
    if (plan_read(s.control_fd, &plan) < 0) abort_start(&s, -1, errno, "plan");
    /* A ready sandbox is set up while other sandboxes start and end: at the lowest priority, so that it takes the CPUs
     * only when they would idle. Only where the priority can be raised again when it starts (CAP_SYS_NICE). */
    if (clone_op_of(&plan)->num[1] == CLONE_READY && may_raise_priority() && setpriority(PRIO_PROCESS, 0, 19) == 0)
        s.niced = 1;

    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof MONITORED_SIGNALS / sizeof *MONITORED_SIGNALS; i++) sigaddset(&set, MONITORED_SIGNALS[i]);
    sigprocmask(SIG_BLOCK, &set, NULL);
    s.signal_fd = signalfd(-1, &set, SFD_CLOEXEC);
    if (s.signal_fd < 0) abort_start(&s, -1, errno, "signalfd");
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) abort_start(&s, -1, errno, "PR_SET_CHILD_SUBREAPER");

    start(&s, &plan);
    /* Only the program and its children hold its stdio from now on: EOF on its pipes is theirs to give. */
    int null_fd = openat(AT_FDCWD, "/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd > 2) {
        for (int fd = 0; fd <= 2; fd++) dup2(null_fd, fd);
        close(null_fd);
    }
    struct exit_report ended = monitor(&s);
    if (!s.exit_reported) report_exit(&s, ended);
    return exit_code_of(ended.status);
}

/* A request from the JVM: {REQUEST_SANDBOX, REQUEST_* flags} with the descriptors {control, stdin, stdout, stderr}.
 * Returns 1 at EOF (the JVM closed the launcher socket), 0 with the descriptors, -1 on a malformed request (its
 * descriptors closed). */
static int receive_request(int launcher_fd, uint32_t request[2], int fds[REQUEST_FDS]) {
    int received = receive_with_fds(launcher_fd, request, 2 * sizeof *request, fds, REQUEST_FDS);
    if (received < 0) return errno == EPROTO || errno == ENOMEM || errno == ENOBUFS ? -1 : 1;
    if (request[0] == REQUEST_SANDBOX && received == REQUEST_FDS) return 0;
    for (int i = 0; i < received; i++) close(fds[i]);
    return -1;
}

/* In the forked sandbox helper: the passed stdin, stdout and stderr become fds 0-2. */
static int place_stdio(int fds[REQUEST_FDS]) {
    for (int i = 1; i < REQUEST_FDS; i++) {
        if (fds[i] <= 2 && (fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3)) < 0) return -1;
    }
    for (int i = 1; i < REQUEST_FDS; i++) {
        if (dup2(fds[i], i - 1) < 0) return -1;
        close(fds[i]);
    }
    return 0;
}

/* A new network namespace with nothing in it but its loopback device, made here and left at once (the launcher stays
 * in its own); -1 when this launcher may not make one (no CAP_SYS_ADMIN: unprivileged, sandboxes make theirs inside
 * their user namespace). */
static int make_network_namespace(int own_network_fd) {
    if (unshare(CLONE_NEWNET) < 0) return -1;
    int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (setns(own_network_fd, CLONE_NEWNET) < 0) _exit(3); /* cannot happen: we were in it a moment ago */
    return fd;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "isolation-helper is started by the Isolation library, not by hand\n");
        return 2;
    }
    int launcher_fd = connect_unix_typed(argv[1], SOCK_SEQPACKET);
    if (launcher_fd < 0) {
        fprintf(stderr, "isolation-helper: cannot connect to %s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    uint32_t hello[3] = {WIRE_MAGIC, WIRE_VERSION, (uint32_t)getpid()};
    if (write_full(launcher_fd, hello, sizeof hello) < 0) return 2;
    /* Sandbox helpers are reaped by the kernel: they report to the JVM themselves. */
    struct sigaction reap = {.sa_handler = SIG_IGN, .sa_flags = SA_NOCLDWAIT};
    sigaction(SIGCHLD, &reap, NULL);
    int own_network_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    int ready_network_fd = own_network_fd < 0 ? -1 : make_network_namespace(own_network_fd);
    for (;;) {
        int fds[REQUEST_FDS];
        uint32_t request[2];
        int received = receive_request(launcher_fd, request, fds);
        if (received > 0) return 0;
        if (received < 0) continue;
        int network_fd = (request[1] & REQUEST_NETWORK_NAMESPACE) ? ready_network_fd : -1;
        pid_t helper = fork();
        if (helper == 0) {
            close(launcher_fd);
            if (own_network_fd >= 0) close(own_network_fd);
            if (ready_network_fd >= 0 && ready_network_fd != network_fd) close(ready_network_fd);
            signal(SIGCHLD, SIG_DFL); /* an ignored SIGCHLD would be inherited through exec by the program */
            if (place_stdio(fds) < 0) {
                uint32_t failed_hello[3] = {WIRE_MAGIC, WIRE_VERSION, 0};
                write_full(fds[0], failed_hello, sizeof failed_hello);
                report(fds[0], REPORT_FAILED, 0, -1, errno, "stdio of the sandbox helper");
                _exit(2);
            }
            _exit(serve_sandbox(fds[0], network_fd));
        }
        if (helper < 0) {
            uint32_t failed_hello[3] = {WIRE_MAGIC, WIRE_VERSION, 0};
            write_full(fds[0], failed_hello, sizeof failed_hello);
            report(fds[0], REPORT_FAILED, 0, -1, errno, "fork of the sandbox helper");
        }
        for (int i = 0; i < REQUEST_FDS; i++) close(fds[i]);
        if (network_fd >= 0) { /* given away (or, if the fork failed, not used): the next one, while it starts */
            close(network_fd);
            ready_network_fd = make_network_namespace(own_network_fd);
        }
    }
}
