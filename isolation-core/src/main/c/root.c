/*
 * Building the sandbox's root: mount it at a staging directory, mount into it with every target resolved
 * inside it (openat2 RESOLVE_IN_ROOT: the root's own symlinks and ".." cannot lead out of it), then
 * pivot_root into it and detach the old root.
 *
 * Each step resolves its path once. What a step creates, it creates in its parent directory, opened once and kept
 * for the steps after it in the same directory (a minimal /dev is a dozen steps in one directory); the kept
 * directory is forgotten as soon as a mount could change what its path leads to. A name in the kept directory is
 * looked up without following symlinks; a symlink sends the step back to a resolution of its whole path inside the
 * root, so the shortcut never follows a link by itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"

#define MAX_PATH 4096
#define MAX_LINKS_FOLLOWED 40

static int root_fd = -1;

/*
 * The directory the last creating step worked in: its path inside the root (no leading slash). Only this file's steps
 * mount inside the root before pivot_root (the plan's other mounts: the propagation of "/" before the root, the mount
 * lock after pivot_root), so they are the ones that forget it.
 */
static struct {
    char path[MAX_PATH];
    int fd; /* -1: none kept */
} kept_dir = {.fd = -1};

static const char *or_null(const char *s) {
    return s && *s ? s : NULL;
}

/* path without its leading slashes: relative to the root. */
static const char *in_root(const char *path) {
    while (*path == '/') path++;
    return path;
}

static void close_keeping_errno(int fd) {
    int saved = errno;
    close(fd);
    errno = saved;
}

/* openat2, again while it says EAGAIN: with RESOLVE_IN_ROOT or RESOLVE_BENEATH the kernel gives up a resolution
 * through ".." when any mount or rename happened meanwhile, anywhere on the host (other sandboxes starting). */
static int openat2_retrying(int dir, const char *path, struct open_how *how) {
    int fd;
    int attempts = 0;
    do fd = (int)syscall(SYS_openat2, dir, path, how, sizeof *how);
    while (fd < 0 && errno == EAGAIN && ++attempts < 1000);
    return fd;
}

/* Opens path (relative to the root; leading slashes ignored), resolved inside the root. */
static int open_in_root(const char *path, int flags) {
    path = in_root(path);
    if (!*path) path = ".";
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    return openat2_retrying(root_fd, path, &how);
}

static void forget_kept_dir(void) {
    if (kept_dir.fd < 0) return;
    close(kept_dir.fd);
    kept_dir.fd = -1;
}

/* After a mount at target: the kept directory still leads where it did only if the mount is strictly below it. */
static void forget_kept_dir_unless_below(const char *target) {
    if (kept_dir.fd < 0) return;
    target = in_root(target);
    size_t len = strlen(kept_dir.path);
    if (!(strncmp(target, kept_dir.path, len) == 0 && target[len] == '/' && len > 0)) forget_kept_dir();
}

/* Splits path into its parent (copied to parent, relative to the root) and its last component. */
static int split_parent(const char *path, char parent[MAX_PATH], const char **name) {
    path = in_root(path);
    const char *slash = strrchr(path, '/');
    size_t parent_len = slash ? (size_t)(slash - path) : 0;
    if (parent_len >= MAX_PATH) { errno = ENAMETOOLONG; return -1; }
    memcpy(parent, path, parent_len);
    parent[parent_len] = '\0';
    *name = slash ? slash + 1 : path;
    /* "", "." and ".." are no names to create: the Java side never sends them (its paths are normalized) */
    if (!**name || strcmp(*name, ".") == 0 || strcmp(*name, "..") == 0) { errno = EINVAL; return -1; }
    return 0;
}

static int open_directory_creating(const char *path, mode_t mode, int links_left);

/*
 * The directory at parent (relative to the root), created with its missing parents if need be: a descriptor the
 * caller borrows (kept for the next steps; valid until the next call or mount).
 */
