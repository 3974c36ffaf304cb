/*
 * test_client.c - the client side of the Hello handshake (spec/hello.md
 * HELLO-060..HELLO-069): defaults, request bytes, reply classification,
 * the socket helpers and the whole client exchange against throw-away
 * listeners, and rpb-client against a fake broker (the alone tests, given
 * the program's path).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rpb/client.h"
#include "rpb/hello.h"
#include "rpb/rpb.h"
#include "testutil.h"

static void test_defaults(void) /* HELLO-060 */
{
    rpb_hello h;
    rpb_hello_init(&h, "zccache", "1.11.20", 4242);
    CU_ASSERT_EQUAL(h.client_min_protocol, 1);
    CU_ASSERT_EQUAL(h.client_max_protocol, 1);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(h.service_name, "zccache"));
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(h.wanted_version, "1.11.20"));
    CU_ASSERT_EQUAL(h.client_version.len, 0);
    CU_ASSERT_EQUAL(h.client_capabilities, 0);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(h.request_id, "hello"));
    CU_ASSERT_EQUAL(h.peer_pid, 4242);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(h.client_lib_name, "rpb"));
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(h.client_lib_version, RPB_VERSION_STRING));
    CU_ASSERT_EQUAL(h.client_keepalive_secs, 0);
}

/* HELLO-060 (upstream's default Hello bytes); HELLO-068: a Hello over the 64 KiB cap is
 * not encoded */
static void test_upstream_default_hello_bytes(void)
{
    rpb_hello h;
    rpb_hello_init(&h, "zccache", "1.11.20", 4242);
    h.client_capabilities = RPB_CAP_HANDLE_PASSING;
    h.client_lib_name = rpb_slice_cstr("running-process");
    h.client_lib_version = rpb_slice_cstr("4.5.5");
    uint8_t out[256];
    size_t w, len;
    CU_ASSERT_EQUAL_FATAL(rpb_hello_request_encode(&h, 1, out, sizeof out, &w), RPB_OK);
    uint8_t *want = tu_hex("01 40 00 00 00 08 01 22 3A 08 01 10 01 1A 07 7A 63 63 61 63 68 65 22 07 "
                           "31 2E 31 31 2E 32 30 30 01 42 05 68 65 6C 6C 6F 50 92 21 5A 0F 72 75 6E "
                           "6E 69 6E 67 2D 70 72 6F 63 65 73 73 62 05 34 2E 35 2E 35 28 01",
                           &len);
    CU_ASSERT_EQUAL(w, len);
    CU_ASSERT_TRUE(w == len && memcmp(out, want, len) == 0);
    free(want);
    CU_ASSERT_EQUAL(rpb_hello_request_encode(&h, 1, out, 10, &w), RPB_ERR_BUFFER_TOO_SMALL);

    static uint8_t big[70000], frame[70100];
    memset(big, 'x', sizeof big);
    h.client_version = (rpb_slice){big, sizeof big};
    CU_ASSERT_EQUAL(rpb_hello_request_encode(&h, 1, frame, sizeof frame, &w),
                    RPB_ERR_FRAME_TOO_LARGE);

    /* FRAME-004: the cap applies to the whole body, Frame fields included:
     * grow client_version until the frame body is exactly at the cap, then
     * one byte more (a 10-byte request_id makes the Frame overhead 17) */
    uint64_t rid = UINT64_MAX;
    size_t cv = 65000, body;
    for (;; cv++) {
        h.client_version = (rpb_slice){big, cv};
        CU_ASSERT_EQUAL_FATAL(rpb_hello_request_encode(&h, rid, frame, sizeof frame, &w), RPB_OK);
        body = w - RPB_FRAME_HEADER_BYTES;
        if (body >= RPB_MAX_HELLO_BYTES)
            break;
    }
    CU_ASSERT_EQUAL(body, RPB_MAX_HELLO_BYTES);
    h.client_version = (rpb_slice){big, cv + 1};
    CU_ASSERT_EQUAL(rpb_hello_request_encode(&h, rid, frame, sizeof frame, &w),
                    RPB_ERR_FRAME_TOO_LARGE);
}

