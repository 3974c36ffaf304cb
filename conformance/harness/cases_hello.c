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

/* HELLO-036: the counter starts at 1 and only Negotiated consume ids, so
 * the next id is the number of Negotiated so far + 1 (STATUS json's
 * hellos_negotiated, rpb-broker's member; skipped without it). */
static void case_connection_id_start(cctx *c)
{
    uint64_t before;
    if (!admin_status_u64(c, "hellos_negotiated", &before)) {
        c_skip(c, "STATUS json has no hellos_negotiated: where the counter started cannot be told");
        return;
    }
    rpb_frame f;
    rpb_hello h;
    hello_base(&f, &h);
    hreply r;
    const rpb_negotiated *n = exchange_negotiated(c, "baseline Hello", &f, &h, &r);
    if (n && n->connection_id != before + 1)
        c_fail(c, "expected connection_id %llu (counting from 1 after %llu Negotiated); observed %llu",
               (unsigned long long)before + 1, (unsigned long long)before, (unsigned long long)n->connection_id);
    hr_free(&r);
}

/* HELLO-036: one counter per broker process, whatever the peer and the
 * service: Hellos from this process for zccache, from another process and
 * for conform-open get consecutive ids. */
static void case_connection_id_scope(cctx *c)
{
    horigin o;
    if (!start_origin(c, &o, false))
        return;
    uint64_t ids[3] = {0, 0, 0};
    for (int i = 0; i < 3 && !c_failed(c); i++) {
        rpb_frame f;
        rpb_hello h;
        stim_frame_base(&f);
        stim_hello_base(&h, i == 1 ? (uint32_t)o.pid : self_pid());
        if (i == 2) {
            h.service_name = rpb_slice_cstr(FIXTURE_SVC_OPEN);
            h.wanted_version = rpb_slice_cstr("2.0.0");
        }
        sbuf s = SBUF_INIT;
        stim_hello_frame(&s, &f, &h);
        hreply r;
        hc_exchange(c, i == 1 ? &o : NULL,
                    i == 0 ? "baseline Hello" : i == 1 ? "baseline Hello from another process" : "Hello for conform-open",
                    &s, &r);
        const rpb_negotiated *n = expect_negotiated(c, &r, echo_of(&f));
        if (n)
            ids[i] = n->connection_id;
        hr_free(&r);
        sb_free(&s);
    }
    origin_stop(&o);
    if (!c_failed(c) && (ids[1] != ids[0] + 1 || ids[2] != ids[1] + 1))
        c_fail(c, "expected one connection_id counter for every peer and service (consecutive ids); observed %llu, "
                  "%llu, %llu",
               (unsigned long long)ids[0], (unsigned long long)ids[1], (unsigned long long)ids[2]);
}

/* HELLO-035 (strict): the fixture gives zccache no handoff endpoint, so no
 * token is issued for it and CAP_HANDLE_PASSING is not set even when asked
 * (conform-handoff, which has one, is the handoff area's). */
