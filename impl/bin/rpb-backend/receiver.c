/*
 * The handoff receiver of rpb-backend (spec/handoff.md §5): on each
 * connection of the --handoff-socket, the token and descriptor
 * (HANDOFF-040, HANDOFF-041), one offer frame (HANDOFF-042), the ACK
 * (HANDOFF-043, HANDOFF-044, HANDOFF-047), then the descriptor is served
 * as a connection of the main socket (HANDOFF-045).  Every step runs in
 * the event loop on non-blocking sockets, under the connection's one
 * deadline (HANDOFF-046); every failure is logged with its class and
 * closes the connection and the descriptor.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"

#define OFFER_CHUNK 4096u

/* HANDOFF-047: a token accepted among the last BACKEND_RECENT_TOKENS is
 * refused; an accepted one is remembered. */
static bool replayed(const backend *b, const uint8_t token[RPB_HANDOFF_TOKEN_BYTES])
{
    bool seen = false;
    for (size_t i = 0; i < b->n_recent; i++)
        seen |= rpb_handoff_token_equal(b->recent[i], token); /* SEC-017 */
    return seen;
}

static void remember(backend *b, const uint8_t token[RPB_HANDOFF_TOKEN_BYTES])
{
    memcpy(b->recent[b->recent_next], token, RPB_HANDOFF_TOKEN_BYTES);
    b->recent_next = (b->recent_next + 1) % BACKEND_RECENT_TOKENS;
    if (b->n_recent < BACKEND_RECENT_TOKENS)
        b->n_recent++;
}

/* HANDOFF-042 to HANDOFF-044, HANDOFF-047: checks the offer frame body
 * and queues the ACK.  Returns RPB_OK (the ACK is queued) or the class
 * that closes the connection without an ACK. */
static int answer_offer(backend *b, conn *c, const uint8_t *body, size_t len)
{
    rpb_frame frame;
    rpb_handoff_offer offer;
    int rc = rpb_handoff_offer_check(body, len, &frame, &offer, NULL);
    if (rc != RPB_OK)
        return rc;
    c->verdict = rpb_handoff_offer_verdict(&offer, c->token);
    if (c->verdict == RPB_OK && replayed(b, c->token))
        c->verdict = RPB_ERR_HANDOFF_TOKEN_NOT_PENDING;
    if (c->verdict == RPB_OK)
        remember(b, c->token);
    /* an offer's over-long token is echoed: its ACK may need more room */
    size_t n = RPB_HANDOFF_ACK_MAX_BYTES;
    do
        rc = rpb_buf_reserve(&c->out, n);
    while (rc == RPB_OK && (rc = rpb_handoff_ack_encode(&offer, c->verdict, c->out.data,
                                                        c->out.cap, &n)) == RPB_ERR_BUFFER_TOO_SMALL);
    if (rc == RPB_OK)
        c->out.len = n;
    return rc;
}

/* HANDOFF-040: the descriptor and its token, before any other byte. */
static int take_descriptor(conn *c)
{
    /* a past deadline: the socket was readable, so EAGAIN is a spurious
     * wake-up (RPB_NEED_MORE) */
    int rc = rpb_handoff_recv_fd(c->fd, 0, c->token, &c->received_fd);
    if (rc == RPB_ERR_TIMEOUT)
        return RPB_NEED_MORE;
    if (rc == RPB_OK)
        c->phase = HANDOFF_OFFER;
    return rc;
}

/* Reads what is there of the offer frame and answers it once complete:
 * RPB_NEED_MORE, RPB_OK (the ACK is queued) or the failure's class. */
static int read_offer(backend *b, conn *c)
{
    if (rpb_buf_reserve(&c->in, OFFER_CHUNK) != RPB_OK)
        return RPB_ERR_NO_MEMORY;
    ssize_t n = recv(c->fd, c->in.data + c->in.len, OFFER_CHUNK, MSG_DONTWAIT);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? RPB_NEED_MORE : RPB_ERR_IO;
    c->in.len += (size_t)n;
    rpb_slice body;
    size_t used;
    /* HANDOFF-040: one frame, 16 MiB cap; the buffer grows only with
     * bytes received */
    int rc = rpb_frame_split(c->in.data, c->in.len, RPB_MAX_FRAME_BYTES, &body, &used, NULL);
    if (rc == RPB_NEED_MORE && n == 0)
        return RPB_ERR_UNEXPECTED_EOF;
    if (rc != RPB_OK)
        return rc;
    rc = answer_offer(b, c, body.data, body.len);
    if (rc == RPB_OK)
        c->phase = HANDOFF_ACK;
    return rc;
}

/* The receiver's own requirement a failure of c broke: the descriptor's
 * receive (HANDOFF-041), or the offer (HANDOFF-042); NULL (the error
 * class's) for a failure that is no peer's fault. */
static const char *failed_requirement(const conn *c, int rc)
{
    if (rc == RPB_ERR_NO_MEMORY)
        return NULL;
    return c->phase == HANDOFF_FD ? "HANDOFF-041" : "HANDOFF-042";
}

/* The requirement of a refusal's class (HANDOFF-043, HANDOFF-044,
 * HANDOFF-047). */
static const char *refusal_requirement(int verdict)
{
    switch (verdict) {
    case RPB_ERR_HANDOFF_TOKEN_MISMATCH:
        return "HANDOFF-044";
    case RPB_ERR_HANDOFF_TOKEN_NOT_PENDING:
        return "HANDOFF-047";
    default: /* handoff-token-missing, handoff-token-length */
        return "HANDOFF-043";
    }
}

void receiver_read(backend *b, conn *c)
{
    int rc = RPB_OK;
    if (c->phase == HANDOFF_FD)
        rc = take_descriptor(c);
    if (rc == RPB_OK && c->phase == HANDOFF_OFFER)
        rc = read_offer(b, c);
    if (rc == RPB_NEED_MORE || (rc == RPB_OK && c->phase == HANDOFF_OFFER)) {
        conn_wait_input(b, c); /* an exchange that is all there needs no epoll */
        return;
    }
    if (rc != RPB_OK) { /* HANDOFF-041, HANDOFF-042: closed without an ACK */
        conn_close(b, c, rc == RPB_ERR_UNEXPECTED_EOF ? "eof" : "error", rc,
                   failed_requirement(c, rc));
        return;
    }
    if (c->phase == HANDOFF_ACK)
        conn_flush(b, c);
}

void receiver_acked(backend *b, conn *c)
{
    if (c->verdict != RPB_OK) { /* HANDOFF-045: a refused descriptor is closed */
        conn_close(b, c, "refused", c->verdict, refusal_requirement(c->verdict));
        return;
    }
    int fd = c->received_fd;
    c->received_fd = -1;
    conn_close(b, c, "adopted", RPB_OK, NULL);
    /* HANDOFF-045: served as a connection of the main socket.  Its status
     * flags are the broker's (blocking, HANDOFF-020) and stay so: every
     * read and write of a served connection says MSG_DONTWAIT.  It is
     * watched, not read at once: the client sends nothing before the
     * broker has read this ACK and sent it the handoff-ready frame
     * (HANDOFF-050), so a read now would find nothing. */
    c = conn_open(b, fd, CONN_ADOPTED);
    if (c)
        conn_wait_input(b, c);
}
