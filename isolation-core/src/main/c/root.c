/*
 * Building the sandbox's root: mount it at a staging directory, mount into it with every target resolved
 * inside it (openat2 RESOLVE_IN_ROOT: the root's own symlinks and ".." cannot lead out of it), then
 * pivot_root into it and detach the old root.
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

static int root_fd = -1;

static const char *or_null(const char *s) {
    return s && *s ? s : NULL;
}

/* Opens path (relative to the root; leading slashes ignored) as an O_PATH descriptor, resolved inside the root. */
static int open_in_root(const char *path, int flags) {
    while (*path == '/') path++;
    if (!*path) path = ".";
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, root_fd, path, &how, sizeof how);
}

/*
 * Creates every missing directory of path inside the root, each one resolved inside the root. A dangling symlink
 * on the way is followed by hand, also inside the root (an absolute target counts from the root), and the
 * directories it names are created there: never outside.
 */
static int make_directories_within(const char *path, mode_t mode, int links_left) {
    char prefix[4096];
    if (strlen(path) >= sizeof prefix) { errno = ENAMETOOLONG; return -1; }
    const char *p = path;
    while (*p == '/') p++;
    while (*p) {
        const char *end = strchrnul(p, '/');
        memcpy(prefix, path, (size_t)(end - path));
        prefix[end - path] = '\0';
        int fd = open_in_root(prefix, O_PATH | O_DIRECTORY);
        if (fd < 0 && errno == ENOENT) {
            /* the parent was resolved inside the root; the new name is one component, created in it */
            const char *name = strrchr(prefix, '/') ? strrchr(prefix, '/') + 1 : prefix;
            char parent[4096];
            memcpy(parent, prefix, (size_t)(name - prefix));
            parent[name - prefix] = '\0';
            int parent_fd = open_in_root(parent, O_PATH | O_DIRECTORY);
            if (parent_fd < 0) return -1;
            int rc = mkdirat(parent_fd, name, mode);
            int saved = errno;
            if (rc < 0 && saved == EEXIST) {
                char link[4096], next[8192];
                ssize_t n = readlinkat(parent_fd, name, link, sizeof link - 1);
                close(parent_fd);
                if (n < 0) { errno = EEXIST; return -1; }
                if (links_left == 0) { errno = ELOOP; return -1; }
                link[n] = '\0';
                int len = link[0] == '/' ? snprintf(next, sizeof next, "%s%s", link, end)
                                         : snprintf(next, sizeof next, "%s%s%s", parent, link, end);
                if (len < 0 || (size_t)len >= sizeof next) { errno = ENAMETOOLONG; return -1; }
                return make_directories_within(next, mode, links_left - 1);
            }
            close(parent_fd);
            if (rc < 0) { errno = saved; return -1; }
            fd = open_in_root(prefix, O_PATH | O_DIRECTORY);
        }
        if (fd < 0) return -1;
        close(fd);
        p = *end ? end + 1 : end;
    }
    return 0;
}

static int make_directories(const char *path, mode_t mode) {
    return make_directories_within(path, mode, 40);
}

/* Creates the missing parents of path inside the root and opens the parent; *name is set to the last component. */
static int open_parent_creating(const char *path, const char **name) {
    const char *slash = strrchr(path, '/');
    char parent[4096];
    size_t parent_len = slash ? (size_t)(slash - path) : 0;
    if (parent_len >= sizeof parent) { errno = ENAMETOOLONG; return -1; }
    memcpy(parent, path, parent_len);
    parent[parent_len] = '\0';
    if (make_directories(parent, 0755) < 0) return -1;
    *name = slash ? slash + 1 : path;
    return open_in_root(parent, O_PATH | O_DIRECTORY);
}

static int create_file(const char *path) {
    const char *name;
    int parent_fd = open_parent_creating(path, &name);
    if (parent_fd < 0) return -1;
    int fd = openat(parent_fd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    int saved = errno;
    close(parent_fd);
    if (fd < 0 && saved != EEXIST && saved != ELOOP) { errno = saved; return -1; }
    if (fd >= 0) close(fd);
    return 0;
}

static int create_symlink(const char *target, const char *link) {
    const char *name;
    int parent_fd = open_parent_creating(link, &name);
    if (parent_fd < 0) return -1;
    int rc = symlinkat(target, parent_fd, name);
    int saved = errno;
    close(parent_fd);
    if (rc < 0 && saved != EEXIST) { errno = saved; return -1; }
    return 0;
}

static int open_target(const struct op *op) {
    const char *target = op->str[1];
    int fd = open_in_root(target, O_PATH);
    if (fd >= 0 || errno != ENOENT || op->num[1] == CREATE_NOTHING || op->num[1] == SKIP_IF_MISSING) return fd;
    int rc = op->num[1] == CREATE_DIRECTORY ? make_directories(target, 0755) : create_file(target);
    if (rc < 0) return -1;
    return open_in_root(target, O_PATH);
}

static int mount_on_fd(const char *source, int fd, const char *fstype, unsigned long flags, const char *data) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return mount(or_null(source), path, or_null(fstype), flags, or_null(data));
}

static int set_readonly(const char *path, int recursive) {
    int fd = open_in_root(path, O_PATH);
    if (fd < 0) return -1;
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = MOUNT_ATTR_RDONLY;
    int rc = (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

static int pivot(void) {
    if (fchdir(root_fd) < 0) return -1;
    /* pivot_root(".", "."): the old root ends up on top of the new one, and is detached right away. */
    if (syscall(SYS_pivot_root, ".", ".") < 0) return -1;
    if (umount2(".", MNT_DETACH) < 0) return -1;
    close(root_fd);
    root_fd = -1;
    return chdir("/");
}

int root_op(const struct op *op) {
    if (op->type != OP_ROOT && root_fd < 0) { errno = EBADFD; return -1; }
    switch (op->type) {
    case OP_ROOT:
        if (mount(or_null(op->str[0]), op->str[1], or_null(op->str[2]), (unsigned long)op->num[0], or_null(op->str[3])) < 0)
            return -1;
        root_fd = open(op->str[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
        return root_fd < 0 ? -1 : 0;
    case OP_MOUNT_IN_ROOT: {
        int fd = open_target(op);
        if (fd < 0 && errno == ENOENT && op->num[1] == SKIP_IF_MISSING) return 0;
        if (fd < 0) return -1;
        int rc = mount_on_fd(op->str[0], fd, op->str[2], (unsigned long)op->num[0], op->str[3]);
        int saved = errno;
        close(fd);
        errno = saved;
        return rc;
    }
    case OP_MKDIR_IN_ROOT:
        return make_directories(op->str[0], (mode_t)op->num[0]);
    case OP_SYMLINK_IN_ROOT:
        return create_symlink(op->str[0], op->str[1]);
    case OP_READONLY_IN_ROOT: {
        int rc = set_readonly(op->str[0], op->num[0] != 0);
        return rc < 0 && errno == ENOENT && op->num[1] == SKIP_IF_MISSING ? 0 : rc;
    }
    case OP_REBIND_IN_ROOT: {
        int fd = open_in_root(op->str[0], O_PATH);
        if (fd < 0) return errno == ENOENT ? 0 : -1; /* nothing there to protect */
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        int rc = mount(path, path, NULL, MS_BIND | MS_REC, NULL);
        int saved = errno;
        close(fd);
        errno = saved;
        return rc;
    }
    case OP_PIVOT_ROOT:
        return pivot();
    default:
        errno = EPROTO;
        return -1;
    }
}
