/*
 * cases_ident.c - backend/identity/...: the DaemonProcess a backend answers
 * with is its own (spec/probe.md IDENT-003): the process the kernel names
 * as the peer of the harness's connection (SO_PEERCRED), its executable
 * (/proc/PID/exe) and that file's SHA-256, the host's boot id, the
 * endpoint the harness connected to; it passes process verification
 * (IDENT-010..IDENT-018), and it matches the backend's identity sidecar
 * when one is given (IDENT-030..IDENT-034).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cases.h"

/* The identity from one probe and the pid of the process that answered
 * (the kernel's view); false with the failure recorded. */
static bool answered_identity(cctx *c, rpb_identity *id, int32_t *pid)
{
    if (!probe_identity(c, "probe with a fresh nonce", id, pid))
        return false;
    if (*pid <= 0) {
        c_skip(c, "SO_PEERCRED gave no peer pid for the connection");
        return false;
    }
    return true;
}

static void case_pid(cctx *c)
{
    rpb_identity id;
    int32_t pid;
    if (answered_identity(c, &id, &pid) && id.dp.pid != (uint32_t)pid)
        c_fail(c, "expected DaemonProcess.pid %d, the peer pid of the connection (SO_PEERCRED); observed %u", pid,
               id.dp.pid);
}

/* /proc/PID/exe of the process that answered, canonicalised; false with
 * the case skipped when it cannot be read. */
static bool peer_exe(cctx *c, int32_t pid, char *out, size_t cap)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/%d/exe", pid);
    ssize_t n = readlink(link, out, cap - 1);
    if (n < 0) {
        c_skip(c, "cannot read %s: %s", link, strerror(errno));
        return false;
    }
    out[n] = 0;
    return true;
}

/* Canonicalises path in place where realpath can (IDENT-015). */
static void canonical(char *path, size_t cap)
{
    char real[PATH_MAX];
    if (realpath(path, real) && strlen(real) < cap)
        memcpy(path, real, strlen(real) + 1);
}

static void case_exe_path(cctx *c)
{
    rpb_identity id;
    int32_t pid;
    char actual[RPB_IDENT_PATH_MAX], claimed[RPB_IDENT_PATH_MAX];
    if (!answered_identity(c, &id, &pid) || !peer_exe(c, pid, actual, sizeof actual))
        return;
    snprintf(claimed, sizeof claimed, "%s", id.exe_path);
    canonical(claimed, sizeof claimed);
    canonical(actual, sizeof actual);
    if (!rpb_path_equal(rpb_slice_cstr(claimed), rpb_slice_cstr(actual)))
        c_fail(c, "expected exe_path to be the peer's executable %s (/proc/%d/exe); observed \"%s\"", actual, pid,
               id.exe_path);
}

static void case_exe_sha256(cctx *c)
{
    rpb_identity id;
    int32_t pid;
    if (!answered_identity(c, &id, &pid))
        return;
    char link[64];
    uint8_t digest[RPB_SHA256_BYTES];
    snprintf(link, sizeof link, "/proc/%d/exe", pid);
    if (rpb_sha256_file(link, digest) != RPB_OK) {
        c_skip(c, "cannot hash %s: %s", link, strerror(errno));
        return;
    }
    if (memcmp(digest, id.exe_sha256, RPB_SHA256_BYTES) != 0) {
        char want[65], got[65];
        rpb_hex_encode(digest, RPB_SHA256_BYTES, want);
        rpb_hex_encode(id.exe_sha256, RPB_SHA256_BYTES, got);
        c_fail(c, "expected exe_sha256 %s, the SHA-256 of /proc/%d/exe; observed %s", want, pid, got);
    }
}

static void case_boot_id(cctx *c)
{
    rpb_identity id;
    int32_t pid;
    char host[RPB_IDENT_TEXT_MAX];
    if (!answered_identity(c, &id, &pid))
        return;
    rpb_boot_id(host, sizeof host);
    if (strcmp(host, id.boot_id) != 0)
        c_fail(c, "expected boot_id \"%s\", this host's (/proc/sys/kernel/random/boot_id); observed \"%s\"", host,
               id.boot_id);
}