/* Builds the body of a reply frame of the given kind and request_id
 * holding reply. */
static size_t reply_body_rid(const rpb_hello_reply *reply, int32_t kind, uint64_t request_id,
                             uint8_t *out, size_t cap)
{
    uint8_t payload[512];
    size_t plen, w, consumed;
    CU_ASSERT_FATAL(rpb_encode(&rpb_hello_reply_desc, reply, payload, sizeof payload, &plen) == RPB_OK);
    rpb_frame req = rpb_frame_request(RPB_PP_CONTROL, (rpb_slice){NULL, 0});
    req.request_id = request_id;
    rpb_frame f = rpb_frame_response_to(&req, (rpb_slice){payload, plen});
    f.kind = kind;
    uint8_t framed[600];
    CU_ASSERT_FATAL(rpb_frame_encode(&f, framed, sizeof framed, &w) == RPB_OK);
    rpb_slice body;
    CU_ASSERT_FATAL(rpb_frame_split(framed, w, RPB_MAX_FRAME_BYTES, &body, &consumed, NULL) == RPB_OK);
    CU_ASSERT_FATAL(body.len <= cap);
    memcpy(out, body.data, body.len);
    return body.len;
}

static size_t reply_body(const rpb_hello_reply *reply, int32_t kind, uint8_t *out, size_t cap)
{
    return reply_body_rid(reply, kind, 5, out, cap);
}

/* Classifies a reply read by rpb_client_exchange(); res stays valid until
 * the next call (the arena is static) and while reply lives. */
static int classify_buf(const rpb_buf *reply, rpb_hello_result *res)
{
    static uint8_t mem[1024];
    rpb_arena arena;
    rpb_arena_init(&arena, mem, sizeof mem);
    return rpb_hello_reply_classify(reply->data, reply->len, &arena, res);
}

/* HELLO-061, HELLO-062; HELLO-064 (empty backend_pipe), HELLO-066 (a reply
 * that does not decode is an error, not a refusal), HELLO-067 (any
 * request_id is accepted) */
