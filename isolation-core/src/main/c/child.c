/*
 * The cloned child: sets up its namespaces, then either becomes the program (no pid namespace) or,
 * as PID 1 of a new pid namespace, forks the program and stays as its init: it reaps every orphan,
 * forwards the usual termination and user signals to the program, and when the program ends sends
 * its exact wait status to the helper and exits, which makes the kernel kill whatever is left.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper.h"

static const int FORWARDED_SIGNALS[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

static void send_failure(int fd, enum failure_kind kind, int step, int err, const char *detail) {
    struct failure f;
    memset(&f, 0, sizeof f);
    f.kind = kind;
    f.step = step;
    f.err = err;
    snprintf(f.detail, sizeof f.detail, "%s", detail ? detail : "");
    if (write_full(fd, &f, sizeof f) < 0) { /* the helper is gone; nothing left to tell */ }
}

void fail(int fd, int step, int err, const char *detail) {
    send_failure(fd, FAILURE_FATAL, step, err, detail);
    _exit(127);
}

void downgrade(int fd, int step, int err, const char *detail) {
    send_failure(fd, FAILURE_DOWNGRADED, step, err, detail);
}

/* The path or value an operation acted on, for the error message. */
static const char *subject(const struct op *op) {
    switch (op->type) {
    case OP_MOUNT:
    case OP_MOUNT_IN_ROOT:
    case OP_ROOT:
    case OP_SYMLINK_IN_ROOT:
        return op->nstr > 1 ? op->str[1] : "";
    case OP_PIVOT_ROOT: return "/";
    case OP_LOOPBACK_UP: return "lo";
    default: return op->nstr > 0 ? op->str[0] : "";
    }
}

/* A failed step: skipped and reported when the plan marked it best-effort (and it left nothing half done), else the
 * end of the start. */
static void step_failed(const struct op *op, int rc, int error_fd, uint32_t step) {
    int err = errno;
    if (op->best_effort && rc != OP_FAILED_HARD) downgrade(error_fd, (int)step, err, subject(op));
    else fail(error_fd, (int)step, err, subject(op));
}

/*
 * The signals whose disposition the program would inherit: exec resets handled signals by itself, so only ignored
 * ones, and the helper ignores none of its own: they come from whoever exec'd it (a JVM started under nohup ignores
 * SIGHUP). Read from /proc/self/status (SigIgn) when the child starts, while /proc is still the host's; every
 * signal when it cannot be read. One read instead of a sigaction per signal.
 */
static unsigned long long ignored_at_start = ~0ULL;

