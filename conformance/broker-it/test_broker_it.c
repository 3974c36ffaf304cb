/*
 * test_broker_it.c - integration tests of rpb-broker and rpb-client: real
 * processes over real Unix sockets (spec/hello.md).
 *
 * usage: test_broker_it RPB_BROKER RPB_CLIENT [TEST-ID]
 *
 * Without TEST-ID the tests that always run are run together; a TEST-ID
 * runs the one test registered alone under it (a ctest entry of its own,
 * as it may be skipped: it needs root or a host setting).
 *
 * A main broker (rate limit off, 1 s handshake deadline) serves most cases;
 * cases that need other settings (rate limit, descriptor limit, connection
 * cap, drain, socket activation, start-up refusals) start their own.  After
 * every abuse case the main broker must still negotiate.  Every broker logs
 * JSON to a file the test follows: a test waits for the log line, reply or
 * process exit it needs, never for a timer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rpb/client.h"
#include "rpb/admin.h"
#include "rpb/hello.h"
#include "rpb/rpb.h"
#include "fdcount.h"
#include "testutil.h"

#define TRACEPARENT "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

static const char *broker_bin, *client_bin;
static char root[64], svc_dir[128], sock_path[128], log_path[128];

/* ---- processes ---- */

typedef struct spawn_opts {
    const char *socket; /* NULL: socket activation with listen_fd */
    int listen_fd;
    rlim_t nofile;      /* 0: inherited */
    const char *log;    /* JSON log file */
    const char *extra[8];
} spawn_opts;

/* A started broker and its log. */
typedef struct broker_proc {
    pid_t pid;
    tu_tail log;
} broker_proc;

static broker_proc main_broker;

static pid_t spawn_broker(const spawn_opts *o)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    const char *argv[24];
    int n = 0;
    argv[n++] = broker_bin;
    if (o->socket) {
        argv[n++] = "--socket";
        argv[n++] = o->socket;
    }
    argv[n++] = "--services";
    argv[n++] = svc_dir;
    argv[n++] = "--log";
    argv[n++] = o->log;
    argv[n++] = "--json-log";
    for (int i = 0; i < 8 && o->extra[i]; i++)
        argv[n++] = o->extra[i];
    argv[n] = NULL;
    if (o->nofile) {
        struct rlimit rl = {o->nofile, o->nofile};
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (o->socket == NULL) {
        char pidbuf[16];
        snprintf(pidbuf, sizeof pidbuf, "%d", (int)getpid());
        if (o->listen_fd != 3) {
            dup2(o->listen_fd, 3);
            close(o->listen_fd);
        }
        setenv("LISTEN_PID", pidbuf, 1);
        setenv("LISTEN_FDS", "1", 1);
    }
    execv(broker_bin, (char *const *)argv);
    _exit(127);
}

/* Starts a broker and waits for its "listening on" log line; false when
 * it does not come (the broker failed to start). */
static bool start_broker(const spawn_opts *o, broker_proc *b)
{
    if (!tu_tail_open(&b->log, o->log))
        return false;
    b->pid = spawn_broker(o);
    return tu_tail_wait(&b->log, "listening on", NULL, 10000);
}

static void kill_broker(broker_proc *b)
{
    kill(b->pid, SIGKILL);
    waitpid(b->pid, NULL, 0);
    tu_tail_close(&b->log);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256], tmp[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    FILE *f = fopen(tmp, "w");
    fputs(text, f);
    fclose(f);
    rename(tmp, path); /* atomic, as editors and installers do */
}

#define ZCCACHE_SERVICE                                                                       \
    "backend_pipe = /run/zccache-backend.sock\ndaemon_version = 1.11.20\n"                   \
    "min_version = 1.10.0\nallow = 1.11.20\n"

/* ---- wire helpers ---- */

static rpb_hello base_hello(void)
{
    rpb_hello h;
    rpb_hello_init(&h, "zccache", "1.11.20", (uint32_t)getpid());
    h.client_version = rpb_slice_cstr("zccache-cli/1.11.20");
    h.client_keepalive_secs = 60;
    return h;
}

/* Encodes hello as a request frame with request_id 7 and a traceparent. */
static size_t hello_frame(const rpb_hello *h, uint8_t *out, size_t cap)
{
    uint8_t payload[70000];
    size_t plen, w;
    CU_ASSERT_FATAL(rpb_encode(&rpb_hello_desc, h, payload, sizeof payload, &plen) == RPB_OK);
    rpb_frame f = rpb_frame_request(RPB_PP_CONTROL, (rpb_slice){payload, plen});
    f.request_id = 7;
    f.traceparent = rpb_slice_cstr(TRACEPARENT);
    CU_ASSERT_FATAL(rpb_frame_encode(&f, out, cap, &w) == RPB_OK);
    return w;
}

static int connect_main(void) { return rpb_client_connect(sock_path, rpb_monotonic_ms() + 2000); }

typedef struct reply {
    int rc;                /* rpb_read_frame result */
    rpb_buf body;
    rpb_hello_result res;  /* valid when classify == RPB_OK */
    int classify;
    uint8_t arena[4096];
} reply;

static void read_reply(int fd, reply *r, int ms)
{
    memset(r, 0, sizeof *r);
    r->rc = rpb_read_frame(fd, RPB_MAX_FRAME_BYTES, rpb_monotonic_ms() + ms, &r->body, NULL);
    r->classify = -1;
    if (r->rc == RPB_OK) {
        rpb_arena a;
        rpb_arena_init(&a, r->arena, sizeof r->arena);
        r->classify = rpb_hello_reply_classify(r->body.data, r->body.len, &a, &r->res);
    }
}

/* Sends raw bytes to the broker at path (optionally shutting down
 * writing) and reads the reply. */
static void raw_exchange_at(const char *path, const uint8_t *p, size_t n, bool shut, reply *r)
{
    int fd = rpb_client_connect(path, rpb_monotonic_ms() + 2000);
    CU_ASSERT_FATAL(fd >= 0);
    tu_send_all(fd, p, n);
    if (shut)
        shutdown(fd, SHUT_WR);
    read_reply(fd, r, 3000);
    close(fd);
}

static void raw_exchange(const uint8_t *p, size_t n, bool shut, reply *r)
{
    raw_exchange_at(sock_path, p, n, shut, r);
}

static void hello_exchange_at(const char *path, const rpb_hello *h, reply *r)
{
    static uint8_t buf[70100];
    raw_exchange_at(path, buf, hello_frame(h, buf, sizeof buf), false, r);
}

static void hello_exchange(const rpb_hello *h, reply *r)
{
    hello_exchange_at(sock_path, h, r);
}

static bool refused_with(const reply *r, int32_t code, const char *reason)
{
    return r->rc == RPB_OK && r->classify == RPB_OK &&
           r->res.reply.result == RPB_HELLO_REPLY_REFUSED && r->res.code == code &&
           rpb_slice_eq_cstr(r->res.reply.refused.reason, reason) &&
           r->res.reply.refused.daemon_min_protocol == 1 &&
           r->res.reply.refused.daemon_max_protocol == 1;
}

static bool negotiated(const reply *r)
{
    return r->rc == RPB_OK && r->classify == RPB_OK && r->res.kind == RPB_HELLO_RESULT_NEGOTIATED;
}

/* The main broker still negotiates a plain Hello (SEC-007). */
static void assert_serving(void)
{
    rpb_hello h = base_hello();
    reply r;
    hello_exchange(&h, &r);
    CU_ASSERT_TRUE(negotiated(&r));
    CU_ASSERT_EQUAL(waitpid(main_broker.pid, NULL, WNOHANG), 0);
    rpb_buf_free(&r.body);
}

/* ---- cases ---- */

static void test_negotiated_reply(void) /* HELLO-030..HELLO-033, HELLO-050 */
{
    rpb_hello h = base_hello();
    reply r;
    hello_exchange(&h, &r);
    CU_ASSERT_TRUE_FATAL(negotiated(&r));
    const rpb_negotiated *n = &r.res.reply.negotiated;
    CU_ASSERT_EQUAL(n->negotiated_protocol, 1);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(n->daemon_version, "1.11.20"));
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(n->backend_pipe, "/run/zccache-backend.sock"));
    CU_ASSERT_EQUAL(n->keepalive_interval_secs, 60);
    CU_ASSERT_EQUAL(n->handle_passed_token.len, 0);
    CU_ASSERT(n->connection_id >= 1);
    CU_ASSERT_EQUAL(r.res.frame.request_id, 7);
    CU_ASSERT_EQUAL(r.res.frame.payload_protocol, 0);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(r.res.frame.traceparent, TRACEPARENT));
    rpb_buf_free(&r.body);
    /* HELLO-035: CAP_HANDLE_PASSING asked, but rpb-broker cannot hand off */
    h.client_capabilities = RPB_CAP_HANDLE_PASSING;
    h.client_keepalive_secs = 0;
    hello_exchange(&h, &r);
    CU_ASSERT_TRUE(negotiated(&r));
    CU_ASSERT_EQUAL(r.res.reply.negotiated.handle_passed_token.len, 0);
    CU_ASSERT_EQUAL(r.res.reply.negotiated.server_capabilities & RPB_CAP_HANDLE_PASSING, 0);
    CU_ASSERT_EQUAL(r.res.reply.negotiated.keepalive_interval_secs, 1800);
    rpb_buf_free(&r.body);
}

