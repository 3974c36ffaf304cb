/*
 * cases_receiver.c - backend/handoff/...: the backend's handoff receiver
 * (spec/handoff.md §5), the harness playing the broker on the backend's
 * handoff socket (hconfig.handoff_socket: {handoff} with --spawn,
 * --handoff-socket with --connect; without one every case skips).
 *
 * Each handoff passes one end of a fresh socketpair, the "client's
 * connection"; the harness keeps the other end, where it sees whether the
 * backend serves the connection (a probe answered) or closed every copy
 * it got (end of stream: no descriptor kept, none leaked).
 *
 * Case design.  The baseline handoff: one sendmsg of 16 fresh random token
 * bytes with one SCM_RIGHTS descriptor, then the canonical offer
 * (HANDOFF-021) with correlation id 7.  HANDOFF-040, HANDOFF-043,
 * HANDOFF-045: accepted, the ACK byte for byte (the offer's token and
 * correlation id echoed, empty detail), then a probe on the client's end
 * answered exactly, and first: nothing was written before the client
 * spoke.  The offer's token, one row per refusal class, each ACK byte for
 * byte with upstream's detail, then the descriptor closed: empty and 15
 * bytes (HANDOFF-043, core), 16 other bytes than the sendmsg's
 * (HANDOFF-044, strict), a token accepted before (HANDOFF-047, strict; the
 * first adoption still served).  The descriptor message (HANDOFF-040,
 * HANDOFF-041, strict), one row per failure class: no descriptor, two,
 * twelve (more than the receiver's room: MSG_CTRUNC), 15 and 17 data
 * bytes, a byte sent before it, the offer in its place: the handoff
 * connection closed without an ACK and every passed descriptor closed.
 * The offer after a good descriptor (HANDOFF-042, core), one row per
 * step: framing, envelope (kind RESPONSE), request_id other than the
 * correlation id, end of stream inside it: closed without an ACK, the
 * descriptor closed.  HANDOFF-046 (strict): a handoff connection that
 * sends nothing, and one that stops after the descriptor, are closed by
 * the backend's deadline (--handoff-timeout, +1 s), the descriptor too;
 * meanwhile a probe is answered within the prompt deadline and another
 * handoff completes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cases.h"

#define CORRELATION 7u
#define OFFER_SERVICE "conform-handoff"
#define MAX_PASSED 12 /* descriptors one hostile message passes */

/* One handoff as the harness, playing the broker, makes it. */
typedef struct handoff {
    hconn h; /* the handoff connection (a connection to the backend) */
    uint8_t token[RPB_HANDOFF_TOKEN_BYTES];
    int client[MAX_PASSED]; /* the kept ends of the passed socketpairs */
    size_t n_passed;
} handoff;

static void handoff_end(handoff *x)
{
    hc_close(&x->h);
    for (size_t i = 0; i < x->n_passed; i++)
        if (x->client[i] >= 0)
            close(x->client[i]);
    x->n_passed = 0;
}

/* Opens a handoff connection with a fresh token; false when the case
 * cannot go on (skipped: no handoff socket; or the failure recorded). */
static bool handoff_open(cctx *c, handoff *x, const char *label)
{
    memset(x, 0, sizeof *x);
    x->h.fd = -1;
    if (c->cfg->handoff_socket == NULL) {
        c_skip(c, "no handoff socket: --spawn names one with {handoff}, --connect needs --handoff-socket "
                  "PATH (the backend's handoff socket)");
        return false;
    }
    if (getrandom(x->token, sizeof x->token, 0) != (ssize_t)sizeof x->token)
        abort();
    int rc = hc_open_at(c, &x->h, c->cfg->handoff_socket, label);
    if (rc < 0)
        c_fail(c, "expected the backend to accept a connection on its handoff socket %s; observed connect "
                  "failing: %s", c->cfg->handoff_socket, strerror(-rc));
    return rc == 0;
}

/* One sendmsg of data[0..len) with n fresh passed descriptors (HANDOFF-020
 * as a broker sends it when n is 1); the kept ends go to x->client.  The
 * backend may have closed already: a failed send is not a failure. */
