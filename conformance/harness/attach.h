/*
 * attach.h - attaching the broker under test: --connect to a running one,
 * or --spawn one with the fixture in a private temp dir and stop it after
 * the run (SIGTERM, then SIGKILL after a grace period), keeping its stderr.
 */
#ifndef CONFORM_ATTACH_H
#define CONFORM_ATTACH_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "fixture.h"
#include "sbuf.h"

typedef struct attach {
    char dir[256];        /* private temp dir (spawn) */
    char services[300];   /* dir/services, mode 0700, the fixture */
    fixture_set fixture;  /* the services written there (spawn), the base set (connect) */
    char socket[300];     /* the socket path the cases use */
    char log[300];        /* dir/broker.log: the broker's stdout+stderr */
    pid_t pid;            /* the spawned broker, 0 for --connect */
    sbuf command;         /* the spawn command after substitution */
    int exit_status;      /* waitpid status after attach_stop (spawn) */
    bool killed;          /* needed SIGKILL */
    sbuf stderr_text;     /* what the broker wrote (spawn) */
} attach;

/* Connects once to path within timeout_ms to see that a broker serves it.
 * Returns 0, or -1 with a message in err. */
int attach_connect(attach *a, const char *path, int timeout_ms, sbuf *err);

/*
 * Makes the temp dir and the fixture, substitutes {socket} and {services}
 * in cmd (shell-quoted), runs it with /bin/sh -c in its own process group
 * and waits up to timeout_ms until the socket accepts.  Returns 0, or -1
 * with a message in err (the broker, if started, is stopped again).
 */
int attach_spawn(attach *a, const char *cmd, int timeout_ms, sbuf *err);

/* Waits up to ms for the child pid to exit, on its pidfd (polling every
 * 5 ms where pidfd_open is missing), without reaping it: a later waitpid
 * still collects it.  True when it has exited; si then says how. */
bool attach_await_exit(pid_t pid, int ms, siginfo_t *si);

/* True while the spawned broker is running (always true for --connect). */
bool attach_alive(attach *a);

/* Stops a spawned broker (SIGTERM, SIGKILL after grace_ms), reads its log
 * into stderr_text and removes the temp dir unless keep. */
void attach_stop(attach *a, int grace_ms, bool keep);

#endif
