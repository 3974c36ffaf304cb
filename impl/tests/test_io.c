/*
 * test_io.c - the fd frame reader and writer over real socketpairs and a
 * pipe (FRAME-001..FRAME-010).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpb/rpb.h"
#include "testutil.h"

static int fds[2];

static void open_pair(void)
{
    CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
}

static void close_pair(void)
{
    close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
}

static void send_bytes(const void *p, size_t n)
{
    CU_ASSERT_FATAL(write(fds[1], p, n) == (ssize_t)n);
}

static int pending_bytes(int fd)
{
    int n = -1;
    ioctl(fd, FIONREAD, &n);
    return n;
}

static int64_t soon(int ms)
{
    return rpb_monotonic_ms() + ms;
}

static void test_round_trip_back_to_back(void) /* FRAME-002, FRAME-009 */
{
    open_pair();
    CU_ASSERT_EQUAL(rpb_write_frame(fds[1], (const uint8_t *)"first", 5, RPB_NO_DEADLINE), RPB_OK);
    CU_ASSERT_EQUAL(rpb_write_frame(fds[1], (const uint8_t *)"second", 6, RPB_NO_DEADLINE), RPB_OK);
    CU_ASSERT_EQUAL(rpb_write_frame(fds[1], NULL, 0, RPB_NO_DEADLINE), RPB_OK);
    rpb_buf b = {0};
    rpb_errinfo err;
    CU_ASSERT_EQUAL(rpb_read_frame(fds[0], RPB_MAX_FRAME_BYTES, soon(1000), &b, &err), RPB_OK);
    CU_ASSERT(b.len == 5 && memcmp(b.data, "first", 5) == 0);
    /* the reader stopped at the frame's last byte */
    CU_ASSERT_EQUAL(pending_bytes(fds[0]), 11 + 5);
    CU_ASSERT_EQUAL(rpb_read_frame(fds[0], RPB_MAX_FRAME_BYTES, soon(1000), &b, &err), RPB_OK);
    CU_ASSERT(b.len == 6 && memcmp(b.data, "second", 6) == 0);
    CU_ASSERT_EQUAL(rpb_read_frame(fds[0], RPB_MAX_FRAME_BYTES, soon(1000), &b, &err), RPB_OK);
    CU_ASSERT_EQUAL(b.len, 0);
    rpb_buf_free(&b);
    close_pair();
}

static void test_framing_byte_decided_alone(void) /* FRAME-001 */
{
    open_pair();
    send_bytes("\x02", 1); /* and nothing more: the peer stays silent */
    rpb_buf b = {0};
    rpb_errinfo err;
    CU_ASSERT_EQUAL(rpb_read_frame(fds[0], RPB_MAX_FRAME_BYTES, soon(2000), &b, &err),
                    RPB_ERR_FRAMING_VERSION);
    rpb_buf_free(&b);
    close_pair();
}

static void test_oversize_reads_no_body(void) /* FRAME-003, FRAME-004, FRAME-005 */
{
    open_pair();
    const uint8_t hdr[] = {0x01, 0x01, 0x00, 0x01, 0x00, 'x', 'y', 'z'}; /* 65537 */
    send_bytes(hdr, sizeof hdr);
    rpb_buf b = {0};
    rpb_errinfo err;
    CU_ASSERT_EQUAL(rpb_read_frame(fds[0], RPB_MAX_HELLO_BYTES, soon(1000), &b, &err),
                    RPB_ERR_FRAME_TOO_LARGE);
    CU_ASSERT_EQUAL(pending_bytes(fds[0]), 3); /* body bytes left unread */
    CU_ASSERT_PTR_NULL(b.data);                /* nothing allocated */
    close_pair();

    open_pair();
    const uint8_t at_cap[] = {0x01, 0x00, 0x00, 0x01, 0x00}; /* 65536: accepted */
    send_bytes(at_cap, sizeof at_cap);
    uint8_t *body = calloc(1, 65536);
    send_bytes(body, 65536);
    CU_ASSERT_EQUAL(rpb_read_frame(fds[0], RPB_MAX_HELLO_BYTES, soon(2000), &b, &err), RPB_OK);
    CU_ASSERT_EQUAL(b.len, 65536);
    free(body);
    rpb_buf_free(&b);
    close_pair();
}

static void test_claim_does_not_allocate(void) /* FRAME-011 */
{
    open_pair();
    const uint8_t hdr[] = {0x01, 0x00, 0x00, 0x00, 0x01, 'a', 'b'}; /* claims 16 MiB */
    send_bytes(hdr, sizeof hdr);
    shutdown(fds[1], SHUT_WR);
    rpb_buf b = {0};
    rpb_errinfo err;
    CU_ASSERT_EQUAL(rpb_read_frame(fds[0], RPB_MAX_FRAME_BYTES, soon(1000), &b, &err),
                    RPB_ERR_UNEXPECTED_EOF);
    CU_ASSERT_EQUAL(err.offset, 7);
    CU_ASSERT(b.cap <= 4096); /* 2 bytes arrived: one chunk at most */
    rpb_buf_free(&b);
    close_pair();
}

