/*
 * test_alloc - allocation failures, in the manner of nghttp2's failmalloc
 * tests: every librpb function that allocates runs with its N-th
 * allocation failed, for N = 1, 2, ... until it succeeds.  Each failure
 * must return the documented RPB_ERR_NO_MEMORY (or NULL, or the rate
 * limiter's RPB_RATE_UNTRACKED), free everything
 * the call allocated (the counting allocator below checks that no block
 * stays live; the ASan tree's leak checker checks it again) and leave the
 * objects passed in usable (the call is repeated without failures and must
 * then succeed) or cleanly freeable.  A call never reports success after
 * an allocation failed under it.  The allocator is installed with
 * rpb_mem_set() (rpb/mem.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rpb/rpb.h"
#include "testutil.h"

/* ---- the counting allocator ---- */

static unsigned allocs;   /* allocations attempted since arming */
static unsigned fail_at;  /* fail the fail_at-th one (1-based); 0 = never */
static long live;         /* blocks handed out and not yet freed */

static bool should_fail(void)
{
    allocs++;
    return fail_at != 0 && allocs == fail_at;
}

static void *t_malloc(size_t size, void *ud)
{
    (void)ud;
    if (should_fail())
        return NULL;
    void *p = malloc(size);
    live += p != NULL;
    return p;
}

static void *t_calloc(size_t n, size_t size, void *ud)
{
    (void)ud;
    if (should_fail())
        return NULL;
    void *p = calloc(n, size);
    live += p != NULL;
    return p;
}

static void *t_realloc(void *ptr, size_t size, void *ud)
{
    (void)ud;
    if (should_fail())
        return NULL;
    void *p = realloc(ptr, size);
    live += ptr == NULL && p != NULL;
    return p;
}

static void t_free(void *ptr, void *ud)
{
    (void)ud;
    live -= ptr != NULL;
    free(ptr);
}

static void arm(unsigned n)
{
    allocs = 0;
    fail_at = n;
}

static void disarm(void)
{
    fail_at = 0;
}

/* One scenario: sets up (disarmed), arms the failure given, runs the call
 * under test, and on failure checks that its objects are still usable;
 * frees everything before returning the call's status. */
typedef int (*scenario)(unsigned fail_n);

/* Runs s with the 1st, 2nd, ... allocation failed until it succeeds. */
static void failmalloc(const char *name, scenario s)
{
    unsigned n;
    for (n = 1; n < 10000; n++) {
        long live_before = live;
        int rc = s(n);
        disarm();
        CU_ASSERT_EQUAL(live, live_before); /* nothing leaked, success or not */
        if (rc == RPB_OK) {
            /* success only when no allocation was failed under it */
            CU_ASSERT(allocs < n);
            break;
        }
        CU_ASSERT_EQUAL(rc, RPB_ERR_NO_MEMORY);
        if (rc != RPB_ERR_NO_MEMORY) {
            fprintf(stderr, "%s: allocation %u failed: %s\n", name, n, rpb_errname(rc));
            break;
        }
    }
    CU_ASSERT(n > 1); /* the function did allocate: the loop tested something */
    printf("\n    %s: %u allocation%s, each failure checked: ", name, n - 1, n == 2 ? "" : "s");
}

/* ---- scenarios ---- */

#define GOLDEN_NEGOTIATED \
    "08021206332e302e31351a0c72702d6261636b656e642d3722027731220277322881808080808080808001303c3a031020304063"
#define GOLDEN_HELLO \
    "080110031a0b6275696c642d6361636865220a312e322e332d72632e312a06332e302e3135308180" \
    "80808080808080013a0301020342087265712d303030315092215a0f72756e6e696e672d70726f63" \
    "6573736206332e302e31356a02aabb7201cc781e"

