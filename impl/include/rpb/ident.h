/*
 * rpb/ident.h - daemon and host identities of live processes, process
 * verification and the identity sidecar file (spec/probe.md IDENT-*).
 * These functions read /proc, hash files and open pidfds; the wire side of
 * the probe is I/O-free in rpb/probe.h.
 */
#ifndef RPB_IDENT_H
#define RPB_IDENT_H

#include "rpb/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpb/io.h"
#include "rpb/messages.h"
#include "rpb/probe.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RPB_IDENT_PATH_MAX 4096u /* exe_path and endpoint path, bytes */
#define RPB_IDENT_TEXT_MAX 256u  /* boot_id and namespace_id, bytes */
#define RPB_SIDECAR_MAX_BYTES 65536u /* IDENT-034 */

/* A DaemonProcess that owns its strings: dp's slices point into the
 * arrays below (NUL-terminated for convenience; dp's lengths count). */
typedef struct rpb_identity {
    rpb_daemon_process dp;
    char exe_path[RPB_IDENT_PATH_MAX];
    uint8_t exe_sha256[RPB_SHA256_BYTES];
    char boot_id[RPB_IDENT_TEXT_MAX];
    char namespace_id[RPB_IDENT_TEXT_MAX];
    char endpoint_path[RPB_IDENT_PATH_MAX];
} rpb_identity;

/*
 * Copies src into id.  Returns RPB_OK, RPB_ERR_IDENTITY_MISSING_ENDPOINT /
 * RPB_ERR_IDENTITY_SHA256_LENGTH (rpb_identity_check) or
 * RPB_ERR_BUFFER_TOO_SMALL when a string exceeds its array.
 */
RPB_API int rpb_identity_copy(rpb_identity *id, const rpb_daemon_process *src);

/*
 * The identity of the calling process serving endpoint (IDENT-003).
 * has_idle/idle_secs give idle_timeout_secs.  Returns RPB_OK,
 * RPB_ERR_VERIFY_EXE_PATH (/proc/self/exe unreadable),
 * RPB_ERR_VERIFY_EXE_HASH, RPB_ERR_BUFFER_TOO_SMALL or
 * RPB_ERR_INVALID_ARGUMENT.
 */
RPB_API int rpb_identity_current(rpb_identity *id, const char *namespace_id, const char *endpoint_path,
                                 bool has_idle, uint32_t idle_secs);

/* HostIdentity of this host (IDENT-004), owning its strings. */
typedef struct rpb_host {
    rpb_host_identity hi;
    char hostname[256];
    char machine_id[128];
    char boot_id[128];
    char namespace_id[256];
} rpb_host;

/* Fills host for the current process; fs_dev_id is st_dev of the current
 * directory.  Never fails: unreadable values are "unknown" (or 0). */
RPB_API void rpb_host_current(rpb_host *host);

/* The host boot id (IDENT-004): trimmed /proc/sys/kernel/random/boot_id
 * or "unknown", NUL-terminated, truncated to cap - 1 bytes. */
RPB_API void rpb_boot_id(char *out, size_t cap);

/* SHA-256 of the file at path, streamed (IDENT-017).  RPB_OK or
 * RPB_ERR_VERIFY_EXE_HASH (errno kept). */
RPB_API int rpb_sha256_file(const char *path, uint8_t out[RPB_SHA256_BYTES]);

/* A verified process: pid and, where the kernel has them, a pidfd. */
typedef struct rpb_process {
    int32_t pid;
    int pidfd; /* -1 when none */
} rpb_process;

/*
 * Verifies expected against the running system (IDENT-010..IDENT-016, with
 * the strict pidfd confirmation of IDENT-013).  expected->exe_path must not
 * contain NUL (else RPB_ERR_VERIFY_EXE_PATH_MISMATCH).  On RPB_OK *proc
 * holds the pid and pidfd (release with rpb_process_close()); on error it
 * holds nothing.  Returns RPB_OK or one of the RPB_ERR_VERIFY_* codes
 * (RPB_ERR_VERIFY_EXE_PATH / _EXE_HASH keep errno).
 */
RPB_API int rpb_verify_process(const rpb_daemon_process *expected, rpb_process *proc);

/* IDENT-018: true while the process has not exited. */
RPB_API bool rpb_process_alive(const rpb_process *proc);

/* Closes the pidfd, if any.  Safe to call twice. */
RPB_API void rpb_process_close(rpb_process *proc);

/* ---- the identity sidecar (IDENT-030..IDENT-034) ---- */

/* Appends dp as sidecar JSON (IDENT-030) to out.  RPB_OK,
 * RPB_ERR_INVALID_ARGUMENT (a string is not UTF-8, or exe_sha256 is not
 * 32 bytes) or RPB_ERR_NO_MEMORY. */
RPB_API int rpb_sidecar_format(const rpb_daemon_process *dp, rpb_buf *out);

/* Parses sidecar JSON text[0..len) into id (IDENT-031).  RPB_OK,
 * RPB_ERR_SIDECAR_MALFORMED, RPB_ERR_SIDECAR_TOO_LARGE (len over
 * RPB_SIDECAR_MAX_BYTES) or RPB_ERR_NO_MEMORY. */
RPB_API int rpb_sidecar_parse(const char *text, size_t len, rpb_identity *id);

/* Writes dp to path through path.tmp (IDENT-032, IDENT-033).  RPB_OK,
 * RPB_ERR_INVALID_ARGUMENT, RPB_ERR_NO_MEMORY or RPB_ERR_IO (errno kept). */
RPB_API int rpb_sidecar_write(const char *path, const rpb_daemon_process *dp);

/* Reads and parses the sidecar at path (IDENT-034).  RPB_OK,
 * RPB_ERR_SIDECAR_MISSING, RPB_ERR_SIDECAR_UNSAFE,
 * RPB_ERR_SIDECAR_TOO_LARGE, RPB_ERR_SIDECAR_MALFORMED, RPB_ERR_IO (errno
 * kept) or RPB_ERR_NO_MEMORY. */
RPB_API int rpb_sidecar_read(const char *path, rpb_identity *id);

/* Removes the sidecar at path; errors are ignored (IDENT-032). */
RPB_API void rpb_sidecar_remove(const char *path);

#ifdef __cplusplus
}
#endif
#endif