static void test_framing_refusals(void) /* HELLO-002..HELLO-006 */
{
    reply r;
    static const uint8_t v2[] = {0x02, 0, 0, 0, 0};
    raw_exchange(v2, sizeof v2, false, &r);
    size_t glen;
    uint8_t *golden = tu_hex("01 2B 00 00 00 08 01 10 01 22 25 12 23 0A 1B 75 6E 73 75 70 70 6F 72 "
                             "74 65 64 20 66 72 61 6D 69 6E 67 20 76 65 72 73 69 6F 6E 10 01 18 01 "
                             "20 01",
                             &glen);
    CU_ASSERT_TRUE(r.rc == RPB_OK && r.body.len + 5 == glen &&
                   memcmp(r.body.data, golden + 5, r.body.len) == 0);
    free(golden);
    rpb_buf_free(&r.body);

    /* over the cap: answered from the header, the body is never sent */
    static const uint8_t over[] = {0x01, 0x01, 0x00, 0x01, 0x00};
    raw_exchange(over, sizeof over, false, &r);
    CU_ASSERT_TRUE(refused_with(&r, RPB_CODE_PEER_REJECTED, "initial Hello frame exceeds 64 KiB"));
    CU_ASSERT_EQUAL(r.res.frame.request_id, 0);
    rpb_buf_free(&r.body);

    static const uint8_t partial[] = {0x01, 0x10, 0x00, 0x00, 0x00, 0x08, 0x01};
    raw_exchange(partial, sizeof partial, true, &r);
    CU_ASSERT_TRUE(refused_with(&r, RPB_CODE_PEER_REJECTED, "incomplete Hello frame"));
    rpb_buf_free(&r.body);
    raw_exchange(NULL, 0, true, &r);
    CU_ASSERT_TRUE(refused_with(&r, RPB_CODE_PEER_REJECTED, "incomplete Hello frame"));
    rpb_buf_free(&r.body);

    static const uint8_t garbage[] = {0x01, 0x03, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF};
    raw_exchange(garbage, sizeof garbage, false, &r);
    CU_ASSERT_TRUE(refused_with(&r, RPB_CODE_PEER_REJECTED, "malformed broker Frame"));
    rpb_buf_free(&r.body);
    static const uint8_t empty[] = {0x01, 0x00, 0x00, 0x00, 0x00};
    raw_exchange(empty, sizeof empty, false, &r);
    CU_ASSERT_TRUE(refused_with(&r, RPB_CODE_VERSION_UNSUPPORTED, "frame envelope_version is not v1"));
    rpb_buf_free(&r.body);
    assert_serving();
}

/* A valid Hello frame whose body is exactly body_len bytes (padding in the
 * ignored auth_token, HELLO-016). */
static size_t padded_hello(size_t body_len, uint8_t *out, size_t cap)
{
    static uint8_t pad[70000];
    rpb_hello h = base_hello();
    for (size_t p = body_len - 200; p < body_len; p++) {
        h.auth_token = (rpb_slice){pad, p};
        size_t n = hello_frame(&h, out, cap);
        if (n == body_len + 5)
            return n;
    }
    return 0;
}

static void test_hello_cap_boundary(void) /* HELLO-003, HELLO-016, FRAME-004 */
{
    static uint8_t buf[70100];
    reply r;
    size_t n = padded_hello(65536, buf, sizeof buf);
    CU_ASSERT_FATAL(n == 65541);
    raw_exchange(buf, n, false, &r);
    CU_ASSERT_TRUE(negotiated(&r));
    rpb_buf_free(&r.body);
    n = padded_hello(65537, buf, sizeof buf);
    CU_ASSERT_FATAL(n == 65542);
    raw_exchange(buf, n, false, &r);
    CU_ASSERT_TRUE(refused_with(&r, RPB_CODE_PEER_REJECTED, "initial Hello frame exceeds 64 KiB"));
    rpb_buf_free(&r.body);
    assert_serving();
}

static void test_envelope_refusals_echo(void) /* HELLO-008, HELLO-050 */
{
    static const struct {
        uint32_t version;
        int32_t kind;
        uint32_t pp;
        int32_t enc;
        int32_t code;
        const char *reason;
    } rows[] = {
        {2, 0, 0, 0, RPB_CODE_VERSION_UNSUPPORTED, "frame envelope_version is not v1"},
        {1, 1, 0, 0, RPB_CODE_PEER_REJECTED, "Hello frame kind must be REQUEST"},
        {1, 99, 0, 0, RPB_CODE_PEER_REJECTED, "Hello frame kind must be REQUEST"},
        {1, 0, RPB_PP_HANDOFF, 0, RPB_CODE_PEER_REJECTED,
         "Hello frame payload_protocol must be control-plane"},
        {1, 0, 0, 1, RPB_CODE_PEER_REJECTED, "Hello payload must not be compressed"},
        {1, 0, 0, 99, RPB_CODE_PEER_REJECTED, "Hello payload must not be compressed"},
    };
    uint8_t payload[512], buf[600];
    size_t plen, w;
    rpb_hello h = base_hello();
    rpb_encode(&rpb_hello_desc, &h, payload, sizeof payload, &plen);
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        rpb_frame f = rpb_frame_request(rows[i].pp, (rpb_slice){payload, plen});
        f.envelope_version = rows[i].version;
        f.kind = rows[i].kind;
        f.payload_encoding = rows[i].enc;
        f.request_id = 1000 + i;
        f.tracestate = rpb_slice_cstr("vendor=value");
        CU_ASSERT_FATAL(rpb_frame_encode(&f, buf, sizeof buf, &w) == RPB_OK);
        reply r;
        raw_exchange(buf, w, false, &r);
        CU_ASSERT_TRUE(refused_with(&r, rows[i].code, rows[i].reason));
        CU_ASSERT_EQUAL(r.res.frame.request_id, 1000 + i);
        CU_ASSERT_EQUAL(r.res.frame.payload_protocol, 0);
        CU_ASSERT_TRUE(rpb_slice_eq_cstr(r.res.frame.tracestate, "vendor=value"));
        CU_ASSERT_EQUAL(r.res.retry_after_ms, 0);
        rpb_buf_free(&r.body);
    }
    /* HELLO-009: a payload that is not a Hello */
    static const uint8_t garbage[] = {0xFF, 0xFF, 0xFF};
    rpb_frame f = rpb_frame_request(0, (rpb_slice){garbage, 3});
    CU_ASSERT_FATAL(rpb_frame_encode(&f, buf, sizeof buf, &w) == RPB_OK);
    reply r;
    raw_exchange(buf, w, false, &r);
    CU_ASSERT_TRUE(refused_with(&r, RPB_CODE_PEER_REJECTED, "malformed Hello payload"));
    rpb_buf_free(&r.body);
    f.payload = (rpb_slice){NULL, 0};
    CU_ASSERT_FATAL(rpb_frame_encode(&f, buf, sizeof buf, &w) == RPB_OK);
    raw_exchange(buf, w, false, &r);
    CU_ASSERT_TRUE(refused_with(&r, RPB_CODE_VERSION_UNSUPPORTED,
                                "client protocol range does not include v1"));
    rpb_buf_free(&r.body);
}

static void expect_refusal(const rpb_hello *h, int32_t code, const char *reason, uint64_t retry)
{
    reply r;
    hello_exchange(h, &r);
    CU_ASSERT_TRUE(refused_with(&r, code, reason));
    CU_ASSERT_EQUAL(r.res.retry_after_ms, retry);
    if (!refused_with(&r, code, reason))
        fprintf(stderr, "  expected %d \"%s\"; got rc %d classify %d code %d\n", code, reason, r.rc,
                r.classify, r.res.code);
    rpb_buf_free(&r.body);
}

static void expect_negotiated(const rpb_hello *h)
{
    reply r;
    hello_exchange(h, &r);
    CU_ASSERT_TRUE(negotiated(&r));
    rpb_buf_free(&r.body);
}

