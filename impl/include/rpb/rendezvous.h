/*
 * rpb/rendezvous.h - connect to the user's broker, starting it when none
 * answers (spec/discovery.md §2, RDV-001..RDV-012).
 *
 * The socket's directory is the rendezvous point: a lock file beside the
 * socket serialises the processes that find no broker; the one holding the
 * lock removes a stale socket, starts the broker detached and waits until
 * it answers an admin exchange; the others connect as soon as it listens.
 * Authentication is the kernel's: the broker's uid (SO_PEERCRED) must be
 * the caller's, and the directory, lock file and socket must be the
 * caller's own (no cookie: RDV-010).
 */
#ifndef RPB_RENDEZVOUS_H
#define RPB_RENDEZVOUS_H

#include "rpb/error.h"
#include "rpb/export.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum rpb_rdv_how {
    RPB_RDV_CONNECTED = 1,    /* a broker was already listening */
    RPB_RDV_STARTED_BY_OTHER, /* another process started it while this one waited */
    RPB_RDV_STARTED,          /* this call started it */
} rpb_rdv_how;

typedef struct rpb_rdv_options {
    const char *socket_path;  /* the broker socket, e.g. the canonical shared name */
    char *const *broker_argv; /* the broker command (argv[0] searched in PATH); NULL:
                                 connect only, never start */
    const char *log_path;     /* the started broker's stdout and stderr; NULL:
                                 "<socket_path>.log" */
    int64_t deadline_ms;      /* bound of the whole call, rpb_monotonic_ms() clock;
                                 RPB_NO_DEADLINE: none */
} rpb_rdv_options;

typedef struct rpb_rdv_result {
    rpb_rdv_how how;
    bool stale_removed;  /* a stale socket was removed before starting (RDV-005) */
    pid_t broker_pid;    /* RPB_RDV_STARTED: the pid of the broker started */
} rpb_rdv_result;

/*
 * Returns a socket connected to a broker running as the caller's euid
 * (blocking, close-on-exec; one exchange per connection, HELLO-001), with
 * r->how saying how it got there, or a negative code; err (may be NULL)
 * then holds the code and, in err->message, what went wrong and what to
 * fix (rpb/error.h):
 *
 *   RPB_ERR_UNSAFE_PATH   the directory or lock file is a symlink, not the
 *                         caller's, or open to group/others (RDV-002, RDV-003)
 *   RPB_ERR_SQUATTED      something else holds the socket path: not a socket,
 *                         another uid's file or listener (RDV-001, RDV-005)
 *   RPB_ERR_START_FAILED  no broker_argv and no broker, the log could not be
 *                         opened or the command run (RDV-006), or the broker
 *                         exited before it answered (RDV-007)
 *   RPB_ERR_TIMEOUT       the deadline passed (lock held by another process,
 *                         or the broker not ready in time; RDV-008)
 *   RPB_ERR_IO            any other system error (errno kept)
 *   RPB_ERR_INVALID_ARGUMENT  no socket_path, or one that does not fit sun_path
 */
RPB_API int rpb_rendezvous_connect(const rpb_rdv_options *o, rpb_rdv_result *r, rpb_errinfo *err);

/*
 * RDV-002: the directory of socket_path and that directory's parent, each
 * created with mode 0700 when missing, checked before anything is created
 * in them: the directory a real directory of the caller's euid with no
 * group or other bits, the parent no symlink, of the euid or root, sticky
 * when others may write it.  RPB_OK, or (err->message naming the path, its
 * owner and mode, and what to do):
 *
 *   RPB_ERR_UNSAFE_PATH       a check failed
 *   RPB_ERR_IO                a directory could not be created (errno kept)
 *   RPB_ERR_INVALID_ARGUMENT  socket_path has no directory of its own
 *
 * rpb_rendezvous_connect() runs it before taking the lock; a broker runs
 * it on the canonical directory before it starts a backend there
 * (LAUNCH-005).
 */
RPB_API int rpb_rendezvous_prepare_dir(const char *socket_path, rpb_errinfo *err);

/* "connected", "started-by-other", "started". */
RPB_API const char *rpb_rdv_how_name(rpb_rdv_how how);

#ifdef __cplusplus
}
#endif
#endif