static int kept_directory(const char *parent) {
    if (kept_dir.fd >= 0 && strcmp(kept_dir.path, parent) == 0) return kept_dir.fd;
    if (!*parent) return root_fd;
    int fd = open_directory_creating(parent, 0755, MAX_LINKS_FOLLOWED);
    if (fd < 0) return -1;
    forget_kept_dir();
    snprintf(kept_dir.path, sizeof kept_dir.path, "%s", parent);
    kept_dir.fd = fd;
    return fd;
}

/* Opens name in dir, not following it if it is a symlink (ELOOP then) nor a magic link. */
static int open_name_no_symlink(int dir, const char *name, int flags) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(flags | O_CLOEXEC);
    how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH;
    return openat2_retrying(dir, name, &how);
}

/*
 * Creates the directory name in dir (whose path inside the root is parent) and opens it. If name is there already as
 * a dangling symlink, the directories it names are created instead, inside the root (an absolute target counts from
 * the root), with rest (what followed name in the path: "" or "/...") below them, and *followed is set: the returned
 * directory is then the end of the whole path. Never anything outside the root.
 */
static int make_directory_in(int dir, const char *parent, const char *name, const char *rest, mode_t mode,
                             int links_left, int *followed) {
    if (mkdirat(dir, name, mode) == 0) return open_name_no_symlink(dir, name, O_PATH | O_DIRECTORY);
    if (errno != EEXIST) return -1;
    char link[MAX_PATH], next[2 * MAX_PATH + 2];
    ssize_t n = readlinkat(dir, name, link, sizeof link - 1);
    if (n < 0) {
        /* not a symlink: a directory made meanwhile, or something else (EEXIST) */
        int fd = open_name_no_symlink(dir, name, O_PATH | O_DIRECTORY);
        if (fd < 0) errno = EEXIST;
        return fd;
    }
    if (links_left == 0) { errno = ELOOP; return -1; }
    link[n] = '\0';
    int len = link[0] == '/' ? snprintf(next, sizeof next, "%s%s", link, rest)
                             : snprintf(next, sizeof next, "%s%s%s%s", parent, *parent ? "/" : "", link, rest);
    if (len < 0 || (size_t)len >= sizeof next) { errno = ENAMETOOLONG; return -1; }
    *followed = 1;
    return open_directory_creating(next, mode, links_left - 1);
}

/*
 * Opens (O_PATH) the directory at path inside the root, creating it and its missing parents. The deepest existing
 * ancestor is found walking up from path (one resolution inside the root each); the missing directories below it are
 * then created and opened one in the other, never through a symlink.
 */
static int open_directory_creating(const char *path, mode_t mode, int links_left) {
    char walk[MAX_PATH];
    path = in_root(path);
    size_t len = strlen(path);
    if (len >= sizeof walk) { errno = ENAMETOOLONG; return -1; }
    memcpy(walk, path, len + 1);
    int dir = open_in_root(walk, O_PATH | O_DIRECTORY);
    if (dir >= 0 || errno != ENOENT) return dir;
    /* walk up: walk[0, existing) is the deepest ancestor that opens ("": the root) */
    size_t existing = len;
    for (;;) {
        while (existing > 0 && walk[existing - 1] != '/') existing--;
        while (existing > 0 && walk[existing - 1] == '/') existing--;
        if (existing == 0) { dir = root_fd; break; }
        char cut = walk[existing];
        walk[existing] = '\0';
        dir = open_in_root(walk, O_PATH | O_DIRECTORY);
        walk[existing] = cut;
        if (dir >= 0) break;
        if (errno != ENOENT) return -1;
    }
    /* walk down: each missing component made in the one before */
    for (size_t at = existing; ; ) {
        while (at < len && walk[at] == '/') at++;
        if (at == len) break;
        size_t name_start = at;
        while (at < len && walk[at] != '/') at++;
        char parent[MAX_PATH], name[MAX_PATH];
        size_t parent_len = name_start;
        while (parent_len > 0 && walk[parent_len - 1] == '/') parent_len--;
        memcpy(parent, walk, parent_len);
        parent[parent_len] = '\0';
        memcpy(name, walk + name_start, at - name_start);
        name[at - name_start] = '\0';
        int followed = 0;
        int next = make_directory_in(dir, parent, name, walk + at, mode, links_left, &followed);
        if (dir != root_fd) close_keeping_errno(dir);
        if (next < 0) return -1;
        dir = next;
        if (followed) break; /* the symlink's target, with the rest of the path, is made and open */
    }
    return dir == root_fd ? fcntl(root_fd, F_DUPFD_CLOEXEC, 0) : dir;
}

