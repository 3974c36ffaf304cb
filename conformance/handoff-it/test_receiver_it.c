/*
 * test_receiver_it.c - rpb-backend's handoff receiver (spec/handoff.md §5)
 * against a test peer playing the broker over its real --handoff-socket:
 * the adoption and its traffic, each refusal, and hostile input (garbage,
 * wrong descriptor counts, truncated control data, bytes before the
 * descriptor, slow peers, replays).  Each failure must be logged with its
 * class and close the handoff connection and the passed descriptor (the
 * test sees end of stream on the client's end of it, so no copy stayed in
 * the backend); the backend's descriptor count is the same at the end.
 * Every wait is on an event: a reply, end of stream, a log line.
 *
 * Usage: test_receiver_it RPB_BACKEND
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpb/rpb.h"
#include "fdcount.h"
#include "testutil.h"

#define ECHO_PROTOCOL 0x7001u
#define WAIT_MS 10000
#define HANDOFF_TIMEOUT "1000" /* --handoff-timeout, ms: the slow-peer cases wait it out */

static char root[64], sock_path[128], handoff_path[128], log_path[128];
static pid_t backend;
static tu_tail tail;
static uint8_t next_token = 1; /* every handoff gets fresh token bytes */

static void fresh_token(uint8_t t[RPB_HANDOFF_TOKEN_BYTES])
{
    memset(t, 0, RPB_HANDOFF_TOKEN_BYTES);
    t[0] = 0xA5;
    t[15] = next_token++;
}

static int dial(const char *path) { return rpb_client_connect(path, rpb_monotonic_ms() + WAIT_MS); }

/* The client's end *cl of a new connection and the end to pass, *pe. */
static void client_pair(int *cl, int *pe)
{
    int sv[2];
    CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    *cl = sv[0];
    *pe = sv[1];
}

/* Writes a HandoffOffer frame (HANDOFF-021) with token[0..len), its
 * correlation id corr and the frame's request_id rid. */
static bool write_offer(int h, const uint8_t *token, size_t len, uint64_t corr, uint64_t rid)
{
    rpb_handoff_offer offer = {0, {token, len}, rpb_slice_cstr("echo"), corr};
    rpb_frame f = rpb_frame_request(RPB_PP_HANDOFF, (rpb_slice){NULL, 0});
    f.request_id = rid;
    uint8_t out[256];
    size_t n;
    return rpb_frame_encode_msg(&f, &rpb_handoff_offer_desc, &offer, out, sizeof out, &n) ==
               RPB_OK &&
           send(h, out, n, MSG_NOSIGNAL) == (ssize_t)n;
}

/* Reads the ACK frame (HANDOFF-043) into *ack (strings copied to detail)
 * and checks its envelope; false when none came. */
static bool read_ack(int h, uint64_t corr, rpb_handoff_ack *ack, char *detail, size_t cap)
{
    rpb_buf body = {0};
    rpb_frame f;
    rpb_msg_init(&rpb_frame_desc, &f);
    rpb_msg_init(&rpb_handoff_ack_desc, ack);
    bool ok = rpb_read_frame(h, RPB_MAX_FRAME_BYTES, rpb_monotonic_ms() + WAIT_MS, &body, NULL) ==
                  RPB_OK &&
              rpb_decode(&rpb_frame_desc, body.data, body.len, &f, NULL, 0, NULL) == RPB_OK &&
              rpb_envelope_check(&f, RPB_SITE_HANDOFF_ACK, corr) == RPB_OK &&
              rpb_decode(&rpb_handoff_ack_desc, f.payload.data, f.payload.len, ack, NULL, 0,
                         NULL) == RPB_OK;
    if (ok) {
        snprintf(detail, cap, "%.*s", (int)ack->error_detail.len,
                 (const char *)ack->error_detail.data);
        ack->error_detail = (rpb_slice){NULL, 0};
        ack->token = (rpb_slice){NULL, 0};
        CU_ASSERT_EQUAL(ack->correlation_id, corr);
    }
    rpb_buf_free(&body);
    return ok;
}