static void test_shape_and_policy_refusals(void) /* HELLO-010..HELLO-015, HELLO-021..HELLO-023 */
{
    static char big[200];
    memset(big, 'a', sizeof big);
    const int32_t PR = RPB_CODE_PEER_REJECTED;
    rpb_hello h = base_hello();
    h.client_min_protocol = h.client_max_protocol = 2;
    expect_refusal(&h, RPB_CODE_VERSION_UNSUPPORTED, "client protocol range does not include v1", 0);
    h = base_hello();
    h.client_min_protocol = 0;
    h.client_max_protocol = 5;
    expect_negotiated(&h);
    static const char *const bad_names[] = {"Zccache", "", "a.b", "zccache_service"};
    for (int i = 0; i < 4; i++) {
        h = base_hello();
        h.service_name = rpb_slice_cstr(bad_names[i]);
        expect_refusal(&h, PR, "invalid service_name", 0);
    }
    h.service_name = (rpb_slice){(uint8_t *)big, 65};
    expect_refusal(&h, PR, "invalid service_name", 0);
    h.service_name = (rpb_slice){(uint8_t *)big, 64}; /* valid, unknown */
    expect_refusal(&h, RPB_CODE_SERVICE_UNKNOWN, "service is not registered", 0);
    static const char *const bad_versions[] = {"1.0", "v1.0.0", "1.0.0-", "1.0.0-rc-1", "1.0.0+b"};
    for (int i = 0; i < 5; i++) {
        h = base_hello();
        h.wanted_version = rpb_slice_cstr(bad_versions[i]);
        expect_refusal(&h, PR, "invalid wanted_version", 0);
    }
    char v65[70] = "1.1.";
    memset(v65 + 4, '1', 61);
    h.wanted_version = (rpb_slice){(uint8_t *)v65, 65};
    expect_refusal(&h, PR, "invalid wanted_version", 0);
    h = base_hello();
    h.client_version = (rpb_slice){(uint8_t *)big, 128};
    expect_negotiated(&h);
    h.client_version = (rpb_slice){(uint8_t *)big, 129};
    expect_refusal(&h, PR, "client_version exceeds 128 bytes", 0);
    h = base_hello();
    h.client_lib_name = (rpb_slice){(uint8_t *)big, 64};
    h.client_lib_version = (rpb_slice){(uint8_t *)big, 64};
    expect_negotiated(&h);
    h.client_lib_name = (rpb_slice){(uint8_t *)big, 65};
    expect_refusal(&h, PR, "client_lib fields exceed 64 bytes", 0);
    h = base_hello();
    h.client_lib_version = (rpb_slice){(uint8_t *)big, 65};
    expect_refusal(&h, PR, "client_lib fields exceed 64 bytes", 0);
    h = base_hello();
    h.peer_pid = (uint32_t)getpid() + 1;
    expect_refusal(&h, PR, "peer_pid does not match verified peer", 0);
    h.peer_pid = 0;
    expect_negotiated(&h);
    h = base_hello();
    h.service_name = rpb_slice_cstr("clud");
    expect_refusal(&h, RPB_CODE_SERVICE_UNKNOWN, "service is not registered", 0);
    h = base_hello();
    h.wanted_version = rpb_slice_cstr("1.9.9");
    expect_refusal(&h, RPB_CODE_VERSION_BLOCKED, "wanted_version is below min_version", 30000);
    h.wanted_version = rpb_slice_cstr("1.12.0");
    expect_refusal(&h, RPB_CODE_VERSION_BLOCKED, "wanted_version is not in version_allow_list", 30000);
}

static void test_one_hello_per_connection(void) /* HELLO-001 */
{
    uint8_t buf[600];
    rpb_hello h = base_hello();
    size_t n = hello_frame(&h, buf, sizeof buf);
    int fd = connect_main();
    CU_ASSERT_FATAL(fd >= 0);
    tu_send_all(fd, buf, n);
    tu_send_all(fd, buf, n); /* a second Hello on the same connection */
    reply r;
    read_reply(fd, &r, 2000);
    CU_ASSERT_TRUE(negotiated(&r));
    rpb_buf_free(&r.body);
    read_reply(fd, &r, 2000);
    CU_ASSERT_EQUAL(r.rc, RPB_ERR_UNEXPECTED_EOF); /* closed, nothing more */
    rpb_buf_free(&r.body);
    close(fd);
}

static void test_concurrent_clients_unique_ids(void) /* HELLO-036, SEC-005 */
{
    enum { N = 100 };
    int fds[N];
    uint8_t buf[600];
    rpb_hello h = base_hello();
    size_t n = hello_frame(&h, buf, sizeof buf);
    for (int i = 0; i < N; i++) {
        fds[i] = connect_main();
        CU_ASSERT_FATAL(fds[i] >= 0);
    }
    for (int i = 0; i < N; i++)
        tu_send_all(fds[i], buf, n);
    uint64_t ids[N], lo = UINT64_MAX, hi = 0;
    int ok = 0;
    for (int i = 0; i < N; i++) {
        reply r;
        read_reply(fds[i], &r, 3000);
        close(fds[i]);
        ids[i] = 0;
        if (negotiated(&r)) {
            ok++;
            ids[i] = r.res.reply.negotiated.connection_id;
            lo = ids[i] < lo ? ids[i] : lo;
            hi = ids[i] > hi ? ids[i] : hi;
        }
        rpb_buf_free(&r.body);
    }
    CU_ASSERT_EQUAL(ok, N);
    int dup = 0;
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            dup += ids[i] == ids[j];
    CU_ASSERT_EQUAL(dup, 0);
    CU_ASSERT_EQUAL(hi - lo, N - 1); /* consecutive: no other client meanwhile */
}

static void test_rate_limit(void) /* HELLO-020, SEC-008 */
{
    char path[160], logf[160];
    snprintf(path, sizeof path, "%s/rate/b.sock", root);
    snprintf(logf, sizeof logf, "%s/rate.log", root);
    spawn_opts o = {.socket = path, .log = logf, .extra = {"--rate-limit", "8/60000"}};
    broker_proc b;
    CU_ASSERT_FATAL(start_broker(&o, &b));
    uint8_t buf[600];
    rpb_hello h = base_hello();
    size_t n = hello_frame(&h, buf, sizeof buf);
    int neg = 0, limited = 0, retry_ok = 0;
    for (int i = 0; i < 32; i++) {
        int fd = rpb_client_connect(path, rpb_monotonic_ms() + 2000);
        tu_send_all(fd, buf, n);
        reply r;
        read_reply(fd, &r, 2000);
        close(fd);
        if (negotiated(&r))
            neg++;
        else if (refused_with(&r, RPB_CODE_RATE_LIMITED, "Hello rate limit exceeded")) {
            limited++;
            retry_ok += r.res.retry_after_ms >= 1 && r.res.retry_after_ms <= 60000;
        }
        rpb_buf_free(&r.body);
    }
    CU_ASSERT_EQUAL(neg, 8);
    CU_ASSERT_EQUAL(limited, 24);
    CU_ASSERT_EQUAL(retry_ok, 24);
    /* another process (another verified pid) has its own budget */
    pid_t child = fork();
    if (child == 0) {
        rpb_hello ch = base_hello();
        uint8_t cbuf[600];
        size_t cn = hello_frame(&ch, cbuf, sizeof cbuf);
        int fd = rpb_client_connect(path, rpb_monotonic_ms() + 2000);
        tu_send_all(fd, cbuf, cn);
        reply r;
        read_reply(fd, &r, 2000);
        _exit(negotiated(&r) ? 0 : 1);
    }
    CU_ASSERT_EQUAL(tu_wait_exit(child, 10000), 0);
    kill_broker(&b);
}

static void test_slowloris_and_idle_do_not_delay(void) /* SEC-005 */
{
    enum { IDLE = 200 };
    int idle[IDLE];
    for (int i = 0; i < IDLE; i++) {
        idle[i] = connect_main();
        CU_ASSERT_FATAL(idle[i] >= 0);
    }
    int slow = connect_main();
    static const uint8_t hdr[] = {0x01, 0x40, 0x00, 0x00, 0x00};
    tu_send_all(slow, hdr, 1);
    for (int i = 0; i < 20; i++) {
        if (i < 4)
            tu_send_all(slow, hdr + 1 + i, 1); /* one byte at a time */
        assert_serving();
    }
    /* SEC-006: the slowloris gets the deadline refusal */
    reply r;
    read_reply(slow, &r, 3000);
    CU_ASSERT_TRUE(refused_with(&r, RPB_CODE_PEER_REJECTED, "Hello handshake deadline exceeded"));
    rpb_buf_free(&r.body);
    close(slow);
    for (int i = 0; i < IDLE; i++)
        close(idle[i]);
    assert_serving();
}

