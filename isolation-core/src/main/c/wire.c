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
