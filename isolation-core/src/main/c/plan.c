/* Reading the plan and running its operations. One function per phase, one switch each. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sched.h>
#include <sys/mount.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helper.h"

#define MAX_OPS 65536U
#define MAX_PLAN_BYTES (64U << 20)

static const char *const OP_NAMES[OP_MAX] = {
    [OP_CLONE] = "clone",         [OP_UID_MAP] = "uid_map", [OP_GID_MAP] = "gid_map",
    [OP_SETGROUPS] = "setgroups", [OP_HOSTNAME] = "hostname", [OP_LOOPBACK_UP] = "loopback",
    [OP_MOUNT] = "mount",         [OP_CHDIR] = "chdir",     [OP_EXEC] = "exec",
    [OP_ROOT] = "root",           [OP_MOUNT_IN_ROOT] = "mount", [OP_MKDIR_IN_ROOT] = "mkdir",
    [OP_SYMLINK_IN_ROOT] = "symlink", [OP_READONLY_IN_ROOT] = "read-only", [OP_PIVOT_ROOT] = "pivot_root",
    [OP_LOCK_MOUNTS] = "lock-mounts", [OP_IDENTITY] = "identity", [OP_JOIN_CGROUP] = "cgroup",
    [OP_UNSHARE] = "unshare",     [OP_CAPABILITIES] = "capabilities", [OP_RLIMIT] = "rlimit",
    [OP_NO_NEW_PRIVS] = "no_new_privs", [OP_SECCOMP] = "seccomp", [OP_REBIND_IN_ROOT] = "bind",
    [OP_SYSCTL] = "sysctl",       [OP_PASS_FD] = "pass-fd", [OP_JOIN_NAMESPACES] = "join",
};

/* How many strings each operation needs at least; the helper indexes them without further checks. */
static const uint32_t MIN_STRINGS[OP_MAX] = {
    [OP_UID_MAP] = 1, [OP_GID_MAP] = 1, [OP_SETGROUPS] = 1, [OP_HOSTNAME] = 1, [OP_MOUNT] = 4, [OP_CHDIR] = 1,
    [OP_EXEC] = 3,    [OP_ROOT] = 4,    [OP_MOUNT_IN_ROOT] = 4, [OP_MKDIR_IN_ROOT] = 1, [OP_SYMLINK_IN_ROOT] = 2,
    [OP_READONLY_IN_ROOT] = 1, [OP_IDENTITY] = 1, [OP_JOIN_CGROUP] = 1, [OP_RLIMIT] = 2, [OP_SECCOMP] = 1,
    [OP_REBIND_IN_ROOT] = 1, [OP_SYSCTL] = 2, [OP_PASS_FD] = 2, [OP_JOIN_NAMESPACES] = 2,
};

const char *op_name(uint32_t type) {
    return type < OP_MAX && OP_NAMES[type] ? OP_NAMES[type] : "unknown";
}

enum op_phase op_phase(uint32_t type) {
    switch (type) {
    case OP_PASS_FD:
    case OP_JOIN_NAMESPACES:
        return PHASE_HELPER;
    case OP_UID_MAP:
    case OP_GID_MAP:
    case OP_SETGROUPS:
    case OP_JOIN_CGROUP:
        return PHASE_PARENT;
    case OP_IDENTITY:
    case OP_CAPABILITIES:
    case OP_RLIMIT:
    case OP_NO_NEW_PRIVS:
    case OP_SECCOMP:
    case OP_CHDIR:
    case OP_EXEC:
        return PHASE_PROGRAM;
    default:
        return PHASE_SETUP;
    }
}

/* The unread rest of a plan's body. Every take_* checks that the bytes are there; none reads past the end. */
struct cursor {
    char *at;
    size_t left;
};

static int take(struct cursor *c, void *out, size_t len) {
    if (c->left < len) { errno = EPROTO; return -1; }
    memcpy(out, c->at, len);
    c->at += len;
    c->left -= len;
    return 0;
}

/* A string: u32 length, its bytes, then a NUL. It is used where it lies in the body: no copy. */
static char *take_string(struct cursor *c) {
    uint32_t len;
    if (take(c, &len, sizeof len) < 0) return NULL;
    if (c->left < (size_t)len + 1 || c->at[len] != '\0' || memchr(c->at, '\0', len)) { errno = EPROTO; return NULL; }
    char *s = c->at;
    c->at += (size_t)len + 1;
    c->left -= (size_t)len + 1;
    return s;
}

