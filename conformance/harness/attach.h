/*
 * attach.h - attaching the daemon under test (a broker or a backend):
 * --connect to a running one, or --spawn one in a private temp dir (a
 * broker with the fixture) and stop it after the run (SIGTERM, then
 * SIGKILL after a grace period), keeping its stderr.
 */
#ifndef CONFORM_ATTACH_H
#define CONFORM_ATTACH_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "conform.h"
#include "fixture.h"
#include "sbuf.h"

typedef struct attach {
    enum role role;
    char dir[256];        /* private temp dir (spawn) */
    char services[300];   /* broker: dir/services, mode 0700, the fixture */
    fixture_set fixture;  /* broker: the services written there (spawn), the base set (connect) */
    char identity[300];   /* backend: dir/identity.json, its sidecar ({identity}) */
    char socket[300];     /* the socket path the cases use: dir/ROLE.sock */
    char log[300];        /* dir/ROLE.log: the daemon's stdout+stderr */
    char handoff[300];    /* broker: conform-handoff's handoff socket; backend: its
                           * handoff socket ({handoff}); dir/handoff.sock (spawn),
                           * --handoff-socket (connect), or "" */
    pid_t pid;            /* the spawned daemon, 0 for --connect */
    sbuf command;         /* the spawn command after substitution */
    int exit_status;      /* waitpid status after attach_stop (spawn) */
    bool killed;          /* needed SIGKILL */
    sbuf stderr_text;     /* what the broker wrote (spawn) */
} attach;

/* Makes one complete exchange with the daemon of role at path within
 * timeout_ms (retrying until then) to see that it serves: an admin
 * HEALTHZ for a broker, an identity probe for a backend; handoff_socket
 * (or NULL) is where a broker hands conform-handoff's connections off.
 * Returns 0, or -1 with a message in err. */
int attach_connect(attach *a, enum role role, const char *path, const char *handoff_socket, int timeout_ms,
                   sbuf *err);

/*
 * Makes the temp dir (for a broker, with the fixture), substitutes
 * {socket}, {services}, {identity} and {handoff} in cmd (shell-quoted; a
 * backend has a handoff socket only when cmd names one), runs it with
 * /bin/sh -c in its own process group and waits up to timeout_ms until the
 * daemon answers as for attach_connect().  Returns 0, or -1 with a message
 * in err (the daemon, if started, is stopped again).
 */
int attach_spawn(attach *a, enum role role, const char *cmd, int timeout_ms, sbuf *err);

/* Waits up to ms for the child pid to exit, on its pidfd (polling every
 * 5 ms where pidfd_open is missing), without reaping it: a later waitpid
 * still collects it.  True when it has exited; si then says how. */
bool attach_await_exit(pid_t pid, int ms, siginfo_t *si);

/* True while the spawned daemon is running (always true for --connect). */
bool attach_alive(attach *a);

/* Stops a spawned daemon (SIGTERM, SIGKILL after grace_ms), reads its log
 * into stderr_text and removes the temp dir unless keep. */
void attach_stop(attach *a, int grace_ms, bool keep);

#endif