static void test_abuse_leaves_broker_serving(void) /* SEC-007, ADMIN-008 */
{
    uint8_t buf[600];
    rpb_hello h = base_hello();
    size_t n = hello_frame(&h, buf, sizeof buf);
    /* early hang-up */
    close(connect_main());
    assert_serving();
    /* half a frame, then gone */
    int fd = connect_main();
    tu_send_all(fd, buf, n / 2);
    close(fd);
    assert_serving();
    /* a Hello, then gone before the reply (EPIPE on the broker side) */
    for (int i = 0; i < 20; i++) {
        fd = connect_main();
        /* linger 0: close() resets the connection */
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &(struct linger){1, 0}, sizeof(struct linger));
        tu_send_all(fd, buf, n);
        close(fd);
    }
    assert_serving();
    /* garbage flood */
    for (int i = 0; i < 50; i++) {
        uint8_t junk[64];
        for (size_t j = 0; j < sizeof junk; j++)
            junk[j] = (uint8_t)(rand() & 0xFF);
        junk[0] = (uint8_t)(i & 1);
        fd = connect_main();
        tu_send_all(fd, junk, sizeof junk);
        close(fd);
    }
    assert_serving();
    /* malformed admin frames are answered (ADMIN-008) */
    static const uint8_t garbage[] = {0xFF, 0xFF};
    rpb_frame f = rpb_frame_request(RPB_PP_ADMIN, (rpb_slice){garbage, 2});
    size_t w;
    rpb_frame_encode(&f, buf, sizeof buf, &w);
    fd = connect_main();
    tu_send_all(fd, buf, w);
    rpb_buf body = {0};
    CU_ASSERT_EQUAL(rpb_read_frame(fd, RPB_MAX_FRAME_BYTES, rpb_monotonic_ms() + 2000, &body, NULL),
                    RPB_OK);
    rpb_frame rf;
    rpb_admin_reply ar;
    CU_ASSERT_EQUAL(rpb_admin_reply_decode(body.data, body.len, &rf, &ar), RPB_OK);
    CU_ASSERT_EQUAL(ar.exit_code, 2);
    rpb_buf_free(&body);
    close(fd);
    f = rpb_frame_request(RPB_PP_ADMIN, (rpb_slice){NULL, 0});
    f.kind = RPB_FRAME_KIND_RESPONSE;
    rpb_frame_encode(&f, buf, sizeof buf, &w);
    fd = connect_main();
    tu_send_all(fd, buf, w);
    close(fd);
    assert_serving();
    /* a client that never reads its reply */
    n = hello_frame(&h, buf, sizeof buf);
    fd = connect_main();
    tu_send_all(fd, buf, n);
    assert_serving();
    close(fd);
}

static int run_client(const char *const *args, char *out, size_t cap)
{
    const char *argv[16] = {client_bin, "--socket", sock_path};
    for (int i = 0; args[i] && i < 12; i++)
        argv[3 + i] = args[i];
    return tu_run_capture(argv, out, cap, 5000);
}

static void test_admin_verbs_via_client(void) /* ADMIN-002..ADMIN-007, ADMIN-010 */
{
    static char out[65536];
    CU_ASSERT_EQUAL(run_client((const char *[]){"--admin", "healthz", NULL}, out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "ok\n");
    CU_ASSERT_EQUAL(run_client((const char *[]){"--admin", "readyz", NULL}, out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "ready\n");
    CU_ASSERT_EQUAL(run_client((const char *[]){"--admin", "status", NULL}, out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "broker_instance: shared\naccepting_hello: true\n");
    CU_ASSERT_EQUAL(run_client((const char *[]){"--admin", "status", "--json", NULL}, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"command\":\"status\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"backend_pipe\":\"/run/zccache-backend.sock\""));
    CU_ASSERT_EQUAL(run_client((const char *[]){"--admin", "metrics", NULL}, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "# TYPE running_process_broker_v1_connections_open gauge\n"));
    CU_ASSERT(strlen(out) > 6 && strcmp(out + strlen(out) - 6, "# EOF\n") == 0);
    CU_ASSERT_EQUAL(run_client((const char *[]){"--admin", "config", NULL}, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"max_hello_bytes\":65536"));
    CU_ASSERT_EQUAL(run_client((const char *[]){"--admin", "0", NULL}, out, sizeof out), 2);
    CU_ASSERT_STRING_EQUAL(out, "unsupported admin verb\n");
}

static void test_client_exit_codes(void) /* HELLO-062 */
{
    static char out[8192];
    CU_ASSERT_EQUAL(run_client((const char *[]){"--service", "zccache", "--version", "1.11.20", NULL},
                               out, sizeof out),
                    0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "backend_pipe: /run/zccache-backend.sock"));
    /* numbers: decimal (a leading 0 is not octal) or 0x hex */
    CU_ASSERT_EQUAL(run_client((const char *[]){"--service", "zccache", "--version", "1.11.20",
                                                "--request-id", "010", "--keepalive", "0x10", NULL},
                               out, sizeof out),
                    0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "request_id: 10\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "keepalive_interval_secs: 16\n"));
    CU_ASSERT_EQUAL(run_client((const char *[]){"--service", "zccache", "--version", "1.11.20",
                                                "--request-id", "-1", NULL},
                               out, sizeof out),
                    2);
    CU_ASSERT_EQUAL(run_client((const char *[]){"--service", "clud", "--wanted-version", "1.0.0", NULL},
                               out, sizeof out),
                    12);
    /* the first line names the refusal by its code */
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "refused (ERROR_SERVICE_UNKNOWN)\n"));
    CU_ASSERT_EQUAL(run_client((const char *[]){"--service", "zccache", "--version", "1.9.9", "--json",
                                                NULL},
                               out, sizeof out),
                    18);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"code\": \"ERROR_VERSION_BLOCKED\""));
    CU_ASSERT_EQUAL(run_client((const char *[]){"--service", "Bad", "--version", "1.0.0", NULL}, out,
                               sizeof out),
                    16);
    CU_ASSERT_EQUAL(run_client((const char *[]){"--bogus", NULL}, out, sizeof out), 2);
}

#define MP "# TYPE running_process_broker_v1_services_rejected gauge\nrunning_process_broker_v1_"

/* Whether the main broker's METRICS contain running_process_broker_v1_<text>. */
static bool metrics_show(const void *text)
{
    char want[256];
    snprintf(want, sizeof want, "running_process_broker_v1_%s", (const char *)text);
    uint8_t req[64];
    size_t len;
    if (rpb_admin_request_encode(RPB_ADMIN_VERB_METRICS, false, (rpb_slice){0}, 1, req, sizeof req,
                                 &len) != RPB_OK)
        return false;
    rpb_buf body = {0};
    rpb_frame rf;
    rpb_admin_reply ar;
    bool found = false;
    if (rpb_client_exchange(sock_path, req, len, rpb_monotonic_ms() + 2000, &body, NULL) == RPB_OK &&
        rpb_admin_reply_decode(body.data, body.len, &rf, &ar) == RPB_OK)
        found = memmem(ar.body.data, ar.body.len, want, strlen(want)) != NULL;
    rpb_buf_free(&body);
    return found;
}

/* A Hello to a broker (NULL: the main one) and the reply it must get:
 * negotiated with backend_pipe, or refused with code and reason. */
typedef struct hello_expect {
    const char *socket;
    rpb_hello hello;
    const char *backend_pipe; /* NULL: refused */
    int32_t code;
    const char *reason;
} hello_expect;

static bool hello_answered(const void *arg)
{
    const hello_expect *e = arg;
    reply r;
    hello_exchange_at(e->socket ? e->socket : sock_path, &e->hello, &r);
    bool ok = e->backend_pipe ? negotiated(&r) && rpb_slice_eq_cstr(r.res.reply.negotiated.backend_pipe,
                                                                     e->backend_pipe)
                              : refused_with(&r, e->code, e->reason);
    rpb_buf_free(&r.body);
    return ok;
}

/* Waits, reload by reload of b's services directory (its "loaded N
 * service(s)" log lines: inotify delivery is asynchronous and one change
 * may take several reloads), until check(arg) holds; false when no reload
 * within 5 s makes it hold. */
static bool after_reloads(broker_proc *b, bool (*check)(const void *), const void *arg)
{
    while (tu_tail_wait(&b->log, "\"loaded ", NULL, 5000))
        if (check(arg))
            return true;
    return false;
}