static int decode_alloc(unsigned n)
{
    size_t len;
    uint8_t *in = tu_hex(GOLDEN_NEGOTIATED, &len);
    rpb_decoded d;
    rpb_errinfo err;
    arm(n);
    int rc = rpb_decode_alloc(&rpb_negotiated_desc, in, len, 0, &d, &err);
    disarm();
    if (rc == RPB_OK) {
        CU_ASSERT_EQUAL(((rpb_negotiated *)d.msg)->warnings.count, 2);
        rpb_decoded_free(&d);
    } else {
        CU_ASSERT_EQUAL(err.code, rc);
        CU_ASSERT(d.msg == NULL && d.scratch == NULL); /* out owns nothing */
    }
    free(in);
    return rc;
}

static int json_parse(unsigned n)
{
    /* a number that needs strtod's scratch copy, and a string longer than
     * one 64 KiB chunk of the document */
    enum { LONG = 70000 };
    char *text = malloc(LONG + 64);
    CU_ASSERT_FATAL(text != NULL);
    int at = sprintf(text, "{\"a\":[1,2.5,true],\"b\":\"");
    memset(text + at, 'x', LONG);
    strcpy(text + at + LONG, "\"}");
    rpb_json_doc doc;
    rpb_errinfo err;
    arm(n);
    int rc = rpb_json_parse(text, strlen(text), &doc, &err);
    disarm();
    if (rc == RPB_OK) {
        CU_ASSERT_EQUAL(rpb_json_get(doc.root, "b")->u.string.len, (size_t)LONG);
        rpb_json_doc_free(&doc);
    }
    free(text);
    return rc;
}

static int json_write(unsigned n)
{
    size_t len;
    uint8_t *in = tu_hex(GOLDEN_HELLO, &len);
    rpb_hello hello;
    rpb_msg_init(&rpb_hello_desc, &hello);
    CU_ASSERT_FATAL(rpb_decode(&rpb_hello_desc, in, len, &hello, NULL, 0, NULL) == RPB_OK);
    rpb_buf buf = {0};
    rpb_json_writer w;
    rpb_json_writer_init_buf(&w, &buf, RPB_JSON_PRETTY);
    arm(n);
    rpb_json_write_message(&w, &rpb_hello_desc, &hello);
    int rc = rpb_json_writer_finish(&w);
    disarm();
    if (rc == RPB_OK)
        CU_ASSERT(buf.len > 256 && memchr(buf.data, '}', buf.len) != NULL);
    rpb_buf_free(&buf); /* what the writer grew is the caller's to free */
    free(in);
    return rc;
}

static rpb_service test_service(const char *name)
{
    rpb_service s;
    memset(&s, 0, sizeof s);
    s.name = rpb_slice_cstr(name);
    s.backend_pipe = rpb_slice_cstr("/run/backend.sock");
    s.min_version = rpb_slice_cstr("1.0.0");
    return s;
}

static int service_table(unsigned n)
{
    arm(n);
    rpb_service_table *t = rpb_service_table_new();
    if (t == NULL) {
        disarm();
        return RPB_ERR_NO_MEMORY;
    }
    /* Enough services to grow the table a few times. */
    char name[16];
    int rc = RPB_OK;
    size_t added;
    for (added = 0; added < 20; added++) {
        rpb_errinfo why;
        snprintf(name, sizeof name, "svc-%zu", added);
        rpb_service s = test_service(name);
        rc = rpb_service_table_add(t, &s, &why);
        if (rc != RPB_OK)
            break;
    }
    disarm();
    if (rc != RPB_OK) { /* the services added before are there; the failed one goes in now */
        rpb_errinfo why;
        rpb_service s = test_service(name);
        CU_ASSERT_EQUAL(rpb_service_table_count(t), added);
        CU_ASSERT_EQUAL(rpb_service_table_add(t, &s, &why), RPB_OK);
        CU_ASSERT_PTR_NOT_NULL(rpb_service_table_find(t, s.name));
    }
    rpb_service_table_free(t);
    return rc;
}

/* rpb_rate_limiter_new, then new pids until the table has grown a few
 * times; an untracked pid is the limiter's out-of-memory verdict. */