static void test_classify(void)
{
    uint8_t body[600], mem[1024];
    rpb_arena arena;
    rpb_hello_result res;
    rpb_hello_reply reply;
    rpb_msg_init(&rpb_hello_reply_desc, &reply);
    reply.result = RPB_HELLO_REPLY_NEGOTIATED;
    reply.negotiated.backend_pipe = rpb_slice_cstr("/b.sock");
    size_t n = reply_body(&reply, RPB_FRAME_KIND_RESPONSE, body, sizeof body);
    rpb_arena_init(&arena, mem, sizeof mem);
    CU_ASSERT_EQUAL_FATAL(rpb_hello_reply_classify(body, n, &arena, &res), RPB_OK);
    CU_ASSERT_EQUAL(res.kind, RPB_HELLO_RESULT_NEGOTIATED);
    CU_ASSERT_EQUAL(res.frame.request_id, 5);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(res.reply.negotiated.backend_pipe, "/b.sock"));
    n = reply_body_rid(&reply, RPB_FRAME_KIND_RESPONSE, 0, body, sizeof body);
    CU_ASSERT_EQUAL(rpb_hello_reply_classify(body, n, &arena, &res), RPB_OK);
    CU_ASSERT_EQUAL(res.kind, RPB_HELLO_RESULT_NEGOTIATED);
    reply.negotiated.backend_pipe = rpb_slice_cstr("");
    n = reply_body(&reply, RPB_FRAME_KIND_RESPONSE, body, sizeof body);
    CU_ASSERT_EQUAL(rpb_hello_reply_classify(body, n, &arena, &res), RPB_ERR_INVALID_ARGUMENT);

    static const struct {
        int32_t code;
        rpb_hello_result_kind kind;
    } rows[] = {
        {1, RPB_HELLO_RESULT_VERSION_UNSUPPORTED}, {2, RPB_HELLO_RESULT_SERVICE_UNKNOWN},
        {8, RPB_HELLO_RESULT_VERSION_BLOCKED},     {4, RPB_HELLO_RESULT_RATE_LIMITED},
        {5, RPB_HELLO_RESULT_SHUTTING_DOWN},       {6, RPB_HELLO_RESULT_OTHER},
        {9, RPB_HELLO_RESULT_OTHER},               {0, RPB_HELLO_RESULT_OTHER},
        {77, RPB_HELLO_RESULT_OTHER},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        rpb_msg_init(&rpb_hello_reply_desc, &reply);
        reply.result = RPB_HELLO_REPLY_REFUSED;
        reply.refused.code = rows[i].code;
        reply.refused.retry_after_ms = 100 + i;
        n = reply_body(&reply, RPB_FRAME_KIND_RESPONSE, body, sizeof body);
        rpb_arena_init(&arena, mem, sizeof mem);
        CU_ASSERT_EQUAL_FATAL(rpb_hello_reply_classify(body, n, &arena, &res), RPB_OK);
        CU_ASSERT_EQUAL(res.kind, rows[i].kind);
        CU_ASSERT_EQUAL(res.code, rows[i].code);
        CU_ASSERT_EQUAL(res.retry_after_ms, 100 + i);
    }
    CU_ASSERT_STRING_EQUAL(rpb_hello_result_name(RPB_HELLO_RESULT_RATE_LIMITED), "rate-limited");
    CU_ASSERT_PTR_NULL(rpb_hello_result_name((rpb_hello_result_kind)99));

    /* protocol errors: no result, wrong kind, garbage */
    rpb_msg_init(&rpb_hello_reply_desc, &reply);
    n = reply_body(&reply, RPB_FRAME_KIND_RESPONSE, body, sizeof body);
    CU_ASSERT_EQUAL(rpb_hello_reply_classify(body, n, &arena, &res), RPB_ERR_INVALID_ARGUMENT);
    reply.result = RPB_HELLO_REPLY_REFUSED;
    n = reply_body(&reply, RPB_FRAME_KIND_REQUEST, body, sizeof body);
    CU_ASSERT_EQUAL(rpb_hello_reply_classify(body, n, &arena, &res), RPB_ERR_ENVELOPE_KIND);
    static const uint8_t garbage[] = {0xFF, 0xFF};
    CU_ASSERT(rpb_hello_reply_classify(garbage, 2, &arena, &res) < 0);
}

/* A throw-away broker in a child process: accepts one connection on l,
 * reads one frame, writes reply[0..len), then either closes at once or,
 * with await_close, waits for the client to close its end and exits 0 only
 * when it saw that end of stream. */
static pid_t fake_broker(int l, const uint8_t *reply, size_t len, bool await_close)
{
    pid_t child = fork();
    if (child != 0)
        return child;
    int c = accept(l, NULL, NULL);
    rpb_buf req = {0};
    if (c < 0 || rpb_read_frame(c, RPB_MAX_HELLO_BYTES, RPB_NO_DEADLINE, &req, NULL) != RPB_OK)
        _exit(1);
    if (len > 0 && write(c, reply, len) != (ssize_t)len)
        _exit(1);
    uint8_t b;
    _exit(!await_close || read(c, &b, 1) == 0 ? 0 : 1);
}

static int listen_at(struct sockaddr_un *sa, const char *dir, const char *name)
{
    *sa = (struct sockaddr_un){.sun_family = AF_UNIX};
    snprintf(sa->sun_path, sizeof sa->sun_path, "%s/%s", dir, name);
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    CU_ASSERT_FATAL(bind(l, (struct sockaddr *)sa, sizeof *sa) == 0 && listen(l, 4) == 0);
    return l;
}

static uint8_t *hello_request(size_t *len)
{
    static uint8_t out[256];
    rpb_hello h;
    rpb_hello_init(&h, "zccache", "1.11.20", (uint32_t)getpid());
    CU_ASSERT_FATAL(rpb_hello_request_encode(&h, 1, out, sizeof out, len) == RPB_OK);
    return out;
}

