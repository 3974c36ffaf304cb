/*
 * backend.h - internal interfaces of rpb-backend: options, the event loop
 * (loop.c) and the handoff receiver (receiver.c).  Logging and the
 * listening sockets are the shared daemon code (impl/bin/daemon/daemon.h).
 */
#ifndef RPB_BACKEND_INTERNAL_H
#define RPB_BACKEND_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon.h"
#include "rpb/handoff.h"
#include "rpb/ident.h"
#include "rpb/probe.h"

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
    const char *handoff_socket; /* NULL: no handoff receiver */
    uint32_t handoff_timeout_ms; /* HANDOFF-046: a handoff connection's whole exchange */
    const char *log_path;
    bool json_log;
} backend_config;

/* The accepted tokens a receiver remembers (HANDOFF-047). */
#define BACKEND_RECENT_TOKENS 1024u

/* Where a handoff connection is (receiver.c). */
typedef enum handoff_phase {
    HANDOFF_FD,    /* waiting for the token and descriptor (HANDOFF-040) */
    HANDOFF_OFFER, /* reading the offer frame (HANDOFF-042) */
    HANDOFF_ACK,   /* writing the ACK (HANDOFF-043) */
} handoff_phase;

/* What a connection is: served through the mux, accepted on the main
 * socket (logged via "socket") or adopted from a handoff (via "handoff",
 * its open file shared with the broker's copy), or a handoff connection
 * on the --handoff-socket. */
typedef enum conn_kind {
    CONN_SOCKET,
    CONN_ADOPTED,
    CONN_HANDOFF,
} conn_kind;

typedef struct conn {
    dl_node dl; /* first: the deadline FIFO's node is the connection */
    int fd;
    uint64_t seq;
    int32_t pid;
    uint32_t uid;
    conn_kind kind;
    bool watched;    /* in the epoll set, for events: */
    uint32_t events;
    rpb_buf in;      /* received, not yet classified */
    rpb_buf out;     /* replies (or the ACK) not yet written */
    size_t out_off;  /* bytes of out already written */
    bool eof;        /* the peer finished sending */
    int fatal;       /* a mux error: close once the answers before it are written */
    int64_t opened_ms;
    uint32_t probes, payloads;
    /* a handoff connection: */
    handoff_phase phase;
    int received_fd;                        /* the descriptor received, or -1 */
    uint8_t token[RPB_HANDOFF_TOKEN_BYTES]; /* the sendmsg's token */
    int verdict;                            /* the ACK's (rpb_handoff_offer_verdict) */
} conn;

typedef struct backend {
    const backend_config *cfg;
    broker_listener *l;
    broker_listener *hl; /* the handoff socket, or NULL */
    rpb_mux mux;
    uint32_t served[1];
    rpb_buf reply; /* the mux's reply scratch */
    int ep, sigfd;
    uid_t euid; /* MUX-007: the one uid served */
    dl_list dl;  /* every served connection, the first to expire (MUX-006) first */
    dl_list hdl; /* every handoff connection, likewise (HANDOFF-046) */
    size_t n_conns;
    uint64_t seq;
    int64_t idle_since_ms;
    bool stop;
    /* HANDOFF-047: the last tokens accepted, a ring */
    uint8_t (*recent)[RPB_HANDOFF_TOKEN_BYTES];
    size_t n_recent, recent_next;
} backend;

/* Runs the backend until a signal or the idle timeout; returns the exit
 * code.  self is the identity probes are answered with; hl the handoff
 * socket's listener, or NULL. */
int backend_run(const backend_config *cfg, broker_listener *l, broker_listener *hl,
                const rpb_daemon_process *self);

/* ---- loop.c, for the receiver ---- */

/* Opens a connection of kind on the accepted or adopted fd, served from
 * now unless its peer is another uid (MUX-007) or the backend is full.
 * Returns it, or NULL when it was closed at once.  It is not watched yet:
 * the caller reads it at once (an accepted one), which watches it when it
 * must wait, or calls conn_wait_input(). */
conn *conn_open(backend *b, int fd, conn_kind kind);
/* Logs the connection's outcome (rc < 0: its class and the requirement
 * broken: requirement, or when NULL rpb_err_requirement(rc)) and closes it,
 * with the descriptor it received, if any. */
void conn_close(backend *b, conn *c, const char *outcome, int rc, const char *requirement);
/* Writes what is pending (conn_flush); the receiver's ACK included. */
void conn_flush(backend *b, conn *c);
/* Watches c for input (EPOLLIN, EPOLLRDHUP): added to the epoll set the
 * first time, modified only when its events change; closes c when
 * epoll_ctl fails. */
void conn_wait_input(backend *b, conn *c);

/* ---- receiver.c: the handoff receiver (spec/handoff.md §5) ---- */

/* Advances handoff connection c on readable input. */
void receiver_read(backend *b, conn *c);
/* The ACK of c is written: adopts the descriptor or closes it. */
void receiver_acked(backend *b, conn *c);

#endif
