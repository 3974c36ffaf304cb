/*
 * test_probe.c - the identity probe (spec/probe.md): request and response
 * bytes against upstream 4.5.5's probe vectors, both sides' validation order, identity
 * comparison, the backend mux, process identity and verification, the
 * sidecar file, and rpb_probe_endpoint() against a forked responder.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rpb/rpb.h"
#include "testutil.h"

/* Upstream's probe vector A: nonce 00 01 .. 1F. */
static const char *REQ_A =
    "01 32 00 00 00 08 01 18 B2 E4 02 22 20 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F"
    "10 11 12 13 14 15 16 17 18 19 1A 1B 1C 1D 1E 1F 28 80 82 88 98 C0 A0 81 83 07";

static uint8_t SHA_AA[32], SHA_01[32];

/* DP1 of upstream's probe tests. */
static rpb_daemon_process dp1(void)
{
    memset(SHA_AA, 0xAA, sizeof SHA_AA);
    rpb_daemon_process dp = {0};
    dp.pid = 4242;
    dp.exe_path = rpb_slice_cstr("/usr/bin/mydaemon");
    dp.exe_sha256 = (rpb_slice){SHA_AA, 32};
    dp.has_ipc_endpoint = true;
    dp.ipc_endpoint.namespace_id = rpb_slice_cstr("ns-1");
    dp.ipc_endpoint.path = rpb_slice_cstr("/tmp/d.sock");
    dp.started_at_unix_ms = 1700000000000ull;
    dp.boot_id = rpb_slice_cstr("boot-1");
    dp.has_idle_timeout_secs = true;
    dp.idle_timeout_secs = 30;
    return dp;
}

static const char *DP1_HEX =
    "08 92 21 12 11 2F 75 73 72 2F 62 69 6E 2F 6D 79 64 61 65 6D 6F 6E 1A 20"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "22 13 0A 04 6E 73 2D 31 12 0B 2F 74 6D 70 2F 64 2E 73 6F 63 6B 28 80 D0 95 FF BC 31"
    "32 06 62 6F 6F 74 2D 31 38 1E";

static void nonce_seq(uint8_t nonce[32])
{
    for (unsigned i = 0; i < 32; i++)
        nonce[i] = (uint8_t)i;
}

/* PROBE-001, PROBE-002: vector A byte for byte; request_id is LE. */
static void test_request_bytes(void)
{
    uint8_t nonce[32], out[RPB_PROBE_REQUEST_MAX_BYTES];
    nonce_seq(nonce);
    CU_ASSERT_EQUAL(rpb_probe_request_id(nonce), 0x0706050403020100ull);
    size_t n, want_len;
    uint8_t *want = tu_hex(REQ_A, &want_len);
    CU_ASSERT_EQUAL(rpb_probe_request_encode(nonce, out, sizeof out, &n), RPB_OK);
    CU_ASSERT_EQUAL(n, want_len);
    CU_ASSERT_EQUAL(memcmp(out, want, n), 0);
    CU_ASSERT_EQUAL(rpb_probe_request_encode(nonce, out, 10, &n), RPB_ERR_BUFFER_TOO_SMALL);
    /* request_id 0 is left out: 45 bytes on the wire */
    memset(nonce, 0, 8);
    CU_ASSERT_EQUAL(rpb_probe_request_encode(nonce, out, sizeof out, &n), RPB_OK);
    CU_ASSERT_EQUAL(n, 45);
    /* the largest request fits RPB_PROBE_REQUEST_MAX_BYTES */
    memset(nonce, 0xFF, 8);
    CU_ASSERT_EQUAL(rpb_probe_request_encode(nonce, out, sizeof out, &n), RPB_OK);
    CU_ASSERT_EQUAL(n, RPB_PROBE_REQUEST_MAX_BYTES);
    free(want);
}

static rpb_frame decode_frame(const uint8_t *wire, size_t len)
{
    rpb_frame f;
    size_t consumed;
    CU_ASSERT_FATAL(rpb_frame_decode(wire, len, RPB_MAX_FRAME_BYTES, &f, &consumed, NULL) == RPB_OK);
    return f;
}

/* PROBE-010, PROBE-011: the responder's checks in order; request_id is
 * not checked. */
static void test_request_check(void)
{
    uint8_t nonce[32];
    nonce_seq(nonce);
    rpb_frame f = rpb_frame_request(RPB_PP_PROBE, (rpb_slice){nonce, 32});
    f.request_id = 7; /* not derived from the nonce: accepted */
    CU_ASSERT_EQUAL(rpb_probe_request_check(&f), RPB_OK);
    rpb_frame g = f;
    g.payload.len = 31;
    CU_ASSERT_EQUAL(rpb_probe_request_check(&g), RPB_ERR_PROBE_NONCE_LENGTH);
    g.payload.len = 33;
    CU_ASSERT_EQUAL(rpb_probe_request_check(&g), RPB_ERR_PROBE_NONCE_LENGTH);
    g.payload_encoding = RPB_PAYLOAD_ENCODING_ZSTD; /* encoding before length */
    CU_ASSERT_EQUAL(rpb_probe_request_check(&g), RPB_ERR_ENVELOPE_PAYLOAD_ENCODING);
    g.kind = RPB_FRAME_KIND_RESPONSE;
    CU_ASSERT_EQUAL(rpb_probe_request_check(&g), RPB_ERR_ENVELOPE_KIND);
    g.envelope_version = 2;
    CU_ASSERT_EQUAL(rpb_probe_request_check(&g), RPB_ERR_ENVELOPE_VERSION);
    g = f;
    g.payload_protocol = 0x7001;
    CU_ASSERT_EQUAL(rpb_probe_request_check(&g), RPB_ERR_ENVELOPE_PAYLOAD_PROTOCOL);
}

/* PROBE-005, IDENT-001: the response to vector A carrying DP1, 151 bytes,
 * and the trace echo. */