static void pass_descriptors(cctx *c, handoff *x, const void *data, size_t len, size_t n)
{
    int passed[MAX_PASSED];
    for (size_t i = 0; i < n; i++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
            c_fail(c, "harness: socketpair: %s", strerror(errno));
            n = i;
            break;
        }
        x->client[x->n_passed++] = sv[0];
        passed[i] = sv[1];
    }
    union {
        char buf[CMSG_SPACE(MAX_PASSED * sizeof(int))];
        struct cmsghdr align;
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct iovec iov = {(void *)data, len};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (n > 0) {
        msg.msg_control = ctl.buf;
        msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
        struct cmsghdr *m = CMSG_FIRSTHDR(&msg);
        m->cmsg_level = SOL_SOCKET;
        m->cmsg_type = SCM_RIGHTS;
        m->cmsg_len = CMSG_LEN(n * sizeof(int));
        memcpy(CMSG_DATA(m), passed, n * sizeof(int));
    }
    (void)!sendmsg(x->h.fd, &msg, MSG_NOSIGNAL);
    for (size_t i = 0; i < n; i++)
        close(passed[i]); /* the copies in flight are the backend's only */
}

/* The framed HandoffOffer with token[0..len), the correlation id
 * CORRELATION, the frame's request_id and kind. */
static void offer_frame(sbuf *s, rpb_handoff_offer *offer, const uint8_t *token, size_t len, uint64_t request_id,
                        int32_t kind)
{
    *offer = (rpb_handoff_offer){0, {token, len}, rpb_slice_cstr(OFFER_SERVICE), CORRELATION};
    rpb_frame f = rpb_frame_request(RPB_PP_HANDOFF, (rpb_slice){NULL, 0});
    f.request_id = request_id;
    f.kind = kind;
    uint8_t out[256];
    size_t n;
    if (rpb_frame_encode_msg(&f, &rpb_handoff_offer_desc, offer, out, sizeof out, &n) != RPB_OK)
        abort();
    sb_put(s, out, n);
}

/* The baseline handoff up to the offer: the token and one descriptor,
 * then the canonical offer of offer_token[0..len) (the sendmsg's own
 * token when NULL). */
static bool handoff_offer(cctx *c, handoff *x, const char *label, const uint8_t *offer_token, size_t len,
                          rpb_handoff_offer *offer)
{
    if (!handoff_open(c, x, label))
        return false;
    pass_descriptors(c, x, x->token, sizeof x->token, 1);
    sbuf s = SBUF_INIT;
    offer_frame(&s, offer, offer_token ? offer_token : x->token, offer_token ? len : sizeof x->token, CORRELATION,
                RPB_FRAME_KIND_REQUEST);
    hc_send(&x->h, s.data, s.len);
    sb_free(&s);
    return true;
}

/* The HandoffAck of the framed ACK raw[0..len); false when it does not
 * decode (slices point into raw). */
static bool ack_fields(const uint8_t *raw, size_t len, rpb_handoff_ack *ack)
{
    rpb_frame f;
    size_t used;
    rpb_msg_init(&rpb_handoff_ack_desc, ack);
    return rpb_frame_decode(raw, len, RPB_MAX_FRAME_BYTES, &f, &used, NULL) == RPB_OK &&
           rpb_decode(&rpb_handoff_ack_desc, f.payload.data, f.payload.len, ack, NULL, 0, NULL) == RPB_OK;
}

/* HANDOFF-043: the ACK answering offer with verdict, byte for byte:
 * RESPONSE on 0xD0FF, request_id and correlation_id the offer's, the
 * offer's token, accepted or refused with upstream's detail. */
