/*
 * cases_hello.c - broker/hello/...: the shape checks (protocol range,
 * service_name and wanted_version grammars with upstream's injection and
 * traversal samples, string caps, peer_pid), the decision order, service
 * lookup and version policy, the contents of Negotiated, connection_id
 * uniqueness and the per-pid rate limit (spec/hello.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cases.h"

/* Negotiated: protocol 1, daemon_version, backend_pipe, no warnings,
 * non-zero connection_id. */
static void case_negotiated_contents(cctx *c)
{
    rpb_frame f;
    stim_frame_base(&f);
    sbuf s = SBUF_INIT;
    stim_base_frame(&s, self_pid());
    hreply r;
    hc_exchange(c, NULL, "baseline Hello", &s, &r);
    const rpb_negotiated *n = expect_negotiated(c, &r, echo_of(&f));
    if (n) {
        if (!rpb_slice_eq_cstr(n->daemon_version, STIM_VERSION)) {
            sbuf q = SBUF_INIT;
            sb_quoted(&q, n->daemon_version.data, n->daemon_version.len, 80);
            c_fail(c, "expected daemon_version \"%s\" (the backend's version); observed %s", STIM_VERSION, sb_str(&q));
            sb_free(&q);
        }
        if (n->backend_pipe.len == 0)
            c_fail(c, "expected a non-empty backend_pipe; observed \"\"");
        if (n->warnings.count)
            c_fail(c, "expected no warnings; observed %zu", n->warnings.count);
        if (n->connection_id == 0)
            c_fail(c, "expected a non-zero connection_id; observed 0");
    }
    hr_free(&r);
    sb_free(&s);
}

static void keepalive_case(cctx *c, uint64_t sent, uint64_t want)
{
    rpb_frame f;
    rpb_hello h;
    hello_base(&f, &h);
    h.client_keepalive_secs = sent;
    hreply r;
    const rpb_negotiated *n = exchange_negotiated(
        c, sent ? "Hello with client_keepalive_secs 60" : "Hello with client_keepalive_secs 0", &f, &h, &r);
    if (n && n->keepalive_interval_secs != want)
        c_fail(c, "expected keepalive_interval_secs %llu; observed %llu", (unsigned long long)want,
               (unsigned long long)n->keepalive_interval_secs);
    hr_free(&r);
}

static void case_keepalive_echo(cctx *c)
{
    keepalive_case(c, 60, 60);
}

static void case_keepalive_default(cctx *c)
{
    keepalive_case(c, 0, 1800);
}

static const rpb_negotiated *token_case(cctx *c, uint64_t caps, hreply *r)
{
    rpb_frame f;
    rpb_hello h;
    hello_base(&f, &h);
    h.client_capabilities = caps;
    return exchange_negotiated(c, caps ? "Hello with CAP_HANDLE_PASSING" : "Hello without capabilities", &f, &h, r);
}

/* No capability asked: no handoff token. */
static void case_token_without_cap(cctx *c)
{
    hreply r;
    const rpb_negotiated *n = token_case(c, 0, &r);
    if (n && n->handle_passed_token.len)
        c_fail(c, "expected an empty handle_passed_token when the client did not set CAP_HANDLE_PASSING; observed %zu bytes",
               n->handle_passed_token.len);
    hr_free(&r);
}

/* CAP_HANDLE_PASSING asked: a token is either absent (no handoff possible)
 * or exactly 16 bytes with the server's bit 0 set. */
static void case_token_with_cap(cctx *c)
{
    hreply r;
    const rpb_negotiated *n = token_case(c, RPB_CAP_HANDLE_PASSING, &r);
    if (n && n->handle_passed_token.len) {
        if (n->handle_passed_token.len != 16)
            c_fail(c, "expected handle_passed_token empty or 16 bytes; observed %zu bytes",
                   n->handle_passed_token.len);
        if (!(n->server_capabilities & RPB_CAP_HANDLE_PASSING))
            c_fail(c, "expected server_capabilities bit 0 set with a token; observed 0x%llx",
                   (unsigned long long)n->server_capabilities);
    }
    hr_free(&r);
}