/* True when fd reaches end of stream, with no byte before it, within
 * WAIT_MS: the backend closed its side (no ACK; no copy of a passed
 * descriptor kept).  A Unix socket closed with bytes unread in it
 * resets its peer (ECONNRESET): closed too. */
static bool eof_unanswered(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    uint8_t byte;
    if (poll(&p, 1, WAIT_MS) != 1)
        return false;
    ssize_t n = recv(fd, &byte, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* An echo round trip on fd (MUX-008): the connection is served. */
static bool echo_round_trip(int fd, const char *text)
{
    rpb_frame ping = rpb_frame_request(ECHO_PROTOCOL, rpb_slice_cstr(text));
    ping.request_id = 9;
    int64_t deadline = rpb_monotonic_ms() + WAIT_MS;
    rpb_buf body = {0};
    rpb_frame f;
    rpb_msg_init(&rpb_frame_desc, &f);
    bool ok = rpb_write_frame_msg(fd, &ping, deadline) == RPB_OK &&
              rpb_read_frame(fd, RPB_MAX_FRAME_BYTES, deadline, &body, NULL) == RPB_OK &&
              rpb_decode(&rpb_frame_desc, body.data, body.len, &f, NULL, 0, NULL) == RPB_OK &&
              f.kind == RPB_FRAME_KIND_RESPONSE && f.request_id == 9 &&
              rpb_slice_eq_cstr(f.payload, text);
    rpb_buf_free(&body);
    return ok;
}

/* Waits for the backend's "handoff" log line with field want (e.g.
 * "outcome=adopted" or "class=handoff-fd-count"). */
static bool logged(const char *want) { return tu_tail_wait(&tail, "handoff conn=", want, WAIT_MS); }

/* Opens a handoff connection and sends token with the passed end of a
 * new connection, whose client end goes to *cl; returns the handoff
 * connection. */
static int start_handoff(const uint8_t token[RPB_HANDOFF_TOKEN_BYTES], int *cl)
{
    int pe, h = dial(handoff_path);
    CU_ASSERT_FATAL(h >= 0);
    client_pair(cl, &pe);
    CU_ASSERT_TRUE(tu_send_fds(h, token, RPB_HANDOFF_TOKEN_BYTES, &pe, 1));
    close(pe);
    return h;
}

/* A whole handoff with token; returns the client's end of the adopted
 * connection, or -1. */
static int handoff(const uint8_t token[RPB_HANDOFF_TOKEN_BYTES], char *detail, size_t cap,
                   bool *accepted)
{
    int cl, h = start_handoff(token, &cl);
    CU_ASSERT_TRUE(write_offer(h, token, RPB_HANDOFF_TOKEN_BYTES, 7, 7));
    rpb_handoff_ack ack;
    bool got = read_ack(h, 7, &ack, detail, cap);
    CU_ASSERT_TRUE(got);
    *accepted = got && ack.accepted;
    CU_ASSERT_TRUE(eof_unanswered(h)); /* the handoff connection ends with the ACK */
    close(h);
    return cl;
}

/* HANDOFF-040, HANDOFF-043, HANDOFF-045: accepted with an empty detail,
 * then the passed connection is served by the mux (an echo round trip,
 * answered only after the client spoke), logged as via=handoff. */
static void test_adopt(void)
{
    uint8_t t[16];
    char detail[128];
    bool accepted;
    fresh_token(t);
    int cl = handoff(t, detail, sizeof detail, &accepted);
    CU_ASSERT_TRUE(accepted);
    CU_ASSERT_STRING_EQUAL(detail, "");
    CU_ASSERT_TRUE(logged("outcome=adopted"));
    CU_ASSERT_TRUE(echo_round_trip(cl, "through the handed-off fd"));
    close(cl);
    CU_ASSERT_TRUE(tu_tail_wait(&tail, "via=handoff", "outcome=closed", WAIT_MS));
}

/* The refusals of HANDOFF-043, HANDOFF-044: the ACK's detail is
 * upstream's text, and the passed descriptor is closed (HANDOFF-045). */
static void refused(const uint8_t *offer_token, size_t len, const char *want_detail,
                    const char *want_class)
{
    uint8_t t[16];
    fresh_token(t);
    int cl, h = start_handoff(t, &cl);
    CU_ASSERT_TRUE(write_offer(h, offer_token ? offer_token : t, len, 3, 3));
    rpb_handoff_ack ack;
    char detail[128];
    CU_ASSERT_TRUE_FATAL(read_ack(h, 3, &ack, detail, sizeof detail));
    CU_ASSERT_FALSE(ack.accepted);
    CU_ASSERT_STRING_EQUAL(detail, want_detail);
    CU_ASSERT_TRUE(logged(want_class));
    CU_ASSERT_TRUE(eof_unanswered(cl));
    close(cl);
    close(h);
}

static void test_wrong_token(void) /* HANDOFF-044 */
{
    static const uint8_t other[16] = {0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE,
                                      0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE};
    refused(other, 16, "handoff token mismatch",
            "class=handoff-token-mismatch requirement=HANDOFF-044");
}

static void test_short_token(void) /* HANDOFF-043 */
{
    static const uint8_t shorter[15] = {0xA5};
    refused(shorter, 15, "handoff token length was 15 bytes; expected 16",
            "class=handoff-token-length requirement=HANDOFF-043");
}

static void test_empty_token(void) /* HANDOFF-043 */
{
    refused((const uint8_t *)"", 0, "handoff token is missing",
            "class=handoff-token-missing requirement=HANDOFF-043");
}

/* HANDOFF-047: a token accepted once is refused when offered again; the
 * first adoption goes on being served. */
static void test_replay(void)
{
    uint8_t t[16];
    char detail[128];
    bool accepted;
    fresh_token(t);
    int first = handoff(t, detail, sizeof detail, &accepted);
    CU_ASSERT_TRUE(accepted);
    CU_ASSERT_TRUE(logged("outcome=adopted"));
    int again = handoff(t, detail, sizeof detail, &accepted);
    CU_ASSERT_FALSE(accepted);
    CU_ASSERT_STRING_EQUAL(detail, "handoff token is not pending");
    CU_ASSERT_TRUE(logged("class=handoff-token-not-pending requirement=HANDOFF-047"));
    CU_ASSERT_TRUE(eof_unanswered(again));
    CU_ASSERT_TRUE(echo_round_trip(first, "still served"));
    close(again);
    close(first);
}

/* A handoff connection that sends `data` with n descriptors (fresh
 * connections whose client ends must all see end of stream), then an
 * offer: closed without an ACK, logged with class want and the
 * receiver's requirement HANDOFF-041. */
static void hostile(const void *data, size_t len, size_t n, const char *want)
{
    int cl[16], pe[16], h = dial(handoff_path);
    CU_ASSERT_FATAL(h >= 0 && n <= 16);
    for (size_t i = 0; i < n; i++)
        client_pair(&cl[i], &pe[i]);
    CU_ASSERT_TRUE(tu_send_fds(h, data, len, pe, n));
    for (size_t i = 0; i < n; i++)
        close(pe[i]);
    uint8_t t[16];
    fresh_token(t);
    write_offer(h, t, sizeof t, 1, 1); /* may fail: the backend may have closed already */
    CU_ASSERT_TRUE(eof_unanswered(h));
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_TRUE(eof_unanswered(cl[i]));
        close(cl[i]);
    }
    char line_want[96];
    snprintf(line_want, sizeof line_want, "class=%s requirement=HANDOFF-041", want);
    CU_ASSERT_TRUE(logged(line_want));
    close(h);
}

static const uint8_t TOKEN16[16] = "0123456789abcdef";

/* HANDOFF-041: the token bytes without a descriptor. */
static void test_no_fd(void) { hostile(TOKEN16, 16, 0, "handoff-fd-count"); }

/* HANDOFF-041: two descriptors, both closed. */
static void test_two_fds(void) { hostile(TOKEN16, 16, 2, "handoff-fd-count"); }

/* HANDOFF-041: more descriptors than the receiver has room for: the
 * control data is truncated; the kernel closes those past the room, the
 * receiver the rest. */
static void test_ctrunc(void) { hostile(TOKEN16, 16, 12, "handoff-ctrunc"); }

/* HANDOFF-041: a token of 15 bytes, or 17. */
static void test_short_fd_token(void) { hostile(TOKEN16, 15, 1, "handoff-token-length"); }
static void test_long_fd_token(void)
{
    static const uint8_t seventeen[17] = "0123456789abcdefg";
    hostile(seventeen, 17, 1, "handoff-token-length");
}

/* HANDOFF-040, HANDOFF-041: a byte before the descriptor's message: it
 * merges into the receive (handoff-token-length), or is read alone when
 * it arrived first (handoff-fd-count); which one depends on timing, as
 * HANDOFF-041 says. */
static void test_bytes_before_fd(void)
{
    int h = dial(handoff_path), cl, pe;
    CU_ASSERT_FATAL(h >= 0);
    client_pair(&cl, &pe);
    CU_ASSERT_TRUE(send(h, "x", 1, MSG_NOSIGNAL) == 1);
    tu_send_fds(h, TOKEN16, 16, &pe, 1); /* may fail: the backend may have closed already */
    close(pe);
    CU_ASSERT_TRUE(eof_unanswered(h));
    CU_ASSERT_TRUE(eof_unanswered(cl));
    const char *line;
    int64_t end = rpb_monotonic_ms() + WAIT_MS;
    while ((line = tu_tail_next(&tail, end)) && !strstr(line, "handoff conn="))
        ;
    CU_ASSERT_PTR_NOT_NULL_FATAL(line);
    CU_ASSERT_TRUE(strstr(line, "class=handoff-token-length requirement=HANDOFF-041") ||
                   strstr(line, "class=handoff-fd-count requirement=HANDOFF-041"));
    close(cl);
    close(h);
}

/* HANDOFF-040: an offer frame where the descriptor's message belongs. */
static void test_offer_without_fd(void)
{
    int h = dial(handoff_path);
    CU_ASSERT_FATAL(h >= 0);
    CU_ASSERT_TRUE(write_offer(h, TOKEN16, 16, 1, 1));
    CU_ASSERT_TRUE(eof_unanswered(h));
    CU_ASSERT_TRUE(logged("class=handoff-fd-count requirement=HANDOFF-041"));
    close(h);
}

/* After a good descriptor, a bad offer: closed with no ACK and the
 * descriptor closed (HANDOFF-042).  kind: 0 garbage, 1 a request_id that
 * is not the correlation id, 2 half an offer then end of stream. */
static void bad_offer(int kind, const char *want)
{
    uint8_t t[16];
    fresh_token(t);
    int cl, h = start_handoff(t, &cl);
    if (kind == 0) {
        CU_ASSERT_TRUE(send(h, "\xff\xff\xff\xff\xff\xff", 6, MSG_NOSIGNAL) == 6);
    } else if (kind == 1) {
        CU_ASSERT_TRUE(write_offer(h, t, sizeof t, 1, 2));
    } else {
        CU_ASSERT_TRUE(send(h, "\x01\x27\x00\x00\x00\x08\x01", 7, MSG_NOSIGNAL) == 7);
        shutdown(h, SHUT_WR);
    }
    CU_ASSERT_TRUE(eof_unanswered(h));
    CU_ASSERT_TRUE(eof_unanswered(cl));
    CU_ASSERT_TRUE(logged(want));
    close(cl);
    close(h);
}

static void test_garbage_offer(void)
{
    bad_offer(0, "class=framing-version requirement=HANDOFF-042");
}
static void test_offer_correlation(void)
{
    bad_offer(1, "class=handoff-correlation requirement=HANDOFF-042");
}
static void test_truncated_offer(void)
{
    bad_offer(2, "class=unexpected-eof requirement=HANDOFF-042");
}

/* HANDOFF-046: a handoff connection that sends nothing, and one that
 * stops after the descriptor, are closed at the deadline (the passed
 * descriptor too); meanwhile the main socket and other handoffs are
 * served. */
static void test_slow_peers(void)
{
    uint8_t t[16];
    fresh_token(t);
    int cl, silent = dial(handoff_path), stalled = start_handoff(t, &cl);
    CU_ASSERT_FATAL(silent >= 0);

    int direct = dial(sock_path);
    CU_ASSERT_TRUE(direct >= 0 && echo_round_trip(direct, "not stalled"));
    close(direct);
    char detail[128];
    bool accepted;
    fresh_token(t);
    int other = handoff(t, detail, sizeof detail, &accepted);
    CU_ASSERT_TRUE(accepted);
    CU_ASSERT_TRUE(echo_round_trip(other, "adopted meanwhile"));
    close(other);

    CU_ASSERT_TRUE(eof_unanswered(silent));
    CU_ASSERT_TRUE(eof_unanswered(stalled));
    CU_ASSERT_TRUE(eof_unanswered(cl));
    CU_ASSERT_TRUE(logged("outcome=deadline class=timeout requirement=HANDOFF-046"));
    CU_ASSERT_TRUE(logged("outcome=deadline class=timeout requirement=HANDOFF-046"));
    close(silent);
    close(stalled);
    close(cl);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_receiver_it RPB_BACKEND\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    snprintf(root, sizeof root, "/tmp/rpb-receiver-it-XXXXXX");
    if (!mkdtemp(root))
        return 1;
    snprintf(sock_path, sizeof sock_path, "%s/backend.sock", root);
    snprintf(handoff_path, sizeof handoff_path, "%s/handoff.sock", root);
    snprintf(log_path, sizeof log_path, "%s/backend.log", root);
    char field[160];
    snprintf(field, sizeof field, " handoff_socket=%s", handoff_path);
    backend = tu_start_daemon((const char *[]){argv[1], "--socket", sock_path, "--handoff-socket",
                                               handoff_path, "--handoff-timeout", HANDOFF_TIMEOUT,
                                               "--echo-protocol", "0x7001", "--log", log_path,
                                               NULL},
                              log_path, ": ready ", field, 10000);
    if (backend < 0 || !tu_tail_open(&tail, log_path)) {
        fprintf(stderr, "test_receiver_it: rpb-backend did not start (see %s)\n", log_path);
        return 1;
    }
    /* the count once the event loop runs: the ready line comes before
     * its epoll and signal descriptors exist, and an echo round trip
     * comes after (the connection it used is not counted) */
    int direct = dial(sock_path), fds_before = -1;
    if (direct >= 0 && echo_round_trip(direct, "loop running"))
        fds_before = fd_count(backend) - 1;
    if (direct >= 0)
        close(direct);
    static const tu_test tests[] = {
        {"adopt, then served (HANDOFF-040, HANDOFF-043, HANDOFF-045)", test_adopt},
        {"offer token differs from the descriptor's (HANDOFF-044)", test_wrong_token},
        {"short offer token (HANDOFF-043)", test_short_token},
        {"empty offer token (HANDOFF-043)", test_empty_token},
        {"replayed token (HANDOFF-047)", test_replay},
        {"no descriptor (HANDOFF-041)", test_no_fd},
        {"two descriptors (HANDOFF-041)", test_two_fds},
        {"truncated control data (HANDOFF-041)", test_ctrunc},
        {"15-byte descriptor token (HANDOFF-041)", test_short_fd_token},
        {"17-byte descriptor token (HANDOFF-041)", test_long_fd_token},
        {"bytes before the descriptor (HANDOFF-040, HANDOFF-041)", test_bytes_before_fd},
        {"offer without the descriptor (HANDOFF-040)", test_offer_without_fd},
        {"garbage offer (HANDOFF-042)", test_garbage_offer},
        {"offer request_id not its correlation (HANDOFF-042)", test_offer_correlation},
        {"truncated offer (HANDOFF-042)", test_truncated_offer},
        {"slow peers meet the deadline, others served (HANDOFF-046)", test_slow_peers},
        {NULL, NULL},
    };
    int status = tu_run("receiver-it", tests);
    /* every connection closed logs a line: recount after each until the
     * count is back or no line comes */
    int fds_after;
    int64_t end = rpb_monotonic_ms() + WAIT_MS;
    while ((fds_after = fd_count(backend)) != fds_before && tu_tail_next(&tail, end))
        ;
    if (fds_after != fds_before) {
        fprintf(stderr, "test_receiver_it: rpb-backend had %d descriptors before, %d after\n",
                fds_before, fds_after);
        status = 1;
    }
    tu_tail_close(&tail);
    return tu_finish(backend, root, status);
}
