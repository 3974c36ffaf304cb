/*
 * backend.h - internal interfaces of rpb-backend: options and the event
 * loop.  Logging and the listening socket are the shared daemon code
 * (impl/bin/daemon/daemon.h).
 */
#ifndef RPB_BACKEND_INTERNAL_H
#define RPB_BACKEND_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon.h"
#include "rpb/ident.h"

/* Exit codes (README.md, rpb-backend). */
#define EXIT_BACKEND_OK 0       /* SIGTERM/SIGINT, or idle for --idle-timeout */
#define EXIT_BACKEND_RUNTIME 1  /* the event loop failed (epoll, out of memory) */
#define EXIT_BACKEND_USAGE 2    /* bad command line */
#define EXIT_BACKEND_SOCKET 4   /* socket path or directory unusable, in use, bind failed */
#define EXIT_BACKEND_IDENTITY 5 /* own identity unreadable, or the sidecar not written */

/* MUX-006: the frame cap of rpb-backend, decided from the header. */
#define BACKEND_MAX_FRAME (1024u * 1024u)

typedef struct backend_config {
    const char *socket_path;
    const char *identity_file; /* NULL: no sidecar */
    const char *namespace_id;
    uint32_t idle_timeout_s;  /* 0: never exit for idleness */
    bool has_idle_timeout;
    bool has_echo;
    uint32_t echo_protocol;
    uint32_t frame_timeout_ms; /* MUX-006: deadline for each next frame */
    uint32_t max_connections;
    const char *log_path;
    bool json_log;
} backend_config;

/* Runs the backend until a signal or the idle timeout; returns the exit
 * code.  self is the identity probes are answered with. */
int backend_run(const backend_config *cfg, broker_listener *l, const rpb_daemon_process *self);

#endif
