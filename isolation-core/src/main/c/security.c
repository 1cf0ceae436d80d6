/*
 * The last steps before exec, in the program's own process: capabilities (all five sets, explicitly), resource
 * limits, no_new_privs, and the seccomp filter that Java compiled, installed last so that setup is not subject to it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"

/*
 * Drops from the bounding set every capability not in keep, up to the kernel's last one: the first drop the kernel
 * refuses with EINVAL is past it (no probing for the last capability first).
 */
static int drop_bounding(uint64_t keep) {
    for (int cap = 0; cap < 64; cap++) {
        if (keep & (1ULL << cap)) continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0) continue;
        if (errno == EINVAL) return 0; /* beyond the kernel's last capability */
        return -1;
    }
    return 0;
}

/* Raises each capability of ambient in the ambient set; one this kernel does not know (EINVAL, and not in its
 * bounding set either) is skipped, as it is in no other set. */
static int raise_ambient(uint64_t ambient) {
    for (int cap = 0; cap < 64; cap++) {
        if (!(ambient & (1ULL << cap)) || prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) == 0) continue;
        if (errno == EINVAL && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0 && errno == EINVAL) continue;
        return -1;
    }
    return 0;
}

/* Whether this process may raise a priority again once lowered (CAP_SYS_NICE, effective). */
int may_raise_priority(void) {
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &header, data) < 0) return 0;
    return (data[CAP_SYS_NICE / 32].effective >> (CAP_SYS_NICE % 32)) & 1;
}

/* keep: the bounding, permitted, effective and inheritable sets; ambient: raised in the ambient set. */
static int set_capabilities(uint64_t keep, uint64_t ambient) {
    /* After a uid change with PR_SET_KEEPCAPS only the permitted set is left: make it effective to drop the rest. */
    struct __user_cap_header_struct current_header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct current[2];
    if (syscall(SYS_capget, &current_header, current) < 0) return -1;
    if (current[0].effective != current[0].permitted || current[1].effective != current[1].permitted) {
        current[0].effective = current[0].permitted;
        current[1].effective = current[1].permitted;
        if (syscall(SYS_capset, &current_header, current) < 0) return -1;
    }
    if (drop_bounding(keep) < 0) return -1;
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    for (int i = 0; i < 2; i++) {
        uint32_t half = (uint32_t)(keep >> (32 * i));
        data[i].effective = data[i].permitted = data[i].inheritable = half;
    }
    if (syscall(SYS_capset, &header, data) < 0) return -1;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) return -1;
    return raise_ambient(ambient);
}

static int parse_limit(const char *text, rlim_t *value) {
    if (strcmp(text, "unlimited") == 0) { *value = RLIM_INFINITY; return 0; }
    char *end;
    errno = 0;
    unsigned long long parsed = strtoull(text, &end, 10);
    if (errno || *end || end == text) { errno = EINVAL; return -1; }
    *value = (rlim_t)parsed;
    return 0;
}

static int set_rlimit(const struct op *op) {
    struct rlimit limit;
    if (parse_limit(op->str[0], &limit.rlim_cur) < 0 || parse_limit(op->str[1], &limit.rlim_max) < 0) return -1;
    return setrlimit((int)op->num[0], &limit);
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static int install_seccomp(const char *hex) {
    size_t len = strlen(hex);
    if (len == 0 || len % (2 * sizeof(struct sock_filter)) != 0) { errno = EINVAL; return -1; }
    unsigned char *bytes = malloc(len / 2);
    if (!bytes) return -1;
    for (size_t i = 0; i < len / 2; i++) {
        int high = hex_digit(hex[2 * i]), low = hex_digit(hex[2 * i + 1]);
        if (high < 0 || low < 0) { free(bytes); errno = EINVAL; return -1; }
        bytes[i] = (unsigned char)(high << 4 | low);
    }
    struct sock_fprog program = {.len = (unsigned short)(len / 2 / sizeof(struct sock_filter)),
                                 .filter = (struct sock_filter *)bytes};
    int rc = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0);
    int saved = errno;
    free(bytes);
    errno = saved;
    return rc;
}

int security_op(const struct op *op) {
    switch (op->type) {
    case OP_CAPABILITIES: return set_capabilities(op->num[0], op->num[1]);
    case OP_RLIMIT: return set_rlimit(op);
    case OP_NO_NEW_PRIVS: return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    case OP_SECCOMP: return install_seccomp(op->str[0]);
    default: errno = EPROTO; return -1;
    }
}
