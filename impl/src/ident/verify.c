/*
 * verify.c - process verification (spec/probe.md IDENT-010..IDENT-018):
 * pid rules, boot id, existence, pidfd, /proc/PID/exe, its digest, and the
 * strict confirmation that the process did not exit meanwhile.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rpb/ident.h"

static bool pid_exists(int32_t pid)
{
    /* IDENT-012: EPERM means it exists but belongs to someone else. */
    return kill(pid, 0) == 0 || errno == EPERM;
}

static int open_pidfd(int32_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

bool rpb_process_alive(const rpb_process *proc)
{
    if (!proc || proc->pid <= 0)
        return false;
    if (proc->pidfd < 0)
        return pid_exists(proc->pid);
    /* IDENT-018: a pidfd becomes readable when the process exits. */
    struct pollfd p = {.fd = proc->pidfd, .events = POLLIN};
    return poll(&p, 1, 0) == 0;
}

void rpb_process_close(rpb_process *proc)
{
    if (proc && proc->pidfd >= 0) {
        close(proc->pidfd);
        proc->pidfd = -1;
    }
}

/* realpath(3) of path, or path itself when it does not canonicalise. */
static rpb_slice canonical(const char *path, char *buf)
{
    return rpb_slice_cstr(realpath(path, buf) ? buf : path);
}

/* IDENT-014..IDENT-016 for an opened process. */
static int check_executable(const rpb_daemon_process *expected, int32_t pid)
{
    char link[64], actual[PATH_MAX];
    snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(link, actual, sizeof actual - 1); /* IDENT-014 */
    if (n < 0)
        return RPB_ERR_VERIFY_EXE_PATH;
    actual[n] = '\0';

    /* IDENT-015: both sides canonicalised, compared by components. */
    char want[PATH_MAX], want_real[PATH_MAX], actual_real[PATH_MAX];
    if (expected->exe_path.len >= sizeof want ||
        memchr(expected->exe_path.data, '\0', expected->exe_path.len))
        return RPB_ERR_VERIFY_EXE_PATH_MISMATCH;
    memcpy(want, expected->exe_path.data, expected->exe_path.len);
    want[expected->exe_path.len] = '\0';
    if (!rpb_path_equal(canonical(want, want_real), canonical(actual, actual_real)))
        return RPB_ERR_VERIFY_EXE_PATH_MISMATCH;

    uint8_t digest[RPB_SHA256_BYTES]; /* IDENT-016: the readlink path */
    int rc = rpb_sha256_file(actual, digest);
    if (rc != RPB_OK)
        return rc;
    if (expected->exe_sha256.len != RPB_SHA256_BYTES ||
        memcmp(digest, expected->exe_sha256.data, RPB_SHA256_BYTES) != 0)
        return RPB_ERR_VERIFY_SHA256_MISMATCH;
    return RPB_OK;
}

int rpb_verify_process(const rpb_daemon_process *expected, rpb_process *proc)
{
    if (!expected || !proc)
        return RPB_ERR_INVALID_ARGUMENT;
    proc->pid = 0;
    proc->pidfd = -1;
    if (expected->pid == 0) /* IDENT-010 */
        return RPB_ERR_VERIFY_INVALID_PID;
    char boot[RPB_IDENT_TEXT_MAX]; /* IDENT-011: both non-empty and different */
    rpb_boot_id(boot, sizeof boot);
    if (expected->boot_id.len && boot[0] && !rpb_slice_eq_cstr(expected->boot_id, boot))
        return RPB_ERR_VERIFY_BOOT_ID;
    if (expected->pid > INT32_MAX) /* IDENT-010, after the boot id as upstream */
        return RPB_ERR_VERIFY_INVALID_PID;
    int32_t pid = (int32_t)expected->pid;
    if (!pid_exists(pid)) /* IDENT-012 */
        return RPB_ERR_VERIFY_NOT_FOUND;

    /* IDENT-013: hold the process by a pidfd across the checks. */
    int pidfd = open_pidfd(pid);
    if (pidfd < 0 && errno == ESRCH)
        return RPB_ERR_VERIFY_NOT_FOUND;
    rpb_process held = {.pid = pid, .pidfd = pidfd};
    int rc = check_executable(expected, pid);
    if (rc == RPB_OK && !rpb_process_alive(&held))
        rc = RPB_ERR_VERIFY_PROCESS_EXITED;
    if (rc != RPB_OK) {
        int saved = errno;
        rpb_process_close(&held);
        errno = saved;
        return rc;
    }
    *proc = held;
    return RPB_OK;
}