static int rate_limiter(unsigned n)
{
    arm(n);
    rpb_rate_limiter *rl = rpb_rate_limiter_new(5, 1000);
    if (rl == NULL) {
        disarm();
        return RPB_ERR_NO_MEMORY;
    }
    uint64_t retry;
    rpb_rate_verdict v = RPB_RATE_ALLOWED;
    uint32_t pid;
    for (pid = 1; pid <= 100 && v == RPB_RATE_ALLOWED; pid++)
        v = rpb_rate_check(rl, pid, 10, &retry);
    disarm();
    CU_ASSERT(v == RPB_RATE_ALLOWED || v == RPB_RATE_UNTRACKED);
    if (v == RPB_RATE_UNTRACKED) { /* still usable: the pid is tracked on a retry */
        CU_ASSERT_EQUAL(rpb_rate_check(rl, pid - 1, 10, &retry), RPB_RATE_ALLOWED);
        CU_ASSERT_EQUAL(rpb_rate_check(rl, 1, 10, &retry), RPB_RATE_ALLOWED);
    }
    rpb_rate_limiter_free(rl);
    return v == RPB_RATE_ALLOWED ? RPB_OK : RPB_ERR_NO_MEMORY;
}

static int hello_handler(unsigned n)
{
    rpb_hello_config cfg;
    rpb_hello_config_default(&cfg);
    arm(n);
    rpb_hello_handler *h = rpb_hello_handler_new(&cfg);
    disarm();
    if (h == NULL)
        return RPB_ERR_NO_MEMORY;
    CU_ASSERT_EQUAL(rpb_service_table_count(rpb_hello_handler_services(h)), 0);
    rpb_hello_handler_free(h);
    return RPB_OK;
}

/* A STATUS request answered as JSON (the JSON writer) or as text (the
 * printf-style text bodies). */
static int admin_respond_as(unsigned n, bool as_json)
{
    rpb_hello_config cfg;
    rpb_hello_config_default(&cfg);
    rpb_hello_handler *h = rpb_hello_handler_new(&cfg);
    CU_ASSERT_FATAL(h != NULL);
    rpb_admin_context ctx;
    rpb_admin_context_init(&ctx);
    ctx.hello = h;
    ctx.broker_instance = "shared";
    ctx.socket_path = "/run/b.sock";
    ctx.services_dir = "/etc/svc";
    uint8_t req[256], *out = malloc(RPB_ADMIN_REPLY_MAX);
    size_t len, w, consumed;
    rpb_frame f;
    CU_ASSERT_FATAL(out != NULL);
    CU_ASSERT_FATAL(rpb_admin_request_encode(RPB_ADMIN_VERB_STATUS, as_json, (rpb_slice){NULL, 0}, 9,
                                             req, sizeof req, &len) == RPB_OK);
    CU_ASSERT_FATAL(rpb_frame_decode(req, len, RPB_MAX_FRAME_BYTES, &f, &consumed, NULL) == RPB_OK);
    rpb_admin_outcome oc;
    arm(n);
    int rc = rpb_admin_respond(&ctx, &f, out, RPB_ADMIN_REPLY_MAX, &w, &oc);
    disarm();
    if (rc != RPB_OK) /* nothing kept: the same request is answered now */
        CU_ASSERT_EQUAL(rpb_admin_respond(&ctx, &f, out, RPB_ADMIN_REPLY_MAX, &w, &oc), RPB_OK);
    free(out);
    rpb_hello_handler_free(h);
    return rc;
}

static int admin_respond(unsigned n)
{
    return admin_respond_as(n, true);
}

static int admin_respond_text(unsigned n)
{
    return admin_respond_as(n, false);
}

/* A request frame with a payload of n bytes, framed, in a fresh buffer. */
static uint8_t *big_frame(size_t payload, size_t *len)
{
    uint8_t *p = calloc(1, payload);
    CU_ASSERT_FATAL(p != NULL);
    rpb_frame f = rpb_frame_request(0x7001, (rpb_slice){p, payload});
    *len = rpb_frame_encoded_len(&f);
    uint8_t *out = malloc(*len);
    CU_ASSERT_FATAL(out != NULL);
    CU_ASSERT_FATAL(rpb_frame_encode(&f, out, *len, len) == RPB_OK);
    free(p);
    return out;
}

