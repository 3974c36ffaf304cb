/*
 * conn.h - the connection helper layer: connect with a timeout (from the
 * harness or from a helper process with its own pid or uid), send raw
 * bytes, read one framed reply with a deadline, observe the close.
 *
 * Every connection opened through hc_open() is recorded in the case's
 * result for the reports (conform.h: which of them are kept).
 */
#ifndef CONFORM_CONN_H
#define CONFORM_CONN_H

#include "conform.h"

/* How a read or a wait ended. */
enum hend {
    H_REPLY,   /* one complete frame arrived */
    H_EOF,     /* orderly close, nothing (more) received */
    H_RESET,   /* ECONNRESET */
    H_TIMEOUT, /* deadline passed, connection still open */
    H_GARBAGE, /* bytes that are not a v1 frame (or a truncated one) */
    H_ERROR,   /* local error */
};
const char *hend_name(int end);

/* A process that opens connections on the harness's behalf, so that the
 * broker sees another peer pid (and, as root, another uid). */
typedef struct horigin {
    pid_t pid;
    int ctl;
    bool foreign; /* runs as another uid */
} horigin;

/* Starts a helper process whose connects to socket_path give up after
 * timeout_ms; foreign_uid makes it run as uid/gid 65534 (root only).
 * Returns 0 or -errno. */
int origin_start(horigin *o, const char *socket_path, int timeout_ms, bool foreign_uid);
void origin_stop(horigin *o);

typedef struct hconn {
    int fd;
    cctx *c;
    exchange *ex; /* NULL when not recorded */
} hconn;

/* The decoded reply to a Hello or admin request. */
typedef struct hreply {
    int end;          /* enum hend */
    exchange *ex;     /* the recorded exchange it belongs to, or NULL */
    sbuf raw;         /* the bytes of the frame (or whatever arrived) */
    bool frame_ok;
    rpb_frame frame;  /* slices point into raw */
    int payload_err;  /* RPB_OK when the payload decoded as expected */
    rpb_hello_reply hello;
    rpb_admin_reply admin;
    void *arena_mem;
} hreply;

void hr_free(hreply *r);

/* Reads one framed reply on hc within timeout_ms (hc_read_reply()) whose
 * exact bytes must be want[0..n): the report shows them, and text,
 * beside what came.  Returns r->end. */
__attribute__((format(printf, 6, 7))) int hc_read_expected(hconn *hc, int timeout_ms, hreply *r,
                                                           const uint8_t *want, size_t n, const char *text, ...);

/* Connects to the broker (from o, or from the harness when o is NULL);
 * label names the connection in reports.  Returns 0 or -errno (the failure
 * is recorded as the connection's end). */
int hc_open(cctx *c, hconn *hc, const horigin *o, const char *label);

/* hc_open() from the harness to the socket at path instead, e.g. a
 * backend's handoff socket. */
int hc_open_at(cctx *c, hconn *hc, const char *path, const char *label);

/* Records fd, a connection the daemon got another way than by accepting
 * it (a descriptor handed off to a backend), as the case's next
 * connection: counted as one the daemon numbers (usock.h). */
void hc_adopt(cctx *c, hconn *hc, int fd, const char *label);

/* Sends all of data within the reply deadline.  Returns 0 or -errno
 * (EPIPE when the broker has closed). */
int hc_send(hconn *hc, const void *data, size_t len);

/* Half-closes the write side (the broker sees EOF). */
void hc_shut_wr(hconn *hc);

/* Reads one framed reply within timeout_ms and decodes it: the payload as
 * HelloReply when payload_protocol is 0x0000, as AdminReply when 0xAD01.
 * Returns r->end. */
int hc_read_reply(hconn *hc, int timeout_ms, hreply *r);

/* Waits up to timeout_ms for the broker to close: H_EOF or H_RESET when it
 * did, H_TIMEOUT when still open, H_GARBAGE when more bytes came. */
int hc_wait_close(hconn *hc, int timeout_ms);

void hc_close(hconn *hc);

/* connect() + send(stimulus) + read reply, the common exchange.  Returns
 * r->end (H_ERROR when the connect failed). */
int hc_exchange(cctx *c, const horigin *o, const char *label, const sbuf *stimulus, hreply *r);

/* hc_exchange() with the reply read within timeout_ms (e.g. the prompt
 * deadline) instead of the reply deadline. */
int hc_exchange_within(cctx *c, const horigin *o, const char *label, const sbuf *stimulus, int timeout_ms,
                       hreply *r);

#endif