/* A framed reply (request_id 1) holding reply, for fake_broker(). */
static size_t framed_reply(const rpb_hello_reply *reply, uint8_t *out, size_t cap)
{
    size_t n = reply_body_rid(reply, RPB_FRAME_KIND_RESPONSE, 1, out + RPB_FRAME_HEADER_BYTES,
                              cap - RPB_FRAME_HEADER_BYTES);
    out[0] = RPB_FRAMING_VERSION;
    rpb_frame_header_write(out, (uint32_t)n);
    return RPB_FRAME_HEADER_BYTES + n;
}

static size_t negotiated_reply(const void *pipe, size_t pipe_len, uint8_t *out, size_t cap)
{
    rpb_hello_reply reply;
    rpb_msg_init(&rpb_hello_reply_desc, &reply);
    reply.result = RPB_HELLO_REPLY_NEGOTIATED;
    reply.negotiated.negotiated_protocol = 1;
    reply.negotiated.backend_pipe = (rpb_slice){pipe, pipe_len};
    return framed_reply(&reply, out, cap);
}

static size_t refused_reply(int32_t code, uint64_t retry_after_ms, uint8_t *out, size_t cap)
{
    rpb_hello_reply reply;
    rpb_msg_init(&rpb_hello_reply_desc, &reply);
    reply.result = RPB_HELLO_REPLY_REFUSED;
    reply.refused.code = code;
    reply.refused.retry_after_ms = retry_after_ms;
    reply.refused.daemon_min_protocol = reply.refused.daemon_max_protocol = 1;
    return framed_reply(&reply, out, cap);
}

/* The connection waiting in l's backlog (non-blocking), or -1 when none. */
static int accept_pending(int l)
{
    struct pollfd p = {l, POLLIN, 0};
    return poll(&p, 1, 0) == 1 ? accept4(l, NULL, NULL, SOCK_NONBLOCK) : -1;
}

/* Whether a connection waits in l's backlog (accepted and closed). */
static bool pending_connection(int l)
{
    int c = accept_pending(l);
    if (c >= 0)
        close(c);
    return c >= 0;
}

/* True when the fake broker child exited 0: it saw the client close. */
static bool broker_saw_close(pid_t child)
{
    return tu_wait_exit(child, 5000) == 0;
}

/* A scratch directory with a broker and a backend listener. */
typedef struct sockdir {
    char dir[32];
    struct sockaddr_un broker_sa, backend_sa;
    int broker, backend;
} sockdir;

static void sockdir_open(sockdir *d)
{
    snprintf(d->dir, sizeof d->dir, "/tmp/rpb-client-XXXXXX");
    CU_ASSERT_FATAL(mkdtemp(d->dir) != NULL);
    d->broker = listen_at(&d->broker_sa, d->dir, "broker.sock");
    d->backend = listen_at(&d->backend_sa, d->dir, "backend.sock");
}

static void sockdir_close(sockdir *d)
{
    close(d->broker);
    close(d->backend);
    unlink(d->broker_sa.sun_path);
    unlink(d->backend_sa.sun_path);
    rmdir(d->dir);
}

/* HELLO-065: after a Negotiated, rpb_client_hello() has closed the broker
 * connection and returns a connection to backend_pipe's listener on which
 * it sent nothing. */