static void case_token_no_handoff(cctx *c)
{
    hreply r;
    const rpb_negotiated *n = token_case(c, RPB_CAP_HANDLE_PASSING, &r);
    if (n && n->handle_passed_token.len)
        c_fail(c, "expected no handle_passed_token for a service without a handoff endpoint; observed %zu bytes",
               n->handle_passed_token.len);
    if (n && (n->server_capabilities & RPB_CAP_HANDLE_PASSING))
        c_fail(c, "expected CAP_HANDLE_PASSING clear for a service without a handoff endpoint; observed server_capabilities 0x%llx",
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

bool rate_configured(cctx *c)
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

/* What a rate-limit case does besides the budget and the Hello over it. */
enum rate_variant {
    RATE_PLAIN,         /* then another process negotiates (HELLO-027) */
    RATE_REFUSED_FIRST, /* 10 shape-invalid Hellos first, not counted (HELLO-026) */
    RATE_CLAIM_NONE,    /* every Hello claims peer_pid 0: still counted (HELLO-015) */
    RATE_MANY_PIDS,     /* 40 other processes negotiate in between (HELLO-027): enough pids that a per-pid table must grow more than once */
    RATE_ORDER,         /* then shape (step 4) before rate, rate before lookup
                           and policy (steps 6, 7) (HELLO-007) */
};

/* One Hello from o refused for want, or (want NULL) for the rate limit
 * with retry_after_ms at most hi and at least the window less the time
 * since t0 (measured when the reply is in; 1 ms of slack for truncation). */
static void rate_expect(cctx *c, horigin *o, const char *label, const sbuf *s, const rpb_frame *f,
                        const refusal *want, int64_t t0, uint64_t hi)
{
    hreply r;
    c_record_next(c);
    hc_exchange(c, o, label, s, &r);
    uint64_t w = c->cfg->rate_window_ms;
    int64_t late = rpb_monotonic_ms() - t0 + 1;
    refusal rate = {RPB_CODE_RATE_LIMITED, "Hello rate limit exceeded", late >= (int64_t)w ? 1 : w - (uint64_t)late,
                    hi};
    if (!expect_refused(c, &r, want ? want : &rate, echo_of(f)) && !want && r.end == H_REPLY &&
        r.payload_err == RPB_OK && r.hello.result == RPB_HELLO_REPLY_NEGOTIATED)
        c_fail(c, "hint: the Hello over the budget negotiated, so the broker limits higher or not at all; "
                  "configure %u/%u or pass --rate-limit with the broker's N/MS (off when it has none)",
               FIXTURE_RATE_N, FIXTURE_RATE_WINDOW_MS);
    hr_free(&r);
}

/* A process other than o negotiates. */
static void other_pid_negotiates(cctx *c, const rpb_frame *f, const char *why)
{
    horigin o2;
    if (!start_origin(c, &o2, false))
        return;
    sbuf other = SBUF_INIT;
    stim_base_frame(&other, (uint32_t)o2.pid);
    hreply r;
    hc_exchange(c, &o2, "baseline Hello from another process", &other, &r);
    if (!expect_negotiated(c, &r, echo_of(f)))
        c_fail(c, "expected %s", why);
    hr_free(&r);
    sb_free(&other);
    origin_stop(&o2);
}

/* Sends rate_n valid Hellos from a fresh process (all negotiate), then one
 * more: RATE_LIMITED with retry_after_ms the rest of the window (HELLO-020),
 * bounded by what the harness measured: the window opened between the
 * first Hello's send and its reply, the refusal came between the last
 * send and its reply.  The variant adds the rest. */
static void rate_case(cctx *c, enum rate_variant v)
{
    if (!rate_configured(c))
        return;
    horigin o;
    if (!start_origin(c, &o, false))
        return;
    uint32_t claimed = v == RATE_CLAIM_NONE ? 0 : (uint32_t)o.pid;
    sbuf good = SBUF_INIT, bad = SBUF_INIT;
    stim_base_frame(&good, claimed);
    rpb_frame f;
    rpb_hello h;
    stim_frame_base(&f);
    stim_hello_base(&h, (uint32_t)o.pid);
    h.service_name = rpb_slice_cstr("Not-A-Valid-Name");
    stim_hello_frame(&bad, &f, &h);
    int64_t t0 = rpb_monotonic_ms(), t1 = t0;
    for (unsigned i = 0; v == RATE_REFUSED_FIRST && i < 10 && !c_failed(c); i++) {
        hreply r;
        hc_exchange(c, &o, "shape-invalid Hello (must not count)", &bad, &r);
        expect_refused(c, &r, &R_SERVICE_NAME, echo_of(&f));
        hr_free(&r);
    }
    for (unsigned i = 0; i < c->cfg->rate_n && !c_failed(c); i++) {
        hreply r;
        int64_t sent = rpb_monotonic_ms();
        hc_exchange(c, &o, claimed ? "baseline Hello within the budget" : "Hello claiming peer_pid 0 within the budget",
                    &good, &r);
        if (i == 0) {
            t0 = sent;
            t1 = rpb_monotonic_ms();
        }
        if (r.end != H_REPLY || r.payload_err != RPB_OK || r.hello.result != RPB_HELLO_REPLY_NEGOTIATED) {
            sbuf obs = SBUF_INIT;
            describe_reply(&obs, &r);
            if (rate_refused(&r))
                lower_limit_hint(&obs, i + 1, rpb_monotonic_ms() - t0, r.hello.refused.retry_after_ms);
            c_fail(c, "expected Hellos 1..%u of one process to negotiate%s; Hello %u: %s", c->cfg->rate_n,
                   v == RATE_REFUSED_FIRST ? " after refused ones (refusals must not count)" : "", i + 1,
                   sb_str(&obs));
            sb_free(&obs);
        }
        hr_free(&r);
    }
    for (int k = 0; v == RATE_MANY_PIDS && k < 40 && !c_failed(c); k++)
        other_pid_negotiates(c, &f, "every other process to negotiate while one has used up its budget");
    int64_t before = rpb_monotonic_ms();
    uint64_t w = c->cfg->rate_window_ms;
    if (!c_failed(c) && before - t0 >= (int64_t)w - 1) {
        c_skip(c, "sending %u Hellos took %lld ms, not under the %llu ms window; cannot judge", c->cfg->rate_n,
               (long long)(before - t0), (unsigned long long)w);
    } else if (!c_failed(c)) {
        /* the window opened between t0 and t1; the broker's time since
         * then is at least before - t1 (1 ms of slack for truncation) */
        uint64_t hi = w - (uint64_t)(before - t1 > 1 ? before - t1 - 1 : 0);
        rate_expect(c, &o, "the Hello over the budget", &good, &f, NULL, t0, hi);
        if (v == RATE_ORDER && !c_failed(c)) {
            sbuf s = SBUF_INIT;
            rpb_hello g;
            stim_hello_base(&g, (uint32_t)o.pid);
            g.service_name = rpb_slice_cstr("nosuch");
            stim_hello_frame(&s, &f, &g);
            rate_expect(c, &o, "Hello for an unknown service over the budget", &s, &f, NULL, t0, hi);
            sb_reset(&s);
            g.service_name = rpb_slice_cstr(FIXTURE_SVC_OPEN);
            g.wanted_version = rpb_slice_cstr("0.0.1");
            stim_hello_frame(&s, &f, &g);
            rate_expect(c, &o, "Hello below the floor over the budget", &s, &f, NULL, t0, hi);
            rate_expect(c, &o, "shape-invalid Hello over the budget", &bad, &f, &R_SERVICE_NAME, t0, hi);
            sb_free(&s);
        }
    }
    origin_stop(&o);
    if (v == RATE_PLAIN && !c_failed(c) && !c->r->skip.len) {
        c_record_next(c);
        other_pid_negotiates(c, &f, "the rate limit to be per pid: another process must still negotiate");
    }
    sb_free(&good);
    sb_free(&bad);
}

static void case_rate_limit_exceeded(cctx *c)
{
    rate_case(c, RATE_PLAIN);
}

static void case_rate_limit_refused_not_counted(cctx *c)
{
    rate_case(c, RATE_REFUSED_FIRST);
}

static void case_rate_limit_verified_pid(cctx *c)
{
    rate_case(c, RATE_CLAIM_NONE);
}

static void case_rate_limit_many_pids(cctx *c)
{
    rate_case(c, RATE_MANY_PIDS);
}

static void case_rate_limit_order(cctx *c)
{
    rate_case(c, RATE_ORDER);
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
    /* HELLO-013, HELLO-014 design: input = byte length of the field,
     * measured in bytes of its UTF-8 encoding (not characters).  Classes:
     * ASCII, 2-, 3- and 4-byte UTF-8, embedded NUL; boundaries: the cap
     * (accepted) and cap + 1 (refused) in each class, and a value whose
     * character count is under the cap while its byte count is over it. */
    MUTATE("broker/hello/shape/client-version/utf8-2byte-128", CORE, "HELLO-013", NULL, NEGOTIATES, FILL_OF(FILL_CLIENT_VERSION, 128, "\xc3\xa9")),
    MUTATE("broker/hello/shape/client-version/utf8-2byte-129", CORE, "HELLO-013", NULL, &R_CLIENT_VERSION, FILL_OF(FILL_CLIENT_VERSION, 129, "\xc3\xa9")),
    MUTATE("broker/hello/shape/client-version/utf8-3byte-129", CORE, "HELLO-013", "43 three-byte characters (129 bytes, under 128 characters) get Refused PEER_REJECTED", &R_CLIENT_VERSION, FILL_OF(FILL_CLIENT_VERSION, 129, "\xe2\x82\xac")),
    MUTATE("broker/hello/shape/client-version/utf8-4byte-128", CORE, "HELLO-013", NULL, NEGOTIATES, FILL_OF(FILL_CLIENT_VERSION, 128, "\xf0\x9f\x9a\x80")),
    MUTATE("broker/hello/shape/client-version/nul-128", CORE, "HELLO-013 WIRE-012", NULL, NEGOTIATES, FILL_OF(FILL_CLIENT_VERSION, 128, "\0")),
    MUTATE("broker/hello/shape/client-version/nul-129", CORE, "HELLO-013 WIRE-012", NULL, &R_CLIENT_VERSION, FILL_OF(FILL_CLIENT_VERSION, 129, "\0")),
    MUTATE("broker/hello/shape/client-lib-name/utf8-2byte-64", CORE, "HELLO-014", NULL, NEGOTIATES, FILL_OF(FILL_CLIENT_LIB_NAME, 64, "\xc3\xa9")),
    MUTATE("broker/hello/shape/client-lib-name/utf8-3byte-65", CORE, "HELLO-014", "22 characters of which 21 three-byte (65 bytes) get Refused PEER_REJECTED", &R_CLIENT_LIB, FILL_OF(FILL_CLIENT_LIB_NAME, 65, "\xe2\x82\xac")),
    MUTATE("broker/hello/shape/client-lib-name/nul-65", CORE, "HELLO-014", NULL, &R_CLIENT_LIB, FILL_OF(FILL_CLIENT_LIB_NAME, 65, "\0")),
    MUTATE("broker/hello/shape/client-lib-version/utf8-4byte-64", CORE, "HELLO-014", NULL, NEGOTIATES, FILL_OF(FILL_CLIENT_LIB_VERSION, 64, "\xf0\x9f\x9a\x80")),
    MUTATE("broker/hello/shape/client-lib-version/utf8-2byte-65", CORE, "HELLO-014", NULL, &R_CLIENT_LIB, FILL_OF(FILL_CLIENT_LIB_VERSION, 65, "\xc3\xa9")),
    MUTATE("broker/hello/shape/client-lib-version/nul-64", CORE, "HELLO-014", NULL, NEGOTIATES, FILL_OF(FILL_CLIENT_LIB_VERSION, 64, "\0")),
    /* HELLO-011 design: 1..64 bytes of [a-z0-9-]; a 64-byte name of
     * multibyte characters would fail the alphabet first, so the cap's
     * classes are ASCII only (length-64-accepted, length-65 above). */
    MUTATE("broker/hello/shape/service-name/length-1-accepted", CORE, "HELLO-011 HELLO-021", "a 1-byte service_name passes the shape check: SERVICE_UNKNOWN", &R_SERVICE_UNKNOWN, SERVICE("z")),
    MUTATE("broker/hello/shape/service-name/boundary-chars-accepted", CORE, "HELLO-011 HELLO-021", "service_name of the alphabet's edge bytes a, z, 0, 9, - passes the shape check: SERVICE_UNKNOWN", &R_SERVICE_UNKNOWN, SERVICE("az09-")),
    MUTATE("broker/hello/shape/service-name/byte-after-z", CORE, "HELLO-011", "service_name with '{' (the byte after z) is refused", &R_SERVICE_NAME, SERVICE("zccache{")),
    MUTATE("broker/hello/shape/service-name/byte-before-a", CORE, "HELLO-011", "service_name with '`' (the byte before a) is refused", &R_SERVICE_NAME, SERVICE("`zccache")),
    MUTATE("broker/hello/shape/service-name/byte-after-9", CORE, "HELLO-011", "service_name with ':' (the byte after 9) is refused", &R_SERVICE_NAME, SERVICE("zccache:9")),
    MUTATE("broker/hello/shape/service-name/byte-before-0", CORE, "HELLO-011", "service_name with '/' (the byte before 0) is refused", &R_SERVICE_NAME, SERVICE("zccache/0")),
    /* HELLO-012 design: input = the string; classes: a well-formed core
     * with and without a tail, a separator other than '.', a core with a
     * trailing or a fourth part, digits at the edges of the alphabet. */
    MUTATE("broker/hello/shape/wanted-version/one-part", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("1")),
    MUTATE("broker/hello/shape/wanted-version/one-part-prerelease", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("1-rc.1")),
    MUTATE("broker/hello/shape/wanted-version/two-parts-prerelease", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("1.11-rc.1")),
    MUTATE("broker/hello/shape/wanted-version/comma-separators", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("1,11,20")),
    MUTATE("broker/hello/shape/wanted-version/letter-separator", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("1x11.20")),
    MUTATE("broker/hello/shape/wanted-version/trailing-dot", CORE, "HELLO-012", NULL, &R_WANTED_VERSION, VERSION("1.11.20.")),
    MUTATE("broker/hello/shape/wanted-version/dash-core", CORE, "HELLO-012", "1-11-20 splits at its first '-': core \"1\" is refused", &R_WANTED_VERSION, VERSION("1-11-20")),
    MUTATE("broker/hello/shape/wanted-version/colon-digit", CORE, "HELLO-012", "':' (the byte after 9) in the core is refused", &R_WANTED_VERSION, VERSION("1.1:.20")),
    MUTATE("broker/hello/shape/wanted-version/digit-edges-accepted", CORE, "HELLO-012 HELLO-022", "9.0.9-z0.9a passes the grammar (edge bytes of each class): negotiates on conform-open", NEGOTIATES, SERVICE(FIXTURE_SVC_OPEN), VERSION("9.0.9-z0.9a")),
    MUTATE("broker/hello/shape/peer-pid/mismatch", CORE, "HELLO-015", "a peer_pid other than the connecting process gets Refused PEER_REJECTED", &R_PEER_PID, .pid = PID_OTHER),
    MUTATE("broker/hello/shape/peer-pid/zero", CORE, "HELLO-015", "peer_pid 0 (not claimed) negotiates", NEGOTIATES, .pid = PID_ZERO),
    MUTATE("broker/hello/shape/ignored-fields", CORE, "HELLO-016", "auth_token, request_id, connection_id, nonce and capability_token are not checked or capped", NEGOTIATES, .big_ignored = true),
    MUTATE("broker/hello/order/shape-before-lookup", CORE, "HELLO-007 HELLO-010 HELLO-021", "an unknown service with a bad protocol range gets VERSION_UNSUPPORTED, not SERVICE_UNKNOWN", &R_PROTOCOL_RANGE, SERVICE("nosuch"), PROTOCOLS(2, 3)),
    /* HELLO-007 design: every adjacent pair of the decision steps.
     * state/envelope: lifecycle/drain; envelope/payload:
     * envelope/payload-after-envelope/...; payload/shape: a Hello that does
     * not decode has no shape; shape (a)/(b): range-before-name below;
     * (b)/(c), (c)/(d), (d)/(e), (e)/(f): equivalent by the spec, each
     * pair answers PEER_REJECTED with retry 0 and only the reason differs,
     * which HELLO-041 says is never compared; shape/rate and rate/lookup,
     * rate/policy: rate-limit/order; shape/lookup: shape-before-lookup and
     * version-grammar-before-lookup; lookup/policy: lookup-before-policy;
     * floor/allow-list: policy/min-version/before-allow-list */
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
    /* HELLO-022 design: input = wanted_version against the floor 1.10.0
     * (conform-open).  Classes: each component deciding (major, minor,
     * patch), leading zeros (more digits than a u64 has, value small),
     * components at 2^64-1 (compared) and at 2^64 (no result: the floor
     * does not block), prerelease ignored below and at the floor. */
    MUTATE("broker/hello/policy/min-version/major-decides", CORE, "HELLO-022", "2.0.0 (major above, minor below the floor's) negotiates", NEGOTIATES, SERVICE(FIXTURE_SVC_OPEN), VERSION("2.0.0")),
    MUTATE("broker/hello/policy/min-version/major-below", CORE, "HELLO-022", "0.99.99 (major below) gets VERSION_BLOCKED", &R_BELOW_MIN, SERVICE(FIXTURE_SVC_OPEN), VERSION("0.99.99")),
    MUTATE("broker/hello/policy/min-version/minor-decides", CORE, "HELLO-022", "1.9.100 (minor below, patch above) gets VERSION_BLOCKED", &R_BELOW_MIN, SERVICE(FIXTURE_SVC_OPEN), VERSION("1.9.100")),
    MUTATE("broker/hello/policy/min-version/patch-above", CORE, "HELLO-022", "1.10.1 (equal major and minor, patch above) negotiates", NEGOTIATES, SERVICE(FIXTURE_SVC_OPEN), VERSION("1.10.1")),
    MUTATE("broker/hello/policy/min-version/leading-zeros-below", CORE, "HELLO-022", "01.09.99 (leading zeros, below) gets VERSION_BLOCKED", &R_BELOW_MIN, SERVICE(FIXTURE_SVC_OPEN), VERSION("01.09.99")),
    MUTATE("broker/hello/policy/min-version/leading-zeros-25-digits", CORE, "HELLO-022", "0000000000000000000000001.10.0 (25 digits, value 1) equals the floor and negotiates", NEGOTIATES, SERVICE(FIXTURE_SVC_OPEN), VERSION("0000000000000000000000001.10.0")),
    MUTATE("broker/hello/policy/min-version/leading-zeros-25-digits-below", CORE, "HELLO-022", "0000000000000000000000001.9.0 (25 digits, value 1) is below the floor", &R_BELOW_MIN, SERVICE(FIXTURE_SVC_OPEN), VERSION("0000000000000000000000001.9.0")),
    MUTATE("broker/hello/policy/min-version/u64-max-major", CORE, "HELLO-022", "18446744073709551615.0.0 (2^64-1) compares above the floor and negotiates", NEGOTIATES, SERVICE(FIXTURE_SVC_OPEN), VERSION("18446744073709551615.0.0")),
    MUTATE("broker/hello/policy/min-version/u64-max-minor-below", CORE, "HELLO-022", "0.18446744073709551615.0 (major 0) compares below the floor", &R_BELOW_MIN, SERVICE(FIXTURE_SVC_OPEN), VERSION("0.18446744073709551615.0")),
    MUTATE("broker/hello/policy/min-version/u64-max-patch-below", CORE, "HELLO-022", "1.9.18446744073709551615 compares below the floor", &R_BELOW_MIN, SERVICE(FIXTURE_SVC_OPEN), VERSION("1.9.18446744073709551615")),
    MUTATE("broker/hello/policy/min-version/u64-max-digit-9", CORE, "HELLO-022", "1.9.18446744073709551609 (a last digit 9 that still fits) compares below the floor", &R_BELOW_MIN, SERVICE(FIXTURE_SVC_OPEN), VERSION("1.9.18446744073709551609")),
    MUTATE("broker/hello/policy/min-version/overflow-major", CORE, "HELLO-022", "18446744073709551616.0.0 (2^64) has no comparison: the floor does not block", NEGOTIATES, SERVICE(FIXTURE_SVC_OPEN), VERSION("18446744073709551616.0.0")),
    MUTATE("broker/hello/policy/min-version/overflow-patch", CORE, "HELLO-022", "0.0.18446744073709551616 (patch 2^64, else below) has no comparison: negotiates", NEGOTIATES, SERVICE(FIXTURE_SVC_OPEN), VERSION("0.0.18446744073709551616")),
    MUTATE("broker/hello/policy/min-version/overflow-minor", CORE, "HELLO-022", "0.18446744073709551626.0 (2^64+10; wrapped it would be 0.10.0, below) has no comparison: negotiates", NEGOTIATES, SERVICE(FIXTURE_SVC_OPEN), VERSION("0.18446744073709551626.0")),
    MUTATE("broker/hello/policy/min-version/overflow-20-nines", CORE, "HELLO-022", "0.0.99999999999999999999 (20 nines) has no comparison: negotiates", NEGOTIATES, SERVICE(FIXTURE_SVC_OPEN), VERSION("0.0.99999999999999999999")),
    MUTATE("broker/hello/policy/min-version/prerelease-below", CORE, "HELLO-022", "1.9.9-rc.1 (prerelease ignored, core below) gets VERSION_BLOCKED", &R_BELOW_MIN, SERVICE(FIXTURE_SVC_OPEN), VERSION("1.9.9-rc.1")),
    MUTATE("broker/hello/policy/min-version/prerelease-numeric-at-floor", CORE, "HELLO-022", "1.10.0-0 at the floor negotiates (prerelease ignored)", NEGOTIATES, SERVICE(FIXTURE_SVC_OPEN), VERSION("1.10.0-0")),
    /* HELLO-023 design: byte equality with an entry (1.11.20): numerically
     * equal spellings, a prefix and an extension of the entry are all
     * refused; HELLO-024: the floor decides first. */
    MUTATE("broker/hello/policy/allow-list/leading-zero", CORE, "HELLO-023", "01.11.20 equals the entry numerically but not byte for byte: VERSION_BLOCKED", &R_NOT_ALLOWED, SERVICE(FIXTURE_SVC_PINNED), VERSION("01.11.20")),
    MUTATE("broker/hello/policy/allow-list/prefix", CORE, "HELLO-023", "1.11.2 (a prefix of the entry) gets VERSION_BLOCKED", &R_NOT_ALLOWED, SERVICE(FIXTURE_SVC_PINNED), VERSION("1.11.2")),
    MUTATE("broker/hello/policy/allow-list/extension", CORE, "HELLO-023", "1.11.200 (the entry extended) gets VERSION_BLOCKED", &R_NOT_ALLOWED, SERVICE(FIXTURE_SVC_PINNED), VERSION("1.11.200")),
    MUTATE("broker/hello/order/lookup-before-policy", CORE, "HELLO-007 HELLO-021 HELLO-022", "an unknown service with wanted_version 0.0.1 gets SERVICE_UNKNOWN, not VERSION_BLOCKED", &R_SERVICE_UNKNOWN, SERVICE("nosuch"), VERSION("0.0.1")),
    /* HELLO-032 design: client_keepalive_secs over the whole u64 range:
     * 0 (default 1800), 1, 60, 2^32-1, 2^32 (no 32-bit narrowing), 2^64-1
     * (no clamping). */
    MUTATE("broker/hello/negotiated/keepalive/one", CORE, "HELLO-032", NULL, NEGOTIATES, KEEPALIVE(1)),
    MUTATE("broker/hello/negotiated/keepalive/u32-max", CORE, "HELLO-032", NULL, NEGOTIATES, KEEPALIVE(UINT32_MAX)),
    MUTATE("broker/hello/negotiated/keepalive/2-pow-32", CORE, "HELLO-032 WIRE-006", "client_keepalive_secs 2^32 is echoed whole (a uint64 field, not narrowed)", NEGOTIATES, KEEPALIVE(UINT64_C(1) << 32)),
    MUTATE("broker/hello/negotiated/keepalive/u64-max", CORE, "HELLO-032", "client_keepalive_secs 2^64-1 is echoed unchanged (no clamping)", NEGOTIATES, KEEPALIVE(UINT64_MAX)),
    ROW("broker/hello/negotiated/contents", CORE, "HELLO-030 HELLO-031 HELLO-033", "Negotiated: protocol 1, daemon_version 1.11.20, backend_pipe, no warnings, connection_id", case_negotiated_contents),
    ROW("broker/hello/negotiated/daemon-version", CORE, "HELLO-031", "daemon_version is the requested version (conform-open 2.3.4-rc.1.beta)", case_daemon_version_open),
    ROW("broker/hello/negotiated/keepalive/echo", CORE, "HELLO-032", "client_keepalive_secs 60 is echoed as keepalive_interval_secs", case_keepalive_echo),
    ROW("broker/hello/negotiated/keepalive/default", CORE, "HELLO-032", "client_keepalive_secs 0 gets keepalive_interval_secs 1800", case_keepalive_default),
    ROW("broker/hello/negotiated/token/without-capability", CORE, "HELLO-034", "no CAP_HANDLE_PASSING: no handle_passed_token", case_token_without_cap),
    ROW("broker/hello/negotiated/token/with-capability", CORE, "HELLO-034 HELLO-033", "CAP_HANDLE_PASSING: token empty, or 16 bytes with server bit 0", case_token_with_cap),
    ROW("broker/hello/negotiated/token/no-handoff", STRICT, "HELLO-035", "zccache has no handoff endpoint: no token and no CAP_HANDLE_PASSING even when asked", case_token_no_handoff),
    ROW("broker/hello/negotiated/connection-id/refusal-consumes-none", CORE, "HELLO-036", "Negotiated, Refused, Negotiated get consecutive connection_ids", case_connection_id_refusal_gap),
    ROW("broker/hello/negotiated/connection-id/sequential-unique", CORE, "HELLO-036", "5 sequential Hellos get non-zero connection_ids increasing by one", case_connection_id_sequential),
    ROW("broker/hello/negotiated/connection-id/starts-at-one", CORE, "HELLO-036", "the next connection_id is STATUS hellos_negotiated + 1: the counter starts at 1 (skipped without that member)", case_connection_id_start),
    ROW("broker/hello/negotiated/connection-id/broker-scope", CORE, "HELLO-036", "Hellos from two processes and for two services get consecutive connection_ids: one counter per broker", case_connection_id_scope),
    ROW("broker/hello/negotiated/connection-id/concurrent-unique", CORE, "HELLO-036", "100 concurrent Hellos all negotiate with pairwise different connection_ids", case_connection_id_concurrent),
    ROW("broker/hello/rate-limit/exceeded", CORE, "HELLO-020 HELLO-027 SEC-008", "N Hellos of one pid negotiate, the N+1st gets RATE_LIMITED (retry the rest of the window, as measured); another pid negotiates", case_rate_limit_exceeded),
    ROW("broker/hello/rate-limit/refused-not-counted", CORE, "HELLO-020 HELLO-026", "Hellos refused by the shape checks do not use up the per-pid budget", case_rate_limit_refused_not_counted),
    ROW("broker/hello/rate-limit/verified-pid", CORE, "HELLO-015 HELLO-020 HELLO-028", "Hellos claiming peer_pid 0 are counted against the verified pid: the N+1st gets RATE_LIMITED", case_rate_limit_verified_pid),
    ROW("broker/hello/rate-limit/many-pids", CORE, "HELLO-020 HELLO-027", "40 other processes negotiate while one pid is over its budget, which stays used up", case_rate_limit_many_pids),
    ROW("broker/hello/rate-limit/order", CORE, "HELLO-007 HELLO-020 HELLO-026", "over the budget, unknown-service and below-floor Hellos get RATE_LIMITED, shape-invalid ones their shape refusal", case_rate_limit_order),
};

CASE_TABLE(cases_hello, rows);