/* The order the Java side guarantees: (a join, then) clone, ..., exec last; an environment has no exec. */
static int check_order(const struct plan *plan) {
    uint32_t first = plan->ops[0].type == OP_JOIN_NAMESPACES ? 1 : 0;
    if (first >= plan->count || plan->ops[first].type != OP_CLONE) { errno = EPROTO; return -1; }
    if (plan->ops[first].num[1] == CLONE_ENVIRONMENT) return 0;
    const struct op *exec = &plan->ops[plan->count - 1];
    if (exec->type != OP_EXEC || exec->num[0] == 0 || exec->num[0] > exec->nstr || exec->num[1] > exec->nstr
        || exec->nstr != 2 + exec->num[0] + exec->num[1]) {
        errno = EPROTO;
        return -1;
    }
    return 0;
}

/* Ops, as many as the header said, filling the body exactly. */
static int parse_ops(struct cursor *c, struct plan *plan) {
    for (uint32_t i = 0; i < plan->count; i++) {
        struct op *op = &plan->ops[i];
        uint32_t head[2];
        if (take(c, head, sizeof head) < 0 || take(c, op->num, sizeof op->num) < 0) return -1;
        op->type = head[0] & ~OP_FLAG_BEST_EFFORT;
        op->best_effort = (head[0] & OP_FLAG_BEST_EFFORT) != 0;
        op->fd = -1;
        op->nstr = head[1];
        /* each string takes at least 5 bytes (length and NUL): a count the body cannot hold is refused unallocated */
        if (op->type == 0 || op->type >= OP_MAX || op->nstr < MIN_STRINGS[op->type] || op->nstr > c->left / 5) {
            errno = EPROTO;
            return -1;
        }
        op->str = calloc((size_t)op->nstr + 1, sizeof *op->str);
        if (!op->str) return -1;
        for (uint32_t s = 0; s < op->nstr; s++)
            if (!(op->str[s] = take_string(c))) return -1;
    }
    if (c->left != 0) { errno = EPROTO; return -1; }
    return 0;
}

/*
 * One frame, read in two reads: a header {u32 magic, u32 version, u32 op count, u32 body length}, then the body:
 * per op u32 type, u32 string count, u64 num0, u64 num1, strings (u32 length, bytes, NUL). The body stays in memory
 * for the helper's life: the ops' strings point into it. Anything malformed fails with EPROTO, nothing half parsed is
 * used.
 */
int plan_read(int fd, struct plan *plan) {
    uint32_t header[4];
    plan->count = 0;
    plan->ops = NULL;
    if (read_full(fd, header, sizeof header) < 0) return -1;
    if (header[0] != WIRE_MAGIC || header[1] != WIRE_VERSION || header[2] == 0 || header[2] > MAX_OPS
        || header[3] > MAX_PLAN_BYTES) {
        errno = EPROTO;
        return -1;
    }
    char *body = malloc(header[3] ? header[3] : 1);
    struct op *ops = calloc(header[2], sizeof *ops);
    struct plan parsed = {.count = header[2], .ops = ops};
    struct cursor c = {.at = body, .left = header[3]};
    if (body && ops && read_full(fd, body, header[3]) == 0 && parse_ops(&c, &parsed) == 0
        && check_order(&parsed) == 0) {
        *plan = parsed;
        return 0;
    }
    int saved = errno;
    for (uint32_t i = 0; ops && i < header[2]; i++) free(ops[i].str);
    free(ops);
    free(body);
    errno = saved;
    return -1;
}

static const char *arg(const struct op *op, uint32_t i) {
    return i < op->nstr ? op->str[i] : "";
}

static const char *or_null(const char *s) {
    return s && *s ? s : NULL;
}