static bool expect_ack(cctx *c, handoff *x, const rpb_handoff_offer *offer, int verdict)
{
    uint8_t want[RPB_HANDOFF_ACK_MAX_BYTES];
    size_t n;
    rpb_handoff_ack w, got;
    if (rpb_handoff_ack_encode(offer, verdict, want, sizeof want, &n) != RPB_OK || !ack_fields(want, n, &w))
        abort();
    hreply r;
    hc_read_expected(&x->h, c->cfg->reply_ms, &r, want, n,
                     "HandoffAck{the offer's token, accepted %s, \"%.*s\", correlation_id %u}",
                     w.accepted ? "true" : "false", (int)w.error_detail.len, (const char *)w.error_detail.data,
                     CORRELATION);
    bool ok = r.end == H_REPLY && r.raw.len == n && memcmp(r.raw.data, want, n) == 0;
    if (ok) {
        /* exact */
    } else if (r.end == H_REPLY && ack_fields(r.raw.data, r.raw.len, &got)) {
        c_fail(c, "expected the ACK byte for byte: RESPONSE on 0xD0FF, request_id %u, HandoffAck{the offer's "
                  "token, accepted %s, error_detail \"%.*s\", correlation_id %u} (%s); observed accepted %s, "
                  "error_detail \"%.*s\", correlation_id %llu, token %zu bytes%s, %zu frame bytes",
               CORRELATION, w.accepted ? "true" : "false", (int)w.error_detail.len,
               (const char *)w.error_detail.data, CORRELATION, c->cs->reqs, got.accepted ? "true" : "false",
               (int)got.error_detail.len, (const char *)got.error_detail.data,
               (unsigned long long)got.correlation_id, got.token.len,
               rpb_slice_eq(got.token, offer->token) ? "" : " (not the offer's)", r.raw.len);
    } else {
        c_fail(c, "expected the %s ACK to the offer (%s); observed %s", w.accepted ? "accepted" : "refused",
               c->cs->reqs, r.end == H_REPLY ? "a frame that is no HandoffAck" : hend_name(r.end));
    }
    hr_free(&r);
    return ok;
}

/* HANDOFF-041, HANDOFF-042: the backend closes the handoff connection
 * without a byte. */
static void expect_no_ack(cctx *c, handoff *x, const char *after)
{
    char what[160];
    snprintf(what, sizeof what, "%s (%s)", after, c->cs->reqs);
    expect_closed_unanswered(c, &x->h, c->cfg->reply_ms, what);
}

/* HANDOFF-041, HANDOFF-045: the backend closed every descriptor it was
 * passed: each kept end reads end of stream (a socket closed with bytes
 * unread resets its peer: closed too). */
static void expect_passed_closed(cctx *c, handoff *x, const char *after)
{
    for (size_t i = 0; i < x->n_passed && !c_failed(c); i++) {
        struct pollfd p = {x->client[i], POLLIN, 0};
        uint8_t byte;
        ssize_t n = poll(&p, 1, c->cfg->reply_ms) == 1 ? recv(x->client[i], &byte, 1, MSG_DONTWAIT) : -2;
        if (n == -2)
            c_fail(c, "expected the backend to close the descriptor it was passed after %s (%s); observed "
                      "descriptor %zu of %zu still open %d ms later",
                   after, c->cs->reqs, i + 1, x->n_passed, c->cfg->reply_ms);
        else if (n > 0)
            c_fail(c, "expected nothing written on the passed descriptor after %s (%s); observed bytes", after,
                   c->cs->reqs);
        else if (n < 0 && errno != ECONNRESET)
            c_fail(c, "harness: reading the kept end of passed descriptor %zu: %s", i + 1, strerror(errno));
    }
}

/* HANDOFF-045: the adopted connection is served as one of the main
 * socket: a probe from the client's end is answered exactly, and its
 * answer is the first byte the backend writes there. */
static void expect_served(cctx *c, hconn *client)
{
    uint8_t nonce[RPB_PROBE_NONCE_BYTES];
    rpb_frame f;
    sbuf s = SBUF_INIT;
    probe_fresh(nonce, &f, &s);
    hc_send(client, s.data, s.len);
    hreply r;
    hc_read_reply(client, c->cfg->reply_ms, &r);
    if (!expect_probe_answer(c, &r, &f, NULL))
        c_fail(c, "expected the handed-off connection served like one of the main socket: a probe from the "
                  "client's end answered (HANDOFF-045)");
    hr_free(&r);
    sb_free(&s);
}

/* Sends s (then half-closes when shut), which the backend must answer by
 * closing the handoff connection without an ACK and every descriptor it
 * was passed (HANDOFF-041, HANDOFF-042); frees s. */
