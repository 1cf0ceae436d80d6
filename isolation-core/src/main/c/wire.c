/* Framing of the control socket between the helper and the JVM. Native byte order: both ends run on one host. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "helper.h"

int read_full(int fd, void *buf, size_t len) {
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) { errno = EPIPE; return -1; }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int write_full(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        /* MSG_NOSIGNAL: a JVM that went away must not kill the helper with SIGPIPE before it cleans up. */
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK) n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Frame: u32 type, i32 value, i32 step, i32 err, u32 detail length, u32 errno-text length, detail, errno text. */
int report(int fd, uint32_t type, int32_t value, int32_t step, int32_t err, const char *detail) {
    const char *errtext = err ? strerror(err) : "";
    if (!detail) detail = "";
    uint32_t detail_len = (uint32_t)strnlen(detail, 4096);
    uint32_t errtext_len = (uint32_t)strlen(errtext);
    char frame[24 + 4096 + 256];
    if (errtext_len > 256) errtext_len = 256;
    uint32_t header[6] = {type, (uint32_t)value, (uint32_t)step, (uint32_t)err, detail_len, errtext_len};
    memcpy(frame, header, sizeof header);
    memcpy(frame + sizeof header, detail, detail_len);
    memcpy(frame + sizeof header + detail_len, errtext, errtext_len);
    return write_full(fd, frame, sizeof header + detail_len + errtext_len);
}

/* One byte with count descriptors (SCM_RIGHTS); the caller keeps its own. */
int send_with_fds(int fd, char byte, const int *fds, int count) {
    union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int) * MAX_PASSED_AT_ONCE)]; } control;
    if (count < 1 || count > MAX_PASSED_AT_ONCE) { errno = EINVAL; return -1; }
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)count)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)count);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)count);
    ssize_t n;
    do n = sendmsg(fd, &msg, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
    return n == 1 ? 0 : -1;
}

/* Reads exactly len bytes into buf and the descriptors that came with them (close-on-exec); returns how many, up to
 * max (more are closed), or -1 (EPIPE at EOF; EPROTO if they were cut short). */
int receive_with_fds(int fd, void *buf, size_t len, int *fds, int max) {
    union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int) * MAX_PASSED_AT_ONCE)]; } control;
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
    ssize_t n;
    do n = recvmsg(fd, &msg, MSG_WAITALL | MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
    int received = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); n >= 0 && c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int passed[MAX_PASSED_AT_ONCE];
        memcpy(passed, CMSG_DATA(c), sizeof(int) * (size_t)count);
        for (int i = 0; i < count; i++) {
            if (received < max) fds[received++] = passed[i];
            else close(passed[i]);
        }
    }
    if (n == (ssize_t)len && !(msg.msg_flags & MSG_CTRUNC)) return received;
    for (int i = 0; i < received; i++) close(fds[i]);
    errno = n < 0 ? errno : n == 0 ? EPIPE : EPROTO;
    return -1;
}

/* A close-on-exec stream connection to the Unix socket at path. */
int connect_unix(const char *path) {
    return connect_unix_typed(path, SOCK_STREAM);
}

/* A close-on-exec connection of the given type (SOCK_STREAM, SOCK_SEQPACKET) to the Unix socket at path. */
int connect_unix_typed(const char *path, int type) {
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr.sun_path) { errno = ENAMETOOLONG; return -1; }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}
