/*
 * test_hello.c - the I/O-free broker side of the Hello handshake
 * (spec/hello.md): grammars, version policy, rate limiter, service table and
 * definition files, the handler's decisions and reply bytes, and the
 * control-socket step.
 *
 * Fixture (upstream 4.5.5's HelloHandler tests): service
 * zccache, min 1.10.0, allow [1.11.20], daemon_version 1.11.20, caps 0x01;
 * base Hello 1..1 zccache 1.11.20, client_version zccache-cli/1.11.20, lib
 * running-process/4.0.3, keepalive 60, peer_pid = the verified pid; Frame
 * request_id 7 with a traceparent and tracestate.
 */
#include <stdlib.h>
#include <string.h>

#include "rpb/admin.h"
#include "rpb/client.h"
#include "rpb/control.h"
#include "rpb/hello.h"
#include "rpb/rpb.h"
#include "testutil.h"

#define PID 4242u
#define TRACEPARENT "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
#define TRACESTATE "vendor=value"
#define PIPE "\\\\.\\pipe\\rpb-v1-test-backend"

static const rpb_peer peer = {PID, 1000};

static rpb_hello_handler *fixture(uint32_t rate_max, uint32_t window_ms, rpb_hello_token_fn tokens)
{
    rpb_hello_config cfg;
    rpb_hello_config_default(&cfg);
    cfg.rate_max = rate_max;
    cfg.rate_window_ms = window_ms;
    cfg.token_source = tokens;
    rpb_hello_handler *h = rpb_hello_handler_new(&cfg);
    CU_ASSERT_FATAL(h != NULL);
    rpb_service_table *t = rpb_service_table_new();
    uint8_t mem[256];
    rpb_arena arena;
    rpb_arena_init(&arena, mem, sizeof mem);
    rpb_service svc = {
        .name = rpb_slice_cstr("zccache"),
        .backend_pipe = rpb_slice_cstr(PIPE),
        .daemon_version = rpb_slice_cstr("1.11.20"),
        .min_version = rpb_slice_cstr("1.10.0"),
        .server_capabilities = 0x01,
        .handoff_socket = rpb_slice_cstr("/run/zccache/handoff.sock"),
    };
    CU_ASSERT_FATAL(rpb_strlist_append(&svc.allow_list, &arena, rpb_slice_cstr("1.11.20")) == RPB_OK);
    CU_ASSERT_FATAL(rpb_service_table_add(t, &svc, NULL) == RPB_OK);
    rpb_hello_handler_set_services(h, t);
    return h;
}

static rpb_hello base_hello(void)
{
    rpb_hello hello;
    rpb_msg_init(&rpb_hello_desc, &hello);
    hello.client_min_protocol = 1;
    hello.client_max_protocol = 1;
    hello.service_name = rpb_slice_cstr("zccache");
    hello.wanted_version = rpb_slice_cstr("1.11.20");
    hello.client_version = rpb_slice_cstr("zccache-cli/1.11.20");
    hello.peer_pid = PID;
    hello.client_lib_name = rpb_slice_cstr("running-process");
    hello.client_lib_version = rpb_slice_cstr("4.0.3");
    hello.client_keepalive_secs = 60;
    return hello;
}

/* A request Frame carrying payload (storage must outlive it). */
static rpb_frame request_frame(const uint8_t *payload, size_t len)
{
    rpb_frame f = rpb_frame_request(RPB_PP_CONTROL, (rpb_slice){payload, len});
    f.request_id = 7;
    f.traceparent = rpb_slice_cstr(TRACEPARENT);
    f.tracestate = rpb_slice_cstr(TRACESTATE);
    return f;
}

static uint8_t payload_buf[4096];

/* Encodes hello into payload_buf and decides it on a fresh decision. */
static void decide(rpb_hello_handler *h, const rpb_hello *hello, const rpb_peer *p, int64_t now,
                   rpb_hello_decision *d)
{
    size_t n;
    CU_ASSERT_FATAL(rpb_encode(&rpb_hello_desc, hello, payload_buf, sizeof payload_buf, &n) == RPB_OK);
    rpb_frame f = request_frame(payload_buf, n);
    rpb_hello_decide(h, &f, p, now, d);
}

static rpb_refusal decide_refusal(rpb_hello_handler *h, const rpb_hello *hello)
{
    rpb_hello_decision d;
    decide(h, hello, &peer, 0, &d);
    return d.refusal;
}

/* ---- grammars (HELLO-011, HELLO-012, HELLO-022) ---- */

static void test_service_name_grammar(void) /* HELLO-011 */
{
    static const char *const ok[] = {"zccache", "a", "-", "--a", "a-", "0", "clud-2"};
    static const char *const bad[] = {"",           "Zccache",          "a.b",
                                      "zccache_service", "../zccache",  "..\\zccache",
                                      "/tmp/zccache", "zccache;rm",     "zccache&&calc",
                                      "zccache|whoami", "zccache service", "dots.are.bad",
                                      "emoji-rocket-\xf0\x9f\x9a\x80"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        CU_ASSERT_TRUE(rpb_service_name_valid(rpb_slice_cstr(ok[i])));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CU_ASSERT_FALSE(rpb_service_name_valid(rpb_slice_cstr(bad[i])));
    char name[66];
    memset(name, 'a', 65);
    CU_ASSERT_TRUE(rpb_service_name_valid((rpb_slice){(uint8_t *)name, 64}));
    CU_ASSERT_FALSE(rpb_service_name_valid((rpb_slice){(uint8_t *)name, 65}));
}

static void test_version_grammar(void) /* HELLO-012 */
{
    static const char *const ok[] = {"0.0.1",          "1.2.3",     "1.2.3-alpha.1", "1.11.20",
                                     "0.0.1-alpha.1", "2.3.4-rc.1.beta", "1.0.0-..", "1.0.0-a..b",
                                     "01.002.3",       "99999999999999999999999.0.0"};
    static const char *const bad[] = {
        "",          "1.0",         "1.0.0.0",           "1.0.0-",           "1.0.0-ALPHA",
        "v1.0.0",    "1.0.0-rc-1",  "1.0.0+b",           "1.0.0; rm -rf /",  "1.0.0 && calc.exe",
        "1.0.0 | whoami", "$(touch pwned)", "`calc`",   "1.0.0 alpha",      "1.0.0-alpha+build",
        "../../../bin/evil", "..\\..\\bin\\evil", "/tmp/evil", "C:\\temp\\evil.exe", "1.0.0/evil",
        "1.0.0-../../evil", "1.0.0..evil", "1..0", ".1.0", "1.0.",
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        CU_ASSERT_TRUE(rpb_version_valid(rpb_slice_cstr(ok[i])));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CU_ASSERT_FALSE(rpb_version_valid(rpb_slice_cstr(bad[i])));
}

static int cmp(const char *a, const char *b)
{
    int c = 99;
    if (rpb_version_compare(rpb_slice_cstr(a), rpb_slice_cstr(b), &c) != RPB_OK)
        return 99;
    return c;
}

static void test_version_compare(void) /* HELLO-022 */
{
    CU_ASSERT_EQUAL(cmp("1.9.9", "1.10.0"), -1);
    CU_ASSERT_EQUAL(cmp("1.12.0", "1.10.0"), 1);
    CU_ASSERT_EQUAL(cmp("1.10.0", "1.10.0"), 0);
    CU_ASSERT_EQUAL(cmp("01.10.0", "1.10.0"), 0);         /* numeric */
    CU_ASSERT_EQUAL(cmp("1.10.0-rc.1", "1.10.0"), 0);     /* prerelease ignored */
    CU_ASSERT_EQUAL(cmp("1.9.9-zzz", "1.10.0-a"), -1);
    CU_ASSERT_EQUAL(cmp("18446744073709551615.0.0", "1.0.0"), 1);
    CU_ASSERT_EQUAL(cmp("18446744073709551616.0.0", "1.0.0"), 99); /* overflow: no result */
}

/* ---- handler decisions ---- */

static void test_negotiates_base_hello(void) /* HELLO-030..HELLO-033, HELLO-036 */
{
    rpb_hello_handler *h = fixture(256, 1000, NULL);
    rpb_hello hello = base_hello();
    rpb_hello_decision d;
    decide(h, &hello, &peer, 0, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_NONE);
    CU_ASSERT_EQUAL(d.connection_id, 1);
    CU_ASSERT_EQUAL(d.keepalive_secs, 60);
    CU_ASSERT_EQUAL(d.server_capabilities, 0x01);
    CU_ASSERT_EQUAL(d.token_len, 0);

    /* the reply frame: Negotiated with every field, echoing the request */
    size_t n;
    CU_ASSERT_FATAL(rpb_encode(&rpb_hello_desc, &hello, payload_buf, sizeof payload_buf, &n) == RPB_OK);
    rpb_frame req = request_frame(payload_buf, n);
    uint8_t out[1024];
    size_t w;
    CU_ASSERT_EQUAL_FATAL(rpb_hello_reply_encode(&d, &req, out, sizeof out, &w), RPB_OK);
    rpb_frame f;
    CU_ASSERT_EQUAL_FATAL(rpb_frame_decode(out, w, RPB_MAX_FRAME_BYTES, &f, &n, NULL), RPB_OK);
    CU_ASSERT_EQUAL(n, w);
    CU_ASSERT_EQUAL(f.envelope_version, 1);
    CU_ASSERT_EQUAL(f.kind, RPB_FRAME_KIND_RESPONSE);
    CU_ASSERT_EQUAL(f.payload_protocol, 0);
    CU_ASSERT_EQUAL(f.request_id, 7);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(f.traceparent, TRACEPARENT));
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(f.tracestate, TRACESTATE));
    rpb_hello_reply r;
    rpb_msg_init(&rpb_hello_reply_desc, &r);
    CU_ASSERT_EQUAL_FATAL(rpb_decode(&rpb_hello_reply_desc, f.payload.data, f.payload.len, &r, NULL,
                                     0, NULL),
                          RPB_OK);
    CU_ASSERT_EQUAL(r.result, RPB_HELLO_REPLY_NEGOTIATED);
    CU_ASSERT_EQUAL(r.negotiated.negotiated_protocol, 1);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(r.negotiated.daemon_version, "1.11.20"));
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(r.negotiated.backend_pipe, PIPE));
    CU_ASSERT_EQUAL(r.negotiated.keepalive_interval_secs, 60);
    CU_ASSERT_EQUAL(r.negotiated.connection_id, 1);
    CU_ASSERT_EQUAL(r.negotiated.server_capabilities, 1);
    CU_ASSERT_EQUAL(r.negotiated.handle_passed_token.len, 0);
    CU_ASSERT_EQUAL(r.negotiated.warnings.count, 0);
    rpb_hello_handler_free(h);
}

