/*
 * identity.c - identities of the current process and host (spec/probe.md
 * IDENT-003, IDENT-004), the owning identity copy and the streamed
 * executable digest (IDENT-017).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rpb/ident.h"
#include "rpb/names.h"
#include "sha256.h"

/* Copies s into dst[0..cap) NUL-terminated and points *slice at it. */
static int set_string(char *dst, size_t cap, rpb_slice s, rpb_slice *slice)
{
    if (s.len >= cap)
        return RPB_ERR_BUFFER_TOO_SMALL;
    if (s.len)
        memcpy(dst, s.data, s.len);
    dst[s.len] = '\0';
    *slice = (rpb_slice){(const uint8_t *)dst, s.len};
    return RPB_OK;
}

int rpb_identity_copy(rpb_identity *id, const rpb_daemon_process *src)
{
    if (!id || !src)
        return RPB_ERR_INVALID_ARGUMENT;
    int rc = rpb_identity_check(src);
    if (rc != RPB_OK)
        return rc;
    rpb_daemon_process *dp = &id->dp;
    *dp = *src;
    memcpy(id->exe_sha256, src->exe_sha256.data, RPB_SHA256_BYTES);
    dp->exe_sha256 = (rpb_slice){id->exe_sha256, RPB_SHA256_BYTES};
    if ((rc = set_string(id->exe_path, sizeof id->exe_path, src->exe_path, &dp->exe_path)) ||
        (rc = set_string(id->boot_id, sizeof id->boot_id, src->boot_id, &dp->boot_id)) ||
        (rc = set_string(id->namespace_id, sizeof id->namespace_id, src->ipc_endpoint.namespace_id,
                         &dp->ipc_endpoint.namespace_id)) ||
        (rc = set_string(id->endpoint_path, sizeof id->endpoint_path, src->ipc_endpoint.path,
                         &dp->ipc_endpoint.path)))
        return rc;
    return RPB_OK;
}

/* The start (cap - 1 bytes at most) of a small text file, trimmed of
 * surrounding ASCII whitespace; false when unreadable or empty. */
static bool read_trimmed(const char *path, char *out, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, out, cap - 1);
    close(fd);
    if (n <= 0)
        return false;
    size_t end = (size_t)n, start = 0;
    while (end > 0 && strchr(" \t\r\n", out[end - 1]))
        end--;
    while (start < end && strchr(" \t\r\n", out[start]))
        start++;
    memmove(out, out + start, end - start);
    out[end - start] = '\0';
    return end > start;
}

static void copy_text(char *out, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

void rpb_boot_id(char *out, size_t cap)
{
    if (!out || cap == 0)
        return;
    /* IDENT-004 */
    if (!read_trimmed("/proc/sys/kernel/random/boot_id", out, cap))
        copy_text(out, cap, "unknown");
}

static int read_link(const char *path, char *out, size_t cap)
{
    ssize_t n = readlink(path, out, cap);
    if (n < 0)
        return -1;
    if ((size_t)n >= cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    out[n] = '\0';
    return 0;
}

void rpb_host_current(rpb_host *host)
{
    if (!host)
        return;
    memset(host, 0, sizeof *host);
    /* IDENT-004 */
    if (gethostname(host->hostname, sizeof host->hostname - 1) != 0 || !host->hostname[0])
        copy_text(host->hostname, sizeof host->hostname, "unknown");
    /* the machine id of NAME-003 (rpb/names.h), so that HostIdentity and
     * the canonical names agree on it */
    char machine_id[RPB_MACHINE_ID_MAX + 1];
    copy_text(host->machine_id, sizeof host->machine_id,
              rpb_machine_id(machine_id, sizeof machine_id) == RPB_OK ? machine_id : "unknown");
    rpb_boot_id(host->boot_id, sizeof host->boot_id);
    char mnt[100], pid[100];
    if (read_link("/proc/self/ns/mnt", mnt, sizeof mnt) != 0)
        copy_text(mnt, sizeof mnt, "mntns:unknown");
    if (read_link("/proc/self/ns/pid", pid, sizeof pid) != 0)
        copy_text(pid, sizeof pid, "pidns:unknown");
    snprintf(host->namespace_id, sizeof host->namespace_id, "%s:%s", mnt, pid);
    struct stat st;
    host->hi.fs_dev_id = stat(".", &st) == 0 ? (uint64_t)st.st_dev : 0;
    host->hi.hostname = rpb_slice_cstr(host->hostname);
    host->hi.machine_id = rpb_slice_cstr(host->machine_id);
    host->hi.boot_id = rpb_slice_cstr(host->boot_id);
    host->hi.namespace_id = rpb_slice_cstr(host->namespace_id);
}

int rpb_sha256_file(const char *path, uint8_t out[RPB_SHA256_BYTES])
{
    if (!path || !out)
        return RPB_ERR_INVALID_ARGUMENT;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return RPB_ERR_VERIFY_EXE_HASH;
    rpb_sha256_ctx ctx;
    rpb_sha256_init(&ctx);
    /* IDENT-017: fixed-size blocks, never the whole file in memory. */
    uint8_t block[65536];
    ssize_t n;
    while ((n = read(fd, block, sizeof block)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            rpb_sha256_update(&ctx, block, (size_t)n);
    int rc = RPB_ERR_VERIFY_EXE_HASH;
    if (n == 0) {
        rpb_sha256_final(&ctx, out);
        rc = RPB_OK;
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int rpb_identity_current(rpb_identity *id, const char *namespace_id, const char *endpoint_path,
                         bool has_idle, uint32_t idle_secs)
{
    if (!id || !namespace_id || !endpoint_path)
        return RPB_ERR_INVALID_ARGUMENT;
    memset(id, 0, sizeof *id);
    rpb_daemon_process *dp = &id->dp;
    /* IDENT-003 */
    dp->pid = (uint32_t)getpid();
    if (read_link("/proc/self/exe", id->exe_path, sizeof id->exe_path) != 0)
        return RPB_ERR_VERIFY_EXE_PATH;
    dp->exe_path = rpb_slice_cstr(id->exe_path);
    int rc = rpb_sha256_file(id->exe_path, id->exe_sha256);
    if (rc != RPB_OK)
        return rc;
    dp->exe_sha256 = (rpb_slice){id->exe_sha256, RPB_SHA256_BYTES};
    rpb_boot_id(id->boot_id, sizeof id->boot_id);
    dp->boot_id = rpb_slice_cstr(id->boot_id);
    dp->has_ipc_endpoint = true; /* IDENT-001: always present */
    if ((rc = set_string(id->namespace_id, sizeof id->namespace_id, rpb_slice_cstr(namespace_id),
                         &dp->ipc_endpoint.namespace_id)) ||
        (rc = set_string(id->endpoint_path, sizeof id->endpoint_path, rpb_slice_cstr(endpoint_path),
                         &dp->ipc_endpoint.path)))
        return rc;
    struct timespec now;
    if (clock_gettime(CLOCK_REALTIME, &now) == 0 && now.tv_sec >= 0)
        dp->started_at_unix_ms = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
    dp->has_idle_timeout_secs = has_idle;
    dp->idle_timeout_secs = has_idle ? idle_secs : 0;
    return RPB_OK;
}