/* daemon_version is the backend's (the requested) version. */
static void case_daemon_version_open(cctx *c)
{
    rpb_frame f;
    rpb_hello h;
    hello_base(&f, &h);
    h.service_name = rpb_slice_cstr(FIXTURE_SVC_OPEN);
    h.wanted_version = rpb_slice_cstr("2.3.4-rc.1.beta");
    hreply r;
    const rpb_negotiated *n = exchange_negotiated(c, "Hello for conform-open 2.3.4-rc.1.beta", &f, &h, &r);
    if (n && !rpb_slice_eq_cstr(n->daemon_version, "2.3.4-rc.1.beta")) {
        sbuf q = SBUF_INIT;
        sb_quoted(&q, n->daemon_version.data, n->daemon_version.len, 80);
        c_fail(c, "expected daemon_version \"2.3.4-rc.1.beta\"; observed %s", sb_str(&q));
        sb_free(&q);
    }
    hr_free(&r);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Checks n ids for zeros and duplicates. */
static void check_unique(cctx *c, uint64_t *ids, size_t n, const char *how)
{
    qsort(ids, n, sizeof *ids, cmp_u64);
    size_t dups = 0;
    uint64_t example = 0;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] == 0) {
            c_fail(c, "expected non-zero connection_ids; observed 0 (%s)", how);
            return;
        }
        if (i && ids[i] == ids[i - 1] && dups++ == 0)
            example = ids[i];
    }
    if (dups)
        c_fail(c, "expected %zu pairwise different connection_ids (%s); observed %zu duplicates (e.g. %llu)", n,
               how, dups, (unsigned long long)example);
}

static void case_connection_id_sequential(cctx *c)
{
    enum { N = 5 };
    uint64_t ids[N];
    size_t got = 0;
    sbuf s = SBUF_INIT;
    stim_base_frame(&s, self_pid());
    rpb_frame f;
    stim_frame_base(&f);
    for (int i = 0; i < N; i++) {
        hreply r;
        hc_exchange(c, NULL, "baseline Hello", &s, &r);
        const rpb_negotiated *n = expect_negotiated(c, &r, echo_of(&f));
        if (n)
            ids[got++] = n->connection_id;
        hr_free(&r);
    }
    if (got == N) {
        for (int i = 1; i < N; i++)
            if (ids[i] != ids[i - 1] + 1) {
                c_fail(c, "expected connection_ids increasing by one for sequential Hellos; observed %llu after %llu",
                       (unsigned long long)ids[i], (unsigned long long)ids[i - 1]);
                break;
            }
        check_unique(c, ids, N, "5 sequential Hellos");
    }
    sb_free(&s);
}

/* Refusals do not consume connection_ids: Negotiated, Refused, Negotiated
 * get consecutive ids. */
static void case_connection_id_refusal_gap(cctx *c)
{
    rpb_frame f;
    rpb_hello h;
    hello_base(&f, &h);
    sbuf good = SBUF_INIT, bad = SBUF_INIT;
    stim_hello_frame(&good, &f, &h);
    h.service_name = rpb_slice_cstr("nosuch");
    stim_hello_frame(&bad, &f, &h);
    uint64_t ids[2] = {0, 0};
    for (int i = 0; i < 3 && !c_failed(c); i++) {
        hreply r;
        hc_exchange(c, NULL, i == 1 ? "Hello for an unknown service" : "baseline Hello", i == 1 ? &bad : &good, &r);
        if (i == 1) {
            expect_refused(c, &r, &R_SERVICE_UNKNOWN, echo_of(&f));
        } else {
            const rpb_negotiated *n = expect_negotiated(c, &r, echo_of(&f));
            if (n)
                ids[i / 2] = n->connection_id;
        }
        hr_free(&r);
    }
    if (!c_failed(c) && ids[1] != ids[0] + 1)
        c_fail(c, "expected the refusal between two Negotiated not to consume a connection_id (%llu then %llu); observed %llu",
               (unsigned long long)ids[0], (unsigned long long)ids[0] + 1, (unsigned long long)ids[1]);
    sb_free(&good);
    sb_free(&bad);
}