static void test_eof_positions(void) /* FRAME-007 */
{
    static const struct {
        const char *bytes;
        size_t n;
        size_t offset;
    } cases[] = {
        {"", 0, 0},
        {"\x01", 1, 1},
        {"\x01\x0a\x00\x00\x00\xab\xcd\xef\x01", 9, 9},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        open_pair();
        send_bytes(cases[i].bytes, cases[i].n);
        close(fds[1]);
        fds[1] = -1;
        rpb_buf b = {0};
        rpb_errinfo err;
        CU_ASSERT_EQUAL(rpb_read_frame(fds[0], RPB_MAX_FRAME_BYTES, soon(1000), &b, &err),
                        RPB_ERR_UNEXPECTED_EOF);
        CU_ASSERT_EQUAL(err.offset, cases[i].offset);
        rpb_buf_free(&b);
        close_pair();
    }
}

static void test_deadline(void) /* FRAME-010 */
{
    open_pair();
    send_bytes("\x01\x05\x00", 3); /* half a header, then silence */
    rpb_buf b = {0};
    rpb_errinfo err;
    int64_t start = rpb_monotonic_ms();
    CU_ASSERT_EQUAL(rpb_read_frame(fds[0], RPB_MAX_FRAME_BYTES, soon(50), &b, &err),
                    RPB_ERR_TIMEOUT);
    CU_ASSERT(rpb_monotonic_ms() - start >= 45);
    CU_ASSERT_EQUAL(err.offset, 3);
    rpb_buf_free(&b);
    close_pair();
}

/* FRAME-010: the deadline bounds the waits; a frame that has arrived is
 * read at once, before any poll, even when the deadline has passed. */
static void test_arrived_frame_read_past_deadline(void)
{
    open_pair();
    CU_ASSERT_EQUAL(rpb_write_frame(fds[1], (const uint8_t *)"here", 4, RPB_NO_DEADLINE), RPB_OK);
    rpb_buf b = {0};
    rpb_errinfo err;
    CU_ASSERT_EQUAL(rpb_read_frame(fds[0], RPB_MAX_FRAME_BYTES, rpb_monotonic_ms() - 1, &b, &err),
                    RPB_OK);
    CU_ASSERT(b.len == 4 && memcmp(b.data, "here", 4) == 0);
    /* and an empty socket still times out: nothing has arrived */
    CU_ASSERT_EQUAL(rpb_read_frame(fds[0], RPB_MAX_FRAME_BYTES, rpb_monotonic_ms() - 1, &b, &err),
                    RPB_ERR_TIMEOUT);
    CU_ASSERT_EQUAL(err.offset, 0);
    rpb_buf_free(&b);
    close_pair();
}

/* A descriptor that is not a socket (a blocking pipe) is polled before
 * each read under a deadline: a frame is read, a silent writer times out
 * instead of blocking the read (FRAME-010), and a passed deadline gives
 * RPB_ERR_TIMEOUT (rpb/io.h). */
static void test_pipe(void)
{
    int p[2];
    CU_ASSERT_FATAL(pipe(p) == 0);
    CU_ASSERT_EQUAL(rpb_write_frame(p[1], (const uint8_t *)"piped", 5, RPB_NO_DEADLINE), RPB_OK);
    rpb_buf b = {0};
    rpb_errinfo err;
    CU_ASSERT_EQUAL(rpb_read_frame(p[0], RPB_MAX_FRAME_BYTES, soon(1000), &b, &err), RPB_OK);
    CU_ASSERT(b.len == 5 && memcmp(b.data, "piped", 5) == 0);
    CU_ASSERT_EQUAL(write(p[1], "\x01\x05\x00\x00\x00" "ab", 7), 7); /* then silence */
    CU_ASSERT_EQUAL(rpb_read_frame(p[0], RPB_MAX_FRAME_BYTES, soon(50), &b, &err), RPB_ERR_TIMEOUT);
    CU_ASSERT_EQUAL(err.offset, 7);
    CU_ASSERT_EQUAL(rpb_write_frame(p[1], NULL, 0, RPB_NO_DEADLINE), RPB_OK);
    CU_ASSERT_EQUAL(rpb_read_frame(p[0], RPB_MAX_FRAME_BYTES, rpb_monotonic_ms() - 1, &b, &err),
                    RPB_ERR_TIMEOUT);
    /* without a deadline a blocking pipe is simply read */
    CU_ASSERT_EQUAL(rpb_read_frame(p[0], RPB_MAX_FRAME_BYTES, RPB_NO_DEADLINE, &b, &err), RPB_OK);
    CU_ASSERT_EQUAL(b.len, 0);
    rpb_buf_free(&b);
    close(p[0]);
    close(p[1]);
}