/* Creates path's last component in its parent (made if missing): a directory, or an empty file; opens it. */
static int create_in_root(const char *path, int kind, mode_t mode) {
    char parent[MAX_PATH];
    const char *name;
    if (split_parent(path, parent, &name) < 0) return -1;
    int dir = kept_directory(parent);
    if (dir < 0) return -1;
    if (kind == CREATE_DIRECTORY) {
        int followed = 0;
        return make_directory_in(dir, parent, name, "", mode, MAX_LINKS_FOLLOWED, &followed);
    }
    int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0 || errno != EEXIST) return fd;
    /* there meanwhile, or a symlink (a dangling one: the target was missing): resolved inside the root, as it is */
    return open_in_root(path, O_PATH);
}

/* The target of a mount, resolved inside the root; created if missing and the op says so. */
static int open_target(const struct op *op) {
    const char *target = op->str[1];
    int fd = open_in_root(target, O_PATH);
    if (fd >= 0 || errno != ENOENT || (op->num[1] != CREATE_DIRECTORY && op->num[1] != CREATE_FILE)) return fd;
    return create_in_root(target, (int)op->num[1], 0755);
}

static int make_directory(const char *path, mode_t mode) {
    int fd = open_in_root(path, O_PATH | O_DIRECTORY);
    if (fd < 0 && errno == ENOENT) fd = create_in_root(path, CREATE_DIRECTORY, mode);
    if (fd < 0) return -1;
    close(fd);
    return 0;
}

static int make_symlink(const char *target, const char *link) {
    char parent[MAX_PATH];
    const char *name;
    if (split_parent(link, parent, &name) < 0) return -1;
    int dir = kept_directory(parent);
    if (dir < 0) return -1;
    if (symlinkat(target, dir, name) < 0 && errno != EEXIST) return -1;
    return 0;
}

/* Mounts onto what fd is open on (its path through /proc/self/fd, the host's /proc until pivot_root). */
static int mount_on_fd(const char *source, int fd, const char *fstype, unsigned long flags, const char *data) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return mount(or_null(source), path, or_null(fstype), flags, or_null(data));
}

static int set_readonly(const char *path, int recursive) {
    /* the root itself: its descriptor is at hand */
    int fd = *in_root(path) ? open_in_root(path, O_PATH) : root_fd;
    if (fd < 0) return -1;
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = MOUNT_ATTR_RDONLY;
    int rc = (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr);
    if (fd != root_fd) close_keeping_errno(fd);
    return rc;
}

static int pivot(void) {
    forget_kept_dir();
    if (fchdir(root_fd) < 0) return -1;
    /* pivot_root(".", "."): the old root ends up on top of the new one, and is detached right away. */
    if (syscall(SYS_pivot_root, ".", ".") < 0) return -1;
    if (umount2(".", MNT_DETACH) < 0) return -1;
    close(root_fd);
    root_fd = -1;
    return chdir("/");
}

static int mount_in_root(const struct op *op) {
    int fd = open_target(op);
    if (fd < 0 && errno == ENOENT && op->num[1] == SKIP_IF_MISSING) return 0;
    if (fd < 0) return -1;
    int rc = mount_on_fd(op->str[0], fd, op->str[2], (unsigned long)op->num[0], op->str[3]);
    close_keeping_errno(fd);
    forget_kept_dir_unless_below(op->str[1]);
    return rc;
}

/* Binds path onto itself (recursively), so that it can be re-flagged on its own; nothing there: nothing to do. */
static int rebind(const char *path) {
    int fd = open_in_root(path, O_PATH);
    if (fd < 0) return errno == ENOENT ? 0 : -1;
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    int rc = mount(self, self, NULL, MS_BIND | MS_REC, NULL);
    close_keeping_errno(fd);
    forget_kept_dir_unless_below(path);
    return rc;
}