/* HELLO-035 (strict): the fixture configures no handoff transport, so no
 * token is issued and CAP_HANDLE_PASSING is not set even when asked. */
static void case_token_no_handoff(cctx *c)
{
    hreply r;
    const rpb_negotiated *n = token_case(c, RPB_CAP_HANDLE_PASSING, &r);
    if (n && n->handle_passed_token.len)
        c_fail(c, "expected no handle_passed_token without a handoff transport; observed %zu bytes",
               n->handle_passed_token.len);
    if (n && (n->server_capabilities & RPB_CAP_HANDLE_PASSING))
        c_fail(c, "expected CAP_HANDLE_PASSING clear without a handoff transport; observed server_capabilities 0x%llx",
               (unsigned long long)n->server_capabilities);
    hr_free(&r);
}

/* 100 clients connect and send at once; every one negotiates, ids differ. */
static void case_connection_id_concurrent(cctx *c)
{
    enum { N = 100 };
    hconn hc[N];
    hreply r[N];
    uint64_t ids[N];
    size_t got = 0, opened = 0;
    sbuf s = SBUF_INIT;
    stim_base_frame(&s, self_pid());
    rpb_frame f;
    stim_frame_base(&f);
    memset(r, 0, sizeof r);
    for (int i = 0; i < N; i++) {
        if (hc_open(c, &hc[i], NULL, "one of 100 concurrent baseline Hellos") < 0) {
            c_fail(c, "expected 100 concurrent connections to be accepted; connection %d failed", i + 1);
            break;
        }
        opened++;
    }
    for (size_t i = 0; i < opened; i++)
        hc_send(&hc[i], s.data, s.len);
    for (size_t i = 0; i < opened; i++) {
        hc_read_reply(&hc[i], c->cfg->reply_ms, &r[i]);
        const rpb_negotiated *n = expect_negotiated(c, &r[i], echo_of(&f));
        if (n)
            ids[got++] = n->connection_id;
        hc_close(&hc[i]);
        hr_free(&r[i]);
        if (c_failed(c))
            break;
    }
    for (size_t i = got; i < opened; i++)
        hc_close(&hc[i]);
    if (got == N)
        check_unique(c, ids, N, "100 concurrent Hellos");
    sb_free(&s);
}

/* ---- rate limit ---- */

static bool rate_configured(cctx *c)
{
    if (c->cfg->rate_n == 0) {
        c_skip(c, "no rate limit configured for the broker under test (--rate-limit off)");
        return false;
    }
    return true;
}

static bool rate_refused(const hreply *r)
{
    return r->end == H_REPLY && r->payload_err == RPB_OK && r->hello.result == RPB_HELLO_REPLY_REFUSED &&
           r->hello.refused.code == RPB_CODE_RATE_LIMITED;
}

/* The fix for a broker that refused Hello n (n <= rate_n) for the rate
 * limit after elapsed ms with retry_after_ms retry: its window is about
 * elapsed + retry (elapsed counts from before the first Hello, so a little
 * more), its limit n - 1. */
static void lower_limit_hint(sbuf *out, unsigned n, int64_t elapsed, uint64_t retry)
{
    uint64_t window = (uint64_t)(elapsed > 0 ? elapsed : 0) + retry, unit = 1;
    while (window / unit >= 100) /* two significant digits: 10011 -> 10000 */
        unit *= 10;
    window = (window + unit / 2) / unit * unit;
    sb_printf(out, "; refused at Hello %u within %lld ms: the broker limits at about %u per %llu ms; configure %u/%u "
                   "or pass --rate-limit %u/%llu",
              n, (long long)elapsed, n - 1, (unsigned long long)window, FIXTURE_RATE_N, FIXTURE_RATE_WINDOW_MS,
              n - 1, (unsigned long long)window);
}

/* Sends rate_n valid Hellos from a fresh process (all negotiate), then one
 * more (RATE_LIMITED, retry in 1..window); then another process
 * negotiates.  refused_first Hellos that fail the shape check come first. */