static void case_endpoint(cctx *c)
{
    rpb_identity id;
    int32_t pid;
    if (answered_identity(c, &id, &pid) && strcmp(id.endpoint_path, c->cfg->socket_path) != 0)
        c_fail(c, "expected ipc_endpoint.path \"%s\", the socket the probe came through (exact bytes, as PROBE-020 "
                  "compares); observed \"%s\"", c->cfg->socket_path, id.endpoint_path);
}

/* The identity passes the requester's process verification. */
static void case_verified(cctx *c)
{
    rpb_identity id;
    int32_t pid;
    if (!answered_identity(c, &id, &pid))
        return;
    rpb_process proc;
    int rc = rpb_verify_process(&id.dp, &proc);
    if (rc != RPB_OK)
        c_fail(c, "expected the answered identity to pass process verification; observed %s (%s)", rpb_errname(rc),
               rpb_err_requirement(rc));
    else if (!rpb_process_alive(&proc))
        c_fail(c, "expected the verified backend process to be alive; observed it gone");
    rpb_process_close(&proc);
}

/* The sidecar, when given: false with the case skipped, or failed when
 * it does not read. */
static bool read_sidecar(cctx *c, rpb_identity *side)
{
    if (!c->cfg->identity_file) {
        c_skip(c, "no sidecar: give --identity FILE, or {identity} in the --spawn command");
        return false;
    }
    int rc = rpb_sidecar_read(c->cfg->identity_file, side);
    if (rc != RPB_OK)
        c_fail(c, "expected the identity sidecar %s to read as upstream's JSON; observed %s", c->cfg->identity_file,
               rpb_errname(rc));
    return rc == RPB_OK;
}

static void case_sidecar(cctx *c)
{
    rpb_identity side, id;
    int32_t pid;
    if (!read_sidecar(c, &side) || !answered_identity(c, &id, &pid))
        return;
    const char *field = rpb_identity_first_mismatch(&id.dp, &side.dp);
    if (field)
        c_fail(c, "expected the answered identity to equal the sidecar %s (PROBE-028 order); observed a different %s",
               c->cfg->identity_file, field);
}

static void case_sidecar_private(cctx *c)
{
    rpb_identity side;
    if (!read_sidecar(c, &side))
        return;
    struct stat st;
    if (stat(c->cfg->identity_file, &st) < 0)
        c_fail(c, "harness: cannot stat %s: %s", c->cfg->identity_file, strerror(errno));
    else if (st.st_mode & 077)
        c_fail(c, "expected the sidecar %s to have no group or other permission bits (0600); observed %04o",
               c->cfg->identity_file, st.st_mode & 07777);
}

static const hcase rows[] = {
    ROW("backend/identity/pid", CORE, "IDENT-003", "DaemonProcess.pid is the pid of the connection's peer (SO_PEERCRED)", case_pid),
    ROW("backend/identity/exe-path", CORE, "IDENT-003 IDENT-014 IDENT-015", "exe_path is the peer's /proc/PID/exe (canonicalised, compared by components)", case_exe_path),
    ROW("backend/identity/exe-sha256", CORE, "IDENT-003 IDENT-016", "exe_sha256 is the SHA-256 of the peer's /proc/PID/exe", case_exe_sha256),
    ROW("backend/identity/boot-id", CORE, "IDENT-003 IDENT-004", "boot_id is this host's boot id", case_boot_id),
    ROW("backend/identity/endpoint", CORE, "IDENT-003 PROBE-020", "ipc_endpoint.path is the socket path the harness connected to", case_endpoint),
    ROW("backend/identity/verified", CORE, "IDENT-010 IDENT-011 IDENT-012 IDENT-014 IDENT-015 IDENT-016 IDENT-018", "the answered identity passes process verification", case_verified),
    ROW("backend/identity/sidecar", CORE, "IDENT-030 IDENT-031 IDENT-032 PROBE-028", "the identity sidecar reads and equals the answered identity (skipped without one)", case_sidecar),
    ROW("backend/identity/sidecar-private", STRICT, "IDENT-033", "the identity sidecar has no group or other permission bits (skipped without one)", case_sidecar_private),
};

CASE_TABLE(cases_ident, rows);