static void test_response_bytes(void)
{
    size_t alen, dlen;
    uint8_t *a = tu_hex(REQ_A, &alen), *dpb = tu_hex(DP1_HEX, &dlen);
    CU_ASSERT_EQUAL(dlen, 94);
    rpb_frame req = decode_frame(a, alen);
    rpb_daemon_process dp = dp1();
    uint8_t out[512];
    size_t n;
    CU_ASSERT_EQUAL(rpb_probe_response_len(&req, &dp), 151);
    CU_ASSERT_EQUAL_FATAL(rpb_probe_response_encode(&req, &dp, out, sizeof out, &n), RPB_OK);
    CU_ASSERT_EQUAL(n, 151);
    static const uint8_t head[] = {0x01, 0x92, 0, 0, 0, 0x08, 0x01, 0x10, 0x01,
                                   0x18, 0xB2, 0xE4, 0x02, 0x22, 0x7E};
    CU_ASSERT_EQUAL(memcmp(out, head, sizeof head), 0);
    CU_ASSERT_EQUAL(memcmp(out + 15, a + 13, 32), 0);
    CU_ASSERT_EQUAL(memcmp(out + 47, dpb, 94), 0);
    CU_ASSERT_EQUAL(memcmp(out + 141, a + 45, 10), 0); /* 28 <request_id> */
    CU_ASSERT_EQUAL(rpb_probe_response_encode(&req, &dp, out, 150, &n), RPB_ERR_BUFFER_TOO_SMALL);
    CU_ASSERT_EQUAL(n, 151);

    /* trace context is echoed after the request_id */
    req.traceparent = rpb_slice_cstr("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    req.tracestate = rpb_slice_cstr("rp=1");
    CU_ASSERT_EQUAL_FATAL(rpb_probe_response_encode(&req, &dp, out, sizeof out, &n), RPB_OK);
    CU_ASSERT_EQUAL(n, 151 + 2 + 55 + 2 + 4);
    CU_ASSERT_EQUAL(memcmp(out + 151, "\x42\x37" "00-0af7", 7), 0);
    CU_ASSERT_EQUAL(memcmp(out + n - 6, "\x4A\x04rp=1", 6), 0);
    rpb_frame back = decode_frame(out, n);
    CU_ASSERT_TRUE(rpb_slice_eq(back.traceparent, req.traceparent));
    free(a);
    free(dpb);
}

/* Encodes a response frame body with the given payload pieces. */
static size_t response_body(uint8_t *out, size_t cap, uint64_t rid, const uint8_t *nonce,
                            size_t nonce_len, const rpb_daemon_process *dp)
{
    uint8_t payload[1024];
    memcpy(payload, nonce, nonce_len);
    size_t n = 0;
    if (dp)
        CU_ASSERT_FATAL(rpb_encode(&rpb_daemon_process_desc, dp, payload + nonce_len,
                                   sizeof payload - nonce_len, &n) == RPB_OK);
    rpb_frame f = rpb_frame_request(RPB_PP_PROBE, (rpb_slice){payload, nonce_len + n});
    f.kind = RPB_FRAME_KIND_RESPONSE;
    f.request_id = rid;
    size_t w;
    CU_ASSERT_FATAL(rpb_encode(&rpb_frame_desc, &f, out, cap, &w) == RPB_OK);
    return w;
}

/* PROBE-023..PROBE-028: the requester's checks, each with its class. */
static void test_response_check(void)
{
    uint8_t nonce[32], body[2048];
    nonce_seq(nonce);
    uint64_t rid = rpb_probe_request_id(nonce);
    rpb_daemon_process dp = dp1();
    rpb_probe_reply r;
    rpb_errinfo e;
    size_t n = response_body(body, sizeof body, rid, nonce, 32, &dp);
    CU_ASSERT_EQUAL(rpb_probe_response_check(body, n, nonce, &dp, &r, &e), RPB_OK);
    CU_ASSERT_EQUAL(r.identity.pid, 4242);
    CU_ASSERT_PTR_NULL(r.mismatch);
    /* PROBE-023: request_id is checked */
    n = response_body(body, sizeof body, rid + 1, nonce, 32, &dp);
    CU_ASSERT_EQUAL(rpb_probe_response_check(body, n, nonce, &dp, &r, &e), RPB_ERR_ENVELOPE_REQUEST_ID);
    /* PROBE-024 */
    n = response_body(body, sizeof body, rid, nonce, 31, NULL);
    CU_ASSERT_EQUAL(rpb_probe_response_check(body, n, nonce, &dp, &r, &e), RPB_ERR_PROBE_PAYLOAD_SHORT);
    /* PROBE-025 */
    uint8_t other[32];
    memcpy(other, nonce, 32);
    other[31] ^= 1;
    n = response_body(body, sizeof body, rid, other, 32, &dp);
    CU_ASSERT_EQUAL(rpb_probe_response_check(body, n, nonce, &dp, &r, &e), RPB_ERR_PROBE_NONCE_MISMATCH);
    /* PROBE-026: a DaemonProcess that does not decode; offset past the nonce */
    uint8_t bad[33];
    memcpy(bad, nonce, 32);
    bad[32] = 0x08; /* key of pid, varint missing */
    rpb_frame f = rpb_frame_request(RPB_PP_PROBE, (rpb_slice){bad, 33});
    f.kind = RPB_FRAME_KIND_RESPONSE;
    f.request_id = rid;
    CU_ASSERT_FATAL(rpb_encode(&rpb_frame_desc, &f, body, sizeof body, &n) == RPB_OK);
    CU_ASSERT_EQUAL(rpb_probe_response_check(body, n, nonce, &dp, &r, &e), RPB_ERR_INVALID_VARINT);
    CU_ASSERT_TRUE(e.offset > 32);
    /* PROBE-026/027: an empty rest is all defaults: no endpoint */
    n = response_body(body, sizeof body, rid, nonce, 32, NULL);
    CU_ASSERT_EQUAL(rpb_probe_response_check(body, n, nonce, &dp, &r, &e),
                    RPB_ERR_IDENTITY_MISSING_ENDPOINT);
    /* PROBE-027: endpoint present but empty (22 00), no digest */
    rpb_daemon_process empty = {0};
    empty.has_ipc_endpoint = true;
    n = response_body(body, sizeof body, rid, nonce, 32, &empty);
    CU_ASSERT_EQUAL(rpb_probe_response_check(body, n, nonce, &dp, &r, &e),
                    RPB_ERR_IDENTITY_SHA256_LENGTH);
    /* PROBE-028: without an expected identity any well-formed one passes */
    empty.exe_sha256 = (rpb_slice){SHA_AA, 32};
    n = response_body(body, sizeof body, rid, nonce, 32, &empty);
    CU_ASSERT_EQUAL(rpb_probe_response_check(body, n, nonce, NULL, &r, &e), RPB_OK);
    /* PROBE-028: the first mismatching field, in upstream's order */
    rpb_daemon_process got = dp1();
    got.boot_id = rpb_slice_cstr("different-boot-id");
    got.ipc_endpoint.path = rpb_slice_cstr("/tmp/other.sock");
    n = response_body(body, sizeof body, rid, nonce, 32, &got);
    CU_ASSERT_EQUAL(rpb_probe_response_check(body, n, nonce, &dp, &r, &e), RPB_ERR_IDENTITY_MISMATCH);
    CU_ASSERT_STRING_EQUAL(r.mismatch, "boot_id");
    got.pid = 1;
    CU_ASSERT_STRING_EQUAL(rpb_identity_first_mismatch(&got, &dp), "pid");
    got = dp1();
    got.exe_path = rpb_slice_cstr("/usr/bin/other");
    CU_ASSERT_STRING_EQUAL(rpb_identity_first_mismatch(&got, &dp), "exe_path");
    got.exe_path = rpb_slice_cstr("/usr//bin/./mydaemon/");
    memset(SHA_01, 1, 32);
    got.exe_sha256 = (rpb_slice){SHA_01, 32};
    CU_ASSERT_STRING_EQUAL(rpb_identity_first_mismatch(&got, &dp), "exe_sha256");
    got = dp1();
    got.ipc_endpoint.namespace_id = rpb_slice_cstr("ns-2");
    CU_ASSERT_STRING_EQUAL(rpb_identity_first_mismatch(&got, &dp), "ipc_endpoint");
    got = dp1(); /* started_at and idle are not compared */
    got.started_at_unix_ms = 1;
    got.has_idle_timeout_secs = false;
    CU_ASSERT_PTR_NULL(rpb_identity_first_mismatch(&got, &dp));
    /* PROBE-020: exact endpoint strings */
    rpb_endpoint ep = dp.ipc_endpoint;
    CU_ASSERT_EQUAL(rpb_probe_endpoint_check(&ep, &dp), RPB_OK);
    ep.path = rpb_slice_cstr("/tmp//d.sock");
    CU_ASSERT_EQUAL(rpb_probe_endpoint_check(&ep, &dp), RPB_ERR_PROBE_ENDPOINT_MISMATCH);
}

/* IDENT-002: path equality by components. */
static void test_path_equal(void)
{
    struct {
        const char *a, *b;
        bool eq;
    } t[] = {
        {"/usr/bin/x", "/usr/bin/x", true},   {"/usr//bin/x", "/usr/bin/x", true},
        {"/usr/bin/x/", "/usr/bin/x", true},  {"/usr/./bin/x/.", "/usr/bin/x", true},
        {"./x", "x", false},                  {"./x", ".//x", true},
        {"/x", "x", false},                   {"/a/../b", "/b", false},
        {"", "", true},                       {"/", "//", true},
        {".", "", false},                     {"a/b", "a/c", false},
        {"/usr/bin/xy", "/usr/bin/x", false}, {"a/.b", "a/b", false},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        bool got = rpb_path_equal(rpb_slice_cstr(t[i].a), rpb_slice_cstr(t[i].b));
        if (got != t[i].eq)
            fprintf(stderr, "path_equal(\"%s\", \"%s\") = %d\n", t[i].a, t[i].b, got);
        CU_ASSERT_EQUAL(got, t[i].eq);
        CU_ASSERT_EQUAL(rpb_path_equal(rpb_slice_cstr(t[i].b), rpb_slice_cstr(t[i].a)), t[i].eq);
    }
}

/* MUX-001..MUX-005: upstream 4.5.5's mux unit tests. */
static void test_mux(void)
{
    rpb_daemon_process self = dp1();
    uint32_t served[] = {0x7001};
    rpb_mux mux = {&self, served, 1, RPB_MAX_FRAME_BYTES};
    uint8_t reply[512], wire[256];
    rpb_mux_result r;
    CU_ASSERT_EQUAL(rpb_mux_poll(&mux, NULL, 0, reply, sizeof reply, &r, NULL), RPB_NEED_MORE);
    CU_ASSERT_EQUAL(rpb_mux_poll(&mux, (const uint8_t *)"\x01\x00\x00", 3, reply, sizeof reply, &r, NULL),
                    RPB_NEED_MORE);
    CU_ASSERT_EQUAL(rpb_mux_poll(&mux, (const uint8_t *)"Lhello", 6, reply, sizeof reply, &r, NULL),
                    RPB_ERR_FRAMING_VERSION);
    /* vector D: nonce 32 x 09, request_id 7, 47 bytes */
    uint8_t nonce[32];
    memset(nonce, 9, 32);
    rpb_frame d = rpb_frame_request(RPB_PP_PROBE, (rpb_slice){nonce, 32});
    d.request_id = 7;
    size_t n;
    CU_ASSERT_FATAL(rpb_frame_encode(&d, wire, sizeof wire, &n) == RPB_OK);
    CU_ASSERT_EQUAL(n, 47);
    CU_ASSERT_EQUAL(rpb_mux_poll(&mux, wire, n - 1, reply, sizeof reply, &r, NULL), RPB_NEED_MORE);
    CU_ASSERT_EQUAL(rpb_mux_poll(&mux, wire, n, reply, sizeof reply, &r, NULL), RPB_OK);
    CU_ASSERT_EQUAL(r.kind, RPB_MUX_PROBE_ANSWERED);
    CU_ASSERT_EQUAL(r.consumed, 47);
    rpb_frame back = decode_frame(reply, r.reply_len);
    CU_ASSERT_EQUAL(back.request_id, 7);
    CU_ASSERT_EQUAL(back.payload_protocol, RPB_PP_PROBE);
    CU_ASSERT_EQUAL(memcmp(back.payload.data, nonce, 32), 0);
    /* too small a reply buffer says how much is needed */
    CU_ASSERT_EQUAL(rpb_mux_poll(&mux, wire, n, reply, 10, &r, NULL), RPB_ERR_BUFFER_TOO_SMALL);
    CU_ASSERT_EQUAL(r.reply_len, rpb_probe_response_len(&d, &self));
    /* MUX-005: two probes back to back; the first is classified alone */
    memcpy(wire + n, wire, n);
    CU_ASSERT_EQUAL(rpb_mux_poll(&mux, wire, 2 * n, reply, sizeof reply, &r, NULL), RPB_OK);
    CU_ASSERT_EQUAL(r.consumed, 47);
    /* MUX-004: a served payload passes whatever its kind */
    rpb_frame p = rpb_frame_request(0x7001, rpb_slice_cstr("ping"));
    p.request_id = 3;
    p.kind = RPB_FRAME_KIND_EVENT;
    CU_ASSERT_FATAL(rpb_frame_encode(&p, wire, sizeof wire, &n) == RPB_OK);
    CU_ASSERT_EQUAL(rpb_mux_poll(&mux, wire, n, reply, sizeof reply, &r, NULL), RPB_OK);
    CU_ASSERT_EQUAL(r.kind, RPB_MUX_PAYLOAD);
    CU_ASSERT_EQUAL(r.consumed, n);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(r.frame.payload, "ping"));
    /* MUX-003, MUX-004 */
    p = rpb_frame_request(RPB_PP_CONTROL, rpb_slice_cstr("hello"));
    CU_ASSERT_FATAL(rpb_frame_encode(&p, wire, sizeof wire, &n) == RPB_OK);
    CU_ASSERT_EQUAL(rpb_mux_poll(&mux, wire, n, reply, sizeof reply, &r, NULL), RPB_ERR_MUX_FIRST_PARTY);
    p = rpb_frame_request(0x7002, (rpb_slice){NULL, 0});
    CU_ASSERT_FATAL(rpb_frame_encode(&p, wire, sizeof wire, &n) == RPB_OK);
    CU_ASSERT_EQUAL(rpb_mux_poll(&mux, wire, n, reply, sizeof reply, &r, NULL), RPB_ERR_MUX_UNSERVED);
    /* MUX-002: a malformed probe is connection-fatal with its class */
    d.payload.len = 31;
    CU_ASSERT_FATAL(rpb_frame_encode(&d, wire, sizeof wire, &n) == RPB_OK);
    CU_ASSERT_EQUAL(rpb_mux_poll(&mux, wire, n, reply, sizeof reply, &r, NULL), RPB_ERR_PROBE_NONCE_LENGTH);
    /* MUX-001: the cap is decided from the header */
    mux.cap = 64;
    CU_ASSERT_EQUAL(rpb_mux_poll(&mux, (const uint8_t *)"\x01\x41\x00\x00\x00", 5, reply, sizeof reply,
                                 &r, NULL),
                    RPB_ERR_FRAME_TOO_LARGE);
}