static void note_ignored_signals(void) {
    char status[4096];
    int fd = openat(AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t n = read(fd, status, sizeof status - 1);
    close(fd);
    if (n <= 0) return;
    status[n] = '\0';
    const char *line = strstr(status, "\nSigIgn:");
    unsigned long long mask;
    if (line && sscanf(line + 8, " %llx", &mask) == 1) ignored_at_start = mask;
}

/* SIG_DFL for sig, through the system call: libc refuses the signals it reserves for itself (32 to 34), which a JVM's
 * children inherit ignored. The kernel's struct sigaction, as x86-64 and arm64 lay it out. */
static void set_default(int sig) {
    struct { void (*handler)(int); unsigned long flags; void (*restorer)(void); uint64_t mask; } action;
    memset(&action, 0, sizeof action);
    action.handler = SIG_DFL;
    if (syscall(SYS_rt_sigaction, sig, &action, NULL, sizeof action.mask) < 0) { /* SIGKILL, SIGSTOP: default anyway */ }
}

static void reset_signals(void) {
    for (int sig = 1; sig <= 64; sig++)
        if (ignored_at_start & (1ULL << (sig - 1))) set_default(sig);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static void become_program(const struct plan *plan, struct child_channels ch) {
    reset_signals();
    /* With SO_PASSCRED on the helper's end, this message carries our pid as the helper's namespace sees it. */
    char hello = 'P';
    if (send(ch.sync_fd, &hello, 1, MSG_NOSIGNAL) != 1) fail(ch.error_fd, 0, errno, "credentials");
    int highest = highest_passed_fd(plan);
    if ((ch.error_fd = move_fd_above(ch.error_fd, highest)) < 0) _exit(127);
    if ((ch.sync_fd = move_fd_above(ch.sync_fd, highest)) < 0) fail(ch.error_fd, 0, errno, "descriptors");
    if (place_passed_fds(plan) < 0) fail(ch.error_fd, 0, errno, "passing descriptors to the program");
    for (uint32_t i = 0; i < plan->count; i++) {
        const struct op *op = &plan->ops[i];
        if (op_phase(op->type) != PHASE_PROGRAM) continue;
        int rc = op_run_program(op);
        if (rc < 0) step_failed(op, rc, ch.error_fd, i);
    }
    fail(ch.error_fd, (int)plan->count - 1, ENOEXEC, "plan ended without exec");
}

void exit_report_of(struct exit_report *report, int status, const struct rusage *usage) {
    memset(report, 0, sizeof *report);
    report->status = status;
    report->user_usec = (int64_t)usage->ru_utime.tv_sec * 1000000 + usage->ru_utime.tv_usec;
    report->system_usec = (int64_t)usage->ru_stime.tv_sec * 1000000 + usage->ru_stime.tv_usec;
    report->max_rss_kib = usage->ru_maxrss;
}

/* As PID 1, after the program ended: SIGKILL to every other process of the pid namespace, each reaped (the killed
 * ones' orphans come here too), so that when the helper hears of the program's end nothing of the sandbox runs. */
static void end_the_rest(void) {
    kill(-1, SIGKILL);
    while (wait4(-1, NULL, __WALL, NULL) > 0 || errno == EINTR) {
    }
}

/* program: the program to wait for, or -1 in an environment, whose init lives until it is told to end.
 * pid1: this is PID 1 of the sandbox's own pid namespace (a reaper in an environment's is not: others live there). */
static void run_init(pid_t program, int sync_fd, int pid1) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    for (size_t i = 0; i < sizeof FORWARDED_SIGNALS / sizeof *FORWARDED_SIGNALS; i++) sigaddset(&set, FORWARDED_SIGNALS[i]);
    sigprocmask(SIG_BLOCK, &set, NULL);
    /* Not dumpable: /proc/1/exe, root, cwd, fd and mem are closed to the sandbox's processes (they would lead to the
     * helper's binary on the host), and init cannot be ptraced by them. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    /* Nothing of the program's stdio stays open here: EOF on its pipes belongs to the program and its children. */
    close(0);
    close(1);
    close(2);
    for (;;) {
        siginfo_t info;
        int sig = sigwaitinfo(&set, &info);
        if (sig < 0) continue;
        if (sig != SIGCHLD) {
            if (program > 0) kill(program, sig);
            else if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) _exit(0); /* the kernel ends the rest */
            continue;
        }
        int status;
        pid_t pid;
        struct rusage usage;
        while ((pid = wait4(-1, &status, WNOHANG, &usage)) > 0) {
            if (pid != program) continue; /* an orphan, reaped */
            struct exit_report report;
            exit_report_of(&report, status, &usage);
            if (pid1) end_the_rest();
            report.rest_ended = pid1;
            if (send(sync_fd, &report, sizeof report, MSG_NOSIGNAL) < 0) { /* helper gone */ }
            _exit(0);
        }
    }
}

static int send_namespaces(int sync_fd) {
    static const char *const names[ENV_NAMESPACE_COUNT] = ENV_NAMESPACES;
    int fds[ENV_NAMESPACE_COUNT];
    for (int i = 0; i < ENV_NAMESPACE_COUNT; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/ns/%s", names[i]);
        fds[i] = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
        if (fds[i] < 0 && errno != ENOENT) return -1;
        if (fds[i] < 0) fds[i] = openat(AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC); /* a namespace the kernel lacks */
        if (fds[i] < 0) return -1;
    }
    int rc = send_with_fds(sync_fd, 'N', fds, ENV_NAMESPACE_COUNT);
    for (int i = 0; i < ENV_NAMESPACE_COUNT; i++) close(fds[i]);
    return rc;
}