static void test_negotiated_connects_backend(void)
{
    sockdir d;
    sockdir_open(&d);
    uint8_t framed[700];
    size_t n = negotiated_reply(d.backend_sa.sun_path, strlen(d.backend_sa.sun_path), framed,
                                sizeof framed);
    pid_t child = fake_broker(d.broker, framed, n, true);

    rpb_hello h;
    rpb_hello_init(&h, "zccache", "1.11.20", (uint32_t)getpid());
    rpb_hello_outcome out;
    CU_ASSERT_EQUAL(rpb_client_hello(d.broker_sa.sun_path, &h, 1, rpb_monotonic_ms() + 5000, &out, NULL),
                    RPB_OK);
    CU_ASSERT_TRUE(out.replied);
    CU_ASSERT_EQUAL(out.res.kind, RPB_HELLO_RESULT_NEGOTIATED);
    CU_ASSERT_TRUE(broker_saw_close(child));
    int accepted = accept_pending(d.backend);
    CU_ASSERT_FATAL(accepted >= 0 && out.backend_fd >= 0);
    uint8_t b;
    CU_ASSERT_EQUAL(recv(accepted, &b, 1, 0), -1); /* the client sent nothing */
    CU_ASSERT_EQUAL(errno, EAGAIN);
    /* the fd is the connection the backend accepted */
    CU_ASSERT_EQUAL(write(out.backend_fd, "x", 1), 1);
    CU_ASSERT_EQUAL(recv(accepted, &b, 1, MSG_WAITALL), 1);
    CU_ASSERT_EQUAL(b, 'x');
    close(accepted);
    rpb_hello_outcome_free(&out);
    CU_ASSERT_EQUAL(out.backend_fd, -1);
    sockdir_close(&d);
}

/* HELLO-065: backend_pipe is a filesystem path byte for byte, never an
 * abstract-namespace name; a connect failure is reported with the reply
 * (replied) and no other connection is made.  HELLO-064: an empty
 * backend_pipe fails before any backend connect. */
static void test_backend_pipe_is_a_path(void)
{
    sockdir d;
    sockdir_open(&d);
    /* an abstract listener named like the relative path the broker names */
    char name[64];
    int len = snprintf(name, sizeof name, "rpb-hello065-%d", (int)getpid());
    struct sockaddr_un asa = {.sun_family = AF_UNIX};
    memcpy(asa.sun_path + 1, name, (size_t)len);
    int abstract = socket(AF_UNIX, SOCK_STREAM, 0);
    socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len);
    CU_ASSERT_FATAL(bind(abstract, (struct sockaddr *)&asa, alen) == 0 && listen(abstract, 4) == 0);

    static const struct {
        bool leading_nul; /* backend_pipe "\0name" (the abstract address) or "name" */
        int rc;
    } rows[] = {{false, RPB_ERR_IO}, {true, RPB_ERR_INVALID_ARGUMENT}};
    rpb_hello h;
    rpb_hello_init(&h, "zccache", "1.11.20", (uint32_t)getpid());
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        uint8_t framed[700];
        size_t n = rows[i].leading_nul ? negotiated_reply(asa.sun_path, 1 + (size_t)len, framed, sizeof framed)
                                       : negotiated_reply(name, (size_t)len, framed, sizeof framed);
        pid_t child = fake_broker(d.broker, framed, n, true);
        rpb_hello_outcome out;
        int rc = rpb_client_hello(d.broker_sa.sun_path, &h, 1, rpb_monotonic_ms() + 5000, &out, NULL);
        CU_ASSERT_EQUAL(rc, rows[i].rc);
        if (rc == RPB_ERR_IO)
            CU_ASSERT_EQUAL(errno, ENOENT); /* no such file in the working directory */
        CU_ASSERT_TRUE(out.replied);
        CU_ASSERT_EQUAL(out.backend_fd, -1);
        CU_ASSERT_TRUE(broker_saw_close(child));
        CU_ASSERT_FALSE(pending_connection(abstract));
        CU_ASSERT_FALSE(pending_connection(d.broker)); /* no second Hello */
        rpb_hello_outcome_free(&out);
    }

    uint8_t framed[700];
    size_t n = negotiated_reply("", 0, framed, sizeof framed);
    pid_t child = fake_broker(d.broker, framed, n, true);
    rpb_hello_outcome out;
    CU_ASSERT_EQUAL(rpb_client_hello(d.broker_sa.sun_path, &h, 1, rpb_monotonic_ms() + 5000, &out, NULL),
                    RPB_ERR_INVALID_ARGUMENT);
    CU_ASSERT_FALSE(out.replied);
    CU_ASSERT_EQUAL(out.backend_fd, -1);
    CU_ASSERT_TRUE(broker_saw_close(child));
    CU_ASSERT_FALSE(pending_connection(d.backend));
    rpb_hello_outcome_free(&out);
    close(abstract);
    sockdir_close(&d);
}