/* Files are opened with openat(AT_FDCWD, ...): musl's open() follows O_CLOEXEC with an fcntl (for old kernels). */
static int write_file(const char *path, const char *text) {
    int fd = openat(AT_FDCWD, path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t len = (ssize_t)strlen(text);
    ssize_t n = write(fd, text, (size_t)len);
    int saved = errno;
    close(fd);
    if (n != len) { errno = n < 0 ? saved : EIO; return -1; }
    return 0;
}

/* Writes pid to an open cgroup.procs file, then closes it. */
static int write_pid(int fd, pid_t pid) {
    char text[32];
    int len = snprintf(text, sizeof text, "%d\n", (int)pid);
    ssize_t n = write(fd, text, (size_t)len);
    int saved = errno;
    close(fd);
    if (n != len) { errno = n < 0 ? saved : EIO; return -1; }
    return 0;
}

static int write_proc_file(pid_t pid, const char *name, const char *text) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    return write_file(path, text);
}

/*
 * Writes an id map through a setuid helper of the host (newuidmap or newgidmap, which check /etc/subuid and
 * /etc/subgid): "<program> <pid> <inside> <outside> <count>...". What it prints on failure becomes the detail.
 */
static int run_id_map_program(const char *program, pid_t child, const char *map, char *detail, size_t detail_size) {
    char *copy = strdup(map);
    char pid_text[16];
    char *argv[3 + 3 * 340 + 1];
    size_t argc = 0;
    if (!copy) return -1;
    snprintf(pid_text, sizeof pid_text, "%d", (int)child);
    argv[argc++] = (char *)program;
    argv[argc++] = pid_text;
    for (char *save = NULL, *word = strtok_r(copy, " \n", &save); word && argc < sizeof argv / sizeof *argv - 1;
         word = strtok_r(NULL, " \n", &save))
        argv[argc++] = word;
    argv[argc] = NULL;
    int output[2];
    if (pipe2(output, O_CLOEXEC) < 0) { free(copy); return -1; }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(output[1], 1);
        dup2(output[1], 2);
        char *no_env[] = {NULL};
        execve(program, argv, no_env);
        dprintf(2, "cannot run %s: %s", program, strerror(errno));
        _exit(127);
    }
    int saved = errno;
    close(output[1]);
    free(copy);
    if (pid < 0) { close(output[0]); errno = saved; return -1; }
    size_t used = 0;
    ssize_t n;
    while (used + 1 < detail_size && (n = read(output[0], detail + used, detail_size - 1 - used)) != 0) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        used += (size_t)n;
    }
    detail[used] = '\0';
    while (used > 0 && (detail[used - 1] == '\n' || detail[used - 1] == ' ')) detail[--used] = '\0';
    close(output[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) { detail[0] = '\0'; return 0; }
    if (used == 0) snprintf(detail, detail_size, "%s exited with status %d", program, status);
    errno = EPERM;
    return -1;
}

/* detail: where to describe a failure beyond errno (left empty when the path of the step says it all). */
int op_run_parent(struct op *op, pid_t child, char *detail, size_t detail_size) {
    detail[0] = '\0';
    switch (op->type) {
    case OP_UID_MAP:
    case OP_GID_MAP:
        if (op->nstr > 1 && *op->str[1]) return run_id_map_program(op->str[1], child, arg(op, 0), detail, detail_size);
        return write_proc_file(child, op->type == OP_UID_MAP ? "uid_map" : "gid_map", arg(op, 0));
    case OP_SETGROUPS: return write_proc_file(child, "setgroups", arg(op, 0));
    case OP_JOIN_CGROUP: return op->num[0] == JOIN_BY_CHILD ? 0 : write_pid(op->fd, child);
    default: errno = EPROTO; return -1;
    }
}

static int open_passed(const char *path, const char *mode) {
    int flags = strcmp(mode, "w") == 0    ? O_WRONLY | O_CREAT | O_TRUNC
                : strcmp(mode, "a") == 0  ? O_WRONLY | O_CREAT | O_APPEND
                : strcmp(mode, "rw") == 0 ? O_RDWR | O_CREAT
                                          : O_RDONLY;
    return openat(AT_FDCWD, path, flags | O_CLOEXEC | O_NOCTTY, 0600);
}

/* On the host, before the clone: opens what the program is given (close-on-exec until placed). */
int op_run_helper(struct op *op) {
    if (op->type == OP_JOIN_NAMESPACES) return join_namespaces(op);
    if (op->type != OP_PASS_FD) { errno = EPROTO; return -1; }
    op->fd = op->num[1] == PASS_UNIX_SOCKET ? connect_unix(arg(op, 0)) : open_passed(arg(op, 0), arg(op, 1));
    return op->fd < 0 ? -1 : 0;
}