static void expect_failed(cctx *c, handoff *x, sbuf *s, bool shut, const char *what)
{
    hc_send(&x->h, s->data, s->len); /* may fail: the backend may have closed already */
    if (shut)
        hc_shut_wr(&x->h);
    sb_free(s);
    expect_no_ack(c, x, what);
    expect_passed_closed(c, x, what);
}

/* The baseline handoff accepted (HANDOFF-043); client gets the adopted
 * connection (the caller closes it).  False, with the failure recorded,
 * when it was not accepted. */
static bool adopt(cctx *c, handoff *x, hconn *client)
{
    rpb_handoff_offer offer;
    client->fd = -1;
    if (!handoff_offer(c, x, "handoff connection: token and descriptor, then the offer", NULL, 0, &offer) ||
        !expect_ack(c, x, &offer, RPB_OK))
        return false;
    /* the broker closes the handoff connection after the ACK */
    hc_close(&x->h);
    hc_adopt(c, client, x->client[0], "the handed-off connection: a probe from the client's end");
    x->client[0] = -1;
    return true;
}

/* HANDOFF-040, HANDOFF-043, HANDOFF-045 */
static void case_adopt(cctx *c)
{
    handoff x;
    hconn client;
    if (adopt(c, &x, &client))
        expect_served(c, &client);
    hc_close(&client);
    handoff_end(&x);
}

/* The offer's token of a refusal row. */
enum refusal_row { OFFER_EMPTY, OFFER_SHORT, OFFER_OTHER, OFFER_REPLAYED };

/* HANDOFF-043, HANDOFF-044, HANDOFF-045, HANDOFF-047: the refused ACK,
 * then the descriptor closed. */
static void case_refused(cctx *c)
{
    static const int verdicts[] = {RPB_ERR_HANDOFF_TOKEN_MISSING, RPB_ERR_HANDOFF_TOKEN_LENGTH,
                                   RPB_ERR_HANDOFF_TOKEN_MISMATCH, RPB_ERR_HANDOFF_TOKEN_NOT_PENDING};
    enum refusal_row row = (enum refusal_row)c->cs->arg.number;
    handoff first = {.h.fd = -1}, x = {.h.fd = -1};
    hconn adopted = {.fd = -1};
    if (row == OFFER_REPLAYED && !adopt(c, &first, &adopted)) {
        handoff_end(&first);
        return;
    }
    if (handoff_open(c, &x, "handoff connection: token and descriptor, then an offer to refuse")) {
        if (row == OFFER_REPLAYED)
            memcpy(x.token, first.token, sizeof x.token);
        uint8_t other[RPB_HANDOFF_TOKEN_BYTES];
        memcpy(other, x.token, sizeof other);
        other[0] ^= 0xFF;
        pass_descriptors(c, &x, x.token, sizeof x.token, 1);
        const uint8_t *token = row == OFFER_OTHER ? other : x.token;
        size_t len = row == OFFER_EMPTY ? 0 : row == OFFER_SHORT ? sizeof x.token - 1 : sizeof x.token;
        rpb_handoff_offer offer;
        sbuf s = SBUF_INIT;
        offer_frame(&s, &offer, token, len, CORRELATION, RPB_FRAME_KIND_REQUEST);
        hc_send(&x.h, s.data, s.len);
        sb_free(&s);
        if (expect_ack(c, &x, &offer, verdicts[row]))
            expect_passed_closed(c, &x, "a refused ACK");
        if (row == OFFER_REPLAYED && !c_failed(c))
            expect_served(c, &adopted); /* the first adoption goes on */
    }
    hc_close(&adopted);
    handoff_end(&first);
    handoff_end(&x);
}

/* The descriptor message of a HANDOFF-041 row. */
enum descriptor_row { NO_FD, TWO_FDS, MANY_FDS, DATA_15, DATA_17, BYTE_BEFORE, OFFER_ONLY };

/* HANDOFF-040, HANDOFF-041: a descriptor message failing the receiver's
 * checks, then the canonical offer: closed without an ACK, every passed
 * descriptor closed. */