/* IDENT-003, IDENT-004: the current process. */
static void test_current_identity(void)
{
    rpb_identity id;
    CU_ASSERT_EQUAL_FATAL(rpb_identity_current(&id, "test-namespace", "/tmp/x.sock", true, 30), RPB_OK);
    CU_ASSERT_EQUAL(id.dp.pid, (uint32_t)getpid());
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    CU_ASSERT_FATAL(n > 0);
    exe[n] = '\0';
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(id.dp.exe_path, exe));
    uint8_t sha[32];
    CU_ASSERT_EQUAL(rpb_sha256_file(exe, sha), RPB_OK);
    CU_ASSERT_EQUAL(memcmp(sha, id.exe_sha256, 32), 0);
    char boot[128];
    rpb_boot_id(boot, sizeof boot);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(id.dp.boot_id, boot));
    CU_ASSERT_TRUE(id.dp.has_ipc_endpoint && id.dp.has_idle_timeout_secs);
    CU_ASSERT_TRUE(id.dp.started_at_unix_ms > 1700000000000ull);
    CU_ASSERT_EQUAL(rpb_identity_check(&id.dp), RPB_OK);
    /* the SHA-256 of a known file */
    char path[] = "/tmp/rpb-test-sha-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(write(fd, "abc", 3), 3);
    close(fd);
    CU_ASSERT_EQUAL(rpb_sha256_file(path, sha), RPB_OK);
    size_t hl;
    uint8_t *want = tu_hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", &hl);
    CU_ASSERT_EQUAL(memcmp(sha, want, 32), 0);
    free(want);
    unlink(path);
    CU_ASSERT_EQUAL(rpb_sha256_file(path, sha), RPB_ERR_VERIFY_EXE_HASH);
    /* IDENT-004 */
    rpb_host h;
    rpb_host_current(&h);
    CU_ASSERT_TRUE(h.hi.hostname.len > 0 && h.hi.machine_id.len > 0 && h.hi.boot_id.len > 0);
    /* the machine id is NAME-003's, or "unknown" where there is none */
    char mid[RPB_MACHINE_ID_MAX + 1];
    CU_ASSERT_STRING_EQUAL(h.machine_id, rpb_machine_id(mid, sizeof mid) == RPB_OK ? mid : "unknown");
    CU_ASSERT_TRUE(strstr(h.namespace_id, "mnt:[") == h.namespace_id);
}