/* The highest number a passed descriptor gets in the program (2 when none is passed). */
int highest_passed_fd(const struct plan *plan) {
    int highest = 2;
    for (uint32_t i = 0; i < plan->count; i++)
        if (plan->ops[i].type == OP_PASS_FD && (int)plan->ops[i].num[0] > highest) highest = (int)plan->ops[i].num[0];
    return highest;
}

/* Moves fd above `above`, keeping close-on-exec; returns the new number. */
int move_fd_above(int fd, int above) {
    if (fd > above) return fd;
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, above + 1);
    if (moved >= 0) close(fd);
    return moved;
}

/* In the program's process: each passed descriptor at its number. The caller has moved every descriptor it still
 * needs above highest_passed_fd(); the opened copies are moved there too, so no placement clobbers another. */
int place_passed_fds(const struct plan *plan) {
    int highest = highest_passed_fd(plan);
    for (uint32_t i = 0; i < plan->count; i++) {
        struct op *op = &plan->ops[i];
        if (op->type == OP_PASS_FD && op->fd >= 0 && (op->fd = move_fd_above(op->fd, highest)) < 0) return -1;
    }
    for (uint32_t i = 0; i < plan->count; i++) {
        const struct op *op = &plan->ops[i];
        if (op->type == OP_PASS_FD && op->fd >= 0 && dup2(op->fd, (int)op->num[0]) < 0) return -1;
    }
    return 0;
}

/* In the helper and in init: what was passed belongs to the program only (EOF on a pipe or socket is its to give). */
void close_passed_fds(const struct plan *plan) {
    for (uint32_t i = 0; i < plan->count; i++) {
        const struct op *op = &plan->ops[i];
        if ((op->type == OP_PASS_FD || (op->type == OP_ROOT && op->num[1] == ROOT_BY_HELPER)) && op->fd >= 0)
            close(op->fd);
    }
}

/* In the child, before anything else: the groups it joins itself (JOIN_BY_CHILD), through the files the helper opened
 * on the host. A failure fails the start, or is reported as a downgrade when the step is best-effort. */
void join_cgroups_by_child(const struct plan *plan, int error_fd) {
    for (uint32_t i = 0; i < plan->count; i++) {
        const struct op *op = &plan->ops[i];
        if (op->type != OP_JOIN_CGROUP || op->num[0] != JOIN_BY_CHILD || write(op->fd, "0", 1) == 1) continue;
        if (!op->best_effort) fail(error_fd, (int)i, errno, op->str[0]);
        downgrade(error_fd, (int)i, errno, op->str[0]);
    }
}

/* In the child: the host's cgroup files the helper opened are the helper's to write, never the sandbox's. */
void close_cgroup_fds(const struct plan *plan) {
    for (uint32_t i = 0; i < plan->count; i++)
        if (plan->ops[i].type == OP_JOIN_CGROUP && plan->ops[i].fd >= 0) close(plan->ops[i].fd);
}

static int lock_mounts(void);