static void rate_case(cctx *c, unsigned refused_first)
{
    if (!rate_configured(c))
        return;
    horigin o;
    if (!start_origin(c, &o, false))
        return;
    sbuf good = SBUF_INIT, bad = SBUF_INIT;
    stim_base_frame(&good, (uint32_t)o.pid);
    rpb_frame f;
    rpb_hello h;
    stim_frame_base(&f);
    stim_hello_base(&h, (uint32_t)o.pid);
    h.service_name = rpb_slice_cstr("Not-A-Valid-Name");
    stim_hello_frame(&bad, &f, &h);
    int64_t t0 = rpb_monotonic_ms();
    for (unsigned i = 0; i < refused_first && !c_failed(c); i++) {
        hreply r;
        hc_exchange(c, &o, "shape-invalid Hello (must not count)", &bad, &r);
        expect_refused(c, &r, &R_SERVICE_NAME, echo_of(&f));
        hr_free(&r);
    }
    unsigned ok = 0;
    for (unsigned i = 0; i < c->cfg->rate_n && !c_failed(c); i++) {
        hreply r;
        hc_exchange(c, &o, "baseline Hello within the budget", &good, &r);
        if (r.end == H_REPLY && r.payload_err == RPB_OK && r.hello.result == RPB_HELLO_REPLY_NEGOTIATED) {
            ok++;
        } else {
            sbuf obs = SBUF_INIT;
            describe_reply(&obs, &r);
            if (rate_refused(&r))
                lower_limit_hint(&obs, i + 1, rpb_monotonic_ms() - t0, r.hello.refused.retry_after_ms);
            c_fail(c, "expected Hellos 1..%u of one process to negotiate%s; Hello %u: %s", c->cfg->rate_n,
                   refused_first ? " after refused ones (refusals must not count)" : "", i + 1, sb_str(&obs));
            sb_free(&obs);
        }
        hr_free(&r);
    }
    int64_t elapsed = rpb_monotonic_ms() - t0;
    if (!c_failed(c)) {
        hreply r;
        c_record_next(c);
        hc_exchange(c, &o, "the Hello over the budget", &good, &r);
        if (elapsed >= (int64_t)c->cfg->rate_window_ms) {
            c_skip(c, "sending %u Hellos took %lld ms, longer than the %u ms window; cannot judge",
                   c->cfg->rate_n, (long long)elapsed, c->cfg->rate_window_ms);
        } else {
            refusal want = {RPB_CODE_RATE_LIMITED, "Hello rate limit exceeded", 1, c->cfg->rate_window_ms};
            if (!expect_refused(c, &r, &want, echo_of(&f)) && r.end == H_REPLY && r.payload_err == RPB_OK &&
                r.hello.result == RPB_HELLO_REPLY_NEGOTIATED)
                c_fail(c, "hint: Hello %u negotiated within %lld ms, so the broker limits higher or not at all; "
                          "configure %u/%u or pass --rate-limit with the broker's N/MS (off when it has none)",
                       c->cfg->rate_n + 1, (long long)elapsed, FIXTURE_RATE_N, FIXTURE_RATE_WINDOW_MS);
        }
        hr_free(&r);
    }
    origin_stop(&o);
    /* another process is not affected */
    if (!c_failed(c) && !c->r->skip.len) {
        horigin o2;
        if (start_origin(c, &o2, false)) {
            sbuf other = SBUF_INIT;
            stim_base_frame(&other, (uint32_t)o2.pid);
            hreply r;
            c_record_next(c);
            hc_exchange(c, &o2, "baseline Hello from another process", &other, &r);
            if (!expect_negotiated(c, &r, echo_of(&f)))
                c_fail(c, "expected the rate limit to be per pid: another process must still negotiate");
            hr_free(&r);
            sb_free(&other);
            origin_stop(&o2);
        }
    }
    sb_free(&good);
    sb_free(&bad);
}

static void case_rate_limit_exceeded(cctx *c)
{
    rate_case(c, 0);
}

static void case_rate_limit_refused_not_counted(cctx *c)
{
    rate_case(c, 10);
}