static void test_keepalive_default_and_echo(void) /* HELLO-032 */
{
    rpb_hello_handler *h = fixture(0, 1000, NULL);
    rpb_hello hello = base_hello();
    rpb_hello_decision d;
    hello.client_keepalive_secs = 0;
    decide(h, &hello, &peer, 0, &d);
    CU_ASSERT_EQUAL(d.keepalive_secs, 1800);
    hello.client_keepalive_secs = UINT64_MAX; /* echoed unclamped */
    decide(h, &hello, &peer, 0, &d);
    CU_ASSERT_EQUAL(d.keepalive_secs, UINT64_MAX);
    rpb_hello_handler_free(h);
}

static void test_connection_ids_count_negotiations_only(void) /* HELLO-036 */
{
    rpb_hello_handler *h = fixture(0, 1000, NULL);
    rpb_hello hello = base_hello(), unknown = base_hello();
    unknown.service_name = rpb_slice_cstr("clud");
    rpb_hello_decision d;
    for (uint64_t i = 1; i <= 5; i++) {
        decide(h, &unknown, &peer, 0, &d);
        CU_ASSERT_EQUAL(d.connection_id, 0);
        decide(h, &hello, &peer, 0, &d);
        CU_ASSERT_EQUAL(d.connection_id, i);
    }
    CU_ASSERT_EQUAL(rpb_hello_handler_stats(h)->negotiated, 5);
    CU_ASSERT_EQUAL(rpb_hello_handler_stats(h)->refused_by[RPB_REFUSAL_SERVICE_UNKNOWN], 5);
    rpb_hello_handler_free(h);
    rpb_hello_handler_free(NULL); /* a no-op, as free(NULL) */
}

/* LAUNCH-014: a Hello decided Negotiated for a launched service is not
 * counted until the broker answers it (its launch may fail); the answer
 * is counted as the broker gives it.  HELLO-036: nor does it take a
 * connection_id before its Negotiated is sent, so a failed launch leaves
 * no gap in the ids. */
static void test_launched_hello_counted_when_answered(void)
{
    rpb_hello_handler *h = fixture(0, 1000, NULL);
    rpb_service_table *t = rpb_service_table_new();
    rpb_service svc = {.name = rpb_slice_cstr("echo"), .binary_path = rpb_slice_cstr("/usr/bin/echo-backend")};
    CU_ASSERT_FATAL(rpb_service_table_add(t, &svc, NULL) == RPB_OK);
    rpb_hello_handler_set_services(h, t);
    rpb_hello hello = base_hello();
    hello.service_name = rpb_slice_cstr("echo");
    rpb_hello_decision d;
    decide(h, &hello, &peer, 0, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_NONE);
    CU_ASSERT_EQUAL(d.connection_id, 0);
    const rpb_hello_stats *st = rpb_hello_handler_stats(h);
    CU_ASSERT_EQUAL(st->negotiated, 0);
    CU_ASSERT_EQUAL(st->refused, 0);
    CU_ASSERT_EQUAL(rpb_hello_handler_count(h, RPB_REFUSAL_SPAWN_FAILED), 0);
    CU_ASSERT_EQUAL(st->negotiated, 0);
    CU_ASSERT_EQUAL(st->refused, 1);
    CU_ASSERT_EQUAL(st->refused_by[RPB_REFUSAL_SPAWN_FAILED], 1);
    decide(h, &hello, &peer, 0, &d);
    CU_ASSERT_EQUAL(rpb_hello_handler_count(h, RPB_REFUSAL_NONE), 1);
    CU_ASSERT_EQUAL(st->negotiated, 1);
    CU_ASSERT_EQUAL(st->refused, 1);
    decide(h, &hello, &peer, 0, &d);
    CU_ASSERT_EQUAL(rpb_hello_handler_count(h, RPB_REFUSAL_NONE), 2);
    rpb_hello_handler_free(h);
}

static void test_envelope_refusals_in_order(void) /* HELLO-008, ENV-005 */
{
    rpb_hello_handler *h = fixture(0, 1000, NULL);
    rpb_hello hello = base_hello();
    size_t n;
    CU_ASSERT_FATAL(rpb_encode(&rpb_hello_desc, &hello, payload_buf, sizeof payload_buf, &n) == RPB_OK);
    rpb_hello_decision d;
    rpb_frame f = request_frame(payload_buf, n);
    f.envelope_version = 2;
    f.kind = 99;
    f.payload_protocol = RPB_PP_HANDOFF;
    f.payload_encoding = 1;
    rpb_hello_decide(h, &f, &peer, 0, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_ENVELOPE_VERSION);
    CU_ASSERT_EQUAL(rpb_refusal_code(d.refusal), RPB_CODE_VERSION_UNSUPPORTED);
    f.envelope_version = 1;
    rpb_hello_decide(h, &f, &peer, 0, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_ENVELOPE_KIND);
    f.kind = RPB_FRAME_KIND_RESPONSE;
    rpb_hello_decide(h, &f, &peer, 0, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_ENVELOPE_KIND);
    f.kind = RPB_FRAME_KIND_REQUEST;
    rpb_hello_decide(h, &f, &peer, 0, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_ENVELOPE_PROTOCOL);
    f.payload_protocol = RPB_PP_ADMIN; /* on the Hello path: still not control-plane */
    rpb_hello_decide(h, &f, &peer, 0, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_ENVELOPE_PROTOCOL);
    f.payload_protocol = 0;
    rpb_hello_decide(h, &f, &peer, 0, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_ENVELOPE_ENCODING);
    f.payload_encoding = 99;
    rpb_hello_decide(h, &f, &peer, 0, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_ENVELOPE_ENCODING);
    CU_ASSERT_STRING_EQUAL(rpb_refusal_reason(RPB_REFUSAL_ENVELOPE_ENCODING),
                           "Hello payload must not be compressed");
    f.payload_encoding = 0;
    rpb_hello_decide(h, &f, &peer, 0, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_NONE);
    rpb_hello_handler_free(h);
}