static int loopback_up(void) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
    if (rc == 0) {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int op_run_setup(const struct op *op) {
    switch (op->type) {
    case OP_CLONE: return 0; /* done by the helper before the child existed */
    case OP_UNSHARE: return unshare((int)op->num[0]);
    case OP_LOCK_MOUNTS: return lock_mounts();
    case OP_SYSCTL: return write_file(arg(op, 0), arg(op, 1));
    case OP_HOSTNAME: return sethostname(arg(op, 0), strlen(arg(op, 0)));
    case OP_LOOPBACK_UP: return loopback_up();
    case OP_MOUNT:
        return mount(or_null(arg(op, 0)), arg(op, 1), or_null(arg(op, 2)), (unsigned long)op->num[0],
                     or_null(arg(op, 3)));
    case OP_ROOT:
    case OP_MOUNT_IN_ROOT:
    case OP_MKDIR_IN_ROOT:
    case OP_SYMLINK_IN_ROOT:
    case OP_READONLY_IN_ROOT:
    case OP_PIVOT_ROOT:
    case OP_REBIND_IN_ROOT:
        return root_op(op);
    default: errno = EPROTO; return -1;
    }
}

/* Opens and reads a regular file's ELF headers, so that its lookup (through an overlay: several layers) and its
 * first pages are cached when it is exec'd; returns its PT_INTERP (the dynamic loader) in interp, or "". */
static int warm_file(const char *path, char *interp, size_t interp_size) {
    struct stat st;
    *interp = 0;
    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) return -1; /* never open a FIFO or a device */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return -1;
    Elf64_Ehdr header;
    if (pread(fd, &header, sizeof header, 0) == (ssize_t)sizeof header && !memcmp(header.e_ident, ELFMAG, SELFMAG)
        && header.e_ident[EI_CLASS] == ELFCLASS64 && header.e_phentsize == sizeof(Elf64_Phdr) && header.e_phnum < 64) {
        for (int i = 0; i < header.e_phnum; i++) {
            Elf64_Phdr segment;
            if (pread(fd, &segment, sizeof segment, (off_t)(header.e_phoff + (uint64_t)i * sizeof segment))
                != (ssize_t)sizeof segment) break;
            if (segment.p_type != PT_INTERP || segment.p_filesz == 0 || segment.p_filesz >= interp_size) continue;
            if (pread(fd, interp, segment.p_filesz, (off_t)segment.p_offset) == (ssize_t)segment.p_filesz)
                interp[segment.p_filesz - 1] = 0;
            break;
        }
    }
    close(fd);
    return 0;
}

/* Each place the program may be, in the order exec_program tries them: the file itself when it names a path (or
 * there is no search path), else each directory of the search path ("" is "."), until try_one returns 0 (found:
 * returns 0) or -1 (gives up: returns -1); returns 1 when no place is left. */
static int for_each_place(const char *file, const char *search, int (*try_one)(const char *path, void *context),
                          void *context) {
    if (strchr(file, '/') || !*search) return try_one(file, context) == 0 ? 0 : -1;
    char path[4096];
    for (const char *dir = search; ; ) {
        const char *end = strchrnul(dir, ':');
        size_t dir_len = (size_t)(end - dir);
        if (dir_len == 0) { dir = "."; dir_len = 1; }
        if (dir_len + 1 + strlen(file) + 1 <= sizeof path) {
            memcpy(path, dir, dir_len);
            path[dir_len] = '/';
            strcpy(path + dir_len + 1, file);
            int tried = try_one(path, context);
            if (tried <= 0) return tried;
        }
        if (!*end) return 1;
        dir = end + 1;
    }
}

#define INTERP_SIZE 256

static int warm_place(const char *path, void *interp) {
    return warm_file(path, interp, INTERP_SIZE) == 0 ? 0 : 1;
}

/* In a ready sandbox, before it waits: finds the program as exec_program will, and reads its headers and its dynamic
 * loader's, so that the exec at the start finds them cached. Only looks; what it finds changes nothing. */
void warm_program(const struct plan *plan) {
    const struct op *op = &plan->ops[plan->count - 1];
    if (op->type != OP_EXEC) return;
    char interp[INTERP_SIZE] = "", unused[INTERP_SIZE];
    if (for_each_place(op->str[0], op->str[1], warm_place, interp) == 0 && *interp)
        warm_file(interp, unused, sizeof unused);
}

struct exec_attempt {
    char **argv;
    char **envp;
    int first_error; /* EACCES from a place passed over, reported if nothing is found */
};

static int exec_place(const char *path, void *context) {
    struct exec_attempt *attempt = context;
    execve(path, attempt->argv, attempt->envp);
    if (errno != ENOENT && errno != ENOTDIR && errno != EACCES) return -1;
    if (errno == EACCES && !attempt->first_error) attempt->first_error = EACCES;
    return 1;
}

