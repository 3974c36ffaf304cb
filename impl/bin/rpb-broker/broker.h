/*
 * broker.h - internal interfaces of rpb-broker: options, the services
 * directory and the event loop (logging and the listening socket are the
 * shared daemon code, impl/bin/daemon/daemon.h).
 */
#ifndef RPB_BROKER_INTERNAL_H
#define RPB_BROKER_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon.h"
#include "rpb/hello.h"
#include "rpb/launch.h"

/* Exit codes (README.md "rpb-broker", EXIT STATUS). */
#define EXIT_BROKER_OK 0        /* drained after SIGTERM/SIGINT */
#define EXIT_BROKER_RUNTIME 1   /* the event loop failed (epoll, out of memory) */
#define EXIT_BROKER_USAGE 2     /* bad command line */
#define EXIT_BROKER_SERVICES 3  /* services directory missing, not private or unreadable */
#define EXIT_BROKER_SOCKET 4    /* socket path or directory unusable, in use, bind failed */

#define BROKER_MAX_ALLOWED_UIDS 16

/* The handoff's settings (spec/handoff.md §7.1). */
typedef struct handoff_config {
    uint32_t ack_timeout_ms;  /* HANDOFF-015 ack_deadline: every stage of an attempt */
    uint32_t token_ttl_ms;    /* HANDOFF-012, more than ack_timeout_ms */
    uint32_t max_pending;     /* HANDOFF-013 max_pending_tokens */
    uint32_t pause_failures;  /* HANDOFF-061: this many failed attempts of a backend ... */
    uint32_t pause_window_ms; /* ... within this window pause its tokens until it ends */
} handoff_config;

typedef struct broker_config {
    const char *socket_path; /* NULL under socket activation */
    const char *services_dir;
    uint32_t handshake_timeout_ms;
    uint32_t rate_max;
    uint32_t rate_window_ms;
    uint32_t max_connections;
    uint32_t drain_timeout_ms;
    uint32_t idle_exit_ms; /* 0: never exit when idle (RDV-011) */
    const char *log_path; /* NULL: stderr; "-": stdout */
    bool json_log;
    uid_t allowed_uids[BROKER_MAX_ALLOWED_UIDS]; /* the broker's euid first */
    size_t n_allowed_uids;
    int64_t (*clock_ms)(void); /* monotonic ms; NULL: rpb_monotonic_ms (CLOCK_MONOTONIC) */
    bool launch;                /* --launch: start the backends of launched services */
    uint32_t launch_timeout_ms; /* LAUNCH-005: readiness wait of a launched backend */
    handoff_config handoff;
} broker_config;

/* ---- services.c ---- */

typedef struct broker_services {
    const char *dir;
    int inotify_fd; /* -1 when unavailable */
    int dir_wd;     /* watch on dir; -1 while it is missing */
    int parent_wd;  /* watch on dir's parent, for dir (re)appearing */
    char parent[PATH_MAX];  /* dir's parent and last component */
    char name[NAME_MAX + 1];
    uint64_t rejected; /* files that did not load at the last (re)load */
    bool launch;       /* launched services (binary_path, no backend_pipe) are served */
} broker_services;

/* Checks that dir exists and is private (SEC-009), starts watching it.
 * Returns 0 or -1 (message logged). */
int services_open(broker_services *s, const char *dir);

/* (Re)reads every definition file into a new table (NULL when out of
 * memory); a directory that is no longer private yields an empty table. */
rpb_service_table *services_load(broker_services *s);

/* Consumes pending inotify events; true when the directory changed or
 * was replaced (then it is watched again, services_watch). */
bool services_changed(broker_services *s);

/* (Re)establishes the watch on the directory now at the path: after it
 * was moved away, deleted or recreated, and on SIGHUP. */
void services_watch(broker_services *s);

void services_close(broker_services *s);

/* ---- timers.c: the loop's time decisions; each is given the time ---- */

#define FD_PRESSURE_BACKOFF_MS 50 /* SEC-022 */
#define FD_PRESSURE_RECOVERY_STREAK 3 /* SEC-020: upstream parity */
#define TIMERS_POLL_MAX_MS 60000

/* The handshake deadlines (SEC-006) are a dl_list (daemon.h): all
 * connections share one timeout, so the oldest is the first to expire. */

typedef struct broker_timers {
    bool demoted; /* SEC-011 */
    unsigned ok_streak;
    int64_t listen_resume_ms; /* 0: accepting */
    bool draining;            /* SEC-012 */
    int64_t drain_end_ms;
    uint32_t idle_exit_ms;    /* RDV-011; 0: never */
    int64_t idle_since_ms;    /* the last time a connection was open or arrived */
} broker_timers;

/* SEC-011: accept failed for lack of descriptors at now.  Demotes,
 * restarts the recovery streak and pauses accepting for the back-off;
 * true when the broker was not demoted before. */
bool timers_fd_pressure(broker_timers *t, int64_t now);
/* An accept succeeded; true when it completes the recovery streak and so
 * clears the demotion. */
bool timers_accepted(broker_timers *t);
/* True (once) when accepting must resume at now, the back-off being over. */
bool timers_listen_due(broker_timers *t, int64_t now);
/* SEC-012: a stop signal at now starts the drain; false when already
 * draining (the second signal, which stops at once). */