static void test_malformed_and_empty_payload(void) /* HELLO-009 */
{
    rpb_hello_handler *h = fixture(0, 1000, NULL);
    static const uint8_t garbage[] = {0xFF, 0xFF, 0xFF};
    static const uint8_t bad_utf8[] = {0x1A, 0x02, 0xC3, 0x28}; /* service_name */
    static const uint8_t unknown_field[] = {0x08, 0x01, 0x10, 0x01, 0xF8, 0x01, 0x05};
    rpb_hello_decision d;
    rpb_frame f = request_frame(garbage, sizeof garbage);
    rpb_hello_decide(h, &f, &peer, 0, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_MALFORMED_HELLO);
    CU_ASSERT_FALSE(d.hello_decoded);
    f = request_frame(bad_utf8, sizeof bad_utf8);
    rpb_hello_decide(h, &f, &peer, 0, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_MALFORMED_HELLO);
    f = request_frame(NULL, 0); /* all defaults: fails the range check */
    rpb_hello_decide(h, &f, &peer, 0, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_PROTOCOL_RANGE);
    f = request_frame(unknown_field, sizeof unknown_field); /* WIRE-014: skipped */
    rpb_hello_decide(h, &f, &peer, 0, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_SERVICE_NAME);
    rpb_hello_handler_free(h);
}

static void test_protocol_range(void) /* HELLO-010 */
{
    rpb_hello_handler *h = fixture(0, 1000, NULL);
    rpb_hello hello = base_hello();
    hello.client_min_protocol = hello.client_max_protocol = 2;
    CU_ASSERT_EQUAL(decide_refusal(h, &hello), RPB_REFUSAL_PROTOCOL_RANGE);
    CU_ASSERT_EQUAL(rpb_refusal_code(RPB_REFUSAL_PROTOCOL_RANGE), RPB_CODE_VERSION_UNSUPPORTED);
    hello.client_min_protocol = 1;
    hello.client_max_protocol = 0;
    CU_ASSERT_EQUAL(decide_refusal(h, &hello), RPB_REFUSAL_PROTOCOL_RANGE);
    hello.client_min_protocol = 0;
    hello.client_max_protocol = 5;
    CU_ASSERT_EQUAL(decide_refusal(h, &hello), RPB_REFUSAL_NONE);
    /* (a) precedes (b): a bad range with a bad name reports the range */
    hello.client_max_protocol = 0;
    hello.service_name = rpb_slice_cstr("Bad");
    CU_ASSERT_EQUAL(decide_refusal(h, &hello), RPB_REFUSAL_PROTOCOL_RANGE);
    rpb_hello_handler_free(h);
}

static void test_shape_caps_at_boundaries(void) /* HELLO-011..HELLO-014 */
{
    rpb_hello_handler *h = fixture(0, 1000, NULL);
    char big[200];
    memset(big, 'x', sizeof big);
    rpb_hello hello = base_hello();
    hello.service_name = rpb_slice_cstr("Zccache");
    CU_ASSERT_EQUAL(decide_refusal(h, &hello), RPB_REFUSAL_SERVICE_NAME);
    hello = base_hello();
    hello.wanted_version = rpb_slice_cstr("1.0.0+b");
    CU_ASSERT_EQUAL(decide_refusal(h, &hello), RPB_REFUSAL_WANTED_VERSION);
    /* a 65-byte wanted_version that the grammar alone would accept */
    char v[80] = "1.0.";
    memset(v + 4, '1', 61);
    hello.wanted_version = (rpb_slice){(uint8_t *)v, 65};
    CU_ASSERT_EQUAL(decide_refusal(h, &hello), RPB_REFUSAL_WANTED_VERSION);
    hello.wanted_version = (rpb_slice){(uint8_t *)v, 64}; /* passes shape, then policy */
    CU_ASSERT_EQUAL(decide_refusal(h, &hello), RPB_REFUSAL_NOT_ALLOWED);
    hello = base_hello();
    hello.client_version = (rpb_slice){(uint8_t *)big, 128};
    CU_ASSERT_EQUAL(decide_refusal(h, &hello), RPB_REFUSAL_NONE);
    hello.client_version = (rpb_slice){(uint8_t *)big, 129};
    CU_ASSERT_EQUAL(decide_refusal(h, &hello), RPB_REFUSAL_CLIENT_VERSION);
    hello = base_hello();
    hello.client_lib_name = (rpb_slice){(uint8_t *)big, 64};
    hello.client_lib_version = (rpb_slice){(uint8_t *)big, 64};
    CU_ASSERT_EQUAL(decide_refusal(h, &hello), RPB_REFUSAL_NONE);
    hello.client_lib_version = (rpb_slice){(uint8_t *)big, 65};
    CU_ASSERT_EQUAL(decide_refusal(h, &hello), RPB_REFUSAL_CLIENT_LIB);
    hello.client_lib_version = hello.client_lib_name;
    hello.client_lib_name = (rpb_slice){(uint8_t *)big, 65};
    CU_ASSERT_EQUAL(decide_refusal(h, &hello), RPB_REFUSAL_CLIENT_LIB);
    rpb_hello_handler_free(h);
}

static void test_peer_pid_cross_check(void) /* HELLO-015 */
{
    rpb_hello_handler *h = fixture(0, 1000, NULL);
    rpb_hello hello = base_hello();
    rpb_hello_decision d;
    rpb_peer other = {PID + 1, 1000}, unknown = {0, 1000};
    decide(h, &hello, &other, 0, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_PEER_PID);
    decide(h, &hello, &unknown, 0, &d); /* kernel pid unavailable: claim accepted */
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_NONE);
    hello.peer_pid = 0; /* no claim */
    decide(h, &hello, &other, 0, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_NONE);
    rpb_hello_handler_free(h);
}

static void test_lookup_and_version_policy(void) /* HELLO-021..HELLO-024 */
{
    rpb_hello_handler *h = fixture(0, 1000, NULL);
    rpb_hello hello = base_hello();
    rpb_hello_decision d;
    hello.service_name = rpb_slice_cstr("clud");
    decide(h, &hello, &peer, 0, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_SERVICE_UNKNOWN);
    CU_ASSERT_EQUAL(d.retry_after_ms, 0);
    CU_ASSERT_EQUAL(rpb_refusal_code(d.refusal), RPB_CODE_SERVICE_UNKNOWN);
    hello = base_hello();
    hello.wanted_version = rpb_slice_cstr("1.9.9");
    decide(h, &hello, &peer, 0, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_BELOW_MIN_VERSION);
    CU_ASSERT_EQUAL(d.retry_after_ms, 30000);
    CU_ASSERT_STRING_EQUAL(rpb_refusal_reason(d.refusal), "wanted_version is below min_version");
    hello.wanted_version = rpb_slice_cstr("1.12.0");
    decide(h, &hello, &peer, 0, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_NOT_ALLOWED);
    CU_ASSERT_EQUAL(d.retry_after_ms, 30000);
    CU_ASSERT_EQUAL(rpb_refusal_code(d.refusal), RPB_CODE_VERSION_BLOCKED);

    /* without an allow-list the floor alone decides; prerelease ignored */
    rpb_service_table *t = rpb_service_table_new();
    rpb_service svc = {.name = rpb_slice_cstr("zccache"), .backend_pipe = rpb_slice_cstr("/p"),
                       .min_version = rpb_slice_cstr("1.10.0")};
    CU_ASSERT_FATAL(rpb_service_table_add(t, &svc, NULL) == RPB_OK);
    rpb_hello_handler_set_services(h, t);
    hello.wanted_version = rpb_slice_cstr("1.10.0-rc.1");
    decide(h, &hello, &peer, 0, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_NONE);
    /* HELLO-031: no configured daemon_version: the wanted one */
    uint8_t out[1024];
    size_t w, n;
    rpb_frame f, req = request_frame(NULL, 0);
    CU_ASSERT_FATAL(rpb_hello_reply_encode(&d, &req, out, sizeof out, &w) == RPB_OK);
    CU_ASSERT_FATAL(rpb_frame_decode(out, w, RPB_MAX_FRAME_BYTES, &f, &n, NULL) == RPB_OK);
    rpb_hello_reply r;
    rpb_msg_init(&rpb_hello_reply_desc, &r);
    CU_ASSERT_FATAL(rpb_decode(&rpb_hello_reply_desc, f.payload.data, f.payload.len, &r, NULL, 0,
                               NULL) == RPB_OK);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(r.negotiated.daemon_version, "1.10.0-rc.1"));
    hello.wanted_version = rpb_slice_cstr("1.9.99");
    decide(h, &hello, &peer, 0, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_BELOW_MIN_VERSION);
    rpb_hello_handler_free(h);
}

