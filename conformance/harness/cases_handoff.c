/*
 * cases_handoff.c - the handoff area (spec/handoff.md §3, §4, §7): the
 * harness plays the backend on the handoff socket of the fixture's service
 * conform-handoff (hconfig.handoff_socket) and checks what the broker
 * sends there and on the client's connection.
 *
 * Every case starts with a Hello for conform-handoff with
 * CAP_HANDLE_PASSING from a connection the harness keeps: the client whose
 * connection the broker hands off.  A broker whose Negotiated carries no
 * token (no handoff support, or conform-handoff without a handoff
 * endpoint) has every case of the area skipped with the reason; a broker
 * that issues tokens for services without an endpoint is caught by
 * broker/hello/negotiated/token/no-handoff (HELLO-035).
 *
 * Case design.  HANDOFF-020: the first bytes on the handoff connection,
 * one recvmsg: the data (exactly the 16 token bytes of the Negotiated,
 * nothing before them) and the control data (not truncated, exactly one
 * descriptor, in one SCM_RIGHTS message); the descriptor is the client's
 * connection (bytes both ways).  HANDOFF-021: the offer frame, byte-exact
 * (canonical, correlation id = the Negotiated's connection_id).
 * HANDOFF-030/031/032: the ACK's classes, one row each: accepted (the
 * ready EVENT byte-exact, then the broker's copy closed), refused, another
 * token, another correlation id in the payload, another request_id in the
 * frame, a RESPONSE on another payload protocol, no ACK (the broker's
 * deadline), an ACK after that deadline, the handoff connection closed
 * before an ACK: each failure leaves the client's connection silent and
 * closed once the harness closes its copy.  HANDOFF-060 (strict): a held
 * ACK does not delay another client's Hello.  SEC-016 (strict, --spawn):
 * the token never appears in the broker's log.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cases.h"

#define RECV_DATA_ROOM 64 /* more than a token: extra bytes show */
#define RECV_FD_ROOM 8    /* more than one descriptor: extra ones show */

/* The handoff socket, bound by the first case that needs it and kept for
 * the run (the broker dials it once per attempt). */
static int listener = -1;