static int read_frame(unsigned n)
{
    int sv[2];
    CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    size_t len;
    uint8_t *wire = big_frame(20000, &len); /* the body buffer grows a few times */
    CU_ASSERT_FATAL(write(sv[1], wire, len) == (ssize_t)len);
    shutdown(sv[1], SHUT_WR);
    rpb_buf body = {0};
    rpb_errinfo err;
    arm(n);
    int rc = rpb_read_frame(sv[0], RPB_MAX_FRAME_BYTES, RPB_NO_DEADLINE, &body, &err);
    disarm();
    if (rc == RPB_OK)
        CU_ASSERT(body.len == len - RPB_FRAME_HEADER_BYTES &&
                  memcmp(body.data, wire + RPB_FRAME_HEADER_BYTES, body.len) == 0);
    rpb_buf_free(&body); /* cleanly freed after a failure too */
    free(wire);
    close(sv[0]);
    close(sv[1]);
    return rc;
}

static int write_frame_msg(unsigned n)
{
    int sv[2];
    CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    uint8_t payload[4096] = {0}; /* beyond the writer's stack buffer */
    rpb_frame f = rpb_frame_request(0x7001, (rpb_slice){payload, sizeof payload});
    arm(n);
    int rc = rpb_write_frame_msg(sv[0], &f, RPB_NO_DEADLINE);
    disarm();
    uint8_t got[8192];
    ssize_t r = recv(sv[1], got, sizeof got, MSG_DONTWAIT);
    if (rc == RPB_OK) {
        CU_ASSERT_EQUAL((size_t)r, rpb_frame_encoded_len(&f));
    } else { /* nothing was written */
        CU_ASSERT(r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
    }
    close(sv[0]);
    close(sv[1]);
    return rc;
}

/* spec/handoff.md HANDOFF-040..HANDOFF-043: the offer frame is read into
 * an rpb_buf; a failure closes the received descriptor. */
static int handoff_receive(unsigned n)
{
    static const uint8_t token[16] = {1};
    int link[2], conn[2];
    CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, link) == 0);
    CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, conn) == 0);
    uint8_t offer[128];
    size_t len;
    CU_ASSERT_FATAL(rpb_handoff_send_fd(link[0], conn[0], token, RPB_NO_DEADLINE) == RPB_OK);
    CU_ASSERT_FATAL(rpb_handoff_offer_encode(token, rpb_slice_cstr("svc"), 1, offer, sizeof offer,
                                             &len) == RPB_OK);
    CU_ASSERT_FATAL(write(link[0], offer, len) == (ssize_t)len);
    rpb_handoff_received r;
    arm(n);
    int rc = rpb_handoff_receive(link[1], RPB_NO_DEADLINE, &r, NULL);
    disarm();
    CU_ASSERT_EQUAL(rc == RPB_OK, r.fd >= 0);
    if (r.fd >= 0)
        close(r.fd);
    rpb_buf_free(&r.body);
    close(link[0]), close(link[1]), close(conn[0]), close(conn[1]);
    return rc;
}

/* A listening Unix socket at dir/name, its path in path[0..64). */
static int listen_in(const char *dir, const char *name, char *path)
{
    snprintf(path, 64, "%s/%s", dir, name);
    int listener = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, path);
    CU_ASSERT_FATAL(bind(listener, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(listener, 4) == 0);
    return listener;
}