static void test_floor_before_allow_list(void) /* HELLO-024 */
{
    rpb_hello_handler *h = rpb_hello_handler_new(&(rpb_hello_config){0});
    rpb_service_table *t = rpb_service_table_new();
    uint8_t mem[128];
    rpb_arena arena;
    rpb_arena_init(&arena, mem, sizeof mem);
    rpb_service svc = {.name = rpb_slice_cstr("zccache"), .backend_pipe = rpb_slice_cstr("/p"),
                       .min_version = rpb_slice_cstr("2.0.0")};
    rpb_strlist_append(&svc.allow_list, &arena, rpb_slice_cstr("1.0.0"));
    CU_ASSERT_FATAL(rpb_service_table_add(t, &svc, NULL) == RPB_OK);
    rpb_hello_handler_set_services(h, t);
    rpb_hello hello = base_hello();
    hello.wanted_version = rpb_slice_cstr("1.0.0"); /* listed, but below the floor */
    CU_ASSERT_EQUAL(decide_refusal(h, &hello), RPB_REFUSAL_BELOW_MIN_VERSION);
    rpb_hello_handler_free(h);
}

/* HELLO-020 (the refusal and its retry), HELLO-025 (fixed window),
 * HELLO-026 (what is counted), HELLO-027 (per pid), HELLO-028 (pid 0),
 * SEC-008 */
static void test_rate_limit(void)
{
    rpb_hello_handler *h = fixture(2, 60000, NULL);
    rpb_hello hello = base_hello(), bad = base_hello(), unknown = base_hello();
    bad.service_name = rpb_slice_cstr("Bad");
    unknown.service_name = rpb_slice_cstr("clud");
    rpb_hello_decision d;
    decide(h, &bad, &peer, 0, &d); /* shape-invalid Hellos are not counted */
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_SERVICE_NAME);
    decide(h, &unknown, &peer, 0, &d); /* counted, though refused later */
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_SERVICE_UNKNOWN);
    decide(h, &hello, &peer, 1000, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_NONE);
    decide(h, &hello, &peer, 1250, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_RATE_LIMITED);
    CU_ASSERT_EQUAL(d.retry_after_ms, 60000 - 1250);
    CU_ASSERT_EQUAL(rpb_refusal_code(d.refusal), RPB_CODE_RATE_LIMITED);
    /* another pid has its own budget; pid 0 is exempt */
    rpb_peer other = {PID + 1, 1000}, zero = {0, 1000};
    hello.peer_pid = 0;
    decide(h, &hello, &other, 1300, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_NONE);
    for (int i = 0; i < 10; i++) {
        decide(h, &hello, &zero, 1300, &d);
        CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_NONE);
    }
    /* the refused Hello was not counted; the window restarts after 60 s */
    decide(h, &hello, &peer, 59999, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_RATE_LIMITED);
    CU_ASSERT_EQUAL(d.retry_after_ms, 1);
    decide(h, &hello, &peer, 60000, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_NONE);
    rpb_hello_handler_free(h);
}

static void test_rate_limiter_memory_is_bounded(void) /* SEC-008 */
{
    uint64_t retry;
    size_t pids, slots;
    rpb_rate_limiter *rl = rpb_rate_limiter_new(1, 10);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
    for (uint32_t i = 1; i <= 100000; i++)
        CU_ASSERT_EQUAL_FATAL(rpb_rate_check(rl, i, (int64_t)i * 10, &retry), RPB_RATE_ALLOWED);
    rpb_rate_usage(rl, &pids, &slots);
    CU_ASSERT(slots <= 16);
    /* all pids in one window: the table grows to hold them */
    for (uint32_t i = 1; i <= 1000; i++)
        CU_ASSERT_EQUAL_FATAL(rpb_rate_check(rl, i, 5000000, &retry), RPB_RATE_ALLOWED);
    rpb_rate_usage(rl, &pids, &slots);
    CU_ASSERT(pids >= 1000);
    CU_ASSERT_EQUAL(rpb_rate_check(rl, 500, 5000003, &retry), RPB_RATE_REFUSED);
    CU_ASSERT_EQUAL(retry, 7);
    rpb_rate_limiter_free(rl);

    uint32_t max, window;
    rl = rpb_rate_limiter_new(0, 0); /* disabled */
    CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
    CU_ASSERT_EQUAL(rpb_rate_check(rl, 1, 0, &retry), RPB_RATE_ALLOWED);
    rpb_rate_settings(rl, &max, &window);
    CU_ASSERT_EQUAL(max, 0);
    CU_ASSERT_EQUAL(window, 1);
    rpb_rate_limiter_free(rl);
}

/* Tokens counting up, for the service that has a handoff endpoint
 * (HELLO-035 is the source's decision: it is given the service). */
static int counter_tokens(void *ctx, const rpb_service *svc, uint8_t out[RPB_HANDOFF_TOKEN_BYTES])
{
    (void)ctx;
    static uint8_t next;
    if (svc->handoff_socket.len == 0)
        return -1;
    for (size_t i = 0; i < RPB_HANDOFF_TOKEN_BYTES; i++)
        out[i] = next++;
    return 0;
}

static int failing_tokens(void *ctx, const rpb_service *svc, uint8_t out[RPB_HANDOFF_TOKEN_BYTES])
{
    (void)ctx;
    (void)svc;
    (void)out;
    return -1;
}

static void test_handoff_tokens(void) /* HELLO-033..HELLO-035 */
{
    rpb_hello_handler *h = fixture(0, 1000, counter_tokens);
    rpb_hello hello = base_hello();
    rpb_hello_decision a, b;
    hello.client_capabilities = RPB_CAP_HANDLE_PASSING;
    decide(h, &hello, &peer, 0, &a);
    decide(h, &hello, &peer, 0, &b);
    CU_ASSERT_EQUAL(a.token_len, 16);
    CU_ASSERT_TRUE(a.server_capabilities & RPB_CAP_HANDLE_PASSING);
    CU_ASSERT_NOT_EQUAL(memcmp(a.token, b.token, 16), 0);
    hello.client_capabilities = 0;
    decide(h, &hello, &peer, 0, &a);
    CU_ASSERT_EQUAL(a.token_len, 0);
    /* the source is asked with the service: one without an endpoint gets
     * no token and no added bit (HELLO-035) */
    rpb_service_table *t = rpb_service_table_new();
    rpb_service plain = {.name = rpb_slice_cstr("zccache"), .backend_pipe = rpb_slice_cstr("/p")};
    CU_ASSERT_EQUAL_FATAL(rpb_service_table_add(t, &plain, NULL), RPB_OK);
    rpb_hello_handler_set_services(h, t);
    hello.client_capabilities = RPB_CAP_HANDLE_PASSING;
    decide(h, &hello, &peer, 0, &a);
    CU_ASSERT_EQUAL(a.refusal, RPB_REFUSAL_NONE);
    CU_ASSERT_EQUAL(a.token_len, 0);
    CU_ASSERT_EQUAL(a.server_capabilities, 0);
    rpb_hello_handler_free(h);

    /* strict: no handoff transport, no token and no added bit */
    h = fixture(0, 1000, NULL);
    t = rpb_service_table_new();
    rpb_service svc = {.name = rpb_slice_cstr("zccache"), .backend_pipe = rpb_slice_cstr("/p"),
                       .server_capabilities = 1u << 8};
    rpb_service_table_add(t, &svc, NULL);
    rpb_hello_handler_set_services(h, t);
    hello.client_capabilities = RPB_CAP_HANDLE_PASSING;
    decide(h, &hello, &peer, 0, &a);
    CU_ASSERT_EQUAL(a.token_len, 0);
    CU_ASSERT_EQUAL(a.server_capabilities, 1u << 8);
    rpb_hello_handler_free(h);

    /* issuance failure downgrades silently */
    h = fixture(0, 1000, failing_tokens);
    decide(h, &hello, &peer, 0, &a);
    CU_ASSERT_EQUAL(a.refusal, RPB_REFUSAL_NONE);
    CU_ASSERT_EQUAL(a.token_len, 0);
    CU_ASSERT_EQUAL(a.server_capabilities, 0x01); /* the service's own bit only */
    rpb_hello_handler_free(h);
}