/* HELLO-062, HELLO-069: a refusal is handed back with its code and
 * retry_after_ms after exactly one Hello, whatever retry_after_ms says. */
static void test_refusal_is_not_retried(void)
{
    sockdir d;
    sockdir_open(&d);
    rpb_hello h;
    rpb_hello_init(&h, "zccache", "1.11.20", (uint32_t)getpid());
    static const uint64_t retries[] = {0, 1, 1000};
    for (size_t i = 0; i < sizeof retries / sizeof *retries; i++) {
        uint8_t framed[700];
        size_t n = refused_reply(RPB_CODE_RATE_LIMITED, retries[i], framed, sizeof framed);
        pid_t child = fake_broker(d.broker, framed, n, true);
        rpb_hello_outcome out;
        CU_ASSERT_EQUAL(rpb_client_hello(d.broker_sa.sun_path, &h, 1, rpb_monotonic_ms() + 5000, &out,
                                         NULL),
                        RPB_OK);
        CU_ASSERT_TRUE(out.replied);
        CU_ASSERT_EQUAL(out.res.kind, RPB_HELLO_RESULT_RATE_LIMITED);
        CU_ASSERT_EQUAL(out.res.retry_after_ms, retries[i]);
        CU_ASSERT_EQUAL(out.backend_fd, -1);
        CU_ASSERT_TRUE(broker_saw_close(child));
        /* the call has returned: a retry would wait in the backlog now */
        CU_ASSERT_FALSE(pending_connection(d.broker));
        CU_ASSERT_FALSE(pending_connection(d.backend));
        rpb_hello_outcome_free(&out);
    }
    sockdir_close(&d);
}

/* ---- rpb-client (the program, its path in argv[2]) ---- */

static const char *rpb_client_path;

/* Runs rpb-client against d's broker, which answers reply[0..n) and then
 * waits for the client to close, or with cut closes at once. */
static int run_rpb_client_on(sockdir *d, const uint8_t *reply, size_t n, bool connect, bool cut)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(rpb_client_path);
    pid_t child = fake_broker(d->broker, reply, n, !cut);
    static char out[4096];
    const char *argv[] = {rpb_client_path, "--socket", d->broker_sa.sun_path, "--service", "zccache",
                          "--wanted-version", "1.11.20", connect ? "--connect" : NULL, NULL};
    int status = tu_run_capture(argv, out, sizeof out, 10000);
    CU_ASSERT_TRUE(broker_saw_close(child));
    return status;
}

static int run_rpb_client(sockdir *d, const uint8_t *reply, size_t n, bool connect)
{
    return run_rpb_client_on(d, reply, n, connect, false);
}

/* HELLO-065: rpb-client --connect connects to backend_pipe after a
 * Negotiated, sends nothing there, and fails (exit 1) when it cannot;
 * without --connect it only prints the reply. */
static void test_rpb_client_connect(void)
{
    sockdir d;
    sockdir_open(&d);
    uint8_t framed[700];
    size_t n = negotiated_reply(d.backend_sa.sun_path, strlen(d.backend_sa.sun_path), framed,
                                sizeof framed);
    CU_ASSERT_EQUAL(run_rpb_client(&d, framed, n, true), 0);
    int accepted = accept_pending(d.backend);
    CU_ASSERT(accepted >= 0);
    uint8_t b;
    if (accepted >= 0) {
        CU_ASSERT_EQUAL(recv(accepted, &b, 1, 0), 0); /* closed, nothing sent */
        close(accepted);
    }
    CU_ASSERT_EQUAL(run_rpb_client(&d, framed, n, false), 0);
    CU_ASSERT_FALSE(pending_connection(d.backend));
    unlink(d.backend_sa.sun_path); /* the backend is gone */
    CU_ASSERT_EQUAL(run_rpb_client(&d, framed, n, true), 1);
    CU_ASSERT_FALSE(pending_connection(d.broker));
    sockdir_close(&d);
}