static const hcase rows[] = {
    MUTATE("broker/hello/shape/protocol-range/above", CORE, "HELLO-010", NULL, &R_PROTOCOL_RANGE, PROTOCOLS(2, 3)),
    MUTATE("broker/hello/shape/protocol-range/zero", CORE, "HELLO-010", NULL, &R_PROTOCOL_RANGE, PROTOCOLS(0, 0)),
    MUTATE("broker/hello/shape/protocol-range/inverted", CORE, "HELLO-010", NULL, &R_PROTOCOL_RANGE, PROTOCOLS(1, 0)),
    MUTATE("broker/hello/shape/protocol-range/wide", CORE, "HELLO-010 HELLO-030", "client protocol range 0..5 includes v1 and negotiates protocol 1", NEGOTIATES, PROTOCOLS(0, 5)),
    MUTATE("broker/hello/shape/protocol-range/upper-open", CORE, "HELLO-010 HELLO-030", "client protocol range 1..3 negotiates protocol 1", NEGOTIATES, PROTOCOLS(1, 3)),
    MUTATE("broker/hello/shape/service-name/uppercase", CORE, "HELLO-011", "service_name Zccache is refused (no case folding)", &R_SERVICE_NAME, SERVICE("Zccache")),
    MUTATE("broker/hello/shape/service-name/all-uppercase", CORE, "HELLO-011", NULL, &R_SERVICE_NAME, SERVICE("ZCCACHE")),
    MUTATE("broker/hello/shape/service-name/traversal", CORE, "HELLO-011", NULL, &R_SERVICE_NAME, SERVICE("../zccache")),
    MUTATE("broker/hello/shape/service-name/backslash-traversal", CORE, "HELLO-011", NULL, &R_SERVICE_NAME, SERVICE("..\\zccache")),
    MUTATE("broker/hello/shape/service-name/absolute-path", CORE, "HELLO-011", NULL, &R_SERVICE_NAME, SERVICE("/tmp/zccache")),
    MUTATE("broker/hello/shape/service-name/shell-semicolon", CORE, "HELLO-011", NULL, &R_SERVICE_NAME, SERVICE("zccache;rm")),
    MUTATE("broker/hello/shape/service-name/shell-and", CORE, "HELLO-011", NULL, &R_SERVICE_NAME, SERVICE("zccache&&calc")),
    MUTATE("broker/hello/shape/service-name/shell-pipe", CORE, "HELLO-011", NULL, &R_SERVICE_NAME, SERVICE("zccache|whoami")),
    MUTATE("broker/hello/shape/service-name/space", CORE, "HELLO-011", NULL, &R_SERVICE_NAME, SERVICE("zccache service")),
    MUTATE("broker/hello/shape/service-name/dot", CORE, "HELLO-011", NULL, &R_SERVICE_NAME, SERVICE("zccache.service")),
    MUTATE("broker/hello/shape/service-name/underscore", CORE, "HELLO-011", NULL, &R_SERVICE_NAME, SERVICE("zccache_service")),
    MUTATE("broker/hello/shape/service-name/empty", CORE, "HELLO-011", NULL, &R_SERVICE_NAME, SERVICE("")),
    MUTATE("broker/hello/shape/service-name/length-65", CORE, "HELLO-011", "a 65-byte service_name is refused", &R_SERVICE_NAME, SERVICE(A64 "a")),
    MUTATE("broker/hello/shape/service-name/non-ascii", CORE, "HELLO-011", NULL, &R_SERVICE_NAME, SERVICE("emoji-rocket-\xf0\x9f\x9a\x80")),
    MUTATE("broker/hello/shape/service-name/nul", CORE, "HELLO-011", NULL, &R_SERVICE_NAME, SERVICE("zcc\0ache")),
    MUTATE("broker/hello/shape/service-name/length-64-accepted", CORE, "HELLO-011 HELLO-021", "a 64-byte name passes the shape check: SERVICE_UNKNOWN, not PEER_REJECTED", &R_SERVICE_UNKNOWN, SERVICE(A64)),
    MUTATE("broker/hello/shape/service-name/hyphen-only-accepted", CORE, "HELLO-011 HELLO-021", "service_name \"-\" passes the shape check (no placement rules): SERVICE_UNKNOWN", &R_SERVICE_UNKNOWN, SERVICE("-")),
    MUTATE("broker/hello/shape/service-name/digits-accepted", CORE, "HELLO-011 HELLO-021", "service_name 0-9-a passes the shape check: SERVICE_UNKNOWN", &R_SERVICE_UNKNOWN, SERVICE("0-9-a")),
    MUTATE("broker/hello/shape/wanted-version/empty", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("")),
    MUTATE("broker/hello/shape/wanted-version/two-parts", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("1.0")),
    MUTATE("broker/hello/shape/wanted-version/four-parts", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("1.0.0.0")),
    MUTATE("broker/hello/shape/wanted-version/v-prefix", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("v1.0.0")),
    MUTATE("broker/hello/shape/wanted-version/trailing-dash", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("1.0.0-")),
    MUTATE("broker/hello/shape/wanted-version/uppercase-prerelease", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("1.0.0-ALPHA")),
    MUTATE("broker/hello/shape/wanted-version/build-metadata", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("1.0.0-alpha+build")),
    MUTATE("broker/hello/shape/wanted-version/build-metadata-release", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("1.11.20+b")),
    MUTATE("broker/hello/shape/wanted-version/second-dash", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("1.0.0-rc-1")),
    MUTATE("broker/hello/shape/wanted-version/empty-part", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("1..0")),
    MUTATE("broker/hello/shape/wanted-version/shell-semicolon", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("1.0.0; rm -rf /")),
    MUTATE("broker/hello/shape/wanted-version/shell-and", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("1.0.0 && calc.exe")),
    MUTATE("broker/hello/shape/wanted-version/shell-pipe", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("1.0.0 | whoami")),
    MUTATE("broker/hello/shape/wanted-version/shell-substitution", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("$(touch pwned)")),
    MUTATE("broker/hello/shape/wanted-version/shell-backtick", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("`calc`")),
    MUTATE("broker/hello/shape/wanted-version/space", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("1.0.0 alpha")),
    MUTATE("broker/hello/shape/wanted-version/traversal", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("../../../bin/evil")),
    MUTATE("broker/hello/shape/wanted-version/backslash-traversal", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("..\\..\\bin\\evil")),
    MUTATE("broker/hello/shape/wanted-version/absolute-path", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("/tmp/evil")),
    MUTATE("broker/hello/shape/wanted-version/windows-path", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("C:\\temp\\evil.exe")),
    MUTATE("broker/hello/shape/wanted-version/slash", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("1.0.0/evil")),
    MUTATE("broker/hello/shape/wanted-version/prerelease-traversal", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("1.0.0-../../evil")),
    MUTATE("broker/hello/shape/wanted-version/double-dot", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("1.0.0..evil")),
    MUTATE("broker/hello/shape/wanted-version/nul", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("1.11.20\0")),
    MUTATE("broker/hello/shape/wanted-version/empty-dot-segments-accepted", CORE, "HELLO-012 HELLO-022", "1.0.0-.. passes the grammar (empty segments allowed): VERSION_BLOCKED by the floor", &R_BELOW_MIN, VERSION("1.0.0-..")),
    MUTATE("broker/hello/shape/wanted-version/leading-zeros-accepted", CORE, "HELLO-012 HELLO-022", "01.10.00 passes the grammar and equals the floor numerically: negotiates", NEGOTIATES, SERVICE(FIXTURE_SVC_OPEN), VERSION("01.10.00")),
    MUTATE("broker/hello/shape/wanted-version/length-64", CORE, "HELLO-012", "a 64-byte well-formed wanted_version negotiates", NEGOTIATES, FILL(FILL_WANTED_VERSION, 64)),
    MUTATE("broker/hello/shape/wanted-version/length-65", CORE, "HELLO-012", "a 65-byte well-formed wanted_version is refused", &R_WANTED_VERSION, FILL(FILL_WANTED_VERSION, 65)),
    MUTATE("broker/hello/shape/client-version/length-128", CORE, "HELLO-013", NULL, NEGOTIATES, FILL(FILL_CLIENT_VERSION, 128)),
    MUTATE("broker/hello/shape/client-version/length-129", CORE, "HELLO-013", NULL, &R_CLIENT_VERSION, FILL(FILL_CLIENT_VERSION, 129)),
    MUTATE("broker/hello/shape/client-lib-name/length-64", CORE, "HELLO-014", NULL, NEGOTIATES, FILL(FILL_CLIENT_LIB_NAME, 64)),
    MUTATE("broker/hello/shape/client-lib-name/length-65", CORE, "HELLO-014", NULL, &R_CLIENT_LIB, FILL(FILL_CLIENT_LIB_NAME, 65)),
    MUTATE("broker/hello/shape/client-lib-version/length-64", CORE, "HELLO-014", NULL, NEGOTIATES, FILL(FILL_CLIENT_LIB_VERSION, 64)),
    MUTATE("broker/hello/shape/client-lib-version/length-65", CORE, "HELLO-014", NULL, &R_CLIENT_LIB, FILL(FILL_CLIENT_LIB_VERSION, 65)),
    MUTATE("broker/hello/shape/peer-pid/mismatch", CORE, "HELLO-015", "a peer_pid other than the connecting process gets Refused PEER_REJECTED", &R_PEER_PID, .pid = PID_OTHER),
    MUTATE("broker/hello/shape/peer-pid/zero", CORE, "HELLO-015", "peer_pid 0 (not claimed) negotiates", NEGOTIATES, .pid = PID_ZERO),
    MUTATE("broker/hello/shape/ignored-fields", CORE, "HELLO-016", "auth_token, request_id, connection_id, nonce and capability_token are not checked or capped", NEGOTIATES, .big_ignored = true),
    MUTATE("broker/hello/order/shape-before-lookup", CORE, "HELLO-007 HELLO-010 HELLO-021", "an unknown service with a bad protocol range gets VERSION_UNSUPPORTED, not SERVICE_UNKNOWN", &R_PROTOCOL_RANGE, SERVICE("nosuch"), PROTOCOLS(2, 3)),
    /* HELLO-007: of the adjacent shape checks only (a) and (b) differ in
     * code; the others all answer PEER_REJECTED, retry 0, and the reason
     * text is not compared (HELLO-041), so their order is not observable */
    MUTATE("broker/hello/order/range-before-name", CORE, "HELLO-007 HELLO-010 HELLO-011", "a bad protocol range and a bad service_name: VERSION_UNSUPPORTED (check a before b)", &R_PROTOCOL_RANGE, PROTOCOLS(2, 3), SERVICE("Bad")),
    MUTATE("broker/hello/order/version-grammar-before-lookup", CORE, "HELLO-007 HELLO-012 HELLO-021", "an unknown service with wanted_version v1.0.0 gets PEER_REJECTED, not SERVICE_UNKNOWN", &R_WANTED_VERSION, SERVICE("nosuch"), VERSION("v1.0.0")),
    MUTATE("broker/hello/policy/unknown-service", CORE, "HELLO-021 HELLO-040", "an unregistered service gets Refused SERVICE_UNKNOWN, retry 0, daemon range 1..1", &R_SERVICE_UNKNOWN, SERVICE("nosuch")),
    MUTATE("broker/hello/policy/min-version/below", CORE, "HELLO-022 HELLO-040", "1.9.9 below the floor 1.10.0 gets VERSION_BLOCKED, retry 30000 (numeric, not lexical)", &R_BELOW_MIN, SERVICE(FIXTURE_SVC_OPEN), VERSION("1.9.9")),
    MUTATE("broker/hello/policy/min-version/at-floor", CORE, "HELLO-022", "1.10.0 at the floor negotiates", NEGOTIATES, SERVICE(FIXTURE_SVC_OPEN), VERSION("1.10.0")),
    MUTATE("broker/hello/policy/min-version/above-floor", CORE, "HELLO-022", "1.100.0 above the floor negotiates", NEGOTIATES, SERVICE(FIXTURE_SVC_OPEN), VERSION("1.100.0")),
    MUTATE("broker/hello/policy/min-version/prerelease-at-floor", CORE, "HELLO-022", "1.10.0-rc.1 at the floor negotiates (the prerelease is ignored)", NEGOTIATES, SERVICE(FIXTURE_SVC_OPEN), VERSION("1.10.0-rc.1")),
    MUTATE("broker/hello/policy/min-version/before-allow-list", CORE, "HELLO-022 HELLO-024", "1.9.9 on the pinned service is blocked by the floor first (reason as a note)", &R_BELOW_MIN, SERVICE(FIXTURE_SVC_PINNED), VERSION("1.9.9")),
    MUTATE("broker/hello/policy/allow-list/not-listed", CORE, "HELLO-023 HELLO-040", "1.11.21 not in the allow-list gets VERSION_BLOCKED, retry 30000", &R_NOT_ALLOWED, SERVICE(FIXTURE_SVC_PINNED), VERSION("1.11.21")),
    MUTATE("broker/hello/policy/allow-list/listed", CORE, "HELLO-023", "1.11.20 in the allow-list negotiates", NEGOTIATES, SERVICE(FIXTURE_SVC_PINNED), VERSION("1.11.20")),
    MUTATE("broker/hello/policy/allow-list/exact-match", CORE, "HELLO-023", "1.11.20-rc.1 does not match the entry 1.11.20 exactly: VERSION_BLOCKED", &R_NOT_ALLOWED, SERVICE(FIXTURE_SVC_PINNED), VERSION("1.11.20-rc.1")),
    ROW("broker/hello/negotiated/contents", CORE, "HELLO-030 HELLO-031 HELLO-033", "Negotiated: protocol 1, daemon_version 1.11.20, backend_pipe, no warnings, connection_id", case_negotiated_contents),
    ROW("broker/hello/negotiated/daemon-version", CORE, "HELLO-031", "daemon_version is the requested version (conform-open 2.3.4-rc.1.beta)", case_daemon_version_open),
    ROW("broker/hello/negotiated/keepalive/echo", CORE, "HELLO-032", "client_keepalive_secs 60 is echoed as keepalive_interval_secs", case_keepalive_echo),
    ROW("broker/hello/negotiated/keepalive/default", CORE, "HELLO-032", "client_keepalive_secs 0 gets keepalive_interval_secs 1800", case_keepalive_default),
    ROW("broker/hello/negotiated/token/without-capability", CORE, "HELLO-034", "no CAP_HANDLE_PASSING: no handle_passed_token", case_token_without_cap),
    ROW("broker/hello/negotiated/token/with-capability", CORE, "HELLO-034 HELLO-033", "CAP_HANDLE_PASSING: token empty, or 16 bytes with server bit 0", case_token_with_cap),
    ROW("broker/hello/negotiated/token/no-handoff", STRICT, "HELLO-035", "without a handoff transport (the fixture has none) no token and no CAP_HANDLE_PASSING", case_token_no_handoff),
    ROW("broker/hello/negotiated/connection-id/refusal-consumes-none", CORE, "HELLO-036", "Negotiated, Refused, Negotiated get consecutive connection_ids", case_connection_id_refusal_gap),
    ROW("broker/hello/negotiated/connection-id/sequential-unique", CORE, "HELLO-036", "5 sequential Hellos get non-zero connection_ids increasing by one", case_connection_id_sequential),
    ROW("broker/hello/negotiated/connection-id/concurrent-unique", CORE, "HELLO-036", "100 concurrent Hellos all negotiate with pairwise different connection_ids", case_connection_id_concurrent),
    ROW("broker/hello/rate-limit/exceeded", CORE, "HELLO-020 HELLO-027 SEC-008", "N Hellos of one pid negotiate, the N+1st gets RATE_LIMITED (retry 1..window); another pid negotiates", case_rate_limit_exceeded),
    ROW("broker/hello/rate-limit/refused-not-counted", CORE, "HELLO-020 HELLO-026", "Hellos refused by the shape checks do not use up the per-pid budget", case_rate_limit_refused_not_counted),
};

CASE_TABLE(cases_hello, rows);