static void test_broker_state_refusals(void) /* SEC-011, SEC-012, SEC-020 */
{
    rpb_hello_handler *h = fixture(0, 1000, NULL);
    rpb_hello hello = base_hello();
    rpb_hello_decision d;
    rpb_hello_handler_set_flags(h, RPB_HELLO_DRAINING);
    decide(h, &hello, &peer, 0, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_SHUTTING_DOWN);
    CU_ASSERT_EQUAL(d.retry_after_ms, 1000);
    CU_ASSERT_EQUAL(rpb_refusal_code(d.refusal), RPB_CODE_SHUTTING_DOWN);
    rpb_hello_handler_set_flags(h, RPB_HELLO_DRAINING | RPB_HELLO_FD_PRESSURE);
    decide(h, &hello, &peer, 0, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_FD_PRESSURE);
    CU_ASSERT_EQUAL(d.retry_after_ms, 1000);
    CU_ASSERT_EQUAL(rpb_refusal_code(d.refusal), RPB_CODE_FD_PRESSURE);
    CU_ASSERT_STRING_EQUAL(rpb_refusal_reason(d.refusal),
                           "broker is low on file descriptors; retry shortly");
    rpb_hello_handler_set_flags(h, 0);
    decide(h, &hello, &peer, 0, &d);
    CU_ASSERT_EQUAL(d.refusal, RPB_REFUSAL_NONE);
    rpb_hello_handler_free(h);
}

/* ---- exact reply bytes (spec/hello.md Appendix A) ---- */

static void expect_bytes(const uint8_t *got, size_t n, const char *hex)
{
    size_t len;
    uint8_t *want = tu_hex(hex, &len);
    CU_ASSERT_EQUAL(n, len);
    CU_ASSERT_TRUE(n == len && memcmp(got, want, len) == 0);
    free(want);
}

static void test_refusal_golden_bytes(void) /* HELLO-040, HELLO-051, HELLO-052 */
{
    uint8_t out[256];
    size_t w;
    CU_ASSERT_EQUAL(rpb_hello_refusal_encode(RPB_REFUSAL_FRAMING_VERSION, 0, NULL, out, sizeof out, &w),
                    RPB_OK);
    expect_bytes(out, w,
                 "01 2B 00 00 00 08 01 10 01 22 25 12 23 0A 1B 75 6E 73 75 70 70 6F 72 74 65 64 20 "
                 "66 72 61 6D 69 6E 67 20 76 65 72 73 69 6F 6E 10 01 18 01 20 01");
    CU_ASSERT_EQUAL(rpb_hello_refusal_encode(RPB_REFUSAL_MALFORMED_FRAME, 0, NULL, out, sizeof out, &w),
                    RPB_OK);
    expect_bytes(out, w,
                 "01 26 00 00 00 08 01 10 01 22 20 12 1E 0A 16 6D 61 6C 66 6F 72 6D 65 64 20 62 72 "
                 "6F 6B 65 72 20 46 72 61 6D 65 10 01 18 01 20 06");
    CU_ASSERT_EQUAL(rpb_hello_refusal_encode(RPB_REFUSAL_INCOMPLETE_FRAME, 0, NULL, out, sizeof out, &w),
                    RPB_OK);
    expect_bytes(out, w,
                 "01 26 00 00 00 08 01 10 01 22 20 12 1E 0A 16 69 6E 63 6F 6D 70 6C 65 74 65 20 48 "
                 "65 6C 6C 6F 20 66 72 61 6D 65 10 01 18 01 20 06");
    rpb_frame req;
    rpb_msg_init(&rpb_frame_desc, &req);
    req.request_id = 7;
    CU_ASSERT_EQUAL(rpb_hello_refusal_encode(RPB_REFUSAL_SERVICE_UNKNOWN, 0, &req, out, sizeof out, &w),
                    RPB_OK);
    expect_bytes(out, w,
                 "01 2B 00 00 00 08 01 10 01 22 23 12 21 0A 19 73 65 72 76 69 63 65 20 69 73 20 6E "
                 "6F 74 20 72 65 67 69 73 74 65 72 65 64 10 01 18 01 20 02 28 07");
    CU_ASSERT_EQUAL(rpb_hello_refusal_encode(RPB_REFUSAL_NONE, 0, NULL, out, sizeof out, &w),
                    RPB_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(rpb_hello_refusal_encode(RPB_REFUSAL_FRAMING_VERSION, 0, NULL, out, 20, &w),
                    RPB_ERR_BUFFER_TOO_SMALL);
    size_t needed = w; /* rpb/error.h: the size needed */
    CU_ASSERT_EQUAL(rpb_hello_refusal_encode(RPB_REFUSAL_FRAMING_VERSION, 0, NULL, out, needed, &w),
                    RPB_OK);
    CU_ASSERT_EQUAL(w, needed);
}

static void test_reply_is_control_plane_even_for_other_protocols(void) /* HELLO-050 */
{
    rpb_hello_handler *h = fixture(0, 1000, NULL);
    rpb_frame f = request_frame(NULL, 0);
    f.payload_protocol = RPB_PP_HANDOFF;
    rpb_hello_decision d;
    rpb_hello_decide(h, &f, &peer, 0, &d);
    uint8_t out[512];
    size_t w, n;
    CU_ASSERT_FATAL(rpb_hello_reply_encode(&d, &f, out, sizeof out, &w) == RPB_OK);
    rpb_frame r;
    CU_ASSERT_FATAL(rpb_frame_decode(out, w, RPB_MAX_FRAME_BYTES, &r, &n, NULL) == RPB_OK);
    CU_ASSERT_EQUAL(r.payload_protocol, 0);
    CU_ASSERT_EQUAL(r.request_id, 7);
    CU_ASSERT_EQUAL(r.deadline_unix_ms, 0);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(r.tracestate, TRACESTATE));
    CU_ASSERT(rpb_hello_reply_bound(&f) >= w);
    rpb_hello_handler_free(h);
}

/* ---- the control step (HELLO-001..HELLO-006) ---- */

static rpb_admin_context admin_ctx(const rpb_hello_handler *h)
{
    rpb_admin_context c;
    rpb_admin_context_init(&c);
    c.hello = h;
    c.broker_instance = "shared";
    c.socket_path = c.services_dir = "";
    return c;
}

static uint8_t big_out[RPB_CONTROL_REPLY_MAX];

static int step(rpb_hello_handler *h, const uint8_t *in, size_t len, bool eof, size_t *w,
                rpb_control_outcome *oc)
{
    rpb_admin_context a = admin_ctx(h);
    return rpb_control_step(h, &a, in, len, eof, &peer, 0, big_out, sizeof big_out, w, oc);
}

