/*
 * test_client.c - the client side of the Hello handshake (spec/hello.md
 * HELLO-060..HELLO-063): defaults, request bytes, reply classification, and
 * the socket helpers against a throw-away listener.
 */
#include <errno.h>
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

/* HELLO-065: after a Negotiated the client connects to backend_pipe as a
 * filesystem Unix socket path and has closed the broker connection. */
static void test_negotiated_connects_backend(void)
{
    char dir[] = "/tmp/rpb-client-XXXXXX";
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    struct sockaddr_un bsa, ksa;
    int broker = listen_at(&ksa, dir, "broker.sock");
    int backend = listen_at(&bsa, dir, "backend.sock");

    rpb_hello_reply reply;
    rpb_msg_init(&rpb_hello_reply_desc, &reply);
    reply.result = RPB_HELLO_REPLY_NEGOTIATED;
    reply.negotiated.negotiated_protocol = 1;
    reply.negotiated.backend_pipe = rpb_slice_cstr(bsa.sun_path);
    uint8_t body[600], framed[700];
    size_t n = reply_body_rid(&reply, RPB_FRAME_KIND_RESPONSE, 1, body, sizeof body);
    framed[0] = RPB_FRAMING_VERSION;
    rpb_frame_header_write(framed, (uint32_t)n);
    memcpy(framed + RPB_FRAME_HEADER_BYTES, body, n);
    pid_t child = fake_broker(broker, framed, RPB_FRAME_HEADER_BYTES + n, true);

    size_t len;
    uint8_t *req = hello_request(&len);
    rpb_buf got = {0};
    CU_ASSERT_EQUAL_FATAL(rpb_client_exchange(ksa.sun_path, req, len, rpb_monotonic_ms() + 5000,
                                              &got, NULL),
                          RPB_OK);
    rpb_hello_result res;
    CU_ASSERT_EQUAL_FATAL(classify_buf(&got, &res), RPB_OK);
    CU_ASSERT_EQUAL_FATAL(res.kind, RPB_HELLO_RESULT_NEGOTIATED);
    char path[sizeof bsa.sun_path];
    rpb_slice pipe = res.reply.negotiated.backend_pipe;
    CU_ASSERT_FATAL(pipe.len < sizeof path);
    memcpy(path, pipe.data, pipe.len);
    path[pipe.len] = '\0';
    int fd = rpb_client_connect(path, rpb_monotonic_ms() + 5000);
    CU_ASSERT(fd >= 0);
    int accepted = accept(backend, NULL, NULL);
    CU_ASSERT(accepted >= 0);
    int st;
    CU_ASSERT(waitpid(child, &st, 0) == child && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    if (fd >= 0)
        close(fd);
    if (accepted >= 0)
        close(accepted);
    rpb_buf_free(&got);
    close(broker);
    close(backend);
    unlink(ksa.sun_path);
    unlink(bsa.sun_path);
    rmdir(dir);
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

int main(void)
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
        {"no reply is a transport error (HELLO-066)", test_no_reply_is_transport_error},
        {NULL, NULL},
    };
    return tu_run("client", tests);
}