/* The peak resident size of this process, in KiB. */
static long max_rss_kib(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

/* IDENT-017: hashing a 64 MiB (sparse) file does not raise the peak
 * resident size by anything near the file's size.  Measured in a fresh
 * child, whose peak starts near its size at the fork. */
static void test_sha256_streamed(void)
{
    char path[] = "/tmp/rpb-test-big-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    const off_t size = 64 << 20;
    CU_ASSERT_FATAL(ftruncate(fd, size) == 0);
    close(fd);
    pid_t child = fork();
    if (child == 0) {
        uint8_t sha[32];
        long before = max_rss_kib();
        int rc = rpb_sha256_file(path, sha);
        long grown = max_rss_kib() - before;
        if (rc != RPB_OK || before < 0)
            _exit(2);
        printf("(peak grew by %ld KiB) ", grown);
        fflush(stdout);
        _exit(grown < 16 * 1024 ? 0 : 1);
    }
    int status = 0;
    CU_ASSERT_EQUAL(waitpid(child, &status, 0), child);
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    unlink(path);
}

/* IDENT-010, IDENT-011, IDENT-012, IDENT-014, IDENT-015, IDENT-016,
 * IDENT-018: verification of the current process and of each kind of
 * wrong identity.  (IDENT-013's exit-during-checks window is not
 * reproducible from a test.) */
static void test_verify(void)
{
    rpb_identity id;
    CU_ASSERT_EQUAL_FATAL(rpb_identity_current(&id, "ns", "/tmp/x.sock", false, 0), RPB_OK);
    rpb_process p;
    CU_ASSERT_EQUAL(rpb_verify_process(&id.dp, &p), RPB_OK);
    CU_ASSERT_EQUAL(p.pid, getpid());
    CU_ASSERT_TRUE(rpb_process_alive(&p));
    rpb_process_close(&p);

    rpb_daemon_process d = id.dp;
    d.pid = 0;
    CU_ASSERT_EQUAL(rpb_verify_process(&d, &p), RPB_ERR_VERIFY_INVALID_PID);
    d.pid = 2147483647u; /* upstream's impossible_pid() */
    CU_ASSERT_EQUAL(rpb_verify_process(&d, &p), RPB_ERR_VERIFY_NOT_FOUND);
    d.pid = 2147483648u;
    CU_ASSERT_EQUAL(rpb_verify_process(&d, &p), RPB_ERR_VERIFY_INVALID_PID);
    d.boot_id = rpb_slice_cstr("prior-boot"); /* the boot id is checked before the pid bound */
    CU_ASSERT_EQUAL(rpb_verify_process(&d, &p), RPB_ERR_VERIFY_BOOT_ID);
    d = id.dp;
    d.boot_id = rpb_slice_cstr(""); /* empty skips the check */
    CU_ASSERT_EQUAL(rpb_verify_process(&d, &p), RPB_OK);
    rpb_process_close(&p);
    d = id.dp;
    uint8_t sha[32];
    memcpy(sha, id.exe_sha256, 32);
    sha[0] ^= 0xFF;
    d.exe_sha256 = (rpb_slice){sha, 32};
    CU_ASSERT_EQUAL(rpb_verify_process(&d, &p), RPB_ERR_VERIFY_SHA256_MISMATCH);
    /* a byte-identical copy elsewhere is another path */
    char copy[] = "/tmp/rpb-test-exe-XXXXXX";
    int out = mkstemp(copy), in = open(id.exe_path, O_RDONLY);
    CU_ASSERT_FATAL(out >= 0 && in >= 0);
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        CU_ASSERT_EQUAL(write(out, buf, (size_t)n), n);
    close(in);
    close(out);
    d = id.dp;
    d.exe_path = rpb_slice_cstr(copy);
    CU_ASSERT_EQUAL(rpb_verify_process(&d, &p), RPB_ERR_VERIFY_EXE_PATH_MISMATCH);
    unlink(copy);
    /* the same path spelled differently passes (canonicalised, IDENT-015) */
    char spelled[4200];
    snprintf(spelled, sizeof spelled, "/.%s", id.exe_path);
    d.exe_path = rpb_slice_cstr(spelled);
    CU_ASSERT_EQUAL(rpb_verify_process(&d, &p), RPB_OK);
    rpb_process_close(&p);

    /* IDENT-018: a child is alive until it exits; a reaped one is gone */
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    d = id.dp;
    d.pid = (uint32_t)child;
    CU_ASSERT_EQUAL_FATAL(rpb_verify_process(&d, &p), RPB_OK); /* same executable */
    CU_ASSERT_TRUE(rpb_process_alive(&p));
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    CU_ASSERT_FALSE(rpb_process_alive(&p));
    rpb_process_close(&p);
    CU_ASSERT_EQUAL(rpb_verify_process(&d, &p), RPB_ERR_VERIFY_NOT_FOUND);
    /* IDENT-014: a zombie exists (kill(pid, 0) succeeds) but its
     * /proc/PID/exe is gone (ENOENT), for any user */
    child = fork();
    if (child == 0)
        _exit(0);
    siginfo_t si;
    CU_ASSERT_FATAL(waitid(P_PID, (id_t)child, &si, WEXITED | WNOWAIT) == 0); /* exited, not reaped */
    d.pid = (uint32_t)child;
    CU_ASSERT_EQUAL(rpb_verify_process(&d, &p), RPB_ERR_VERIFY_EXE_PATH);
    waitpid(child, NULL, 0);
}

/* Verifies d as uid 65534 (a child that dropped root): the result, or
 * INT_MIN when the child could not become uid 65534. */
static int verify_as_nobody(const rpb_daemon_process *d)
{
    int rc = INT_MIN, p[2];
    CU_ASSERT_FATAL(pipe2(p, O_CLOEXEC) == 0);
    pid_t child = fork();
    CU_ASSERT_FATAL(child >= 0);
    if (child == 0) {
        rpb_process proc;
        if (setgroups(0, NULL) == 0 && setgid(65534) == 0 && setuid(65534) == 0)
            rc = rpb_verify_process(d, &proc);
        _exit(write(p[1], &rc, sizeof rc) == (ssize_t)sizeof rc ? 0 : 1);
    }
    close(p[1]);
    if (read(p[0], &rc, sizeof rc) != (ssize_t)sizeof rc)
        rc = INT_MIN;
    close(p[0]);
    waitpid(child, NULL, 0);
    return rc;
}

/* IDENT-014: another user's /proc/PID/exe is unreadable, so verifying that
 * process fails with verify-exe-path.  As root (who may read every
 * /proc/PID/exe) a child that became uid 65534 verifies this process, with
 * this process's own identity; as another user, pid 1 is verified when it
 * runs as a different uid.  A ctest entry of its own, as it may skip. */
static void test_verify_foreign_exe(void)
{
    rpb_identity id;
    CU_ASSERT_EQUAL_FATAL(rpb_identity_current(&id, "ns", "/tmp/x.sock", false, 0), RPB_OK);
    rpb_daemon_process d = id.dp;
    int rc;
    if (geteuid() == 0) {
        rc = verify_as_nobody(&d);
        if (rc == INT_MIN) {
            tu_skip("root, but a child could not become uid 65534 (setgroups/setgid/setuid failed)");
            return;
        }
    } else {
        struct stat st;
        if (stat("/proc/1", &st) != 0 || st.st_uid == geteuid()) {
            tu_skip("no process of another user to verify: pid 1 runs as this uid, and this is not root");
            return;
        }
        d.pid = 1;
        rpb_process proc;
        rc = rpb_verify_process(&d, &proc);
    }
    if (rc != RPB_ERR_VERIFY_EXE_PATH)
        fprintf(stderr, "\n  verification of another user's process: %s\n", rpb_errname(rc));
    CU_ASSERT_EQUAL(rc, RPB_ERR_VERIFY_EXE_PATH);
}

/* serde_json's to_string_pretty of DP1 (IDENT-030). */
static void dp1_sidecar_text(char *out, size_t cap)
{
    size_t at = (size_t)snprintf(out, cap,
                                 "{\n  \"pid\": 4242,\n  \"exe_path\": \"/usr/bin/mydaemon\",\n"
                                 "  \"exe_sha256\": [\n");
    for (int i = 0; i < 32; i++)
        at += (size_t)snprintf(out + at, cap - at, "    170%s\n", i < 31 ? "," : "");
    snprintf(out + at, cap - at,
             "  ],\n  \"boot_id\": \"boot-1\",\n  \"ipc_endpoint\": {\n    \"namespace_id\": "
             "\"ns-1\",\n    \"path\": \"/tmp/d.sock\"\n  },\n  \"started_at_unix_ms\": "
             "1700000000000,\n  \"idle_timeout_secs\": 30\n}");
}

/* IDENT-030, IDENT-031: format and parse. */
static void test_sidecar_text(void)
{
    rpb_daemon_process dp = dp1();
    rpb_buf b = {0};
    CU_ASSERT_EQUAL_FATAL(rpb_sidecar_format(&dp, &b), RPB_OK);
    char want[2048];
    dp1_sidecar_text(want, sizeof want);
    CU_ASSERT_EQUAL(b.len, strlen(want));
    CU_ASSERT_EQUAL(memcmp(b.data, want, b.len), 0);
    rpb_identity id;
    CU_ASSERT_EQUAL(rpb_sidecar_parse((char *)b.data, b.len, &id), RPB_OK);
    CU_ASSERT_PTR_NULL(rpb_identity_first_mismatch(&id.dp, &dp));
    CU_ASSERT_EQUAL(id.dp.started_at_unix_ms, 1700000000000ull);
    CU_ASSERT_TRUE(id.dp.has_idle_timeout_secs && id.dp.idle_timeout_secs == 30);
    rpb_buf_free(&b);

    const char *good_tail = "\"boot_id\":\"b\",\"ipc_endpoint\":{\"namespace_id\":\"n\",\"path\":\"p\"},"
                            "\"started_at_unix_ms\":5";
    char sha[200] = "[";
    for (int i = 0; i < 32; i++)
        strcat(sha, i ? ",1" : "1");
    strcat(sha, "]");
    char text[1024];
    /* missing idle = not set; null = not set; unknown keys ignored */
    snprintf(text, sizeof text, "{\"pid\":1,\"exe_path\":\"/x\",\"exe_sha256\":%s,%s,\"extra\":[1]}", sha,
             good_tail);
    CU_ASSERT_EQUAL(rpb_sidecar_parse(text, strlen(text), &id), RPB_OK);
    CU_ASSERT_FALSE(id.dp.has_idle_timeout_secs);
    snprintf(text, sizeof text, "{\"pid\":1,\"exe_path\":\"/x\",\"exe_sha256\":%s,%s,\"idle_timeout_secs\":null}",
             sha, good_tail);
    CU_ASSERT_EQUAL(rpb_sidecar_parse(text, strlen(text), &id), RPB_OK);
    CU_ASSERT_FALSE(id.dp.has_idle_timeout_secs);
    /* malformed: each shape error */
    const char *bad[] = {
        "not json",
        "[]",
        "{\"exe_path\":\"/x\",\"exe_sha256\":%s,%s}",                     /* no pid */
        "{\"pid\":-1,\"exe_path\":\"/x\",\"exe_sha256\":%s,%s}",          /* negative */
        "{\"pid\":4294967296,\"exe_path\":\"/x\",\"exe_sha256\":%s,%s}",  /* over u32 */
        "{\"pid\":1,\"exe_path\":7,\"exe_sha256\":%s,%s}",                /* wrong type */
        "{\"pid\":1,\"pid\":1,\"exe_path\":\"/x\",\"exe_sha256\":%s,%s}", /* duplicate */
        "{\"pid\":1,\"exe_path\":\"/x\",\"exe_sha256\":%s,%s,\"idle_timeout_secs\":\"30\"}",
        "{\"pid\":1,\"exe_path\":\"/x\",\"exe_sha256\":\"%s\",%s}", /* hex-ish string */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, bad[i], sha, good_tail);
        CU_ASSERT_EQUAL(rpb_sidecar_parse(text, strlen(text), &id), RPB_ERR_SIDECAR_MALFORMED);
    }
    /* 31 and 33 digest elements, an element of 256 */
    snprintf(text, sizeof text, "{\"pid\":1,\"exe_path\":\"/x\",\"exe_sha256\":[%.*s],%s}", 61, sha + 1,
             good_tail);
    CU_ASSERT_EQUAL(rpb_sidecar_parse(text, strlen(text), &id), RPB_ERR_SIDECAR_MALFORMED);
    snprintf(text, sizeof text, "{\"pid\":1,\"exe_path\":\"/x\",\"exe_sha256\":[1,%s,%s}", sha + 1, good_tail);
    CU_ASSERT_EQUAL(rpb_sidecar_parse(text, strlen(text), &id), RPB_ERR_SIDECAR_MALFORMED);
    snprintf(text, sizeof text, "{\"pid\":1,\"exe_path\":\"/x\",\"exe_sha256\":[256,%s,%s}", sha + 3,
             good_tail);
    CU_ASSERT_EQUAL(rpb_sidecar_parse(text, strlen(text), &id), RPB_ERR_SIDECAR_MALFORMED);
    /* IDENT-034: over the cap before parsing */
    CU_ASSERT_EQUAL(rpb_sidecar_parse(text, RPB_SIDECAR_MAX_BYTES + 1, &id), RPB_ERR_SIDECAR_TOO_LARGE);
}