bool timers_drain(broker_timers *t, int64_t now, uint32_t drain_ms);
/* True when the drain has ended at now. */
bool timers_drain_over(const broker_timers *t, int64_t now);
/* RDV-011: a connection is open, or arrived, at now. */
void timers_active(broker_timers *t, int64_t now);
/* RDV-011: true when idle_exit_ms have passed at now since the last
 * activity (never while draining, never with idle_exit_ms 0). */
bool timers_idle_over(const broker_timers *t, int64_t now);
/* The wait at now until the next of: the oldest deadline, the end of the
 * back-off, the end of the drain, the idle exit (with no connection open);
 * 0 when one is due, at most
 * TIMERS_POLL_MAX_MS, -1 when there is none. */
int timers_poll_ms(const broker_timers *t, const dl_list *dl, int64_t now);

/* ---- launch.c: backends started on demand (spec/discovery.md §3) ---- */

typedef struct broker_launcher broker_launcher;

/* Called when the launch of slot ended: ok, the slot is READY; else IDLE. */
typedef void (*launch_done_fn)(void *ctx, rpb_launch_slot *slot, bool ok);

typedef enum launch_answer {
    LAUNCH_ANSWER_USE,    /* the slot's backend is ready: negotiate */
    LAUNCH_ANSWER_WAIT,   /* a launch is in flight: wait for done (LAUNCH-007) */
    LAUNCH_ANSWER_BUDGET, /* refuse spawn-budget with *retry_ms (LAUNCH-006) */
    LAUNCH_ANSWER_FAILED, /* refuse spawn-failed (LAUNCH-006) */
} launch_answer;

/* A launcher whose descriptors join epoll set ep; NULL when out of memory. */
broker_launcher *launcher_new(const broker_config *cfg, int ep, launch_done_fn done, void *ctx);
/* LAUNCH-012: stops (SIGTERM, then SIGKILL after 1 s) and reaps every
 * launched backend, then frees L. */
void launcher_free(broker_launcher *L);
/* The backend for a negotiated Hello of launched service svc, version
 * version, carried by req (its trace, LAUNCH-002) at now: uses, starts or
 * waits for the launch of the key. */
launch_answer launcher_hello(broker_launcher *L, const rpb_service *svc, const rpb_frame *req,
                             rpb_slice version, int64_t now, rpb_launch_slot **slot, uint64_t *retry_ms);
/* Handles an event of fd; false when fd is not the launcher's. */
bool launcher_event(broker_launcher *L, int fd);
/* Readiness retries and deadlines due at now (LAUNCH-005). */
void launcher_tick(broker_launcher *L, int64_t now);
/* The registry of launched backends, for the admin verbs (LAUNCH-013). */
const rpb_launch_registry *launcher_registry(const broker_launcher *L);
/* True while a launch is in flight (LAUNCH-012: the broker is not idle). */
bool launcher_busy(const broker_launcher *L);
/* The wait until the next retry or deadline; -1 when none. */
int launcher_poll_ms(const broker_launcher *L, int64_t now);
/* ---- handoff.c: the SCM_RIGHTS handoff (spec/handoff.md §3, §4, §7) ---- */

typedef struct broker_handoff broker_handoff;
typedef struct handoff_attempt handoff_attempt;

/* The handoff state whose sockets join epoll set ep; NULL when out of
 * memory.  now is the loop's clock. */
broker_handoff *handoff_new(const handoff_config *cfg, int ep, int64_t (*now)(void));
/* Ends every attempt in flight (logged "shutdown", descriptors closed),
 * then frees H. */
void handoff_free(broker_handoff *H);
/* The Hello handler's token source (rpb_hello_token_fn, ctx H): a token
 * only for a service with a handoff endpoint whose attempts are not
 * paused (HELLO-035, HANDOFF-061), from H's store (HANDOFF-010). */
int handoff_token(void *ctx, const rpb_service *svc, uint8_t token[RPB_HANDOFF_TOKEN_BYTES]);
/* A Negotiated d carrying a token was decided for connection conn_seq:
 * keeps what its attempt needs (NULL when out of memory, the token then
 * revoked). */
handoff_attempt *handoff_prepare(broker_handoff *H, const rpb_hello_decision *d, uint64_t conn_seq);
/* The connection_id of a's Negotiated, drawn when it is sent (a launched
 * service, HELLO-036), is its correlation id (HANDOFF-021). */
void handoff_correlate(handoff_attempt *a, uint64_t connection_id);
/* The Negotiated of a was written: the attempt takes client_fd (out of
 * the epoll set, blocking; closed when the attempt ends) and starts. */
void handoff_start(broker_handoff *H, handoff_attempt *a, int client_fd);
/* The Negotiated of a was not written: the token ends with it (HANDOFF-016). */
void handoff_cancel(broker_handoff *H, handoff_attempt *a);
/* Handles an epoll event of fd when it is an attempt's (a lookup among the
 * attempts in flight: pass only fds that are no connection's). */
void handoff_event(broker_handoff *H, int fd);
/* Deadlines (HANDOFF-060) and pause windows (HANDOFF-061) due at now. */
void handoff_tick(broker_handoff *H, int64_t now);
/* The wait until the next deadline or window end; -1 when none. */
int handoff_poll_ms(const broker_handoff *H, int64_t now);
/* True while an attempt is in flight (the broker is not idle). */
bool handoff_busy(const broker_handoff *H);

/* ---- loop.c ---- */

/* Runs the broker until drained; returns the exit code. */
int broker_run(const broker_config *cfg, broker_listener *l, broker_services *s);

#endif