static void test_reload_on_change(void) /* service definitions, HELLO-021, HELLO-022 */
{
    hello_expect fb = {.hello = base_hello(), .backend_pipe = "/run/fb.sock"};
    fb.hello.service_name = rpb_slice_cstr("fbuild");
    fb.hello.wanted_version = rpb_slice_cstr("2.0.0");
    expect_refusal(&fb.hello, RPB_CODE_SERVICE_UNKNOWN, "service is not registered", 0);
    /* the binary form, as upstream writes it (plus the rpb.backend_pipe label) */
    uint8_t mem[512], bin[512];
    rpb_arena arena;
    rpb_arena_init(&arena, mem, sizeof mem);
    rpb_service svc = {.name = rpb_slice_cstr("fbuild"), .backend_pipe = rpb_slice_cstr("/run/fb.sock")};
    size_t n;
    CU_ASSERT_FATAL(rpb_servicedef_encode_proto(&svc, &arena, bin, sizeof bin, &n) == RPB_OK);
    char tmp[256], path[256];
    snprintf(tmp, sizeof tmp, "%s/.fbuild.tmp", svc_dir);
    snprintf(path, sizeof path, "%s/fbuild.servicedef", svc_dir);
    FILE *f = fopen(tmp, "wb");
    fwrite(bin, 1, n, f);
    fclose(f);
    rename(tmp, path);
    CU_ASSERT_TRUE(after_reloads(&main_broker, hello_answered, &fb));
    /* a raised floor applies to the next Hello */
    write_file(svc_dir, "zccache.service",
               "backend_pipe = /run/zccache-backend.sock\nmin_version = 1.12.0\n");
    hello_expect z = {.hello = base_hello(),
                      .code = RPB_CODE_VERSION_BLOCKED,
                      .reason = "wanted_version is below min_version"};
    CU_ASSERT_TRUE(after_reloads(&main_broker, hello_answered, &z));
    unlink(path);
    write_file(svc_dir, "zccache.service", ZCCACHE_SERVICE);
    z.backend_pipe = "/run/zccache-backend.sock";
    CU_ASSERT_TRUE(after_reloads(&main_broker, hello_answered, &z));
    /* §10: dot files and other extensions are ignored; a name defined in
     * both forms loads once, the other file is rejected as a duplicate */
    write_file(svc_dir, "notes.txt", "backend_pipe = /x\n");
    write_file(svc_dir, ".hidden.service", "garbage\n");
    rpb_arena_init(&arena, mem, sizeof mem);
    rpb_service dup = {.name = rpb_slice_cstr("zccache"),
                       .backend_pipe = rpb_slice_cstr("/run/zccache-backend.sock")};
    CU_ASSERT_FATAL(rpb_servicedef_encode_proto(&dup, &arena, bin, sizeof bin, &n) == RPB_OK);
    snprintf(path, sizeof path, "%s/zccache.servicedef", svc_dir);
    f = fopen(tmp, "wb");
    fwrite(bin, 1, n, f);
    fclose(f);
    rename(tmp, path);
    CU_ASSERT_TRUE(after_reloads(&main_broker, metrics_show,
                                 "services_loaded 1\n" MP "services_rejected 1\n"));
    unlink(path);
    CU_ASSERT_TRUE(after_reloads(&main_broker, metrics_show,
                                 "services_loaded 1\n" MP "services_rejected 0\n"));
    snprintf(path, sizeof path, "%s/notes.txt", svc_dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/.hidden.service", svc_dir);
    unlink(path);
    /* SIGHUP re-reads the directory and keeps serving */
    kill(main_broker.pid, SIGHUP);
    CU_ASSERT_TRUE(tu_tail_wait(&main_broker.log, "SIGHUP", NULL, 5000));
    CU_ASSERT_TRUE(tu_tail_wait(&main_broker.log, "\"loaded 1 service(s)", NULL, 5000));
    assert_serving();
}

/* The services directory replaced (renamed away, removed and created
 * again, as configuration tools do) is watched again: files added to the
 * new one are served without a signal.  SIGHUP re-establishes the watch
 * too. */
static void test_services_dir_replaced(void) /* SEC-019 */
{
    char dir[160], svc[192], moved[192], fresh[192], path[192], logf[192];
    snprintf(dir, sizeof dir, "%s/replace", root);
    snprintf(svc, sizeof svc, "%s/svc", dir);
    snprintf(moved, sizeof moved, "%s/svc.old", dir);
    snprintf(fresh, sizeof fresh, "%s/svc.new", dir);
    snprintf(path, sizeof path, "%s/b.sock", dir);
    snprintf(logf, sizeof logf, "%s/log", dir);
    mkdir(dir, 0700);
    mkdir(svc, 0700);
    spawn_opts o = {.socket = path, .log = logf, .extra = {"--services", svc}};
    broker_proc b;
    CU_ASSERT_FATAL(start_broker(&o, &b));
    hello_expect e = {.socket = path, .hello = base_hello()};
    /* a prepared directory renamed into place */
    mkdir(fresh, 0700);
    write_file(fresh, "alpha.service", "backend_pipe = /run/alpha.sock\n");
    CU_ASSERT_FATAL(rename(svc, moved) == 0 && rename(fresh, svc) == 0);
    e.hello.service_name = rpb_slice_cstr("alpha");
    e.backend_pipe = "/run/alpha.sock";
    CU_ASSERT_TRUE(after_reloads(&b, hello_answered, &e));
    /* the new directory is the one watched */
    write_file(svc, "beta.service", "backend_pipe = /run/beta.sock\n");
    e.hello.service_name = rpb_slice_cstr("beta");
    e.backend_pipe = "/run/beta.sock";
    CU_ASSERT_TRUE(after_reloads(&b, hello_answered, &e));
    /* removed, then created again */
    char file[256];
    snprintf(file, sizeof file, "%s/alpha.service", svc);
    unlink(file);
    snprintf(file, sizeof file, "%s/beta.service", svc);
    unlink(file);
    CU_ASSERT_FATAL(rmdir(svc) == 0 && mkdir(svc, 0700) == 0);
    write_file(svc, "gamma.service", "backend_pipe = /run/gamma.sock\n");
    e.hello.service_name = rpb_slice_cstr("gamma");
    e.backend_pipe = "/run/gamma.sock";
    CU_ASSERT_TRUE(after_reloads(&b, hello_answered, &e));
    /* SIGHUP: re-read and watched again */
    kill(b.pid, SIGHUP);
    CU_ASSERT_TRUE(tu_tail_wait(&b.log, "SIGHUP", NULL, 5000));
    write_file(svc, "delta.service", "backend_pipe = /run/delta.sock\n");
    e.hello.service_name = rpb_slice_cstr("delta");
    e.backend_pipe = "/run/delta.sock";
    CU_ASSERT_TRUE(after_reloads(&b, hello_answered, &e));
    kill_broker(&b);
}

/* A Hello on the main broker, read up to the broker's close of it. */
static void hello_until_closed(void)
{
    uint8_t buf[600];
    rpb_hello h = base_hello();
    int fd = connect_main();
    CU_ASSERT_FATAL(fd >= 0);
    tu_send_all(fd, buf, hello_frame(&h, buf, sizeof buf));
    reply r;
    read_reply(fd, &r, 2000);
    CU_ASSERT_TRUE(negotiated(&r));
    rpb_buf_free(&r.body);
    read_reply(fd, &r, 2000);
    CU_ASSERT_EQUAL(r.rc, RPB_ERR_UNEXPECTED_EOF);
    rpb_buf_free(&r.body);
    close(fd);
}

/* The main broker's descriptors once the connections made so far are
 * closed: a Hello answered after every earlier connection's close.  Each
 * connection's log line is written just before its close, so once all
 * `lines` connections since the log was last read have theirs, the Hello
 * that follows is answered after those closes. */
static int settled_fds(int lines)
{
    int seen = 0;
    while (seen < lines && tu_tail_wait(&main_broker.log, "\"event\":\"connection\"", NULL, 10000))
        seen++;
    CU_ASSERT_EQUAL(seen, lines);
    hello_until_closed();
    return fd_count(main_broker.pid);
}

static void test_no_fd_leak_after_10000_connections(void) /* SEC-007, SEC-014 */
{
    hello_until_closed(); /* answered after earlier tests' connections closed */
    while (tu_tail_next(&main_broker.log, 0) != NULL)
        ; /* read to the end: the next line is the Hello's */
    int before = settled_fds(0);
    CU_ASSERT_FATAL(before > 0);
    uint8_t buf[600];
    rpb_hello h = base_hello();
    size_t n = hello_frame(&h, buf, sizeof buf);
    int neg = 0;
    for (int i = 0; i < 10000; i++) {
        int fd = connect_main();
        if (fd < 0)
            continue;
        switch (i % 4) {
        case 0:
        case 1: {
            tu_send_all(fd, buf, n);
            reply r;
            read_reply(fd, &r, 2000);
            neg += negotiated(&r);
            rpb_buf_free(&r.body);
            break;
        }
        case 2:
            tu_send_all(fd, buf, n / 2); /* hang up mid-frame */
            break;
        default:
            break; /* connect and leave */
        }
        close(fd);
    }
    CU_ASSERT_EQUAL(neg, 5000);
    int after = settled_fds(1 + 10000); /* that Hello's and ours */
    printf("\n    broker fds before %d, after 10000 connections %d ", before, after);
    CU_ASSERT_EQUAL(after, before);
}

/* Skips the running test unless it runs as root; true when skipped. */
static bool skip_unless_root(void)
{
    if (geteuid() == 0)
        return false;
    tu_skip("needs root to connect as another uid (running as uid %u)", (unsigned)geteuid());
    return true;
}

/* SEC-004: a peer of uid 65534 that connects to path and sends a Hello is
 * closed with nothing written (waited for up to 10 s: it may queue behind
 * others); b logs it dropped. */
static void expect_foreign_peer_gets_nothing(const char *path, broker_proc *b)
{
    pid_t child = fork();
    if (child == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(3);
        rpb_hello ch = base_hello();
        uint8_t cbuf[600];
        size_t cn = hello_frame(&ch, cbuf, sizeof cbuf);
        int fd = rpb_client_connect(path, rpb_monotonic_ms() + 2000);
        if (fd < 0)
            _exit(4);
        tu_send_all(fd, cbuf, cn);
        uint8_t one;
        struct pollfd p = {fd, POLLIN, 0};
        poll(&p, 1, 10000);
        ssize_t got = recv(fd, &one, 1, MSG_DONTWAIT);
        /* closed with nothing written: end of stream, or a reset because
         * the Hello was never read */
        _exit(got == 0 || (got < 0 && errno == ECONNRESET) ? 0 : 5);
    }
    int st = tu_wait_exit(child, 15000);
    CU_ASSERT_EQUAL(st, 0);
    if (st != 0)
        printf("\n    foreign-uid child exit status %d ", st);
    CU_ASSERT_TRUE(tu_tail_wait(&b->log, "\"outcome\":\"dropped\"", "\"uid\":65534", 5000));
}

/* A world-connectable socket in dir (created 0755 under root, which is
 * opened to 0711 until close_open_socket), handed to broker b by socket
 * activation; the socket path is in path. */
static void start_on_open_socket(const char *name, rlim_t nofile, char *path, size_t cap,
                                 broker_proc *b)
{
    char dir[160], logf[192];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    snprintf(logf, sizeof logf, "%s.log", dir);
    mkdir(dir, 0755);
    chmod(root, 0711);
    snprintf(path, cap, "%s/b.sock", dir);
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, path);
    CU_ASSERT_FATAL(bind(l, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(l, 64) == 0);
    chmod(path, 0666);
    spawn_opts o = {.socket = NULL,
                    .listen_fd = l,
                    .nofile = nofile,
                    .log = logf,
                    .extra = {"--handshake-timeout", "20000"}};
    bool started = start_broker(&o, b);
    close(l);
    CU_ASSERT_FATAL(started);
}

static void close_open_socket(const char *path)
{
    unlink(path);
    chmod(root, 0700);
}

static void test_socket_activation(void) /* SEC-003 */
{
    /* a world-connectable socket, handed over by socket activation */
    char path[200];
    broker_proc b;
    start_on_open_socket("open", 0, path, sizeof path, &b);
    /* the owner is served on the activated socket */
    rpb_hello h = base_hello();
    uint8_t buf[600];
    size_t n = hello_frame(&h, buf, sizeof buf);
    int fd = rpb_client_connect(path, rpb_monotonic_ms() + 2000);
    tu_send_all(fd, buf, n);
    reply r;
    read_reply(fd, &r, 2000);
    CU_ASSERT_TRUE(negotiated(&r));
    rpb_buf_free(&r.body);
    close(fd);
    kill(b.pid, SIGTERM);
    CU_ASSERT_EQUAL(tu_wait_exit(b.pid, 5000), 0);
    tu_tail_close(&b.log);
    CU_ASSERT_EQUAL(access(path, F_OK), 0); /* activated sockets are not removed */
    close_open_socket(path);
}

static void test_activation_foreign_uid(void) /* SEC-004 */
{
    if (skip_unless_root())
        return;
    char path[200];
    broker_proc b;
    start_on_open_socket("open-foreign", 0, path, sizeof path, &b);
    expect_foreign_peer_gets_nothing(path, &b);
    kill_broker(&b);
    close_open_socket(path);
}

/* SEC-004 over SEC-011: the connection answered through the reserve
 * descriptor while out of descriptors is a foreign uid's: closed unanswered. */
static void test_fd_pressure_foreign_uid(void)
{
    if (skip_unless_root())
        return;
    char path[200];
    broker_proc b;
    start_on_open_socket("open-emfile", 24, path, sizeof path, &b);
    enum { IDLE = 30 };
    int idle[IDLE];
    for (int i = 0; i < IDLE; i++)
        idle[i] = rpb_client_connect(path, rpb_monotonic_ms() + 2000);
    /* the broker runs out of descriptors; from now on it takes the
     * connections it cannot hold through the reserve, one per back-off,
     * the foreign one after the idle ones still queued */
    CU_ASSERT_TRUE(tu_tail_wait(&b.log, "\"outcome\":\"fd-pressure\"", NULL, 10000));
    expect_foreign_peer_gets_nothing(path, &b);
    for (int i = 0; i < IDLE; i++)
        close(idle[i]);
    kill_broker(&b);
    close_open_socket(path);
}

static void test_fd_pressure(void) /* SEC-011, SEC-022 (reserve), SEC-020 (recovery), SEC-013, SEC-021 */
{
    char path[160], logf[160];
    snprintf(path, sizeof path, "%s/emfile/b.sock", root);
    snprintf(logf, sizeof logf, "%s/emfile.log", root);
    spawn_opts o = {.socket = path, .nofile = 24, .log = logf};
    broker_proc b;
    CU_ASSERT_FATAL(start_broker(&o, &b));
    enum { IDLE = 30 };
    int idle[IDLE];
    for (int i = 0; i < IDLE; i++)
        idle[i] = rpb_client_connect(path, rpb_monotonic_ms() + 2000);
    CU_ASSERT_TRUE(tu_tail_wait(&b.log, "\"outcome\":\"fd-pressure\"", NULL, 10000));
    /* SEC-022: queued behind the idle connections the broker cannot take:
     * each is answered through the reserve descriptor, one per back-off,
     * unread (nothing echoed) */
    uint8_t buf[600];
    rpb_hello h = base_hello();
    size_t n = hello_frame(&h, buf, sizeof buf);
    int fd = rpb_client_connect(path, rpb_monotonic_ms() + 2000);
    tu_send_all(fd, buf, n);
    reply r;
    read_reply(fd, &r, 10000);
    CU_ASSERT_TRUE(refused_with(&r, RPB_CODE_FD_PRESSURE,
                                "broker is low on file descriptors; retry shortly"));
    CU_ASSERT_EQUAL(r.res.retry_after_ms, 1000);
    CU_ASSERT_EQUAL(r.res.frame.request_id, 0);
    rpb_buf_free(&r.body);
    close(fd);
    /* the backlog is empty now (that connection came last); the idle ones
     * hang up, and their closes are handled before the next accept */
    for (int i = 0; i < IDLE; i++)
        close(idle[i]);
    /* SEC-021: still demoted, an admin request is answered as usual:
     * READYZ "not ready" (ADMIN-003); its accept is the first of the three
     * that clear the demotion */
    uint8_t req[64];
    size_t rn;
    CU_ASSERT_FATAL(rpb_admin_request_encode(RPB_ADMIN_VERB_READYZ, false, (rpb_slice){0}, 3, req, sizeof req,
                                             &rn) == RPB_OK);
    fd = rpb_client_connect(path, rpb_monotonic_ms() + 2000);
    tu_send_all(fd, req, rn);
    rpb_buf body = {0};
    CU_ASSERT_EQUAL(rpb_read_frame(fd, RPB_MAX_FRAME_BYTES, rpb_monotonic_ms() + 10000, &body, NULL), RPB_OK);
    rpb_frame rf;
    rpb_admin_reply ar;
    CU_ASSERT_EQUAL(rpb_admin_reply_decode(body.data, body.len, &rf, &ar), RPB_OK);
    CU_ASSERT_EQUAL(ar.exit_code, 1);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(ar.body, "not ready\n"));
    rpb_buf_free(&body);
    close(fd);
    /* recovery: demoted until 3 accepts succeed; the next Hello is read
     * and refused echoing the request, the one after is served */
    for (int i = 1; i < 3; i++) {
        fd = rpb_client_connect(path, rpb_monotonic_ms() + 2000);
        tu_send_all(fd, buf, n);
        read_reply(fd, &r, 10000);
        close(fd);
        if (i < 2) {
            CU_ASSERT_TRUE(refused_with(&r, RPB_CODE_FD_PRESSURE,
                                        "broker is low on file descriptors; retry shortly"));
            CU_ASSERT_EQUAL(r.res.frame.request_id, 7);
        } else {
            CU_ASSERT_TRUE(negotiated(&r));
        }
        rpb_buf_free(&r.body);
    }
    CU_ASSERT_TRUE(tu_tail_wait(&b.log, "demotion cleared", NULL, 5000));
    kill_broker(&b);

    /* SEC-013: over --max-connections, refused without reading (accepts
     * are in connect order: the sixth is the one over the cap) */
    snprintf(path, sizeof path, "%s/cap/b.sock", root);
    snprintf(logf, sizeof logf, "%s/cap.log", root);
    spawn_opts o2 = {.socket = path, .log = logf, .extra = {"--max-connections", "5"}};
    CU_ASSERT_FATAL(start_broker(&o2, &b));
    int held[5];
    for (int i = 0; i < 5; i++)
        held[i] = rpb_client_connect(path, rpb_monotonic_ms() + 2000);
    fd = rpb_client_connect(path, rpb_monotonic_ms() + 2000);
    read_reply(fd, &r, 2000); /* nothing sent */
    CU_ASSERT_TRUE(refused_with(&r, RPB_CODE_FD_PRESSURE,
                                "broker is low on file descriptors; retry shortly"));
    rpb_buf_free(&r.body);
    close(fd);
    for (int i = 0; i < 5; i++)
        close(held[i]);
    kill_broker(&b);
}