static void case_descriptor(cctx *c)
{
    enum descriptor_row row = (enum descriptor_row)c->cs->arg.number;
    handoff x;
    if (handoff_open(c, &x, "handoff connection: a descriptor message failing HANDOFF-041, then the offer")) {
        uint8_t data[RPB_HANDOFF_TOKEN_BYTES + 1];
        memcpy(data, x.token, sizeof x.token);
        data[RPB_HANDOFF_TOKEN_BYTES] = 0x5A;
        if (row == BYTE_BEFORE)
            hc_send(&x.h, "x", 1);
        static const size_t n_fds[] = {0, 2, MAX_PASSED, 1, 1, 1, 0};
        size_t len = row == DATA_15 ? 15 : row == DATA_17 ? 17 : sizeof x.token;
        if (row != OFFER_ONLY)
            pass_descriptors(c, &x, data, len, n_fds[row]);
        rpb_handoff_offer offer;
        sbuf s = SBUF_INIT;
        offer_frame(&s, &offer, x.token, sizeof x.token, CORRELATION, RPB_FRAME_KIND_REQUEST);
        expect_failed(c, &x, &s, false, "a descriptor message failing HANDOFF-041");
    }
    handoff_end(&x);
}

/* The offer of a HANDOFF-042 row, after a good descriptor. */
enum offer_row { OFFER_GARBAGE, OFFER_KIND_RESPONSE, OFFER_REQUEST_ID, OFFER_TRUNCATED };

static void case_bad_offer(cctx *c)
{
    enum offer_row row = (enum offer_row)c->cs->arg.number;
    handoff x;
    if (handoff_open(c, &x, "handoff connection: token and descriptor, then an offer failing HANDOFF-042")) {
        pass_descriptors(c, &x, x.token, sizeof x.token, 1);
        rpb_handoff_offer offer;
        sbuf s = SBUF_INIT;
        if (row == OFFER_GARBAGE)
            put_hex(&s, "ffffffffffff");
        else
            offer_frame(&s, &offer, x.token, sizeof x.token, CORRELATION + (row == OFFER_REQUEST_ID),
                        row == OFFER_KIND_RESPONSE ? RPB_FRAME_KIND_RESPONSE : RPB_FRAME_KIND_REQUEST);
        if (row == OFFER_TRUNCATED)
            s.len /= 2;
        expect_failed(c, &x, &s, row == OFFER_TRUNCATED, "an offer failing HANDOFF-042");
    }
    handoff_end(&x);
}

/* HANDOFF-046: a handoff connection silent from its start (arg 0) or
 * after the descriptor (arg 1) is closed by the backend's deadline, the
 * descriptor too; meanwhile a probe is answered within the prompt
 * deadline and another handoff completes. */
static void case_slow_peer(cctx *c)
{
    handoff slow;
    int64_t t0 = rpb_monotonic_ms();
    bool after_fd = c->cs->arg.number == 1;
    if (!handoff_open(c, &slow, after_fd ? "handoff connection: token and descriptor, then silence"
                                         : "handoff connection: connect, then silence")) {
        handoff_end(&slow);
        return;
    }
    if (after_fd)
        pass_descriptors(c, &slow, slow.token, sizeof slow.token, 1);
    probe_promptly(c);
    case_adopt(c); /* another handoff, served meanwhile */
    int margin = 1000, limit = c->cfg->handoff_ms + margin;
    int left = (int)(t0 + limit - rpb_monotonic_ms());
    int end = hc_wait_close(&slow.h, left > 0 ? left : 0);
    if (end == H_TIMEOUT)
        c_fail(c, "expected the backend to close a handoff connection %s within its %d ms handoff deadline "
                  "(+%d ms, HANDOFF-046); observed it open after %lld ms; hint: pass --handoff-timeout with the "
                  "backend's deadline",
               after_fd ? "silent after the descriptor" : "silent from its start", c->cfg->handoff_ms, margin,
               (long long)(rpb_monotonic_ms() - t0));
    else if (end == H_GARBAGE)
        c_fail(c, "expected no ACK on a handoff connection without an offer (HANDOFF-046); observed bytes");
    else
        expect_passed_closed(c, &slow, "the handoff deadline");
    handoff_end(&slow);
}