static bool listen_handoff(cctx *c)
{
    if (listener >= 0)
        return true;
    const char *path = c->cfg->handoff_socket;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (path == NULL) {
        c_skip(c, "no handoff socket: --spawn names one in the fixture (conform-handoff), --connect needs "
                  "--handoff-socket PATH, the path the broker was given for conform-handoff");
        return false;
    }
    if (strlen(path) >= sizeof sa.sun_path) {
        c_fail(c, "harness: the handoff socket path %s does not fit sun_path", path);
        return false;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path); /* left by an earlier run */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 16) != 0) {
        c_fail(c, "harness: cannot listen on the handoff socket %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    listener = fd;
    return true;
}

/* One handoff attempt as the harness sees it. */
typedef struct attempt {
    hconn client;  /* the connection that carried the Hello */
    hreply hello;  /* its Negotiated */
    uint8_t token[RPB_HANDOFF_TOKEN_BYTES];
    uint64_t correlation_id;
    hconn handoff; /* the broker's connection to the handoff socket */
    /* the first recvmsg on it */
    uint8_t data[RECV_DATA_ROOM];
    ssize_t data_len;
    size_t n_fds;
    bool ctrunc;
    int fd; /* the (first) descriptor received, or -1 */
    hreply offer;
} attempt;

static void attempt_end(attempt *a)
{
    if (a->fd >= 0)
        close(a->fd);
    hc_close(&a->handoff);
    hc_close(&a->client);
    hr_free(&a->hello);
    hr_free(&a->offer);
}

/* The first recvmsg on the handoff connection: data and descriptors as
 * they come (MSG_CMSG_CLOEXEC), every descriptor but the first closed. */
static void receive_descriptor(cctx *c, attempt *a)
{
    struct pollfd p = {a->handoff.fd, POLLIN, 0};
    if (poll(&p, 1, c->cfg->reply_ms) != 1) {
        a->data_len = -1;
        return;
    }
    struct iovec iov = {a->data, sizeof a->data};
    union {
        char buf[CMSG_SPACE(RECV_FD_ROOM * sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                         .msg_controllen = sizeof ctl.buf};
    a->data_len = recvmsg(a->handoff.fd, &msg, MSG_CMSG_CLOEXEC);
    a->ctrunc = (msg.msg_flags & MSG_CTRUNC) != 0;
    for (struct cmsghdr *m = a->data_len >= 0 ? CMSG_FIRSTHDR(&msg) : NULL; m; m = CMSG_NXTHDR(&msg, m)) {
        if (m->cmsg_level != SOL_SOCKET || m->cmsg_type != SCM_RIGHTS)
            continue;
        for (size_t i = 0; i < (m->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(m) + i * sizeof fd, sizeof fd);
            if (a->n_fds++ == 0)
                a->fd = fd;
            else
                close(fd);
        }
    }
}

/*
 * Starts an attempt: the Hello for conform-handoff with CAP_HANDLE_PASSING
 * on a connection kept open, the Negotiated with its token, the broker's
 * connection to the handoff socket, its first recvmsg and the frame after
 * it.  False when the case cannot go on (skipped, or the failure
 * recorded).
 */
static bool attempt_begin(cctx *c, attempt *a)
{
    memset(a, 0, sizeof *a);
    a->client.fd = a->handoff.fd = a->fd = -1;
    if (!listen_handoff(c))
        return false;
    rpb_frame f;
    rpb_hello h;
    hello_base(&f, &h);
    h.service_name = rpb_slice_cstr(FIXTURE_SVC_HANDOFF);
    h.client_capabilities = RPB_CAP_HANDLE_PASSING;
    sbuf s = SBUF_INIT;
    stim_hello_frame(&s, &f, &h);
    if (hc_open(c, &a->client, NULL, "Hello for conform-handoff with CAP_HANDLE_PASSING (the client)") == 0)
        hc_send(&a->client, s.data, s.len);
    sb_free(&s);
    hc_read_reply(&a->client, c->cfg->reply_ms, &a->hello);
    const rpb_negotiated *n = expect_negotiated(c, &a->hello, echo_of(&f));
    if (n == NULL)
        return false;
    if (!rpb_handoff_agreed(n)) {
        c_skip(c, "the broker agreed no handoff for conform-handoff (Negotiated without a token or "
                  "CAP_HANDLE_PASSING): no handoff support, or the service has no handoff endpoint");
        return false;
    }
    if (n->handle_passed_token.len != RPB_HANDOFF_TOKEN_BYTES) {
        c_fail(c, "expected a 16-byte handle_passed_token (HANDOFF-010); observed %zu bytes",
               n->handle_passed_token.len);
        return false;
    }
    memcpy(a->token, n->handle_passed_token.data, sizeof a->token);
    a->correlation_id = n->connection_id;

    struct pollfd p = {listener, POLLIN, 0};
    int conn = poll(&p, 1, c->cfg->reply_ms) == 1 ? accept4(listener, NULL, NULL, SOCK_CLOEXEC) : -1;
    if (conn < 0) {
        c_fail(c, "expected the broker to connect to the handoff socket after a Negotiated with a token "
                  "(HANDOFF-020); observed no connection within %d ms", c->cfg->reply_ms);
        return false;
    }
    /* not one of the case's connections to the broker: not recorded */
    a->handoff.c = c;
    a->handoff.fd = conn;
    a->handoff.ex = NULL;
    receive_descriptor(c, a);
    if (a->data_len < 0) {
        c_fail(c, "expected the broker's token and descriptor on the handoff connection (HANDOFF-020); "
                  "observed %s", errno ? strerror(errno) : "nothing");
        return false;
    }
    hc_read_reply(&a->handoff, c->cfg->reply_ms, &a->offer);
    return true;
}

/* HANDOFF-020: one sendmsg, exactly the token and exactly one descriptor. */
static bool sendmsg_ok(cctx *c, const attempt *a)
{
    if (a->ctrunc)
        c_fail(c, "expected the descriptor message to fit a control buffer for %d descriptors (HANDOFF-020); "
                  "observed MSG_CTRUNC", RECV_FD_ROOM);
    if (a->n_fds != 1)
        c_fail(c, "expected exactly one SCM_RIGHTS descriptor with the token (HANDOFF-020); observed %zu",
               a->n_fds);
    if (a->data_len != RPB_HANDOFF_TOKEN_BYTES)
        c_fail(c, "expected the first read of the handoff connection to be the 16 token bytes with the "
                  "descriptor (HANDOFF-020); observed %zd bytes", a->data_len);
    else if (memcmp(a->data, a->token, sizeof a->token) != 0)
        c_fail(c, "expected the sendmsg data to be the Negotiated's token (HANDOFF-020); observed other bytes");
    return !c_failed(c);
}

/* HANDOFF-021: the offer frame, byte for byte. */
static bool offer_ok(cctx *c, attempt *a)
{
    uint8_t want[256];
    size_t n;
    if (rpb_handoff_offer_encode(a->token, rpb_slice_cstr(FIXTURE_SVC_HANDOFF), a->correlation_id, want,
                                 sizeof want, &n) != RPB_OK)
        abort();
    if (a->offer.end != H_REPLY) {
        c_fail(c, "expected a HandoffOffer frame after the descriptor (HANDOFF-021); observed %s",
               hend_name(a->offer.end));
        return false;
    }
    if (a->offer.raw.len == n && memcmp(a->offer.raw.data, want, n) == 0)
        return true;
    rpb_frame f;
    rpb_handoff_offer o;
    rpb_slice body = {a->offer.raw.data + RPB_FRAME_HEADER_BYTES, a->offer.raw.len - RPB_FRAME_HEADER_BYTES};
    int rc = rpb_handoff_offer_check(body.data, body.len, &f, &o, NULL);
    if (rc != RPB_OK)
        c_fail(c, "expected a HandoffOffer frame (HANDOFF-021); observed a frame failing the receiver's "
                  "checks: %s", rpb_errname(rc));
    else
        c_fail(c, "expected the canonical HandoffOffer{token, service_name \"conform-handoff\", "
                  "correlation_id %llu} with request_id %llu (HANDOFF-021); observed correlation_id %llu, "
                  "service %zu bytes, token %zu bytes, handle_value %llu, %zu frame bytes",
               (unsigned long long)a->correlation_id, (unsigned long long)a->correlation_id,
               (unsigned long long)o.correlation_id, o.service_name.len, o.token.len,
               (unsigned long long)o.handle_value, a->offer.raw.len);
    return false;
}

/* How a row's ACK differs from the accepted one (HANDOFF-030's classes). */
typedef enum ack_variant {
    ACK_ACCEPTED,
    ACK_REFUSED,        /* accepted false, upstream's detail */
    ACK_OTHER_TOKEN,    /* the token's first byte flipped */
    ACK_OTHER_ID,       /* payload correlation_id + 1, frame request_id right */
    ACK_OTHER_REQUEST,  /* frame request_id + 1, payload right */
    ACK_OTHER_PROTOCOL, /* RESPONSE on the admin protocol */
} ack_variant;

/* Writes the ACK of variant v on the handoff connection. */
static void send_ack(attempt *a, ack_variant v)
{
    uint8_t token[RPB_HANDOFF_TOKEN_BYTES];
    memcpy(token, a->token, sizeof token);
    if (v == ACK_OTHER_TOKEN)
        token[0] ^= 0xFF;
    rpb_handoff_ack ack = {{token, sizeof token}, v != ACK_REFUSED,
                           rpb_slice_cstr(v == ACK_REFUSED ? "handoff token mismatch" : ""),
                           a->correlation_id + (v == ACK_OTHER_ID)};
    rpb_frame f = rpb_frame_request(v == ACK_OTHER_PROTOCOL ? RPB_PP_ADMIN : RPB_PP_HANDOFF, (rpb_slice){NULL, 0});
    f.kind = RPB_FRAME_KIND_RESPONSE;
    f.request_id = a->correlation_id + (v == ACK_OTHER_REQUEST);
    uint8_t out[256];
    size_t n;
    if (rpb_frame_encode_msg(&f, &rpb_handoff_ack_desc, &ack, out, sizeof out, &n) != RPB_OK)
        abort();
    hc_send(&a->handoff, out, n);
}

/* HANDOFF-031, HANDOFF-032: once the harness closes its copy of the
 * handed-off connection, the client's end sees the broker's close too. */
static void expect_broker_copy_closed(cctx *c, attempt *a, const char *after)
{
    if (a->fd >= 0)
        close(a->fd);
    a->fd = -1;
    int end = hc_wait_close(&a->client, c->cfg->reply_ms);
    if (end == H_GARBAGE)
        c_fail(c, "expected nothing more on the client's connection after %s (HANDOFF-032); observed bytes",
               after);
    else if (end == H_TIMEOUT)
        c_fail(c, "expected the broker to close its copy of the client's connection after %s (HANDOFF-031, "
                  "HANDOFF-032); observed it still open %d ms after the harness closed its copy",
               after, c->cfg->reply_ms);
}

/* HANDOFF-031: the handoff-ready EVENT on the client's connection, byte
 * for byte. */
static void expect_ready(cctx *c, attempt *a)
{
    uint8_t want[RPB_HANDOFF_READY_MAX_BYTES];
    size_t n;
    if (rpb_handoff_ready_encode(a->token, a->correlation_id, want, sizeof want, &n) != RPB_OK)
        abort();
    hreply r;
    hc_read_expected(&a->client, c->cfg->reply_ms, &r, want, n,
                     "handoff-ready EVENT: HandoffAck{token, accepted, correlation_id %llu}",
                     (unsigned long long)a->correlation_id);
    if (r.end != H_REPLY)
        c_fail(c, "expected the handoff-ready EVENT on the client's connection after an accepted ACK "
                  "(HANDOFF-031); observed %s", hend_name(r.end));
    else if (r.raw.len != n || memcmp(r.raw.data, want, n) != 0)
        c_fail(c, "expected the canonical handoff-ready EVENT HandoffAck{token, accepted true, \"\", "
                  "correlation_id %llu} with request_id %llu (HANDOFF-031); observed other bytes (%zu)",
               (unsigned long long)a->correlation_id, (unsigned long long)a->correlation_id, r.raw.len);
    hr_free(&r);
}

/* HANDOFF-020: token and descriptor are the first bytes, in one sendmsg. */
static void case_sendmsg(cctx *c)
{
    attempt a;
    if (attempt_begin(c, &a) && sendmsg_ok(c, &a)) {
        send_ack(&a, ACK_ACCEPTED);
        expect_ready(c, &a);
    }
    attempt_end(&a);
}

/* HANDOFF-020: the descriptor is the client's connection: bytes written on
 * it reach the client, and the client's reach it. */
static void case_descriptor_is_client(cctx *c)
{
    attempt a;
    if (attempt_begin(c, &a) && sendmsg_ok(c, &a)) {
        static const char up[] = "from the client", down[] = "to the client";
        char buf[32];
        hc_send(&a.client, up, sizeof up - 1);
        struct pollfd p = {a.fd, POLLIN, 0};
        ssize_t n = poll(&p, 1, c->cfg->reply_ms) == 1 ? recv(a.fd, buf, sizeof buf, MSG_DONTWAIT) : -1;
        if (n != (ssize_t)sizeof up - 1 || memcmp(buf, up, sizeof up - 1) != 0)
            c_fail(c, "expected the client's bytes on the received descriptor (HANDOFF-020: it is the "
                      "client's connection); observed %zd bytes", n);
        n = send(a.fd, down, sizeof down - 1, MSG_NOSIGNAL);
        p.fd = a.client.fd;
        n = n == (ssize_t)sizeof down - 1 && poll(&p, 1, c->cfg->reply_ms) == 1
                ? recv(a.client.fd, buf, sizeof buf, 0)
                : -1;
        if (n != (ssize_t)sizeof down - 1 || memcmp(buf, down, sizeof down - 1) != 0)
            c_fail(c, "expected bytes written on the received descriptor at the client's end (HANDOFF-020); "
                      "observed %zd bytes", n);
        send_ack(&a, ACK_REFUSED);
    }
    attempt_end(&a);
}

/* HANDOFF-021 */
static void case_offer(cctx *c)
{
    attempt a;
    if (attempt_begin(c, &a) && offer_ok(c, &a)) {
        send_ack(&a, ACK_ACCEPTED);
        expect_ready(c, &a);
    }
    attempt_end(&a);
}

/* HANDOFF-031: the accepted ACK: the ready EVENT, the handoff connection
 * closed, the broker's copy of the client's connection closed. */
static void case_accepted(cctx *c)
{
    attempt a;
    if (attempt_begin(c, &a)) {
        send_ack(&a, ACK_ACCEPTED);
        expect_ready(c, &a);
        if (hc_wait_close(&a.handoff, c->cfg->reply_ms) != H_EOF)
            c_fail(c, "expected the broker to close the handoff connection after the ACK (one handoff per "
                      "connection, HANDOFF-020)");
        expect_broker_copy_closed(c, &a, "the handoff-ready EVENT");
    }
    attempt_end(&a);
}

/* HANDOFF-030, HANDOFF-032: an ACK failing one check: nothing on the
 * client's connection, the broker's copy closed. */
static void case_bad_ack(cctx *c)
{
    attempt a;
    if (attempt_begin(c, &a)) {
        send_ack(&a, (ack_variant)c->cs->arg.number);
        expect_broker_copy_closed(c, &a, "an ACK failing HANDOFF-030");
    }
    attempt_end(&a);
}

/* HANDOFF-032: the handoff connection closed before any ACK. */
static void case_closed_before_ack(cctx *c)
{
    attempt a;
    if (attempt_begin(c, &a)) {
        hc_close(&a.handoff);
        expect_broker_copy_closed(c, &a, "the handoff connection closed without an ACK");
    }
    attempt_end(&a);
}

/* HANDOFF-015, HANDOFF-032: no ACK: the broker gives up at its ACK
 * deadline (up to the spec's 5 s), closing the handoff connection and its
 * copy; late (arg 1): an ACK written then changes nothing. */
static void case_no_ack(cctx *c)
{
    attempt a;
    if (attempt_begin(c, &a)) {
        int wait = RPB_HANDOFF_ACK_DEADLINE_MS + c->cfg->reply_ms;
        int end = hc_wait_close(&a.handoff, wait);
        if (end != H_EOF && end != H_RESET)
            c_fail(c, "expected the broker to give up the handoff connection at its ACK deadline "
                      "(HANDOFF-015); observed it %s after %d ms", end == H_TIMEOUT ? "still open" : hend_name(end),
                   wait);
        if (c->cs->arg.number)
            send_ack(&a, ACK_ACCEPTED); /* too late: the broker is gone */
        expect_broker_copy_closed(c, &a, c->cs->arg.number ? "an ACK after the deadline" : "no ACK");
    }
    attempt_end(&a);
}

/* HANDOFF-060: while the harness holds the ACK, another client's Hello is
 * answered within the prompt deadline; the held attempt then completes. */
static void case_held_ack(cctx *c)
{
    attempt a;
    if (attempt_begin(c, &a)) {
        sbuf s = SBUF_INIT;
        stim_base_frame(&s, self_pid());
        hreply r;
        hc_exchange_within(c, NULL, "baseline Hello while the ACK is held", &s, c->cfg->prompt_ms, &r);
        if (r.end != H_REPLY || r.payload_err != RPB_OK || r.hello.result != RPB_HELLO_REPLY_NEGOTIATED)
            c_fail(c, "expected another client's Hello answered within %d ms while an attempt waits for its "
                      "ACK (HANDOFF-060); observed %s", c->cfg->prompt_ms, hend_name(r.end));
        hr_free(&r);
        sb_free(&s);
        send_ack(&a, ACK_ACCEPTED);
        expect_ready(c, &a);
    }
    attempt_end(&a);
}

/* SEC-016, HANDOFF-062: after a failed attempt (logged with its stage),
 * the broker's log holds no trace of the token: raw, or hex in either
 * case. */
/* Reads the log at path from offset into *log until it holds the line
 * of an ended attempt (" handoff conn="), waiting up to ms for the file to
 * be written (inotify): the broker writes that line just after it closes
 * the attempt's descriptors, so the close the case saw may precede it.
 * Whether the line came. */
static bool read_attempt_log(const char *path, off_t offset, int ms, sbuf *log)
{
    int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (in >= 0 && inotify_add_watch(in, path, IN_MODIFY) < 0) {
        close(in);
        in = -1;
    }
    bool found = false;
    for (;;) {
        log->len = 0;
        FILE *f = fopen(path, "r");
        if (f && fseeko(f, offset, SEEK_SET) == 0) {
            char chunk[4096];
            size_t n;
            while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
                sb_put(log, chunk, n);
        }
        if (f)
            fclose(f);
        static const char line[] = " handoff conn=";
        found = log->len && memmem(log->data, log->len, line, sizeof line - 1) != NULL;
        struct pollfd p = {in, POLLIN, 0};
        if (found || in < 0 || poll(&p, 1, ms) != 1)
            break;
        char events[4096];
        while (read(in, events, sizeof events) > 0) {
        }
    }
    if (in >= 0)
        close(in);
    return found;
}

static void case_token_not_logged(cctx *c)
{
    if (c->cfg->broker_log == NULL) {
        c_skip(c, "the broker's log is only known with --spawn");
        return;
    }
    struct stat st;
    off_t offset = stat(c->cfg->broker_log, &st) == 0 ? st.st_size : 0;
    attempt a;
    if (attempt_begin(c, &a)) {
        send_ack(&a, ACK_REFUSED);
        expect_broker_copy_closed(c, &a, "a refused ACK");
        char hex[2 * RPB_HANDOFF_TOKEN_BYTES + 1];
        rpb_hex_encode(a.token, sizeof a.token, hex);
        sbuf log = SBUF_INIT;
        if (!read_attempt_log(c->cfg->broker_log, offset, c->cfg->reply_ms, &log))
            c_note(c, "no line for the ended attempt in %s within %d ms; checked what is there",
                   c->cfg->broker_log, c->cfg->reply_ms);
        char upper[sizeof hex];
        for (size_t i = 0; i < sizeof hex; i++)
            upper[i] = (char)(hex[i] >= 'a' && hex[i] <= 'f' ? hex[i] - 32 : hex[i]);
        if (log.len && (memmem(log.data, log.len, hex, strlen(hex)) || memmem(log.data, log.len, upper, strlen(upper)) ||
                        memmem(log.data, log.len, a.token, sizeof a.token)))
            c_fail(c, "expected the handoff token never to appear in the broker's log (SEC-016); observed it "
                      "in %s", c->cfg->broker_log);
        sb_free(&log);
    }
    attempt_end(&a);
}

static const hcase rows[] = {
    ROW("broker/handoff/sendmsg/token-and-one-fd", CORE, "HANDOFF-020 HANDOFF-010", "the first bytes on the handoff connection: one sendmsg of the Negotiated's 16 token bytes and exactly one SCM_RIGHTS descriptor", case_sendmsg),
    ROW("broker/handoff/sendmsg/client-connection", CORE, "HANDOFF-020", "the descriptor is the client's connection: bytes pass both ways", case_descriptor_is_client),
    ROW("broker/handoff/offer/canonical", CORE, "HANDOFF-021", "after the descriptor, the canonical HandoffOffer{token, conform-handoff, correlation_id = connection_id}", case_offer),
    ROW("broker/handoff/ack/accepted", CORE, "HANDOFF-030 HANDOFF-031", "accepted ACK: the canonical handoff-ready EVENT on the client's connection, then both of the broker's connections closed", case_accepted),
    ROW_NUMBER("broker/handoff/ack/refused", CORE, "HANDOFF-030 HANDOFF-032", "refused ACK: the client's connection silent, the broker's copy closed", case_bad_ack, ACK_REFUSED),
    ROW_NUMBER("broker/handoff/ack/other-token", CORE, "HANDOFF-030 HANDOFF-032", "ACK echoing another token: silent, closed", case_bad_ack, ACK_OTHER_TOKEN),
    ROW_NUMBER("broker/handoff/ack/other-correlation", CORE, "HANDOFF-030 HANDOFF-032", "ACK whose correlation_id differs (frame request_id right): silent, closed", case_bad_ack, ACK_OTHER_ID),
    ROW_NUMBER("broker/handoff/ack/other-request-id", CORE, "HANDOFF-030 HANDOFF-032", "ACK frame whose request_id differs: silent, closed", case_bad_ack, ACK_OTHER_REQUEST),
    ROW_NUMBER("broker/handoff/ack/other-protocol", CORE, "HANDOFF-030 HANDOFF-032", "a RESPONSE on 0xAD01 instead of the ACK: silent, closed", case_bad_ack, ACK_OTHER_PROTOCOL),
    ROW("broker/handoff/ack/closed-before", CORE, "HANDOFF-032", "the handoff connection closed before an ACK: silent, closed", case_closed_before_ack),
    ROW_NUMBER("broker/handoff/ack/missing", CORE, "HANDOFF-015 HANDOFF-032", "no ACK: the broker gives up at its ACK deadline, silent, closed", case_no_ack, 0),
    ROW_NUMBER("broker/handoff/ack/late", CORE, "HANDOFF-015 HANDOFF-032", "an ACK after the broker's deadline: silent, closed", case_no_ack, 1),
    ROW("broker/handoff/ack/held-others-served", STRICT, "HANDOFF-060", "while an ACK is held another client's Hello is answered at once; the attempt then completes", case_held_ack),
    ROW("broker/handoff/log/no-token", STRICT, "SEC-016 HANDOFF-062", "the token never appears in the broker's log (--spawn)", case_token_not_logged),
};

CASE_TABLE(cases_handoff, rows);