/* HELLO-069: rpb-client has no retry: one Hello per run, whatever the
 * refusal's retry_after_ms, exit status 10 + code. */
static void test_rpb_client_does_not_retry(void)
{
    sockdir d;
    sockdir_open(&d);
    static const uint64_t retries[] = {0, 1};
    for (size_t i = 0; i < sizeof retries / sizeof *retries; i++) {
        uint8_t framed[700];
        size_t n = refused_reply(RPB_CODE_SHUTTING_DOWN, retries[i], framed, sizeof framed);
        CU_ASSERT_EQUAL(run_rpb_client(&d, framed, n, true), 10 + RPB_CODE_SHUTTING_DOWN);
        CU_ASSERT_FALSE(pending_connection(d.broker));
        CU_ASSERT_FALSE(pending_connection(d.backend));
    }
    sockdir_close(&d);
}

/* rpb-client's exit status (README): a reply that is not a valid frame is
 * malformed (3) whether its header or its body is wrong, and a reply cut
 * short by the end of the stream is a transport error (1). */
static void test_rpb_client_bad_reply_status(void)
{
    sockdir d;
    sockdir_open(&d);
    static const uint8_t bad_version[] = {0x02, 0x00, 0x00, 0x00, 0x00};
    static const uint8_t too_large[] = {0x01, 0x01, 0x00, 0x00, 0x01}; /* 16 MiB + 1 */
    static const uint8_t bad_body[] = {0x01, 0x01, 0x00, 0x00, 0x00, 0x07}; /* wire type 7 */
    static const uint8_t cut[] = {0x01, 0x20, 0x00, 0x00, 0x00, 0x08};
    CU_ASSERT_EQUAL(run_rpb_client(&d, bad_version, sizeof bad_version, false), 3);
    CU_ASSERT_EQUAL(run_rpb_client(&d, too_large, sizeof too_large, false), 3);
    CU_ASSERT_EQUAL(run_rpb_client(&d, bad_body, sizeof bad_body, false), 3);
    CU_ASSERT_EQUAL(run_rpb_client_on(&d, cut, sizeof cut, false, true), 1);
    sockdir_close(&d);
}

/* HELLO-066: a broker that closes without a reply ends the exchange with an
 * end-of-stream error, not with a refusal. */
static void test_no_reply_is_transport_error(void)
{
    char dir[] = "/tmp/rpb-client-XXXXXX";
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    struct sockaddr_un sa;
    int l = listen_at(&sa, dir, "broker.sock");
    static const uint8_t half[] = {0x01, 0x20, 0x00, 0x00, 0x00, 0x08}; /* a cut reply */
    pid_t child = fake_broker(l, half, sizeof half, false);
    size_t len;
    uint8_t *req = hello_request(&len);
    rpb_buf got = {0};
    CU_ASSERT_EQUAL(rpb_client_exchange(sa.sun_path, req, len, rpb_monotonic_ms() + 5000, &got, NULL),
                    RPB_ERR_UNEXPECTED_EOF);
    int st;
    waitpid(child, &st, 0);
    rpb_buf_free(&got);
    close(l);
    unlink(sa.sun_path);
    rmdir(dir);
}