/* The framed HelloReply a broker sends: Negotiated, backend_pipe pipe. */
static size_t negotiated_wire(const char *pipe, uint8_t *wire, size_t cap)
{
    rpb_hello_reply reply;
    rpb_msg_init(&rpb_hello_reply_desc, &reply);
    reply.result = RPB_HELLO_REPLY_NEGOTIATED;
    reply.negotiated.negotiated_protocol = 1;
    reply.negotiated.backend_pipe = rpb_slice_cstr(pipe);
    rpb_frame f = rpb_frame_request(0, (rpb_slice){NULL, 0});
    f.kind = RPB_FRAME_KIND_RESPONSE;
    size_t len;
    CU_ASSERT_FATAL(rpb_frame_encode_msg(&f, &rpb_hello_reply_desc, &reply, wire, cap, &len) == RPB_OK);
    return len;
}

/* rpb_connect_backend_fd(): the reply and its arena; the broker's reply
 * is written beforehand, backend_pipe is a listening socket. */
static int connect_backend(unsigned n)
{
    char dir[] = "/tmp/rpb-alloc-XXXXXX", path[64];
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    int listener = listen_in(dir, "b.sock", path);
    int sp[2];
    CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
    uint8_t wire[256];
    size_t len = negotiated_wire(path, wire, sizeof wire);
    CU_ASSERT_FATAL(write(sp[1], wire, len) == (ssize_t)len);
    rpb_hello h;
    rpb_hello_init(&h, "svc", "1.0.0", 0);
    rpb_connect_options opt = {RPB_CONNECT_ADOPT, 0, RPB_NO_DEADLINE};
    rpb_backend_conn c;
    arm(n);
    int rc = rpb_connect_backend_fd(sp[0], &h, &opt, &c, NULL);
    disarm();
    CU_ASSERT_EQUAL(rc == RPB_OK, c.route == RPB_ROUTE_RECONNECT);
    if (c.fd >= 0)
        close(c.fd);
    rpb_backend_conn_free(&c);
    close(sp[1]);
    close(listener);
    unlink(path);
    rmdir(dir);
    return rc;
}

/* rpb_client_hello(): a Hello over 1 KiB (its request buffer), the reply
 * and its arena; a forked broker answers with a Negotiated naming a
 * listening backend_pipe. */
static int client_hello(unsigned n)
{
    char dir[] = "/tmp/rpb-alloc-XXXXXX", path[64], broker_path[64];
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    int backend = listen_in(dir, "b.sock", path);
    int broker = listen_in(dir, "broker.sock", broker_path);
    uint8_t wire[256];
    size_t len = negotiated_wire(path, wire, sizeof wire);
    pid_t child = fork(); /* before arm(): the broker's allocations never fail */
    CU_ASSERT_FATAL(child >= 0);
    if (child == 0) {
        int c = accept(broker, NULL, NULL);
        rpb_buf req = {0};
        if (c < 0 || rpb_read_frame(c, RPB_MAX_HELLO_BYTES, RPB_NO_DEADLINE, &req, NULL) != RPB_OK)
            _exit(1);
        _exit(write(c, wire, len) == (ssize_t)len ? 0 : 1);
    }
    static char version[2000];
    memset(version, 'v', sizeof version);
    rpb_hello h;
    rpb_hello_init(&h, "svc", "1.0.0", 0);
    h.client_version = (rpb_slice){(const uint8_t *)version, sizeof version};
    rpb_hello_outcome out;
    arm(n);
    int rc = rpb_client_hello(broker_path, &h, 1, RPB_NO_DEADLINE, &out, NULL);
    disarm();
    CU_ASSERT_EQUAL(rc == RPB_OK, out.backend_fd >= 0);
    rpb_hello_outcome_free(&out);
    kill(child, SIGKILL); /* still in accept() when no request was sent */
    CU_ASSERT_EQUAL(waitpid(child, NULL, 0), child);
    close(broker);
    close(backend);
    unlink(broker_path);
    unlink(path);
    rmdir(dir);
    return rc;
}