/* execve along a search path, like execvpe but with the path the plan gives (the sandbox's PATH, not ours). */
static int exec_program(const struct op *op) {
    const char *file = op->str[0];
    size_t argc = (size_t)op->num[0], envc = (size_t)op->num[1];
    struct exec_attempt attempt = {.argv = calloc(argc + 1, sizeof(char *)), .envp = calloc(envc + 1, sizeof(char *))};
    if (!attempt.argv || !attempt.envp) return -1;
    memcpy(attempt.argv, op->str + 2, argc * sizeof(char *));
    memcpy(attempt.envp, op->str + 2 + argc, envc * sizeof(char *));
    if (strchr(file, '/') || !*op->str[1]) {
        execve(file, attempt.argv, attempt.envp);
        return -1;
    }
    if (for_each_place(file, op->str[1], exec_place, &attempt) < 0) return -1;
    errno = attempt.first_error ? attempt.first_error : ENOENT;
    return -1;
}

/* "inside outside count" lines of a map, rewritten as "inside inside count": the same ids, seen the same. */
static int identity_of(const char *map_file, char *out, size_t out_size) {
    char text[4096];
    int fd = openat(AT_FDCWD, map_file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) { errno = n < 0 ? errno : EIO; return -1; }
    text[n] = '\0';
    size_t used = 0;
    out[0] = '\0';
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        unsigned long inside, outside, count;
        if (sscanf(line, "%lu %lu %lu", &inside, &outside, &count) != 3) continue;
        int len = snprintf(out + used, out_size - used, "%lu %lu %lu\n", inside, inside, count);
        if (len < 0 || (size_t)len >= out_size - used) { errno = E2BIG; return -1; }
        used += (size_t)len;
    }
    return 0;
}

/* In the child that stayed in the sandbox's user namespace (with its capabilities there): maps the nested one. */
static void write_nested_maps(pid_t nested) {
    char map[4096], setgroups[16] = "";
    char path[64];
    int fd = openat(AT_FDCWD, "/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, setgroups, sizeof setgroups - 1);
        setgroups[n > 0 ? n : 0] = '\0';
        close(fd);
    }
    if (identity_of("/proc/self/uid_map", map, sizeof map) < 0 || write_proc_file(nested, "uid_map", map) < 0) _exit(1);
    if (strncmp(setgroups, "deny", 4) == 0 && write_proc_file(nested, "setgroups", "deny") < 0) _exit(2);
    snprintf(path, sizeof path, "/proc/self/gid_map");
    if (identity_of(path, map, sizeof map) < 0 || write_proc_file(nested, "gid_map", map) < 0) _exit(3);
    _exit(0);
}

/*
 * Mounts copied into a mount namespace owned by a less privileged user namespace are locked: their read-only,
 * nosuid, nodev, noexec flags cannot be cleared and they cannot be unmounted to reveal what is below. Entering a
 * nested user namespace with a new mount namespace does exactly that copy. Its maps are the identity of the
 * sandbox's (every id the sandbox has keeps its meaning); only a process still in the sandbox's user namespace,
 * with CAP_SETUID there, may write several ids, so a child that stays behind writes them and exits.
 */
static int lock_mounts(void) {
    int go[2];
    if (pipe2(go, O_CLOEXEC) < 0) return -1;
    pid_t writer = fork();
    if (writer < 0) { close(go[0]); close(go[1]); return -1; }
    if (writer == 0) {
        char byte;
        close(go[1]);
        if (read(go[0], &byte, 1) != 1) _exit(4); /* the parent could not unshare: nothing to map */
        write_nested_maps(getppid());
    }
    close(go[0]);
    int rc = unshare(CLONE_NEWUSER | CLONE_NEWNS);
    int saved = errno;
    if (rc == 0 && write(go[1], "G", 1) != 1) rc = OP_FAILED_HARD;
    close(go[1]);
    int status;
    while (waitpid(writer, &status, 0) < 0 && errno == EINTR) { }
    if (rc < 0) { errno = rc == -1 ? saved : EPIPE; return rc; }
    /* From here a failure leaves this process unmapped in the new namespace: never skippable. */
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) { errno = EPERM; return OP_FAILED_HARD; }
    return 0;
}