/* IDENT-032..IDENT-034: the file. */
static void test_sidecar_file(void)
{
    char dir[] = "/tmp/rpb-test-sidecar-XXXXXX";
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    char path[256], tmp[300], link[256];
    snprintf(path, sizeof path, "%s/daemon-identity.json", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    snprintf(link, sizeof link, "%s/link.json", dir);
    rpb_identity id;
    CU_ASSERT_EQUAL(rpb_sidecar_read(path, &id), RPB_ERR_SIDECAR_MISSING);
    rpb_daemon_process dp = dp1();
    mode_t old = umask(0); /* IDENT-033: the mode does not depend on the umask */
    CU_ASSERT_EQUAL(rpb_sidecar_write(path, &dp), RPB_OK);
    umask(old);
    struct stat st;
    CU_ASSERT_EQUAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
    CU_ASSERT_EQUAL(access(tmp, F_OK), -1); /* no .tmp left behind */
    CU_ASSERT_EQUAL(rpb_sidecar_read(path, &id), RPB_OK);
    CU_ASSERT_PTR_NULL(rpb_identity_first_mismatch(&id.dp, &dp));
    /* a stale .tmp from a crash does not block the next write */
    int fd = open(tmp, O_CREAT | O_WRONLY, 0644);
    close(fd);
    dp.pid = 77;
    CU_ASSERT_EQUAL(rpb_sidecar_write(path, &dp), RPB_OK);
    CU_ASSERT_EQUAL(rpb_sidecar_read(path, &id), RPB_OK);
    CU_ASSERT_EQUAL(id.dp.pid, 77);
    /* a symbolic link is refused, a FIFO too, without blocking */
    CU_ASSERT_EQUAL(symlink(path, link), 0);
    CU_ASSERT_EQUAL(rpb_sidecar_read(link, &id), RPB_ERR_SIDECAR_UNSAFE);
    unlink(link);
    CU_ASSERT_EQUAL(mkfifo(link, 0600), 0);
    CU_ASSERT_EQUAL(rpb_sidecar_read(link, &id), RPB_ERR_SIDECAR_UNSAFE);
    unlink(link);
    CU_ASSERT_EQUAL(rpb_sidecar_read(dir, &id), RPB_ERR_SIDECAR_UNSAFE);
    /* over 64 KiB is refused from its size */
    fd = open(link, O_CREAT | O_WRONLY, 0600);
    CU_ASSERT_EQUAL(ftruncate(fd, RPB_SIDECAR_MAX_BYTES + 1), 0);
    close(fd);
    CU_ASSERT_EQUAL(rpb_sidecar_read(link, &id), RPB_ERR_SIDECAR_TOO_LARGE);
    unlink(link);
    /* garbage is malformed */
    fd = open(link, O_CREAT | O_WRONLY, 0600);
    CU_ASSERT_EQUAL(write(fd, "not json", 8), 8);
    close(fd);
    CU_ASSERT_EQUAL(rpb_sidecar_read(link, &id), RPB_ERR_SIDECAR_MALFORMED);
    unlink(link);
    rpb_sidecar_remove(path);
    CU_ASSERT_EQUAL(rpb_sidecar_read(path, &id), RPB_ERR_SIDECAR_MISSING);
    rmdir(dir);
}

/* ---- rpb_probe_endpoint() against a forked responder ---- */

enum responder_mode { ANSWER, HANG_UP, SILENT, OVER_CAP, BAD_FRAMING };

static int listen_at(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    unlink(path);
    CU_ASSERT_FATAL(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(fd, 4) == 0);
    return fd;
}

/* Forks a responder that serves one connection: answers with identity
 * through the mux (writing the request nonce to nonce_fd, and exiting 2
 * when request_id is not derived from it), hangs up at once, or stays
 * silent until killed. */
static int nonce_fd = -1;

static pid_t responder(int lfd, enum responder_mode mode, const rpb_daemon_process *identity)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    int c = accept(lfd, NULL, NULL);
    if (mode == HANG_UP) {
        shutdown(c, SHUT_RDWR);
        _exit(0);
    }
    if (mode == OVER_CAP || mode == BAD_FRAMING) { /* then stay, so only the header decides */
        static const uint8_t over_cap[5] = {0x01, 0x01, 0x00, 0x00, 0x01}; /* 16 MiB + 1 */
        if (write(c, mode == OVER_CAP ? over_cap : (const uint8_t *)"\x02", mode == OVER_CAP ? 5 : 1) < 0)
            _exit(1);
        pause();
    }
    if (mode == SILENT) {
        pause();
        _exit(0);
    }
    uint8_t in[256], reply[8192];
    size_t len = 0;
    rpb_mux mux = {identity, NULL, 0, RPB_MAX_FRAME_BYTES};
    rpb_mux_result r;
    int rc = RPB_NEED_MORE;
    while (rc == RPB_NEED_MORE) {
        ssize_t n = read(c, in + len, sizeof in - len);
        if (n <= 0)
            _exit(1);
        len += (size_t)n;
        rc = rpb_mux_poll(&mux, in, len, reply, sizeof reply, &r, NULL);
    }
    if (rc == RPB_OK && write(c, reply, r.reply_len) != (ssize_t)r.reply_len)
        _exit(1);
    if (nonce_fd >= 0 && write(nonce_fd, r.frame.payload.data, 32) != 32)
        _exit(1);
    if (r.frame.request_id != rpb_probe_request_id(r.frame.payload.data))
        _exit(2);
    _exit(rc == RPB_OK ? 0 : 1);
}