static void test_control_framing(void) /* HELLO-002..HELLO-006, FRAME-005, FRAME-009 */
{
    rpb_hello_handler *h = fixture(0, 1000, NULL);
    rpb_control_outcome oc;
    size_t w;
    static const uint8_t v2[] = {0x02};
    CU_ASSERT_EQUAL(step(h, v2, 1, false, &w, &oc), RPB_OK); /* decided from 1 byte */
    CU_ASSERT_EQUAL(oc.kind, RPB_CONTROL_FRAMING);
    CU_ASSERT_EQUAL(oc.hello.refusal, RPB_REFUSAL_FRAMING_VERSION);
    CU_ASSERT_EQUAL(w, 48);

    static const uint8_t over[] = {0x01, 0x01, 0x00, 0x01, 0x00}; /* 65537 */
    CU_ASSERT_EQUAL(step(h, over, 4, false, &w, &oc), RPB_NEED_MORE);
    CU_ASSERT_EQUAL(step(h, over, 5, false, &w, &oc), RPB_OK); /* from the header alone */
    CU_ASSERT_EQUAL(oc.hello.refusal, RPB_REFUSAL_FRAME_TOO_LARGE);
    CU_ASSERT_EQUAL(oc.request_id, 0);
    static const uint8_t at_cap[] = {0x01, 0x00, 0x00, 0x01, 0x00}; /* 65536: accepted */
    CU_ASSERT_EQUAL(step(h, at_cap, 5, false, &w, &oc), RPB_NEED_MORE);
    CU_ASSERT_EQUAL(step(h, at_cap, 5, true, &w, &oc), RPB_OK);
    CU_ASSERT_EQUAL(oc.hello.refusal, RPB_REFUSAL_INCOMPLETE_FRAME);
    CU_ASSERT_EQUAL(step(h, NULL, 0, true, &w, &oc), RPB_OK);
    CU_ASSERT_EQUAL(oc.hello.refusal, RPB_REFUSAL_INCOMPLETE_FRAME);

    static const uint8_t garbage[] = {0x01, 0x03, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF};
    CU_ASSERT_EQUAL(step(h, garbage, sizeof garbage, false, &w, &oc), RPB_OK);
    CU_ASSERT_EQUAL(oc.hello.refusal, RPB_REFUSAL_MALFORMED_FRAME);
    CU_ASSERT_EQUAL(w, 43);

    static const uint8_t empty[] = {0x01, 0x00, 0x00, 0x00, 0x00, 0xAA, 0xBB};
    CU_ASSERT_EQUAL(step(h, empty, sizeof empty, false, &w, &oc), RPB_OK);
    CU_ASSERT_EQUAL(oc.kind, RPB_CONTROL_HELLO);
    CU_ASSERT_EQUAL(oc.consumed, 5); /* HELLO-001: trailing bytes ignored */
    expect_bytes(big_out, w,
                 "01 30 00 00 00 08 01 10 01 22 2A 12 28 0A 20 66 72 61 6D 65 20 65 6E 76 65 6C 6F "
                 "70 65 5F 76 65 72 73 69 6F 6E 20 69 73 20 6E 6F 74 20 76 31 10 01 18 01 20 01");
    rpb_hello_handler_free(h);
}

static void test_control_hello_and_admin_routing(void) /* HELLO-007, ADMIN-001 */
{
    rpb_hello_handler *h = fixture(0, 1000, NULL);
    rpb_hello hello = base_hello();
    uint8_t req[512];
    size_t len, w;
    rpb_control_outcome oc;
    CU_ASSERT_FATAL(rpb_hello_request_encode(&hello, 9, req, sizeof req, &len) == RPB_OK);
    for (size_t i = 0; i < len; i++)
        CU_ASSERT_EQUAL(step(h, req, i, false, &w, &oc), RPB_NEED_MORE);
    CU_ASSERT_EQUAL(step(h, req, len, false, &w, &oc), RPB_OK);
    CU_ASSERT_EQUAL(oc.kind, RPB_CONTROL_HELLO);
    CU_ASSERT_EQUAL(oc.hello.refusal, RPB_REFUSAL_NONE);
    CU_ASSERT_EQUAL(oc.request_id, 9);
    CU_ASSERT_EQUAL(oc.consumed, len);

    CU_ASSERT_FATAL(rpb_admin_request_encode(RPB_ADMIN_VERB_HEALTHZ, false, (rpb_slice){0}, 3, req,
                                             sizeof req, &len) == RPB_OK);
    rpb_hello_handler_set_flags(h, RPB_HELLO_DRAINING); /* admin is still served */
    CU_ASSERT_EQUAL(step(h, req, len, false, &w, &oc), RPB_OK);
    CU_ASSERT_EQUAL(oc.kind, RPB_CONTROL_ADMIN);
    CU_ASSERT_EQUAL(oc.admin.verb, RPB_ADMIN_VERB_HEALTHZ);
    CU_ASSERT_EQUAL(oc.admin.exit_code, 0);
    /* ADMIN-001: nor is it subject to fd pressure */
    rpb_hello_handler_set_flags(h, RPB_HELLO_FD_PRESSURE);
    CU_ASSERT_EQUAL(step(h, req, len, false, &w, &oc), RPB_OK);
    CU_ASSERT_EQUAL(oc.kind, RPB_CONTROL_ADMIN);
    CU_ASSERT_EQUAL(oc.admin.verb, RPB_ADMIN_VERB_HEALTHZ);
    CU_ASSERT_EQUAL(oc.admin.exit_code, 0);
    rpb_hello_handler_free(h);
}

/* Every input, however mangled, gets exactly one well-formed reply whose
 * kind matches the route (HELLO-001, HELLO-050, HELLO-051, SEC-007). */