static void test_writer_refuses_oversize(void) /* FRAME-008 */
{
    open_pair();
    size_t n = RPB_MAX_FRAME_BYTES + 1;
    uint8_t *body = calloc(1, n);
    CU_ASSERT_EQUAL(rpb_write_frame(fds[1], body, n, RPB_NO_DEADLINE), RPB_ERR_FRAME_TOO_LARGE);
    CU_ASSERT_EQUAL(pending_bytes(fds[0]), 0);
    free(body);
    close_pair();
}

static void test_no_sigpipe(void)
{
    open_pair();
    close(fds[0]);
    fds[0] = dup(fds[1]); /* keep close_pair() simple */
    int peer_gone[2];
    CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, peer_gone) == 0);
    close(peer_gone[0]);
    rpb_frame f = rpb_frame_request(0, rpb_slice_cstr("x"));
    errno = 0;
    CU_ASSERT_EQUAL(rpb_write_frame_msg(peer_gone[1], &f, soon(1000)), RPB_ERR_IO);
    CU_ASSERT_EQUAL(errno, EPIPE);
    close(peer_gone[1]);
    close_pair();
}

static void test_write_frame_msg_matches_encoder(void)
{
    open_pair();
    rpb_frame f = rpb_frame_request(0xB232, rpb_slice_cstr("0123456789abcdef0123456789abcdef"));
    f.request_id = 7;
    CU_ASSERT_EQUAL(rpb_write_frame_msg(fds[1], &f, RPB_NO_DEADLINE), RPB_OK);
    rpb_buf b = {0};
    rpb_errinfo err;
    CU_ASSERT_EQUAL_FATAL(rpb_read_frame(fds[0], RPB_MAX_FRAME_BYTES, soon(1000), &b, &err),
                          RPB_OK);
    rpb_frame g;
    rpb_msg_init(&rpb_frame_desc, &g);
    CU_ASSERT_EQUAL(rpb_decode(&rpb_frame_desc, b.data, b.len, &g, NULL, 0, &err), RPB_OK);
    CU_ASSERT_EQUAL(g.request_id, 7);
    CU_ASSERT_EQUAL(rpb_envelope_check(&g, RPB_SITE_PROBE_REQUEST, 0), RPB_OK);

    /* a frame larger than the stack buffer takes the heap path */
    static uint8_t big[4096];
    memset(big, 0xab, sizeof big);
    f.payload = (rpb_slice){big, sizeof big};
    CU_ASSERT_EQUAL(rpb_write_frame_msg(fds[1], &f, RPB_NO_DEADLINE), RPB_OK);
    CU_ASSERT_EQUAL_FATAL(rpb_read_frame(fds[0], RPB_MAX_FRAME_BYTES, soon(1000), &b, &err),
                          RPB_OK);
    CU_ASSERT_EQUAL(b.len, rpb_frame_encoded_len(&f) - RPB_FRAME_HEADER_BYTES);

    /* FRAME-008: a body over 16 MiB is refused, nothing written */
    f.payload = (rpb_slice){big, RPB_MAX_FRAME_BYTES}; /* length only: never read */
    CU_ASSERT_EQUAL(rpb_frame_encoded_len(&f) > RPB_FRAME_HEADER_BYTES + RPB_MAX_FRAME_BYTES, 1);
    CU_ASSERT_EQUAL(rpb_write_frame_msg(fds[1], &f, RPB_NO_DEADLINE), RPB_ERR_FRAME_TOO_LARGE);
    CU_ASSERT_EQUAL(pending_bytes(fds[0]), 0);
    rpb_buf_free(&b);
    close_pair();
}

int main(void)
{
    signal(SIGPIPE, SIG_DFL); /* a SIGPIPE would kill the test: that is the point */
    static const tu_test tests[] = {
        {"back-to-back frames, no over-read", test_round_trip_back_to_back},
        {"framing byte decided from 1 byte", test_framing_byte_decided_alone},
        {"oversize refused before the body", test_oversize_reads_no_body},
        {"a claimed length allocates nothing", test_claim_does_not_allocate},
        {"EOF positions", test_eof_positions},
        {"deadline", test_deadline},
        {"an arrived frame is read past the deadline", test_arrived_frame_read_past_deadline},
        {"a pipe is polled before each read", test_pipe},
        {"writer refuses oversize bodies", test_writer_refuses_oversize},
        {"EPIPE instead of SIGPIPE", test_no_sigpipe},
        {"write_frame_msg", test_write_frame_msg_matches_encoder},
        {NULL, NULL},
    };
    return tu_run("io", tests);
}
