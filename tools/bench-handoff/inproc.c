/*
 * inproc.c - see inproc.h.  Each round is one route's own steps, timed
 * from the first to the last system call on its critical path; what both
 * routes do alike (the Hello and its Negotiated, the backend's watch of
 * the connection it ends up with, the echo, the closes after the first
 * reply) is left out of both.  The calls are librpb's, with the flags the
 * reference daemons use.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "inproc.h"
#include "rpb/rpb.h"

#define CORRELATION_ID 1u

typedef struct inproc {
    char backend_pipe[108];
    struct sockaddr_un handoff_endpoint;
    int backend_l, handoff_l; /* their listening sockets */
    rpb_handoff_slot slots[4];
    rpb_handoff_store store;
} inproc;

/* Closes *fd and marks it closed; true. */
static bool close_now(int *fd)
{
    close(*fd);
    *fd = -1;
    return true;
}

static void close_all(const int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

/* The reconnect's own steps, as rpb_connect_backend() makes them: the
 * client closes its control connection (a socketpair made before the
 * clock starts) and connects to backend_pipe (HELLO-064); the backend
 * accepts. */
static bool reconnect_round(void *ctx, int64_t *ns)
{
    inproc *p = ctx;
    int ctl[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) != 0)
        return false;
    int64_t t0 = bench_now_ns();
    close(ctl[0]);
    int c = rpb_client_connect(p->backend_pipe, RPB_NO_DEADLINE);
    int s = c >= 0 ? accept4(p->backend_l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC) : -1;
    *ns = bench_now_ns() - t0;
    bool ok = c >= 0 && s >= 0;
    int fds[] = {ctl[1], c, s};
    close_all(fds, sizeof fds / sizeof fds[0]);
    return ok;
}

/* The handoff's own steps, in the order of spec/handoff.md §1: the token
 * (HANDOFF-010; a service without a handoff endpoint gets none), the
 * broker's registration and dial (HANDOFF-015, HANDOFF-020), descriptor
 * and offer in one system call (HANDOFF-020, HANDOFF-021), the receiver's
 * accept, checks and ACK (HANDOFF-040 to HANDOFF-044), the broker's ACK
 * checks (HANDOFF-030), the handoff-ready written to the client and the
 * broker's copy closed (HANDOFF-031), the client's read and checks of it
 * (HANDOFF-051).  The client's control connection is a socketpair made
 * before the clock starts. */
static bool handoff_round(void *ctx, int64_t *ns)
{
    inproc *p = ctx;
    int ctl[2]; /* [0] the client's end, [1] the broker's copy */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) != 0)
        return false;
    uint8_t token[RPB_HANDOFF_TOKEN_BYTES] = {0}, offer[256], ready[RPB_HANDOFF_READY_MAX_BYTES],
        in[256];
    size_t offer_len, offer_sent, ready_len, used;
    rpb_handoff_received got = {.fd = -1};
    rpb_handoff_ack ack;
    rpb_buf body = {0};
    rpb_slice ack_body;
    ssize_t n = -1;
    int h = -1, r = -1;

    int64_t t0 = bench_now_ns();
    int64_t now = rpb_monotonic_ms();
    bool ok =
        rpb_handoff_issue(&p->store, now, token) == RPB_OK &&
        rpb_handoff_register(&p->store, token, now) == RPB_OK &&
        (h = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) >= 0 &&
        connect(h, (const struct sockaddr *)&p->handoff_endpoint, sizeof p->handoff_endpoint) == 0 &&
        rpb_handoff_offer_encode(token, rpb_slice_cstr("svc"), CORRELATION_ID, offer,
                                 sizeof offer, &offer_len) == RPB_OK &&
        rpb_handoff_send_offer(h, ctl[1], token, offer, offer_len, 0, &offer_sent) == RPB_OK &&
        offer_sent == offer_len &&
        (r = accept4(p->handoff_l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0 &&
        rpb_handoff_receive(r, RPB_NO_DEADLINE, &got, NULL) == RPB_OK &&
        (n = recv(h, in, sizeof in, MSG_DONTWAIT)) > 0 &&
        rpb_frame_split(in, (size_t)n, RPB_MAX_FRAME_BYTES, &ack_body, &used, NULL) == RPB_OK &&
        rpb_handoff_ack_decide(&p->store, token, CORRELATION_ID, ack_body.data, ack_body.len,
                               rpb_monotonic_ms(), ready, sizeof ready, &ready_len, &ack,
                               NULL) == RPB_OK &&
        send(ctl[1], ready, ready_len, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)ready_len &&
        close_now(&ctl[1]) &&
        rpb_read_frame(ctl[0], RPB_MAX_FRAME_BYTES, RPB_NO_DEADLINE, &body, NULL) == RPB_OK &&
        rpb_handoff_ready_check(body.data, body.len, token, sizeof token, &ack, NULL) == RPB_OK;
    *ns = bench_now_ns() - t0;

    if (!ok)
        rpb_handoff_abandon(&p->store, token); /* HANDOFF-016 */
    int fds[] = {ctl[0], ctl[1], h, r, got.fd};
    close_all(fds, sizeof fds / sizeof fds[0]);
    rpb_buf_free(&got.body);
    rpb_buf_free(&body);
    return ok;
}

bool inproc_measure(const char *dir, size_t count, inproc_figures *out)
{
    inproc p = {.handoff_endpoint = {.sun_family = AF_UNIX}};
    snprintf(p.backend_pipe, sizeof p.backend_pipe, "%s/inproc-backend.sock", dir);
    snprintf(p.handoff_endpoint.sun_path, sizeof p.handoff_endpoint.sun_path,
             "%s/inproc-handoff.sock", dir);
    p.backend_l = bench_listen(p.backend_pipe);
    p.handoff_l = bench_listen(p.handoff_endpoint.sun_path);
    bool ok = p.backend_l >= 0 && p.handoff_l >= 0 &&
              rpb_handoff_store_init(&p.store, p.slots, 4, NULL) == RPB_OK;
    if (ok) {
        out->reconnect = bench_measure_rounds(reconnect_round, &p, count);
        out->handoff = bench_measure_rounds(handoff_round, &p, count);
    }
    if (p.backend_l >= 0)
        close(p.backend_l);
    if (p.handoff_l >= 0)
        close(p.handoff_l);
    unlink(p.backend_pipe);
    unlink(p.handoff_endpoint.sun_path);
    return ok;
}