static void test_control_step_answers_any_input(void)
{
    rpb_hello_handler *h = fixture(4, 1000, NULL);
    rpb_hello hello = base_hello();
    uint8_t base[512], admin[64], in[512];
    size_t blen, alen, w;
    CU_ASSERT_FATAL(rpb_hello_request_encode(&hello, 9, base, sizeof base, &blen) == RPB_OK);
    CU_ASSERT_FATAL(rpb_admin_request_encode(RPB_ADMIN_VERB_STATUS, true, rpb_slice_cstr("zccache"),
                                             3, admin, sizeof admin, &alen) == RPB_OK);
    int kinds[3] = {0, 0, 0};
    uint64_t x = 0x9E3779B97F4A7C15u;
    int bad = 0;
    for (int iter = 0; iter < 50000; iter++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
        size_t len = blen;
        memcpy(in, base, blen);
        switch (x % 4) {
        case 0: /* flip a few bytes */
            for (int k = 0; k < 1 + (int)(x >> 8) % 4; k++)
                in[(x >> (16 + k * 8)) % blen] ^= (uint8_t)(1u << ((x >> (4 + k)) % 8));
            break;
        case 1: /* truncate */
            len = (size_t)((x >> 8) % blen);
            break;
        case 2: /* random bytes after a valid header */
            len = 5 + (size_t)((x >> 8) % 64);
            for (size_t k = 5; k < len; k++)
                in[k] = (uint8_t)(x >> (k % 56));
            rpb_frame_header_write(in, (uint32_t)(len - 5));
            break;
        default: /* an admin request with a mangled byte after the header */
            memcpy(in, admin, alen);
            len = alen;
            in[5 + (x >> 8) % (alen - 5)] ^= (uint8_t)(1u << ((x >> 20) % 8));
            break;
        }
        rpb_control_outcome oc;
        if (step(h, in, len, true, &w, &oc) != RPB_OK) {
            bad++;
            continue;
        }
        kinds[oc.kind]++;
        rpb_frame f;
        size_t consumed;
        if (rpb_frame_decode(big_out, w, RPB_MAX_FRAME_BYTES, &f, &consumed, NULL) != RPB_OK ||
            consumed != w || f.kind != RPB_FRAME_KIND_RESPONSE || f.envelope_version != 1) {
            bad++;
            continue;
        }
        uint8_t mem[2048];
        rpb_arena arena;
        rpb_arena_init(&arena, mem, sizeof mem);
        rpb_hello_result res;
        rpb_admin_reply ar;
        rpb_frame af;
        switch (oc.kind) {
        case RPB_CONTROL_FRAMING:
            bad += f.request_id != 0 ||
                   rpb_hello_reply_classify(big_out + 5, w - 5, &arena, &res) != RPB_OK;
            break;
        case RPB_CONTROL_HELLO:
            bad += rpb_hello_reply_classify(big_out + 5, w - 5, &arena, &res) != RPB_OK ||
                   f.request_id != oc.request_id;
            break;
        default:
            bad += rpb_admin_reply_decode(big_out + 5, w - 5, &af, &ar) != RPB_OK;
            break;
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(kinds[RPB_CONTROL_FRAMING] > 1000 && kinds[RPB_CONTROL_HELLO] > 1000 &&
              kinds[RPB_CONTROL_ADMIN] > 1000);
    rpb_hello_handler_free(h);
}

/* ---- service table and definition files ---- */

static void test_service_table_checks(void)
{
    rpb_service_table *t = rpb_service_table_new();
    rpb_errinfo err;
    rpb_service svc = {.name = rpb_slice_cstr("Bad"), .backend_pipe = rpb_slice_cstr("/p")};
    CU_ASSERT_EQUAL(rpb_service_table_add(t, &svc, &err), RPB_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(err.code, RPB_ERR_INVALID_ARGUMENT);
    CU_ASSERT_STRING_EQUAL(err.message, "service name is not [a-z0-9-]{1,64}");
    svc.name = rpb_slice_cstr("good");
    svc.backend_pipe = rpb_slice_cstr("");
    CU_ASSERT_EQUAL(rpb_service_table_add(t, &svc, &err), RPB_ERR_INVALID_ARGUMENT);
    svc.backend_pipe = rpb_slice_cstr("/p");
    svc.min_version = rpb_slice_cstr("1.0");
    CU_ASSERT_EQUAL(rpb_service_table_add(t, &svc, &err), RPB_ERR_INVALID_ARGUMENT);
    svc.min_version = rpb_slice_cstr("1.0.0");
    CU_ASSERT_EQUAL(rpb_service_table_add(t, &svc, &err), RPB_OK);
    CU_ASSERT_EQUAL(rpb_service_table_add(t, &svc, &err), RPB_ERR_INVALID_ARGUMENT); /* duplicate */
    CU_ASSERT_EQUAL(rpb_service_table_count(t), 1);
    const rpb_service *s = rpb_service_table_find(t, rpb_slice_cstr("good"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(s->min_version, "1.0.0"));
    CU_ASSERT_PTR_NULL(rpb_service_table_find(t, rpb_slice_cstr("goo")));
    rpb_service_table_free(t);
}

static void test_servicedef_text(void)
{
    static const char text[] = "# zccache\n"
                               "  backend_pipe = /run/zccache.sock  \n"
                               "\n"
                               "daemon_version=1.11.20\r\n"
                               "min_version = 1.10.0\n"
                               "allow = 1.11.20\n"
                               "allow = 1.11.21\n"
                               "server_capabilities = 0x100\n"
                               "handoff_socket = /run/zccache-handoff.sock\n"
                               "service_name = zccache";
    uint8_t mem[512];
    rpb_arena arena;
    rpb_arena_init(&arena, mem, sizeof mem);
    rpb_service svc;
    rpb_errinfo err;
    CU_ASSERT_EQUAL_FATAL(rpb_servicedef_parse_text(text, strlen(text), rpb_slice_cstr("zccache"),
                                                    &arena, &svc, &err),
                          RPB_OK);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(svc.name, "zccache"));
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(svc.backend_pipe, "/run/zccache.sock"));
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(svc.daemon_version, "1.11.20"));
    CU_ASSERT_EQUAL(svc.allow_list.count, 2);
    CU_ASSERT_EQUAL(svc.server_capabilities, 0x100);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(svc.handoff_socket, "/run/zccache-handoff.sock"));

    /* quotes are part of the value */
    static const char quoted[] = "backend_pipe = \"/run/x.sock\"\n";
    CU_ASSERT_EQUAL(rpb_servicedef_parse_text(quoted, strlen(quoted), rpb_slice_cstr("zccache"),
                                              &arena, &svc, &err),
                    RPB_OK);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(svc.backend_pipe, "\"/run/x.sock\""));

    static const struct {
        const char *text;
        unsigned line;
        size_t offset; /* of the line */
        const char *message;
    } bad[] = {
        {"backend_pipe = /p\nallow = 1.0\n", 2, 18, "allow is not a valid version"},
        {"backend_pipe = /p\ncolour = blue\n", 2, 18, "unknown key \"colour\" (keys: "},
        {"backend_pipe /p\n", 1, 0, "expected `key = value`"},
        {"min_version = 1.0.0\n", 0, 0, "backend_pipe is required"},
        {"backend_pipe = \n", 0, 0, "backend_pipe is empty"},
        {"backend_pipe = /p\nservice_name = other\n", 0, 0, "service_name does not match"},
        {"backend_pipe = /p\nserver_capabilities = -1\n", 2, 18, "server_capabilities is not"},
        /* HANDOFF-020: an absolute path that fits sun_path */
        {"backend_pipe = /p\nhandoff_socket = run/h.sock\n", 0, 0, "handoff_socket must be"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        rpb_arena_init(&arena, mem, sizeof mem);
        CU_ASSERT_EQUAL(rpb_servicedef_parse_text(bad[i].text, strlen(bad[i].text),
                                                  rpb_slice_cstr("zccache"), &arena, &svc, &err),
                        RPB_ERR_INVALID_ARGUMENT);
        CU_ASSERT_EQUAL(err.code, RPB_ERR_INVALID_ARGUMENT);
        CU_ASSERT_EQUAL(err.line, bad[i].line);
        CU_ASSERT_EQUAL(err.offset, bad[i].offset);
        CU_ASSERT_EQUAL(strncmp(err.message, bad[i].message, strlen(bad[i].message)), 0);
    }
}

static void test_servicedef_proto(void)
{
    uint8_t mem[512], out[512];
    rpb_arena arena;
    rpb_arena_init(&arena, mem, sizeof mem);
    rpb_service svc = {.name = rpb_slice_cstr("zccache"), .backend_pipe = rpb_slice_cstr("/p.sock"),
                       .daemon_version = rpb_slice_cstr("1.11.20"),
                       .min_version = rpb_slice_cstr("1.10.0"), .server_capabilities = 7,
                       .handoff_socket = rpb_slice_cstr("/h.sock")};
    CU_ASSERT_FATAL(rpb_strlist_append(&svc.allow_list, &arena, rpb_slice_cstr("1.11.20")) == RPB_OK);
    size_t n;
    CU_ASSERT_EQUAL_FATAL(rpb_servicedef_encode_proto(&svc, &arena, out, sizeof out, &n), RPB_OK);
    rpb_service back;
    rpb_errinfo err;
    uint8_t mem2[512];
    rpb_arena a2;
    rpb_arena_init(&a2, mem2, sizeof mem2);
    CU_ASSERT_EQUAL_FATAL(
        rpb_servicedef_parse_proto(out, n, rpb_slice_cstr("zccache"), &a2, &back, &err), RPB_OK);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(back.backend_pipe, "/p.sock"));
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(back.daemon_version, "1.11.20"));
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(back.min_version, "1.10.0"));
    CU_ASSERT_EQUAL(back.server_capabilities, 7);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(back.handoff_socket, "/h.sock")); /* rpb.handoff_socket */
    CU_ASSERT_EQUAL(back.allow_list.count, 1);
    rpb_arena_init(&a2, mem2, sizeof mem2);
    CU_ASSERT_EQUAL(rpb_servicedef_parse_proto(out, n, rpb_slice_cstr("clud"), &a2, &back, &err),
                    RPB_ERR_INVALID_ARGUMENT);

    /* upstream-style definition: no rpb.backend_pipe label, a binary_path:
     * a launched service (spec/discovery.md §3) */
    rpb_service_definition def;
    rpb_msg_init(&rpb_service_definition_desc, &def);
    def.service_name = rpb_slice_cstr("zccache");
    def.binary_path = rpb_slice_cstr("/usr/bin/zccache");
    def.per_version_binary_dir = rpb_slice_cstr("/usr/bin");
    def.isolation = RPB_SHARED_BROKER;
    CU_ASSERT_FATAL(rpb_encode(&rpb_service_definition_desc, &def, out, sizeof out, &n) == RPB_OK);
    rpb_arena_init(&a2, mem2, sizeof mem2);
    CU_ASSERT_EQUAL(rpb_servicedef_parse_proto(out, n, rpb_slice_cstr("zccache"), &a2, &back, &err),
                    RPB_OK);
    CU_ASSERT_EQUAL(back.backend_pipe.len, 0);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(back.binary_path, "/usr/bin/zccache"));
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(back.per_version_binary_dir, "/usr/bin"));
    /* neither the label nor a binary_path: no backend at all */
    def.binary_path = rpb_slice_cstr("");
    CU_ASSERT_FATAL(rpb_encode(&rpb_service_definition_desc, &def, out, sizeof out, &n) == RPB_OK);
    rpb_arena_init(&a2, mem2, sizeof mem2);
    CU_ASSERT_EQUAL(rpb_servicedef_parse_proto(out, n, rpb_slice_cstr("zccache"), &a2, &back, &err),
                    RPB_ERR_INVALID_ARGUMENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "rpb.backend_pipe"));
    def.binary_path = rpb_slice_cstr("relative/zccache");
    CU_ASSERT_FATAL(rpb_encode(&rpb_service_definition_desc, &def, out, sizeof out, &n) == RPB_OK);
    CU_ASSERT_EQUAL(rpb_servicedef_parse_proto(out, n, rpb_slice_cstr("zccache"), &a2, &back, &err),
                    RPB_ERR_INVALID_ARGUMENT);
    static const uint8_t garbage[] = {0xFF, 0xFF};
    CU_ASSERT(rpb_servicedef_parse_proto(garbage, 2, rpb_slice_cstr("zccache"), &a2, &back, &err) < 0);
}