static rpb_daemon_process sample_process(void)
{
    static uint8_t sha[32];
    memset(sha, 0xAA, sizeof sha);
    rpb_daemon_process dp;
    memset(&dp, 0, sizeof dp);
    dp.pid = 4242;
    dp.exe_path = rpb_slice_cstr("/usr/bin/mydaemon");
    dp.exe_sha256 = (rpb_slice){sha, sizeof sha};
    dp.has_ipc_endpoint = true;
    dp.ipc_endpoint.path = rpb_slice_cstr("/tmp/d.sock");
    dp.boot_id = rpb_slice_cstr("boot-1");
    return dp;
}

static int sidecar_format(unsigned n)
{
    rpb_daemon_process dp = sample_process();
    rpb_buf buf = {0};
    arm(n);
    int rc = rpb_sidecar_format(&dp, &buf);
    disarm();
    if (rc == RPB_OK)
        CU_ASSERT(buf.len > 0 && buf.data[0] == '{');
    rpb_buf_free(&buf);
    return rc;
}

/* Reading parses JSON as well: the read buffer and the document both
 * allocate. */
static int sidecar_read(unsigned n)
{
    char dir[] = "/tmp/rpb-alloc-XXXXXX", path[64];
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/identity.json", dir);
    rpb_daemon_process dp = sample_process();
    CU_ASSERT_FATAL(rpb_sidecar_write(path, &dp) == RPB_OK);
    rpb_identity id;
    arm(n);
    int rc = rpb_sidecar_read(path, &id);
    disarm();
    if (rc == RPB_OK) {
        CU_ASSERT_EQUAL(id.dp.pid, 4242);
    } else { /* the file is untouched: read again */
        CU_ASSERT_EQUAL(rpb_sidecar_read(path, &id), RPB_OK);
    }
    rpb_sidecar_remove(path);
    rmdir(dir);
    return rc;
}

#define CASE(fn) \
    static void test_##fn(void) { failmalloc(#fn, fn); }
CASE(decode_alloc)
CASE(json_parse)
CASE(json_write)
CASE(service_table)
CASE(rate_limiter)
CASE(hello_handler)
CASE(admin_respond)
CASE(admin_respond_text)
CASE(read_frame)
CASE(write_frame_msg)
CASE(handoff_receive)
CASE(connect_backend)
CASE(client_hello)
CASE(sidecar_format)
CASE(sidecar_read)

static void test_default_restored(void)
{
    rpb_mem_set(NULL);
    const rpb_mem *m = rpb_mem_get();
    CU_ASSERT(m->malloc != t_malloc && m->free != t_free);
    rpb_decoded d;
    size_t len;
    uint8_t *in = tu_hex(GOLDEN_NEGOTIATED, &len);
    CU_ASSERT_EQUAL(rpb_decode_alloc(&rpb_negotiated_desc, in, len, 0, &d, NULL), RPB_OK);
    rpb_decoded_free(&d); /* the C library's malloc and free again */
    free(in);
}

int main(void)
{
    static const rpb_mem counting = {NULL, t_malloc, t_free, t_calloc, t_realloc};
    rpb_mem_set(&counting);
    static const tu_test tests[] = {
        {"rpb_decode_alloc", test_decode_alloc},
        {"rpb_json_parse", test_json_parse},
        {"rpb_json_writer into an rpb_buf", test_json_write},
        {"rpb_service_table_new / _add", test_service_table},
        {"rpb_rate_check", test_rate_limiter},
        {"rpb_hello_handler_new", test_hello_handler},
        {"rpb_admin_respond", test_admin_respond},
        {"rpb_admin_respond, text reply", test_admin_respond_text},
        {"rpb_read_frame", test_read_frame},
        {"rpb_write_frame_msg", test_write_frame_msg},
        {"rpb_handoff_receive", test_handoff_receive},
        {"rpb_connect_backend_fd", test_connect_backend},
        {"rpb_client_hello", test_client_hello},
        {"rpb_sidecar_format", test_sidecar_format},
        {"rpb_sidecar_read", test_sidecar_read},
        {"rpb_mem_set(NULL) restores the C library", test_default_restored},
        {NULL, NULL},
    };
    return tu_run("alloc", tests);
}