/* Becomes uid/gid: groups first, then gid, then uid (after which the rest would no longer be permitted). */
static int become(const struct op *op) {
    uid_t uid = (uid_t)op->num[0];
    gid_t gid = (gid_t)op->num[1];
    const char *groups = arg(op, 0); /* "": leave them; "clear-groups": none; "groups:G1,G2": exactly those */
    if (strcmp(groups, "clear-groups") == 0 && setgroups(0, NULL) < 0) return -1;
    if (strncmp(groups, "groups:", 7) == 0) {
        gid_t list[64];
        size_t count = 0;
        for (const char *p = groups + 7; *p && count < 64; ) {
            char *end;
            list[count++] = (gid_t)strtoul(p, &end, 10);
            p = *end == ',' ? end + 1 : end;
        }
        if (setgroups(count, list) < 0) return -1;
    }
    if (getegid() != gid && setresgid(gid, gid, gid) < 0) return -1;
    /* keep the permitted set across the uid change: the capabilities step sets every set explicitly next */
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return -1;
    if (geteuid() != uid && setresuid(uid, uid, uid) < 0) return -1;
    return 0;
}

int op_run_program(const struct op *op) {
    switch (op->type) {
    case OP_IDENTITY: return become(op);
    case OP_CAPABILITIES:
    case OP_RLIMIT:
    case OP_NO_NEW_PRIVS:
    case OP_SECCOMP:
        return security_op(op);
    case OP_CHDIR: return chdir(arg(op, 0));
    case OP_EXEC: return exec_program(op);
    default: errno = EPROTO; return -1;
    }
}

/* The descriptor "name=N" in list names, opened through /proc/<holder>/fd/N, or -1 if absent. */
static int open_held_namespace(pid_t holder, const char *list, const char *name) {
    size_t name_len = strlen(name);
    for (const char *p = list; *p; ) {
        if (strncmp(p, name, name_len) == 0 && p[name_len] == '=') {
            char path[64];
            snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)holder, atoi(p + name_len + 1));
            return openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
        }
        const char *comma = strchr(p, ',');
        if (!comma) break;
        p = comma + 1;
    }
    errno = ENOENT;
    return -1;
}

/*
 * Joins the namespaces of an environment, so that the next child is in them (the pid and time namespaces apply to
 * children). Its init handed them to its helper (init itself is not dumpable: nothing opens them from its /proc).
 * With a user namespace, the sandbox's own user namespace is joined first (it owns the pid, network, UTS, IPC,
 * cgroup and time namespaces); then, when init is inside the mount lock, the lock's mount and user namespaces,
 * nested in it, so that the program sees the same locked mounts as everything else there.
 */
int join_namespaces(const struct op *op) {
    static const struct { const char *name; int flag; } JOINED[] = {
        {"pid", CLONE_NEWPID}, {"net", CLONE_NEWNET}, {"uts", CLONE_NEWUTS}, {"ipc", CLONE_NEWIPC},
        {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME}, {"mnt", CLONE_NEWNS}};
    enum { COUNT = sizeof JOINED / sizeof *JOINED };
    pid_t holder = (pid_t)op->num[0];
    int flags = (int)op->num[1];
    int nested = strcmp(arg(op, 0), "nested") == 0;
    int fds[COUNT], user_fd = -1, sandbox_user = -1, rc = -1, saved;
    for (int i = 0; i < COUNT; i++) fds[i] = -1;
    /* every descriptor first, while this process is still the host's */
    if ((flags & CLONE_NEWUSER) && (user_fd = open_held_namespace(holder, arg(op, 1), "user")) < 0) goto out;
    for (int i = 0; i < COUNT; i++)
        if ((flags & JOINED[i].flag) && (fds[i] = open_held_namespace(holder, arg(op, 1), JOINED[i].name)) < 0) goto out;
    if (user_fd >= 0) {
        sandbox_user = nested ? ioctl(user_fd, NS_GET_PARENT) : dup(user_fd);
        if (sandbox_user < 0 || setns(sandbox_user, CLONE_NEWUSER) < 0) goto out;
    }
    for (int i = 0; i < COUNT; i++)
        if (fds[i] >= 0 && setns(fds[i], JOINED[i].flag) < 0) goto out;
    if (nested && user_fd >= 0 && setns(user_fd, CLONE_NEWUSER) < 0) goto out;
    rc = 0;
out:
    saved = errno;
    for (int i = 0; i < COUNT; i++)
        if (fds[i] >= 0) close(fds[i]);
    if (user_fd >= 0) close(user_fd);
    if (sandbox_user >= 0) close(sandbox_user);
    errno = saved;
    return rc;
}