/* Kills pid and returns its wait status. */
static int reap(pid_t pid)
{
    int status = 0;
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return status;
}

/* A socket path named after tag, self = this process serving it (namespace
 * "test-namespace", idle 30), and a listener bound there. */
static int probe_fixture(const char *tag, char path[108], rpb_identity *self)
{
    snprintf(path, 108, "/tmp/rpb-test-%s-%d.sock", tag, (int)getpid());
    CU_ASSERT_EQUAL_FATAL(rpb_identity_current(self, "test-namespace", path, true, 30), RPB_OK);
    return listen_at(path);
}

/* PROBE-002, PROBE-003: two probes carry different nonces, each with the
 * request_id derived from it. */
static void test_probe_nonces(void)
{
    char path[108];
    rpb_identity self;
    int lfd = probe_fixture("nonce", path, &self), fds[2];
    CU_ASSERT_FATAL(pipe(fds) == 0);
    nonce_fd = fds[1];
    uint8_t nonces[2][32];
    for (int i = 0; i < 2; i++) {
        pid_t child = responder(lfd, ANSWER, &self.dp);
        rpb_probe_outcome o;
        CU_ASSERT_EQUAL(rpb_probe_endpoint(&self.dp.ipc_endpoint, &self.dp, 5000, 0, &o, NULL), RPB_OK);
        rpb_probe_outcome_free(&o);
        CU_ASSERT_EQUAL(read(fds[0], nonces[i], 32), 32);
        int status;
        waitpid(child, &status, 0);
        CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CU_ASSERT_NOT_EQUAL(memcmp(nonces[0], nonces[1], 32), 0);
    nonce_fd = -1;
    close(fds[0]);
    close(fds[1]);
    close(lfd);
    unlink(path);
}

/* PROBE-034: with SIGPIPE at its default action, probes against peers
 * that hang up at once (when the hang-up wins the race the request write
 * meets EPIPE) end with a class, never with the signal. */
static void test_probe_no_sigpipe(void)
{
    char path[108];
    rpb_identity self;
    int lfd = probe_fixture("pipe", path, &self);
    pid_t prober = fork();
    if (prober == 0) {
        signal(SIGPIPE, SIG_DFL);
        for (int i = 0; i < 20; i++) {
            pid_t child = responder(lfd, HANG_UP, &self.dp);
            rpb_probe_outcome o;
            int rc = rpb_probe_endpoint(&self.dp.ipc_endpoint, NULL, 5000, 0, &o, NULL);
            rpb_probe_outcome_free(&o);
            reap(child);
            if (rc != RPB_ERR_UNEXPECTED_EOF && rc != RPB_ERR_IO)
                _exit(1);
        }
        _exit(0);
    }
    int status;
    waitpid(prober, &status, 0);
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(lfd);
    unlink(path);
}

/* PROBE-020, PROBE-021, PROBE-022, PROBE-028, PROBE-030, PROBE-032,
 * PROBE-033. */
static void test_probe_endpoint(void)
{
    char path[108];
    rpb_identity self;
    int lfd = probe_fixture("probe", path, &self);
    close(lfd);
    rpb_endpoint ep = self.dp.ipc_endpoint;
    rpb_probe_outcome o;
    rpb_errinfo e;

    /* PROBE-033: nobody there */
    unlink(path);
    CU_ASSERT_EQUAL(rpb_probe_endpoint(&ep, &self.dp, 2000, 0, &o, &e), RPB_ERR_PROBE_CONNECT);
    rpb_probe_outcome_free(&o);
    /* PROBE-004: empty path before any I/O */
    rpb_endpoint empty = {0};
    CU_ASSERT_EQUAL(rpb_probe_endpoint(&empty, NULL, 2000, 0, &o, &e), RPB_ERR_INVALID_ARGUMENT);
    rpb_probe_outcome_free(&o);

    lfd = listen_at(path);
    /* success, with verification of the current process (PROBE-021) */
    pid_t child = responder(lfd, ANSWER, &self.dp);
    CU_ASSERT_EQUAL(rpb_probe_endpoint(&ep, &self.dp, 5000, RPB_PROBE_VERIFY, &o, &e), RPB_OK);
    CU_ASSERT_EQUAL(o.reply.identity.pid, (uint32_t)getpid());
    CU_ASSERT_EQUAL(o.process.pid, getpid());
    rpb_probe_outcome_free(&o);
    reap(child);

    /* PROBE-028: a responder with another boot id */
    rpb_daemon_process other = self.dp;
    other.boot_id = rpb_slice_cstr("different-boot-id");
    child = responder(lfd, ANSWER, &other);
    CU_ASSERT_EQUAL(rpb_probe_endpoint(&ep, &self.dp, 5000, RPB_PROBE_VERIFY, &o, &e),
                    RPB_ERR_IDENTITY_MISMATCH);
    CU_ASSERT_STRING_EQUAL(o.reply.mismatch, "boot_id");
    rpb_probe_outcome_free(&o);
    reap(child);

    /* PROBE-032: a hang-up is end of stream at once, well before the
     * 60 s deadline (the test would time out otherwise) */
    child = responder(lfd, HANG_UP, &self.dp);
    int rc = rpb_probe_endpoint(&ep, &self.dp, 60000, 0, &o, &e);
    CU_ASSERT_TRUE(rc == RPB_ERR_UNEXPECTED_EOF || rc == RPB_ERR_IO);
    rpb_probe_outcome_free(&o);
    reap(child);

    /* PROBE-022: the framing byte and the cap decide at once, while the
     * responder keeps the connection open (60 s deadline) */
    child = responder(lfd, OVER_CAP, &self.dp);
    CU_ASSERT_EQUAL(rpb_probe_endpoint(&ep, &self.dp, 60000, 0, &o, &e), RPB_ERR_FRAME_TOO_LARGE);
    CU_ASSERT_EQUAL(o.body.cap, 0); /* nothing allocated for the claim */
    rpb_probe_outcome_free(&o);
    reap(child);
    child = responder(lfd, BAD_FRAMING, &self.dp);
    CU_ASSERT_EQUAL(rpb_probe_endpoint(&ep, &self.dp, 60000, 0, &o, &e), RPB_ERR_FRAMING_VERSION);
    rpb_probe_outcome_free(&o);
    reap(child);

    /* PROBE-030: silence until the deadline */
    child = responder(lfd, SILENT, &self.dp);
    CU_ASSERT_EQUAL(rpb_probe_endpoint(&ep, &self.dp, 100, 0, &o, &e), RPB_ERR_TIMEOUT);
    rpb_probe_outcome_free(&o);
    reap(child);

    /* PROBE-020 and PROBE-021: mismatch and dead pid fail before I/O (the
     * listener has no responder; a connection would hang to the deadline) */
    rpb_endpoint wrong = ep;
    wrong.namespace_id = rpb_slice_cstr("other");
    CU_ASSERT_EQUAL(rpb_probe_endpoint(&wrong, &self.dp, 60000, 0, &o, &e),
                    RPB_ERR_PROBE_ENDPOINT_MISMATCH);
    rpb_probe_outcome_free(&o);
    rpb_daemon_process dead = self.dp;
    dead.pid = 2147483647u;
    CU_ASSERT_EQUAL(rpb_probe_endpoint(&ep, &dead, 60000, RPB_PROBE_VERIFY, &o, &e),
                    RPB_ERR_VERIFY_NOT_FOUND);
    rpb_probe_outcome_free(&o);
    close(lfd);
    unlink(path);
}

int main(int argc, char **argv)
{
    static const tu_test tests[] = {
        {"request bytes (PROBE-001, PROBE-002)", test_request_bytes},
        {"responder checks (PROBE-010, PROBE-011)", test_request_check},
        {"response bytes (PROBE-005, IDENT-001)", test_response_bytes},
        {"requester checks (PROBE-023..PROBE-028)", test_response_check},
        {"path equality (IDENT-002)", test_path_equal},
        {"mux (MUX-001..MUX-005)", test_mux},
        {"current identity (IDENT-003, IDENT-004)", test_current_identity},
        {"streamed digest (IDENT-017)", test_sha256_streamed},
        {"verification (IDENT-010, IDENT-011, IDENT-012, IDENT-014, IDENT-015, IDENT-016, IDENT-018)",
         test_verify},
        {"sidecar text (IDENT-030, IDENT-031)", test_sidecar_text},
        {"sidecar file (IDENT-032..IDENT-034)", test_sidecar_file},
        {"probe endpoint (PROBE-020, PROBE-021, PROBE-022, PROBE-028, PROBE-030, PROBE-032, PROBE-033)",
         test_probe_endpoint},
        {"nonces (PROBE-002, PROBE-003)", test_probe_nonces},
        {"no SIGPIPE (PROBE-034)", test_probe_no_sigpipe},
        {NULL, NULL},
    };
    /* run alone by their id (impl/tests/CMakeLists.txt), as they may skip */
    static const tu_alone alone[] = {
        {"verify-foreign-exe", "verification of another user's process (IDENT-014)",
         test_verify_foreign_exe},
        {NULL, NULL, NULL},
    };
    signal(SIGPIPE, SIG_IGN);
    return tu_run_only("probe", tests, alone, argc > 1 ? argv[1] : NULL);
}