static const hcase rows[] = {
    ROW("backend/handoff/adopt", CORE, "HANDOFF-040 HANDOFF-043 HANDOFF-045", "token and one descriptor, then the canonical offer: the accepted ACK byte for byte, then a probe on the handed-off connection answered first and exactly", case_adopt),
    ROW_NUMBER("backend/handoff/refused/empty-token", CORE, "HANDOFF-043 HANDOFF-045", "an offer with an empty token: refused, \"handoff token is missing\", the descriptor closed", case_refused, OFFER_EMPTY),
    ROW_NUMBER("backend/handoff/refused/short-token", CORE, "HANDOFF-043 HANDOFF-045", "an offer with a 15-byte token: refused, \"handoff token length was 15 bytes; expected 16\", the descriptor closed", case_refused, OFFER_SHORT),
    ROW_NUMBER("backend/handoff/refused/other-token", STRICT, "HANDOFF-044 HANDOFF-045", "an offer whose token differs from the sendmsg's: refused, \"handoff token mismatch\", the descriptor closed", case_refused, OFFER_OTHER),
    ROW_NUMBER("backend/handoff/refused/replayed-token", STRICT, "HANDOFF-047 HANDOFF-045", "a token accepted before, handed off again: refused, \"handoff token is not pending\", the descriptor closed, the first adoption still served", case_refused, OFFER_REPLAYED),
    ROW_NUMBER("backend/handoff/descriptor/none", STRICT, "HANDOFF-041", "the 16 token bytes without a descriptor: closed without an ACK", case_descriptor, NO_FD),
    ROW_NUMBER("backend/handoff/descriptor/two", STRICT, "HANDOFF-041", "the token with two descriptors: closed without an ACK, both descriptors closed", case_descriptor, TWO_FDS),
    ROW_NUMBER("backend/handoff/descriptor/twelve-ctrunc", STRICT, "HANDOFF-041", "the token with twelve descriptors, more than the receiver's room (MSG_CTRUNC): closed without an ACK, every descriptor closed", case_descriptor, MANY_FDS),
    ROW_NUMBER("backend/handoff/descriptor/token-15", STRICT, "HANDOFF-041", "15 data bytes with the descriptor: closed without an ACK, the descriptor closed", case_descriptor, DATA_15),
    ROW_NUMBER("backend/handoff/descriptor/token-17", STRICT, "HANDOFF-041", "17 data bytes with the descriptor: closed without an ACK, the descriptor closed", case_descriptor, DATA_17),
    ROW_NUMBER("backend/handoff/descriptor/byte-before", STRICT, "HANDOFF-040 HANDOFF-041", "a byte sent before the token and descriptor: closed without an ACK, the descriptor closed", case_descriptor, BYTE_BEFORE),
    ROW_NUMBER("backend/handoff/descriptor/offer-only", STRICT, "HANDOFF-040 HANDOFF-041", "the offer frame without the descriptor message: closed without an ACK", case_descriptor, OFFER_ONLY),
    ROW_NUMBER("backend/handoff/offer/garbage", CORE, "HANDOFF-042", "bytes that are no v1 frame after the descriptor: closed without an ACK, the descriptor closed", case_bad_offer, OFFER_GARBAGE),
    ROW_NUMBER("backend/handoff/offer/kind-response", CORE, "HANDOFF-042", "an offer of kind RESPONSE: closed without an ACK, the descriptor closed", case_bad_offer, OFFER_KIND_RESPONSE),
    ROW_NUMBER("backend/handoff/offer/request-id", CORE, "HANDOFF-042", "an offer whose frame request_id is not its correlation_id: closed without an ACK, the descriptor closed", case_bad_offer, OFFER_REQUEST_ID),
    ROW_NUMBER("backend/handoff/offer/truncated", CORE, "HANDOFF-042", "half an offer, then end of stream: closed without an ACK, the descriptor closed", case_bad_offer, OFFER_TRUNCATED),
    ROW_NUMBER("backend/handoff/deadline/silent", STRICT, "HANDOFF-046", "a handoff connection that sends nothing is closed at the handoff deadline; meanwhile a probe and another handoff are served", case_slow_peer, 0),
    ROW_NUMBER("backend/handoff/deadline/after-descriptor", STRICT, "HANDOFF-046", "a handoff connection silent after the descriptor is closed at the handoff deadline, the descriptor too; meanwhile a probe and another handoff are served", case_slow_peer, 1),
};

CASE_TABLE(cases_receiver, rows);