/* A ready sandbox, set up: say so, then wait for the program's stdin, stdout and stderr, which the helper passes on
 * when the sandbox is started (or for the end, when it is discarded). */
static void await_stdio(struct child_channels ch) {
    send_failure(ch.error_fd, FAILURE_NONE_READY, 0, 0, "");
    char byte;
    int stdio[3];
    if (receive_with_fds(ch.sync_fd, &byte, 1, stdio, 3) != 3) _exit(127); /* discarded: nothing to report to */
    for (int fd = 0; fd < 3; fd++) {
        if (dup2(stdio[fd], fd) < 0) fail(ch.error_fd, 0, errno, "stdio of the program");
    }
    for (int i = 0; i < 3; i++) {
        if (stdio[i] > 2) close(stdio[i]);
    }
}

const struct op *clone_op_of(const struct plan *plan) {
    return &plan->ops[plan->ops[0].type == OP_CLONE ? 0 : 1];
}

void child_main(const struct plan *plan, struct child_channels ch, enum child_role role) {
    /* The helper is single-threaded, so its death (not one thread's) is what this signal follows. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    join_cgroups_by_child(plan, ch.error_fd);
    close_cgroup_fds(plan);
    if (role != CHILD_IS_ENVIRONMENT) note_ignored_signals();
    char go;
    if (recv(ch.sync_fd, &go, 1, 0) != 1) _exit(127); /* the helper went away before the maps were written */
    for (uint32_t i = 0; i < plan->count; i++) {
        const struct op *op = &plan->ops[i];
        if (op_phase(op->type) != PHASE_SETUP) continue;
        int rc = op_run_setup(op);
        if (rc < 0) step_failed(op, rc, ch.error_fd, i);
    }
    /* A ready sandbox waits for its stdio: as the program itself when init would fork it (forked ahead, so that a
     * start does not wait for the fork), else here, as what becomes the program. */
    int ready = clone_op_of(plan)->num[1] == CLONE_READY;
    if (ready) warm_program(plan);
    if (ready && role != CHILD_IS_INIT) await_stdio(ch);
    if (role == CHILD_IS_ENVIRONMENT) {
        /* set up, and nothing to run: init hands its namespaces to the helper (it stays not dumpable, so nothing can
         * open them from /proc), EOF on the error pipe tells the helper, and init then holds the namespaces */
        if (send_namespaces(ch.sync_fd) < 0) fail(ch.error_fd, 0, errno, "/proc/self/ns");
        close(ch.error_fd);
        run_init(-1, ch.sync_fd, 1);
    }
    if (role == CHILD_IS_PROGRAM) {
        become_program(plan, ch);
    }
    /* A reaper is in the environment's pid namespace, so the program's orphans come to it rather than to the
     * environment's init: killing the program can then reach everything it started (the helper, outside, cannot
     * be their subreaper). When the program ends by itself, the reaper exits and what is left lives on in the
     * environment, as after docker exec. */
    if (role == CHILD_IS_REAPER && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) fail(ch.error_fd, 0, errno, "PR_SET_CHILD_SUBREAPER");
    pid_t program = fork();
    if (program < 0) fail(ch.error_fd, 0, errno, "fork of the program by init");
    if (program == 0) {
        if (ready) {
            char hello = 'R'; /* our pid, in the credentials the helper's end adds: it raises our priority too */
            if (send(ch.sync_fd, &hello, 1, MSG_NOSIGNAL) != 1) fail(ch.error_fd, 0, errno, "credentials");
            await_stdio(ch);
        }
        become_program(plan, ch);
    }
    close(ch.error_fd);
    close_passed_fds(plan);
    run_init(program, ch.sync_fd, role == CHILD_IS_INIT);
    _exit(127);
}