static void test_connect_errors(void) /* HELLO-063 */
{
    char path[200];
    memset(path, 'a', sizeof path - 1);
    path[sizeof path - 1] = '\0';
    CU_ASSERT_EQUAL(rpb_client_connect(path, RPB_NO_DEADLINE), RPB_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(rpb_client_connect("/nonexistent/rpb-test.sock", RPB_NO_DEADLINE), RPB_ERR_IO);
    CU_ASSERT_EQUAL(errno, ENOENT);
}

static void test_exchange_reads_reply_after_failed_write(void) /* HELLO-063 */
{
    char dir[] = "/tmp/rpb-client-XXXXXX";
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/s", dir);
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    CU_ASSERT_FATAL(bind(l, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(l, 4) == 0);
    pid_t child = fork();
    if (child == 0) {
        /* a broker that answers the header and closes without reading on */
        int c = accept(l, NULL, NULL);
        uint8_t hdr[5], reply[64];
        size_t w;
        if (read(c, hdr, 5) != 5)
            _exit(1);
        rpb_hello_refusal_encode(RPB_REFUSAL_FRAME_TOO_LARGE, 0, NULL, reply, sizeof reply, &w);
        if (write(c, reply, w) != (ssize_t)w)
            _exit(1);
        close(c);
        _exit(0);
    }
    size_t big = 4u << 20;
    uint8_t *req = calloc(1, big);
    req[0] = 1;
    rpb_frame_header_write(req, (uint32_t)(big - 5));
    rpb_buf reply = {0};
    int rc = rpb_client_exchange(sa.sun_path, req, big, rpb_monotonic_ms() + 5000, &reply, NULL);
    CU_ASSERT_EQUAL(rc, RPB_OK);
    rpb_hello_result res;
    CU_ASSERT_EQUAL(classify_buf(&reply, &res), RPB_OK);
    CU_ASSERT_EQUAL(res.code, RPB_CODE_PEER_REJECTED);
    rpb_buf_free(&reply);
    free(req);
    int st;
    waitpid(child, &st, 0);
    close(l);
    unlink(sa.sun_path);
    rmdir(dir);
}

/* HELLO-063, FRAME-010: a peer that never reads cannot hold the write past
 * the deadline. */
static void test_exchange_write_has_deadline(void)
{
    char dir[] = "/tmp/rpb-client-XXXXXX";
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/s", dir);
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    CU_ASSERT_FATAL(bind(l, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(l, 4) == 0);
    /* never accepted, never read: the socket buffers fill up */
    size_t big = 16u << 20;
    uint8_t *req = calloc(1, big);
    CU_ASSERT_FATAL(req != NULL);
    rpb_buf reply = {0};
    int64_t start = rpb_monotonic_ms();
    int rc = rpb_client_exchange(sa.sun_path, req, big, start + 200, &reply, NULL);
    int64_t took = rpb_monotonic_ms() - start;
    CU_ASSERT_EQUAL(rc, RPB_ERR_TIMEOUT);
    CU_ASSERT(took >= 200); /* not before the deadline */
    rpb_buf_free(&reply);
    free(req);
    close(l);
    unlink(sa.sun_path);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    static const tu_test tests[] = {
        {"Hello defaults (HELLO-060)", test_defaults},
        {"upstream client-default Hello bytes", test_upstream_default_hello_bytes},
        {"reply classification (HELLO-061, HELLO-062)", test_classify},
        {"connect errors (HELLO-063)", test_connect_errors},
        {"exchange reads the reply after a failed write (HELLO-063)",
         test_exchange_reads_reply_after_failed_write},
        {"exchange write bounded by the deadline (HELLO-063)", test_exchange_write_has_deadline},
        {"Negotiated: connect backend_pipe, broker connection closed (HELLO-065)",
         test_negotiated_connects_backend},
        {"backend_pipe is a filesystem path; empty is an error (HELLO-064, HELLO-065)",
         test_backend_pipe_is_a_path},
        {"a refusal is handed back, never retried (HELLO-069)", test_refusal_is_not_retried},
        {"no reply is a transport error (HELLO-066)", test_no_reply_is_transport_error},
        {NULL, NULL},
    };
    /* ctest test_client.rpb-client passes the program's path */
    static const tu_alone alone[] = {
        {"rpb-client-connect", "rpb-client --connect (HELLO-065)", test_rpb_client_connect},
        {"rpb-client-no-retry", "rpb-client sends one Hello (HELLO-069)", test_rpb_client_does_not_retry},
        {"rpb-client-bad-reply", "rpb-client: exit 3 for a malformed reply, 1 for a cut one",
         test_rpb_client_bad_reply_status},
        {NULL, NULL, NULL},
    };
    rpb_client_path = argc == 3 ? argv[2] : NULL;
    return tu_run_only("client", tests, alone, argc > 1 ? argv[1] : NULL);
}
