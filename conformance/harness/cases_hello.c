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

static rpb_slice bslice(bstr b)
{
    rpb_slice s = {(const uint8_t *)b.s, b.len};
    return s;
}

/* service_name / wanted_version from the table. */
void case_hello_variant(cctx *c)
{
    const hello_variant *v = c->cs->arg;
    rpb_frame f;
    rpb_hello h;
    hello_base(&f, &h);
    if (v->service.s)
        h.service_name = bslice(v->service);
    if (v->version.s)
        h.wanted_version = bslice(v->version);
    sbuf label = SBUF_INIT;
    sb_puts(&label, "Hello for service ");
    sb_quoted(&label, h.service_name.data, h.service_name.len, 70);
    sb_puts(&label, " version ");
    sb_quoted(&label, h.wanted_version.data, h.wanted_version.len, 70);
    run_hello(c, sb_str(&label), &f, &h, v->want);
    sb_free(&label);
}

void case_protocol_range(cctx *c)
{
    const range_variant *v = c->cs->arg;
    rpb_frame f;
    rpb_hello h;
    hello_base(&f, &h);
    h.client_min_protocol = v->min;
    h.client_max_protocol = v->max;
    char label[80];
    snprintf(label, sizeof label, "Hello with client protocol range %u..%u", v->min, v->max);
    run_hello(c, label, &f, &h, v->want);
}

/* A string field of exactly len bytes ('x', or a version-shaped filler). */
void case_string_cap(cctx *c)
{
    const cap_variant *v = c->cs->arg;
    rpb_frame f;
    rpb_hello h;
    hello_base(&f, &h);
    char *buf = malloc(v->len + 1);
    if (!buf)
        abort();
    memset(buf, 'x', v->len);
    buf[v->len] = 0;
    rpb_slice sl = {(const uint8_t *)buf, v->len};
    const char *name = "?";
    switch (v->field) {
    case 4:
        /* "1.11.20-" then [a-z0-9.]: valid grammar at any length; the
         * conform-open service has no allow-list, so only the cap decides */
        memcpy(buf, "1.11.20-", 8);
        memset(buf + 8, 'a', v->len - 8);
        h.service_name = rpb_slice_cstr(FIXTURE_SVC_OPEN);
        h.wanted_version = sl;
        name = "wanted_version";
        break;
    case 5:
        h.client_version = sl;
        name = "client_version";
        break;
    case 11:
        h.client_lib_name = sl;
        name = "client_lib_name";
        break;
    default:
        h.client_lib_version = sl;
        name = "client_lib_version";
        break;
    }
    char label[96];
    snprintf(label, sizeof label, "Hello with a %zu-byte %s", v->len, name);
    run_hello(c, label, &f, &h, v->want);
    free(buf);
}

/* HELLO peer_pid: a claimed pid that is not the connecting process. */
void case_peer_pid_mismatch(cctx *c)
{
    rpb_frame f;
    rpb_hello h;
    hello_base(&f, &h);
    h.peer_pid = self_pid() + 1;
    run_hello(c, "Hello claiming peer_pid = own pid + 1", &f, &h, &R_PEER_PID);
}

void case_peer_pid_zero(cctx *c)
{
    rpb_frame f;
    rpb_hello h;
    hello_base(&f, &h);
    h.peer_pid = 0;
    run_hello(c, "Hello with peer_pid 0 (not claimed)", &f, &h, NULL);
}

/* Decision order: shape checks come before the service lookup. */
void case_order_shape_before_lookup(cctx *c)
{
    rpb_frame f;
    rpb_hello h;
    hello_base(&f, &h);
    h.service_name = rpb_slice_cstr("nosuch");
    h.client_min_protocol = 2;
    h.client_max_protocol = 3;
    run_hello(c, "unknown service and protocol range 2..3", &f, &h, &R_PROTOCOL_RANGE);
}

/* Decision order: wanted_version grammar before lookup and policy. */
void case_order_version_before_name(cctx *c)
{
    rpb_frame f;
    rpb_hello h;
    hello_base(&f, &h);
    h.service_name = rpb_slice_cstr("nosuch");
    h.wanted_version = rpb_slice_cstr("v1.0.0");
    run_hello(c, "unknown service and wanted_version v1.0.0", &f, &h, &R_WANTED_VERSION);
}

/* Negotiated: protocol 1, daemon_version, backend_pipe, no warnings,
 * non-zero connection_id. */
void case_negotiated_contents(cctx *c)
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

void case_keepalive_echo(cctx *c)
{
    keepalive_case(c, 60, 60);
}

void case_keepalive_default(cctx *c)
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
void case_token_without_cap(cctx *c)
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
void case_token_with_cap(cctx *c)
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
void case_daemon_version_open(cctx *c)
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

void case_connection_id_sequential(cctx *c)
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
void case_connection_id_refusal_gap(cctx *c)
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

/* HELLO-016: the fields a broker ignores are not validated or capped. */
void case_ignored_fields(cctx *c)
{
    rpb_frame f;
    rpb_hello h;
    hello_base(&f, &h);
    static uint8_t blob[4096];
    memset(blob, 0xa5, sizeof blob);
    rpb_slice big = {blob, sizeof blob};
    h.auth_token = big;
    h.request_id = rpb_slice_cstr("any string at all: ../../etc; $(x) \xe2\x9c\x93 and more than sixty-four bytes of it");
    h.connection_id = UINT64_MAX;
    h.peer_attestation_nonce = big;
    h.capability_token = big;
    run_hello(c, "Hello with large auth_token, nonce, capability_token, request_id, connection_id", &f, &h, NULL);
}

/* HELLO-035 (strict): the fixture configures no handoff transport, so no
 * token is issued and CAP_HANDLE_PASSING is not set even when asked. */
void case_token_no_handoff(cctx *c)
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
void case_connection_id_concurrent(cctx *c)
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
            expect_refused(c, &r, &want, echo_of(&f));
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

void case_rate_limit_exceeded(cctx *c)
{
    rate_case(c, 0);
}

void case_rate_limit_refused_not_counted(cctx *c)
{
    rate_case(c, 10);
}