/* SEC-014, SEC-026: the reply of a client that stops reading is kept only until
 * the handshake deadline.  A STATUS reply over the socket's send buffer
 * (ten services whose 4096-byte backend_pipe JSON-escapes to 24 KiB each)
 * cannot be written at once; the broker must drop it at the deadline. */
static void test_unread_reply_dropped_at_deadline(void)
{
    FILE *w = fopen("/proc/sys/net/core/wmem_default", "r");
    long wmem = 0;
    if (w == NULL || fscanf(w, "%ld", &wmem) != 1 || wmem > 200000 + 16384) {
        tu_skip("needs a socket send buffer below the 240 KiB reply (wmem_default %ld)", wmem);
        if (w)
            fclose(w);
        return;
    }
    fclose(w);
    char dir[160], svc[192], path[200], logf[200];
    snprintf(dir, sizeof dir, "%s/unread", root);
    snprintf(svc, sizeof svc, "%s/svc", dir);
    mkdir(dir, 0700);
    mkdir(svc, 0700);
    static char text[4200];
    int n = snprintf(text, sizeof text, "backend_pipe = /");
    memset(text + n, 0x01, 4095);
    strcpy(text + n + 4095, "\n");
    for (int i = 0; i < 10; i++) {
        char name[32];
        snprintf(name, sizeof name, "s%d.service", i);
        write_file(svc, name, text);
    }
    snprintf(path, sizeof path, "%s/b.sock", dir);
    snprintf(logf, sizeof logf, "%s/log", dir);
    spawn_opts o = {.socket = path,
                    .log = logf,
                    .extra = {"--services", svc, "--handshake-timeout", "300"}};
    broker_proc b;
    CU_ASSERT_FATAL(start_broker(&o, &b));
    uint8_t req[600];
    size_t len;
    CU_ASSERT_FATAL(rpb_admin_request_encode(RPB_ADMIN_VERB_STATUS, true, (rpb_slice){0}, 1, req,
                                             sizeof req, &len) == RPB_OK);
    int fd = rpb_client_connect(path, rpb_monotonic_ms() + 2000);
    CU_ASSERT_FATAL(fd >= 0);
    tu_send_all(fd, req, len); /* and never read */
    CU_ASSERT_TRUE(tu_tail_wait(&b.log, "\"outcome\":\"admin\"", "\"write\":\"deadline\"", 10000));
    close(fd);
    kill_broker(&b);
}