/* Splits mount data at its unescaped commas into fsconfig calls ("key=value" or a flag "key"); "\," stands for a
 * comma inside a value, other escapes ("\:" in lowerdir) are the filesystem's own and go through as they are. */
static int configure(int fs, const char *data) {
    char option[MAX_PATH];
    size_t used = 0;
    for (const char *p = data;; p++) {
        if (*p == '\\' && p[1] == ',') {
            p++;
        } else if (*p == ',' || *p == 0) {
            option[used] = 0;
            if (used > 0) {
                char *value = strchr(option, '=');
                if (value) *value++ = 0;
                int rc = value ? (int)syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, option, value, 0)
                               : (int)syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, option, NULL, 0);
                if (rc < 0) return -1;
            }
            used = 0;
            if (*p == 0) return 0;
            continue;
        }
        if (used + 1 >= sizeof option) { errno = ENAMETOOLONG; return -1; }
        option[used++] = *p;
    }
}

/*
 * OP_ROOT made by the helper (num1 ROOT_BY_HELPER): the root's filesystem is created here, before any namespace, with
 * the helper's host privileges, as a detached mount that the child attaches where OP_ROOT would have mounted it.
 * An overlay over the host root cannot be made inside a user namespace: the kernel refuses a lower layer with
 * locked mounts below it, and the host root's are locked there.
 */
int root_prepare(struct op *op) {
    int fs = (int)syscall(SYS_fsopen, op->str[2], FSOPEN_CLOEXEC);
    if (fs < 0) return -1;
    unsigned int attributes = 0;
    if (op->num[0] & MS_RDONLY) attributes |= MOUNT_ATTR_RDONLY;
    if (op->num[0] & MS_NOSUID) attributes |= MOUNT_ATTR_NOSUID;
    if (op->num[0] & MS_NODEV) attributes |= MOUNT_ATTR_NODEV;
    if (op->num[0] & MS_NOEXEC) attributes |= MOUNT_ATTR_NOEXEC;
    int rc = configure(fs, op->str[3]);
    if (rc == 0) rc = (int)syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
    if (rc == 0) rc = op->fd = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attributes);
    close_keeping_errno(fs);
    return rc < 0 ? -1 : 0;
}

int root_op(const struct op *op) {
    if (op->type != OP_ROOT && root_fd < 0) { errno = EBADFD; return -1; }
    switch (op->type) {
    case OP_ROOT:
        if (op->num[1] == ROOT_BY_HELPER) {
            /* the descriptor is close-on-exec, and init closes it with the passed ones */
            if (syscall(SYS_move_mount, op->fd, "", AT_FDCWD, op->str[1], MOVE_MOUNT_F_EMPTY_PATH) < 0) return -1;
        } else if (mount(or_null(op->str[0]), op->str[1], or_null(op->str[2]), (unsigned long)op->num[0],
                         or_null(op->str[3])) < 0) {
            return -1;
        }
        forget_kept_dir();
        root_fd = openat(AT_FDCWD, op->str[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
        return root_fd < 0 ? -1 : 0;
    case OP_MOUNT_IN_ROOT:
        return mount_in_root(op);
    case OP_MKDIR_IN_ROOT:
        return make_directory(op->str[0], (mode_t)op->num[0]);
    case OP_SYMLINK_IN_ROOT:
        return make_symlink(op->str[0], op->str[1]);
    case OP_READONLY_IN_ROOT: {
        int rc = set_readonly(op->str[0], op->num[0] != 0);
        return rc < 0 && errno == ENOENT && op->num[1] == SKIP_IF_MISSING ? 0 : rc;
    }
    case OP_REBIND_IN_ROOT:
        return rebind(op->str[0]);
    case OP_PIVOT_ROOT:
        return pivot();
    default:
        errno = EPROTO;
        return -1;
    }
}