/* A ServiceDefinition with the rpb.backend_pipe label, as parse_proto sees
 * it after one field was changed by edit (spec/hello.md §10). */
static int parse_edited_def(void (*edit)(rpb_service_definition *, rpb_arena *), rpb_service *back)
{
    uint8_t mem[1024], mem2[1024], out[512];
    rpb_arena arena, a2;
    rpb_arena_init(&arena, mem, sizeof mem);
    rpb_arena_init(&a2, mem2, sizeof mem2);
    rpb_service_definition def;
    rpb_msg_init(&rpb_service_definition_desc, &def);
    def.service_name = rpb_slice_cstr("zccache");
    def.isolation = RPB_SHARED_BROKER;
    CU_ASSERT_FATAL(rpb_map_append(&def.labels, &arena, rpb_slice_cstr(RPB_LABEL_BACKEND_PIPE),
                                   rpb_slice_cstr("/p.sock")) == RPB_OK);
    edit(&def, &arena);
    size_t n;
    CU_ASSERT_FATAL(rpb_encode(&rpb_service_definition_desc, &def, out, sizeof out, &n) == RPB_OK);
    return rpb_servicedef_parse_proto(out, n, rpb_slice_cstr("zccache"), &a2, back, NULL);
}

static void edit_none(rpb_service_definition *d, rpb_arena *a)
{
    (void)d;
    (void)a;
}
static void edit_isolation_99(rpb_service_definition *d, rpb_arena *a)
{
    (void)a;
    d->isolation = 99;
}
static void edit_explicit_no_instance(rpb_service_definition *d, rpb_arena *a)
{
    (void)a;
    d->isolation = RPB_EXPLICIT_INSTANCE;
}
static void edit_explicit_with_instance(rpb_service_definition *d, rpb_arena *a)
{
    (void)a;
    d->isolation = RPB_EXPLICIT_INSTANCE;
    d->explicit_instance = rpb_slice_cstr("ci");
}
static void edit_instance_not_explicit(rpb_service_definition *d, rpb_arena *a)
{
    (void)a;
    d->explicit_instance = rpb_slice_cstr("ci");
}
static void edit_relative_version_dir(rpb_service_definition *d, rpb_arena *a)
{
    (void)a;
    d->per_version_binary_dir = rpb_slice_cstr("versions");
}
static void edit_bad_min_version(rpb_service_definition *d, rpb_arena *a)
{
    (void)a;
    d->min_version = rpb_slice_cstr("1.0");
}
static void edit_bad_allow_entry(rpb_service_definition *d, rpb_arena *a)
{
    rpb_strlist_append(&d->version_allow_list, a, rpb_slice_cstr("1.0.0"));
    rpb_strlist_append(&d->version_allow_list, a, rpb_slice_cstr("v2"));
}
static void edit_caps_hex(rpb_service_definition *d, rpb_arena *a)
{
    rpb_map_append(&d->labels, a, rpb_slice_cstr(RPB_LABEL_SERVER_CAPABILITIES),
                   rpb_slice_cstr("0x1F"));
}
static void edit_caps_junk(rpb_service_definition *d, rpb_arena *a)
{
    rpb_map_append(&d->labels, a, rpb_slice_cstr(RPB_LABEL_SERVER_CAPABILITIES),
                   rpb_slice_cstr("lots"));
}

static void test_servicedef_proto_rules(void) /* spec/hello.md §10 */
{
    rpb_service back;
    CU_ASSERT_EQUAL(parse_edited_def(edit_none, &back), RPB_OK);
    CU_ASSERT_EQUAL(back.server_capabilities, 0);
    CU_ASSERT_EQUAL(parse_edited_def(edit_isolation_99, &back), RPB_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(parse_edited_def(edit_explicit_no_instance, &back), RPB_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(parse_edited_def(edit_explicit_with_instance, &back), RPB_OK);
    CU_ASSERT_EQUAL(parse_edited_def(edit_instance_not_explicit, &back), RPB_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(parse_edited_def(edit_relative_version_dir, &back), RPB_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(parse_edited_def(edit_bad_min_version, &back), RPB_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(parse_edited_def(edit_bad_allow_entry, &back), RPB_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(parse_edited_def(edit_caps_hex, &back), RPB_OK);
    CU_ASSERT_EQUAL(back.server_capabilities, 0x1F);
    CU_ASSERT_EQUAL(parse_edited_def(edit_caps_junk, &back), RPB_ERR_INVALID_ARGUMENT);
}

static void test_envelope_error_refusals(void) /* HELLO-008 */
{
    CU_ASSERT_EQUAL(rpb_refusal_for_envelope_error(RPB_ERR_ENVELOPE_VERSION), RPB_REFUSAL_ENVELOPE_VERSION);
    CU_ASSERT_EQUAL(rpb_refusal_for_envelope_error(RPB_ERR_ENVELOPE_KIND), RPB_REFUSAL_ENVELOPE_KIND);
    CU_ASSERT_EQUAL(rpb_refusal_for_envelope_error(RPB_ERR_ENVELOPE_PAYLOAD_PROTOCOL),
                    RPB_REFUSAL_ENVELOPE_PROTOCOL);
    CU_ASSERT_EQUAL(rpb_refusal_for_envelope_error(RPB_ERR_ENVELOPE_PAYLOAD_ENCODING),
                    RPB_REFUSAL_ENVELOPE_ENCODING);
}

int main(void)
{
    static const tu_test tests[] = {
        {"service_name grammar (HELLO-011)", test_service_name_grammar},
        {"envelope errors map to their refusals (HELLO-008)", test_envelope_error_refusals},
        {"version grammar (HELLO-012)", test_version_grammar},
        {"version comparison ignores prerelease (HELLO-022)", test_version_compare},
        {"base Hello negotiates (HELLO-030..036)", test_negotiates_base_hello},
        {"keepalive echo or 1800 (HELLO-032)", test_keepalive_default_and_echo},
        {"connection ids count negotiations only (HELLO-036)", test_connection_ids_count_negotiations_only},
        {"a launched service's Hello is counted, and takes its id, when answered (LAUNCH-014, HELLO-036)", test_launched_hello_counted_when_answered},
        {"envelope refusals in order (HELLO-008)", test_envelope_refusals_in_order},
        {"malformed and empty Hello payloads (HELLO-009)", test_malformed_and_empty_payload},
        {"protocol range (HELLO-010)", test_protocol_range},
        {"shape caps at their boundaries (HELLO-011..014)", test_shape_caps_at_boundaries},
        {"peer_pid cross-check (HELLO-015)", test_peer_pid_cross_check},
        {"lookup and version policy (HELLO-021..023)", test_lookup_and_version_policy},
        {"floor before allow-list (HELLO-024)", test_floor_before_allow_list},
        {"per-pid fixed-window rate limit (HELLO-020)", test_rate_limit},
        {"rate limiter memory is bounded (SEC-008)", test_rate_limiter_memory_is_bounded},
        {"handoff tokens only when possible (HELLO-034, HELLO-035)", test_handoff_tokens},
        {"fd pressure and drain refusals (SEC-011, SEC-012)", test_broker_state_refusals},
        {"refusal golden bytes (HELLO-052)", test_refusal_golden_bytes},
        {"reply is control-plane and echoes (HELLO-050)", test_reply_is_control_plane_even_for_other_protocols},
        {"control step framing (HELLO-002..006)", test_control_framing},
        {"control step routes Hello and admin (HELLO-007)", test_control_hello_and_admin_routing},
        {"control step answers any input with one reply (SEC-007)", test_control_step_answers_any_input},
        {"service table checks", test_service_table_checks},
        {"service definition text form", test_servicedef_text},
        {"service definition proto form", test_servicedef_proto},
        {"service definition proto form: field rules", test_servicedef_proto_rules},
        {NULL, NULL},
    };
    return tu_run("hello", tests);
}