/* SEC-012, SEC-023 (admin during the drain), SEC-024 (exit 0 after the
 * period, socket removed), SEC-003 */
static void test_sigterm_drain(void)
{
    char path[160], logf[160];
    snprintf(path, sizeof path, "%s/drain/b.sock", root);
    snprintf(logf, sizeof logf, "%s/drain.log", root);
    spawn_opts o = {.socket = path, .log = logf, .extra = {"--drain-timeout", "400"}};
    broker_proc b;
    CU_ASSERT_FATAL(start_broker(&o, &b));
    uint8_t buf[600];
    rpb_hello h = base_hello();
    size_t n = hello_frame(&h, buf, sizeof buf);
    int early = rpb_client_connect(path, rpb_monotonic_ms() + 2000);
    int64_t t0 = rpb_monotonic_ms();
    kill(b.pid, SIGTERM);
    CU_ASSERT_TRUE(tu_tail_wait(&b.log, "draining for 400 ms", NULL, 5000));
    reply r;
    tu_send_all(early, buf, n); /* connected before, Hello after the signal */
    read_reply(early, &r, 2000);
    CU_ASSERT_TRUE(refused_with(&r, RPB_CODE_SHUTTING_DOWN, "broker is shutting down"));
    CU_ASSERT_EQUAL(r.res.retry_after_ms, 1000);
    CU_ASSERT_EQUAL(r.res.frame.request_id, 7);
    rpb_buf_free(&r.body);
    close(early);
    int fd = rpb_client_connect(path, rpb_monotonic_ms() + 2000);
    tu_send_all(fd, buf, n);
    read_reply(fd, &r, 2000);
    CU_ASSERT_TRUE(refused_with(&r, RPB_CODE_SHUTTING_DOWN, "broker is shutting down"));
    rpb_buf_free(&r.body);
    close(fd);
    /* admin still served: not ready */
    size_t w;
    rpb_admin_request_encode(RPB_ADMIN_VERB_READYZ, false, (rpb_slice){0}, 1, buf, sizeof buf, &w);
    rpb_buf body = {0};
    CU_ASSERT_EQUAL(rpb_client_exchange(path, buf, w, rpb_monotonic_ms() + 2000, &body, NULL), RPB_OK);
    rpb_frame rf;
    rpb_admin_reply ar;
    CU_ASSERT_EQUAL(rpb_admin_reply_decode(body.data, body.len, &rf, &ar), RPB_OK);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(ar.body, "not ready\n"));
    CU_ASSERT_EQUAL(ar.exit_code, 1);
    rpb_buf_free(&body);
    CU_ASSERT_EQUAL(tu_wait_exit(b.pid, 10000), 0);
    tu_tail_close(&b.log);
    /* not before the drain period ended (it starts after t0) */
    CU_ASSERT(rpb_monotonic_ms() - t0 >= 400);
    CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0); /* socket removed */
}

/* SEC-012: connections waiting in the listen backlog when the drain ends
 * are answered like the others, not reset by the listener's close.  The
 * broker is stopped (SIGSTOP) while they connect and send their Hellos,
 * then gets the signal(s) and SIGCONT; the drain lasts drain_ms, or a
 * second signal ends it at once. */
static void expect_backlog_answered(const char *name, const char *drain_ms, bool second_signal)
{
    char path[160], logf[160];
    snprintf(path, sizeof path, "%s/%s/b.sock", root, name);
    snprintf(logf, sizeof logf, "%s/%s.log", root, name);
    spawn_opts o = {.socket = path, .log = logf, .extra = {"--drain-timeout", drain_ms}};
    broker_proc b;
    CU_ASSERT_FATAL(start_broker(&o, &b));
    enum { N = 100 }; /* more than one accept batch */
    int fds[N];
    uint8_t buf[600];
    rpb_hello h = base_hello();
    size_t n = hello_frame(&h, buf, sizeof buf);
    int st;
    kill(b.pid, SIGSTOP);
    CU_ASSERT_FATAL(waitpid(b.pid, &st, WUNTRACED) == b.pid && WIFSTOPPED(st));
    for (int i = 0; i < N; i++) {
        fds[i] = rpb_client_connect(path, rpb_monotonic_ms() + 2000);
        CU_ASSERT_FATAL(fds[i] >= 0);
        tu_send_all(fds[i], buf, n);
    }
    kill(b.pid, SIGTERM);
    if (second_signal)
        kill(b.pid, SIGINT);
    kill(b.pid, SIGCONT);
    int answered = 0;
    for (int i = 0; i < N; i++) {
        reply r;
        read_reply(fds[i], &r, 5000);
        answered += refused_with(&r, RPB_CODE_SHUTTING_DOWN, "broker is shutting down") &&
                    r.res.retry_after_ms == 1000 && r.res.frame.request_id == 7;
        rpb_buf_free(&r.body);
        close(fds[i]);
    }
    CU_ASSERT_EQUAL(answered, N);
    CU_ASSERT_EQUAL(tu_wait_exit(b.pid, 10000), 0);
    tu_tail_close(&b.log);
}

static void test_drain_answers_backlog(void) /* SEC-012, SEC-024 (backlog), SEC-025 (second signal) */
{
    expect_backlog_answered("backlog-drain", "0", false);
    expect_backlog_answered("backlog-second", "1000", true);
}

static int start_and_status(const char *socket, const char *services)
{
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        execl(broker_bin, broker_bin, "--socket", socket, "--services", services, NULL);
        _exit(127);
    }
    return tu_wait_exit(pid, 10000);
}

/* rpb-broker with args (NULL-terminated), output discarded: exit status. */
static int broker_status(const char *const *args)
{
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        const char *argv[8] = {broker_bin};
        for (int i = 0; args[i] && i < 6; i++)
            argv[1 + i] = args[i];
        execv(broker_bin, (char *const *)argv);
        _exit(127);
    }
    return tu_wait_exit(pid, 10000);
}

static void test_socket_placement(void) /* SEC-001..SEC-003, SEC-009 */
{
    CU_ASSERT_EQUAL(broker_status((const char *[]){"--help", NULL}), 0);
    CU_ASSERT_EQUAL(broker_status((const char *[]){"--rate-limit", "x", NULL}), 2);
    CU_ASSERT_EQUAL(broker_status((const char *[]){"--socket", "/tmp/x.sock", NULL}), 2);

    struct stat st;
    char dir[200];
    snprintf(dir, sizeof dir, "%s/run", root);
    CU_ASSERT_FATAL(stat(dir, &st) == 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0700);
    CU_ASSERT_FATAL(stat(sock_path, &st) == 0);
    CU_ASSERT_TRUE(S_ISSOCK(st.st_mode));
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);

    char path[260];
    /* a live socket is refused */
    CU_ASSERT_EQUAL(start_and_status(sock_path, svc_dir), 4);
    /* a live socket whose backlog is full is refused too, without waiting */
    snprintf(path, sizeof path, "%s/full.sock", dir);
    int full = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un fsa = {.sun_family = AF_UNIX};
    strcpy(fsa.sun_path, path);
    CU_ASSERT_FATAL(bind(full, (struct sockaddr *)&fsa, sizeof fsa) == 0 && listen(full, 0) == 0);
    int pending[8], npending = 0;
    for (; npending < 8; npending++) {
        pending[npending] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (connect(pending[npending], (struct sockaddr *)&fsa, sizeof fsa) != 0) {
            close(pending[npending]);
            break;
        }
    }
    CU_ASSERT(npending < 8); /* the backlog is full */
    CU_ASSERT_EQUAL(start_and_status(path, svc_dir), 4); /* not killed by wait_exit */
    for (int i = 0; i < npending; i++)
        close(pending[i]);
    close(full);
    unlink(path);
    /* a regular file is refused */
    snprintf(path, sizeof path, "%s/file.sock", dir);
    close(open(path, O_CREAT | O_WRONLY, 0600));
    CU_ASSERT_EQUAL(start_and_status(path, svc_dir), 4);
    unlink(path);
    /* a group-accessible directory is refused */
    snprintf(path, sizeof path, "%s/shared", root);
    mkdir(path, 0750);
    chmod(path, 0750);
    strcat(path, "/b.sock");
    CU_ASSERT_EQUAL(start_and_status(path, svc_dir), 4);
    /* an insecure services directory is refused */
    char open_svc[200];
    snprintf(open_svc, sizeof open_svc, "%s/svc-open", root);
    mkdir(open_svc, 0755);
    chmod(open_svc, 0755);
    snprintf(path, sizeof path, "%s/other/b.sock", root);
    CU_ASSERT_EQUAL(start_and_status(path, open_svc), 3);
    snprintf(open_svc, sizeof open_svc, "%s/missing", root);
    CU_ASSERT_EQUAL(start_and_status(path, open_svc), 3);
    /* a stale socket (nobody listening) is replaced */
    snprintf(path, sizeof path, "%s/stale.sock", dir);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, path);
    CU_ASSERT_FATAL(bind(s, (struct sockaddr *)&sa, sizeof sa) == 0);
    close(s);
    char logf[260];
    snprintf(logf, sizeof logf, "%s/stale.log", root);
    spawn_opts o = {.socket = path, .log = logf};
    broker_proc b;
    CU_ASSERT_TRUE(start_broker(&o, &b));
    kill(b.pid, SIGINT);
    CU_ASSERT_EQUAL(tu_wait_exit(b.pid, 10000), 0);
    tu_tail_close(&b.log);
    CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
}

static void test_log_lines(void) /* SEC-015, SEC-010 */
{
    FILE *f = fopen(log_path, "r");
    CU_ASSERT_FATAL(f != NULL);
    char line[4096];
    int negotiated_lines = 0, refused_lines = 0, admin_lines = 0, root_warnings = 0;
    while (fgets(line, sizeof line, f)) {
        root_warnings += strstr(line, "warning: running as root") != NULL;
        negotiated_lines += strstr(line, "\"outcome\":\"negotiated\"") != NULL;
        refused_lines += strstr(line, "\"outcome\":\"refused\"") != NULL &&
                         strstr(line, "\"code\":\"ERROR_") != NULL;
        admin_lines += strstr(line, "\"verb\":\"ADMIN_VERB_HEALTHZ\"") != NULL;
    }
    fclose(f);
    CU_ASSERT(negotiated_lines > 100);
    CU_ASSERT(refused_lines > 10);
    CU_ASSERT_EQUAL(admin_lines, 1); /* test_admin_verbs_via_client's one healthz */
    CU_ASSERT_EQUAL(root_warnings, geteuid() == 0 ? 1 : 0);
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: test_broker_it RPB_BROKER RPB_CLIENT [TEST-ID]\n");
        return 2;
    }
    broker_bin = argv[1];
    client_bin = argv[2];
    signal(SIGPIPE, SIG_IGN);
    strcpy(root, "/tmp/rpb-it-XXXXXX");
    if (mkdtemp(root) == NULL)
        return 1;
    snprintf(svc_dir, sizeof svc_dir, "%s/svc", root);
    snprintf(sock_path, sizeof sock_path, "%s/run/b.sock", root);
    snprintf(log_path, sizeof log_path, "%s/broker.log", root);
    mkdir(svc_dir, 0700);
    write_file(svc_dir, "zccache.service", ZCCACHE_SERVICE);
    spawn_opts o = {.socket = sock_path,
                    .log = log_path,
                    .extra = {"--rate-limit", "0/1000", "--handshake-timeout", "1000"}};
    if (!start_broker(&o, &main_broker)) {
        fprintf(stderr, "test_broker_it: %s did not start\n", broker_bin);
        return 1;
    }
    static const tu_test tests[] = {
        {"negotiated reply (HELLO-030..035, HELLO-050)", test_negotiated_reply},
        {"framing refusals (HELLO-002..006)", test_framing_refusals},
        {"Hello cap boundary 65536/65537 (HELLO-003)", test_hello_cap_boundary},
        {"envelope refusals echo the request (HELLO-008, HELLO-009)", test_envelope_refusals_echo},
        {"shape and policy refusals at boundaries (HELLO-010..023)", test_shape_and_policy_refusals},
        {"one Hello per connection (HELLO-001)", test_one_hello_per_connection},
        {"100 concurrent clients, unique connection ids (HELLO-036)",
         test_concurrent_clients_unique_ids},
        {"per-pid rate limit in a live broker (HELLO-020, SEC-008)", test_rate_limit},
        {"slowloris and 200 idle connections do not delay (SEC-005, SEC-006)",
         test_slowloris_and_idle_do_not_delay},
        {"abuse leaves the broker serving (SEC-007, ADMIN-008)", test_abuse_leaves_broker_serving},
        {"admin verbs through rpb-client (ADMIN-002..007)", test_admin_verbs_via_client},
        {"rpb-client exit codes (HELLO-062)", test_client_exit_codes},
        {"services directory re-read on change", test_reload_on_change},
        {"services directory replaced is watched again (SEC-019)", test_services_dir_replaced},
        {"no fd leak after 10000 connections (SEC-014)", test_no_fd_leak_after_10000_connections},
        {"socket activation (SEC-003)", test_socket_activation},
        {"fd pressure and connection cap (SEC-011, SEC-013, SEC-020, SEC-021, SEC-022)", test_fd_pressure},
        {"SIGTERM drain (SEC-012)", test_sigterm_drain},
        {"drain answers the listen backlog (SEC-012)", test_drain_answers_backlog},
        {"socket placement and start-up refusals (SEC-001..003, SEC-009)", test_socket_placement},
        {"one JSON log line per outcome (SEC-015)", test_log_lines},
        {NULL, NULL},
    };
    /* their ids are the ctest entries of CMakeLists.txt */
    static const tu_alone alone[] = {
        {"activation-foreign-uid", "foreign uid on an activated socket dropped (SEC-004)",
         test_activation_foreign_uid},
        {"fd-pressure-foreign-uid", "foreign uid under fd pressure gets nothing (SEC-004, SEC-011)",
         test_fd_pressure_foreign_uid},
        {"unread-reply-deadline", "unread reply dropped at the deadline (SEC-014)",
         test_unread_reply_dropped_at_deadline},
        {NULL, NULL, NULL},
    };
    int rc = tu_run_only("broker-it", tests, alone, argc == 4 ? argv[3] : NULL);
    kill(main_broker.pid, SIGTERM);
    int st = tu_wait_exit(main_broker.pid, 5000);
    tu_tail_close(&main_broker.log);
    if (st != 0) {
        fprintf(stderr, "main broker exit status %d\n", st);
        rc = 1;
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    return rc;
}
