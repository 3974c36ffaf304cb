/*
 * fuzz_control - the broker's I/O-free connection handler rpb_control_step()
 * (spec/hello.md HELLO-001..HELLO-052, ADMIN-001..ADMIN-008) with a service
 * table, a verified peer, a clock and the per-pid rate limiter.
 *
 * Input: byte 0 picks the broker's options, the rest is what clients send:
 *   bits 0-1  rate limiter: off, 1 per 1000 ms, 2 per 50 ms, 256 per 1000 ms
 *   bit 2     the verified peer pid is unknown (0: exempt from the limiter
 *             and from the peer_pid cross-check)
 *   bits 3-4  broker state: 2 = fd pressure, 3 = draining, else normal
 *   bit 5     the broker can hand off (a token source is configured)
 *   bit 6     the client never signals EOF
 *   bit 7     ignored
 * The bytes form up to four connections from the same peer: each connection
 * gets the bytes left after the frame the previous one consumed (HELLO-001:
 * its own handler ignores them), with the clock advancing by a PRNG-chosen
 * step (seeded by the input) between connections.
 *
 * Oracles, per connection:
 *  - chunks vs whole: two brokers with the same configuration see the same
 *    connections; one gets the bytes in PRNG-sized chunks (each prefix from
 *    its own exactly-sized heap copy, so ASan sees any read past the bytes
 *    that arrived), the other all at once; both decide the same (return
 *    code, outcome, reply bytes).  A chunked prefix is NEED_MORE exactly
 *    while the Hello-cap splitter (FRAME-004, FRAME-005) has no decision;
 *  - one reply: the connection ends at the first RPB_OK, and the reply is
 *    exactly one frame (rpb_frame_decode with the 16 MiB cap consumes all
 *    of it), canonical (HELLO-052, WIRE-020), passing the envelope check
 *    of the hello-reply or admin-reply site, deadline 0 (ENV-011), echoing
 *    request_id, traceparent and tracestate when the request Frame decoded
 *    and nothing otherwise (HELLO-050, HELLO-051, ADMIN-001);
 *  - Hello replies: a HelloReply with exactly one arm set; a Refused code
 *    and reason are one documented refusal (rpb_refusal_code/_reason), the
 *    code is the one of the spec's refusal table (HELLO-040), daemon range
 *    1..1, no details, the documented retry_after_ms; a Negotiated carries
 *    the service's backend_pipe, daemon_version (or the wanted one),
 *    capabilities, keepalive, a token only when both sides can hand off
 *    (HELLO-030..HELLO-035) and connection ids 1, 2, ... (HELLO-036);
 *  - decision model: the refusal equals an independent model of
 *    HELLO-002..HELLO-024 (broker state, envelope, Hello decode, shape
 *    checks (a)..(f), the fixed-window rate limiter, service lookup, the
 *    numeric version floor and the allow-list), with the limiter's state
 *    carried across the connections;
 *  - admin replies: an AdminReply that rpb_admin_reply_decode() accepts,
 *    with the outcome's exit code; a request failing the admin-request
 *    envelope or the AdminRequest decode gets TEXT "malformed admin
 *    request: <class>\n", exit code 2 (ADMIN-008); well-formed verbs get
 *    the answers of ADMIN-002..ADMIN-007 (HEALTHZ, READYZ by broker state,
 *    STATUS text, JSON documents with their "command", CONFIG values,
 *    OpenMetrics ending in "# EOF", unsupported verbs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "rpb/control.h"
#include "rpb/json.h"

#define MAX_CONNECTIONS 4
#define PEER_PID 4242u
#define PEER_UID 1000u

/* ---- the broker under test ---- */

typedef struct service_model {
    const char *name;
    const char *backend_pipe;
    const char *daemon_version; /* "" echoes wanted_version */
    const char *min_version;    /* "" = no floor */
    const char *allow[2];       /* NULL-terminated; empty = every version */
    uint64_t server_capabilities;
} service_model;

static const service_model services[] = {
    {"svc-a", "/run/rpb/svc-a.sock", "", "1.2.0", {NULL, NULL}, 0},
    {"build-cache", "\\\\.\\pipe\\build-cache", "2.0.0", "", {"1.0.0", "2.0.0-rc.1"}, 1},
    {"zccache", "/tmp/zccache.sock", "", "1.0.0", {"1.5.0", NULL}, 6},
};
#define N_SERVICES (sizeof services / sizeof services[0])

typedef struct options {
    uint32_t rate_max, rate_window_ms;
    rpb_peer peer;
    unsigned flags;
    bool handoff;
    bool eof;
} options;

static options parse_options(uint8_t b)
{
    static const uint32_t rate[4][2] = {{0, 1000}, {1, 1000}, {2, 50}, {256, 1000}};
    options o;
    o.rate_max = rate[b & 3][0];
    o.rate_window_ms = rate[b & 3][1];
    o.peer.pid = (b & 0x04) ? 0 : PEER_PID;
    o.peer.uid = PEER_UID;
    unsigned state = (b >> 3) & 3;
    o.flags = state == 2 ? RPB_HELLO_FD_PRESSURE : state == 3 ? RPB_HELLO_DRAINING : 0;
    o.handoff = (b & 0x20) != 0;
    o.eof = (b & 0x40) == 0;
    return o;
}

typedef struct broker {
    rpb_hello_handler *hello;
    rpb_admin_context admin;
    uint8_t next_token; /* the token source's state */
} broker;

/* A deterministic token source: 16 bytes of a per-broker counter, for
 * every service. */
static int token_source(void *ctx, const rpb_service *svc, uint8_t out[RPB_HANDOFF_TOKEN_BYTES])
{
    broker *b = ctx;
    (void)svc;
    memset(out, b->next_token++, RPB_HANDOFF_TOKEN_BYTES);
    return 0;
}

static rpb_service_table *make_services(void)
{
    rpb_service_table *t = rpb_service_table_new();
    if (!t)
        fz_fail("out of memory");
    for (size_t i = 0; i < N_SERVICES; i++) {
        const service_model *m = &services[i];
        uint8_t mem[256];
        rpb_arena arena;
        rpb_arena_init(&arena, mem, sizeof mem);
        rpb_service s;
        memset(&s, 0, sizeof s);
        s.name = rpb_slice_cstr(m->name);
        s.backend_pipe = rpb_slice_cstr(m->backend_pipe);
        s.daemon_version = rpb_slice_cstr(m->daemon_version);
        s.min_version = rpb_slice_cstr(m->min_version);
        for (size_t k = 0; k < 2 && m->allow[k]; k++)
            FZ_CHECK(rpb_strlist_append(&s.allow_list, &arena, rpb_slice_cstr(m->allow[k])) ==
                         RPB_OK,
                     "allow-list arena too small");
        s.server_capabilities = m->server_capabilities;
        rpb_errinfo err = {0};
        int rc = rpb_service_table_add(t, &s, &err);
        FZ_CHECK(rc == RPB_OK, "service %s not accepted: %s", m->name, err.message);
    }
    return t;
}

static void broker_init(broker *b, const options *o)
{
    memset(b, 0, sizeof *b);
    b->next_token = 1;
    rpb_hello_config cfg;
    rpb_hello_config_default(&cfg);
    cfg.rate_max = o->rate_max;
    cfg.rate_window_ms = o->rate_window_ms;
    if (o->handoff) {
        cfg.token_source = token_source;
        cfg.token_ctx = b;
    }
    b->hello = rpb_hello_handler_new(&cfg);
    if (!b->hello)
        fz_fail("out of memory");
    rpb_hello_handler_set_services(b->hello, make_services());
    rpb_hello_handler_set_flags(b->hello, o->flags);

    rpb_admin_context *a = &b->admin;
    rpb_admin_context_init(a);
    a->hello = b->hello;
    a->broker_instance = "shared";
    a->broker_pid = 77;
    a->now_unix_ms = INT64_C(1795000000000);
    a->started_unix_ms = a->now_unix_ms - 3600000;
    a->socket_path = "/run/rpb/broker.sock";
    a->services_dir = "/etc/rpb/services";
    a->handshake_timeout_ms = 5000;
    a->max_connections = 1024;
    a->drain_timeout_ms = 10000;
    a->connections_open = 1;
    a->connections_total = 12;
}

/* ---- the independent model of the Hello decision ---- */

typedef struct rate_model {
    bool active;
    int64_t window_start;
    uint32_t count;
} rate_model;

static bool name_valid(rpb_slice s)
{
    if (s.len == 0 || s.len > 64)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.data[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return true;
}

/* MAJOR.MINOR.PATCH as u64s, then end or '-' (when tail is not NULL, the
 * position after the core goes there).  False when a part is missing or
 * overflows. */
static bool version_core(rpb_slice v, uint64_t out[3], size_t *tail)
{
    size_t i = 0;
    for (int p = 0; p < 3; p++) {
        if (p > 0) {
            if (i == v.len || v.data[i] != '.')
                return false;
            i++;
        }
        size_t start = i;
        uint64_t n = 0;
        for (; i < v.len && v.data[i] >= '0' && v.data[i] <= '9'; i++) {
            uint64_t d = (uint64_t)(v.data[i] - '0');
            if (n > (UINT64_MAX - d) / 10)
                return false;
            n = n * 10 + d;
        }
        if (i == start)
            return false;
        out[p] = n;
    }
    if (tail)
        *tail = i;
    return i == v.len || v.data[i] == '-';
}

/* HELLO-012: ^[0-9]+\.[0-9]+\.[0-9]+(-[a-z0-9.]+)?$ and at most 64 bytes.
 * (Digit runs that overflow u64 are still valid versions.) */
static bool version_valid(rpb_slice v)
{
    if (v.len > 64)
        return false;
    size_t i = 0;
    for (int p = 0; p < 3; p++) {
        if (p > 0) {
            if (i == v.len || v.data[i] != '.')
                return false;
            i++;
        }
        size_t start = i;
        while (i < v.len && v.data[i] >= '0' && v.data[i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    if (i == v.len)
        return true;
    if (v.data[i] != '-' || i + 1 == v.len)
        return false;
    for (i++; i < v.len; i++) {
        uint8_t c = v.data[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.'))
            return false;
    }
    return true;
}

/* HELLO-022: wanted below the floor by numeric cores (no floor when either
 * core does not parse). */
static bool below_floor(rpb_slice wanted, const char *floor)
{
    uint64_t w[3], f[3];
    if (!floor[0] || !version_core(wanted, w, NULL) ||
        !version_core(rpb_slice_cstr(floor), f, NULL))
        return false;
    for (int i = 0; i < 3; i++)
        if (w[i] != f[i])
            return w[i] < f[i];
    return false;
}

static const service_model *find_service(rpb_slice name)
{
    for (size_t i = 0; i < N_SERVICES; i++)
        if (rpb_slice_eq_cstr(name, services[i].name))
            return &services[i];
    return NULL;
}

/* The refusal (or NONE) and retry the broker must decide for request, a
 * Frame that decoded, at now; advances the limiter model when the Hello
 * is counted (HELLO-026: shape-valid Hellos only). */
static rpb_refusal model_decision(const options *o, const rpb_frame *request, int64_t now,
                                  rate_model *rm, uint64_t *retry)
{
    *retry = 0;
    if (o->flags & RPB_HELLO_FD_PRESSURE) {
        *retry = 1000;
        return RPB_REFUSAL_FD_PRESSURE;
    }
    if (o->flags & RPB_HELLO_DRAINING) {
        *retry = 1000;
        return RPB_REFUSAL_SHUTTING_DOWN;
    }
    /* HELLO-008, ENV-005 (the envelope checker has its own fuzz target) */
    int envelope = rpb_envelope_check(request, RPB_SITE_HELLO, 0);
    if (envelope != RPB_OK)
        return rpb_refusal_for_envelope_error(envelope);
    rpb_hello h;
    rpb_msg_init(&rpb_hello_desc, &h);
    if (rpb_decode(&rpb_hello_desc, request->payload.data, request->payload.len, &h, NULL, 0,
                   NULL) != RPB_OK)
        return RPB_REFUSAL_MALFORMED_HELLO;
    if (h.client_min_protocol > 1 || h.client_max_protocol < 1)
        return RPB_REFUSAL_PROTOCOL_RANGE;
    if (!name_valid(h.service_name))
        return RPB_REFUSAL_SERVICE_NAME;
    if (!version_valid(h.wanted_version))
        return RPB_REFUSAL_WANTED_VERSION;
    if (h.client_version.len > 128)
        return RPB_REFUSAL_CLIENT_VERSION;
    if (h.client_lib_name.len > 64 || h.client_lib_version.len > 64)
        return RPB_REFUSAL_CLIENT_LIB;
    if (h.peer_pid != 0 && o->peer.pid != 0 && h.peer_pid != o->peer.pid)
        return RPB_REFUSAL_PEER_PID;

    /* HELLO-020, HELLO-025, HELLO-027, HELLO-028: fixed window per verified
     * pid, pid 0 exempt */
    if (o->rate_max != 0 && o->peer.pid != 0) {
        if (!rm->active || now - rm->window_start >= (int64_t)o->rate_window_ms) {
            rm->active = true;
            rm->window_start = now;
            rm->count = 0;
        }
        if (rm->count >= o->rate_max) {
            uint64_t rest = (uint64_t)(rm->window_start + o->rate_window_ms - now);
            *retry = rest ? rest : 1;
            return RPB_REFUSAL_RATE_LIMITED;
        }
        rm->count++;
    }
    const service_model *svc = find_service(h.service_name);
    if (!svc)
        return RPB_REFUSAL_SERVICE_UNKNOWN;
    if (below_floor(h.wanted_version, svc->min_version)) {
        *retry = 30000;
        return RPB_REFUSAL_BELOW_MIN_VERSION;
    }
    if (svc->allow[0]) {
        bool listed = false;
        for (size_t k = 0; k < 2 && svc->allow[k]; k++)
            listed |= rpb_slice_eq_cstr(h.wanted_version, svc->allow[k]);
        if (!listed) {
            *retry = 30000;
            return RPB_REFUSAL_NOT_ALLOWED;
        }
    }
    return RPB_REFUSAL_NONE;
}

/* ---- one connection ---- */

typedef struct conn_result {
    int rc;
    size_t arrived; /* bytes the decision was made on */
    size_t written;
    rpb_control_outcome oc;
} conn_result;

/* Output buffers of the two brokers (contents never outlive one input). */
static uint8_t out_chunked[RPB_CONTROL_REPLY_MAX], out_whole[RPB_CONTROL_REPLY_MAX];

/* Feeds in[0..len) to b in PRNG-sized chunks until a reply. */
static conn_result feed_chunked(broker *b, const options *o, const uint8_t *in, size_t len,
                                int64_t now, fz_rng *rng)
{
    conn_result r;
    memset(&r, 0, sizeof r);
    size_t have = 0;
    for (;;) {
        size_t left = len - have;
        if (left > 0)
            have += fz_rng_below(rng, 4) == 0 ? 1 + fz_rng_below(rng, left)
                                               : 1 + fz_rng_below(rng, left < 7 ? left : 7);
        bool eof = o->eof && have == len;
        uint8_t *copy = malloc(have ? have : 1);
        if (!copy)
            fz_fail("out of memory");
        memcpy(copy, in, have);
        r.written = 0;
        r.rc = rpb_control_step(b->hello, &b->admin, copy, have, eof, &o->peer, now, out_chunked,
                                sizeof out_chunked, &r.written, &r.oc);
        free(copy);
        r.arrived = have;

        /* FRAME-004, FRAME-005, HELLO-005: undecided exactly while the
         * Hello-cap splitter is, until EOF */
        rpb_slice body;
        size_t consumed;
        int split = rpb_frame_split(in, have, RPB_MAX_HELLO_BYTES, &body, &consumed, NULL);
        FZ_CHECK((r.rc == RPB_NEED_MORE) == (split == RPB_NEED_MORE && !eof),
                 "after %zu bytes (eof %d): rpb_control_step says %s, the splitter %s", have, eof,
                 rpb_errname(r.rc), rpb_errname(split));
        if (r.rc != RPB_NEED_MORE || have == len)
            return r;
    }
}

static void expect_same_outcome(const conn_result *a, const conn_result *b)
{
    FZ_CHECK(a->rc == b->rc, "chunked feed returns %s, whole input %s", rpb_errname(a->rc),
             rpb_errname(b->rc));
    if (a->rc != RPB_OK)
        return;
    FZ_CHECK(a->written == b->written && memcmp(out_chunked, out_whole, a->written) == 0,
             "chunked feed replies with %zu bytes, whole input with %zu or other bytes",
             a->written, b->written);
    const rpb_control_outcome *x = &a->oc, *y = &b->oc;
    FZ_CHECK(x->kind == y->kind && x->request_id == y->request_id && x->consumed == y->consumed,
             "chunked/whole outcome: kind %d/%d, request_id %llu/%llu, consumed %zu/%zu",
             (int)x->kind, (int)y->kind, (unsigned long long)x->request_id,
             (unsigned long long)y->request_id, x->consumed, y->consumed);
    const rpb_hello_decision *p = &x->hello, *q = &y->hello;
    FZ_CHECK(p->refusal == q->refusal && p->retry_after_ms == q->retry_after_ms &&
                 p->hello_decoded == q->hello_decoded && p->connection_id == q->connection_id &&
                 p->keepalive_secs == q->keepalive_secs &&
                 p->server_capabilities == q->server_capabilities &&
                 p->token_len == q->token_len && memcmp(p->token, q->token, p->token_len) == 0 &&
                 (p->service == NULL) == (q->service == NULL),
             "chunked/whole Hello decision differs (refusal %d/%d)", (int)p->refusal,
             (int)q->refusal);
    FZ_CHECK(p->service == NULL || rpb_slice_eq(p->service->name, q->service->name),
             "chunked/whole negotiated other services");
    FZ_CHECK(x->admin.verb == y->admin.verb && x->admin.exit_code == y->admin.exit_code &&
                 x->admin.error == y->admin.error,
             "chunked/whole admin outcome differs");
}

/* ---- the reply ---- */

/* The retry_after_ms of every refusal but RATE_LIMITED (HELLO-040). */
static uint64_t documented_retry(rpb_refusal r)
{
    switch (r) {
    case RPB_REFUSAL_FD_PRESSURE:
        return RPB_RETRY_FD_PRESSURE_MS;
    case RPB_REFUSAL_SHUTTING_DOWN:
        return RPB_RETRY_SHUTTING_DOWN_MS;
    case RPB_REFUSAL_BELOW_MIN_VERSION:
    case RPB_REFUSAL_NOT_ALLOWED:
        return RPB_RETRY_VERSION_BLOCKED_MS;
    default:
        return 0;
    }
}

/* The ErrorCode of every refusal, from the refusal table (spec/hello.md
 * section 9), written out independently of librpb's table. */
static const int32_t spec_code[RPB_REFUSAL_COUNT] = {
    [RPB_REFUSAL_FRAMING_VERSION] = RPB_CODE_VERSION_UNSUPPORTED,
    [RPB_REFUSAL_FRAME_TOO_LARGE] = RPB_CODE_PEER_REJECTED,
    [RPB_REFUSAL_INCOMPLETE_FRAME] = RPB_CODE_PEER_REJECTED,
    [RPB_REFUSAL_MALFORMED_FRAME] = RPB_CODE_PEER_REJECTED,
    [RPB_REFUSAL_DEADLINE] = RPB_CODE_PEER_REJECTED,
    [RPB_REFUSAL_FD_PRESSURE] = RPB_CODE_FD_PRESSURE,
    [RPB_REFUSAL_SHUTTING_DOWN] = RPB_CODE_SHUTTING_DOWN,
    [RPB_REFUSAL_ENVELOPE_VERSION] = RPB_CODE_VERSION_UNSUPPORTED,
    [RPB_REFUSAL_ENVELOPE_KIND] = RPB_CODE_PEER_REJECTED,
    [RPB_REFUSAL_ENVELOPE_PROTOCOL] = RPB_CODE_PEER_REJECTED,
    [RPB_REFUSAL_ENVELOPE_ENCODING] = RPB_CODE_PEER_REJECTED,
    [RPB_REFUSAL_MALFORMED_HELLO] = RPB_CODE_PEER_REJECTED,
    [RPB_REFUSAL_PROTOCOL_RANGE] = RPB_CODE_VERSION_UNSUPPORTED,
    [RPB_REFUSAL_SERVICE_NAME] = RPB_CODE_PEER_REJECTED,
    [RPB_REFUSAL_WANTED_VERSION] = RPB_CODE_PEER_REJECTED,
    [RPB_REFUSAL_CLIENT_VERSION] = RPB_CODE_PEER_REJECTED,
    [RPB_REFUSAL_CLIENT_LIB] = RPB_CODE_PEER_REJECTED,
    [RPB_REFUSAL_PEER_PID] = RPB_CODE_PEER_REJECTED,
    [RPB_REFUSAL_RATE_LIMITED] = RPB_CODE_RATE_LIMITED,
    [RPB_REFUSAL_SERVICE_UNKNOWN] = RPB_CODE_SERVICE_UNKNOWN,
    [RPB_REFUSAL_BELOW_MIN_VERSION] = RPB_CODE_VERSION_BLOCKED,
    [RPB_REFUSAL_NOT_ALLOWED] = RPB_CODE_VERSION_BLOCKED,
    [RPB_REFUSAL_SPAWN_FAILED] = RPB_CODE_BACKEND_SPAWN_FAILED,
    [RPB_REFUSAL_SPAWN_BUDGET] = RPB_CODE_RATE_LIMITED,
};

/* The refusal whose documented (code, reason) pair reply carries, or NONE. */
static rpb_refusal documented_refusal(const rpb_refused *f)
{
    for (int r = RPB_REFUSAL_NONE + 1; r < RPB_REFUSAL_COUNT; r++) {
        const char *reason = rpb_refusal_reason((rpb_refusal)r);
        if (reason && f->code == rpb_refusal_code((rpb_refusal)r) &&
            rpb_slice_eq_cstr(f->reason, reason))
            return (rpb_refusal)r;
    }
    return RPB_REFUSAL_NONE;
}

static void check_hello_reply(const rpb_frame *rf, const conn_result *c, const options *o)
{
    const rpb_hello_decision *d = &c->oc.hello;
    rpb_hello_reply reply;
    void *arena;
    int rc = fz_decode(&rpb_hello_reply_desc, rf->payload.data, rf->payload.len, &reply, 0, &arena);
    FZ_CHECK(rc == RPB_OK, "HelloReply payload does not decode: %s", rpb_errname(rc));
    uint8_t *enc;
    size_t enc_len;
    fz_roundtrip(&rpb_hello_reply_desc, &reply, &enc, &enc_len);
    FZ_CHECK(enc_len == rf->payload.len && memcmp(enc, rf->payload.data, enc_len) == 0,
             "HelloReply payload is not canonical (HELLO-052)");
    free(enc);
    /* exactly one arm: a canonical payload with one result field */
    FZ_CHECK(reply.result == RPB_HELLO_REPLY_NEGOTIATED || reply.result == RPB_HELLO_REPLY_REFUSED,
             "HelloReply with no result arm");

    if (reply.result == RPB_HELLO_REPLY_REFUSED) {
        const rpb_refused *f = &reply.refused;
        rpb_refusal r = documented_refusal(f);
        FZ_CHECK(r != RPB_REFUSAL_NONE, "Refused code %d reason \"%.*s\" is no documented refusal",
                 f->code, (int)f->reason.len, (const char *)f->reason.data);
        FZ_CHECK(r == d->refusal, "reply says %s, the outcome %s", rpb_refusal_name(r),
                 rpb_refusal_name(d->refusal));
        FZ_CHECK(f->code == spec_code[r], "%s refused with code %d, the refusal table says %d",
                 rpb_refusal_name(r), f->code, spec_code[r]);
        FZ_CHECK(f->daemon_min_protocol == 1 && f->daemon_max_protocol == 1 &&
                     f->details.count == 0,
                 "Refused: daemon range %u..%u, %zu details (HELLO-040)", f->daemon_min_protocol,
                 f->daemon_max_protocol, f->details.count);
        FZ_CHECK(f->retry_after_ms == d->retry_after_ms, "Refused retry %llu, outcome %llu",
                 (unsigned long long)f->retry_after_ms, (unsigned long long)d->retry_after_ms);
        if (r == RPB_REFUSAL_RATE_LIMITED)
            FZ_CHECK(f->retry_after_ms >= 1 && f->retry_after_ms <= o->rate_window_ms,
                     "rate-limited retry %llu outside 1..%u", (unsigned long long)f->retry_after_ms,
                     o->rate_window_ms);
        else
            FZ_CHECK(f->retry_after_ms == documented_retry(r), "%s with retry %llu",
                     rpb_refusal_name(r), (unsigned long long)f->retry_after_ms);
    } else {
        const rpb_negotiated *n = &reply.negotiated;
        FZ_CHECK(c->oc.kind == RPB_CONTROL_HELLO && d->refusal == RPB_REFUSAL_NONE &&
                     d->hello_decoded && d->service != NULL,
                 "Negotiated reply for a refused or undecoded Hello");
        const service_model *svc = find_service(d->hello.service_name);
        FZ_CHECK(svc != NULL, "negotiated an unregistered service");
        FZ_CHECK(n->negotiated_protocol == 1 && rpb_slice_eq_cstr(n->backend_pipe, svc->backend_pipe),
                 "Negotiated protocol %u, backend_pipe not the service's", n->negotiated_protocol);
        FZ_CHECK(svc->daemon_version[0] ? rpb_slice_eq_cstr(n->daemon_version, svc->daemon_version)
                                        : rpb_slice_eq(n->daemon_version, d->hello.wanted_version),
                 "Negotiated daemon_version (HELLO-031)");
        uint64_t keepalive =
            d->hello.client_keepalive_secs ? d->hello.client_keepalive_secs : 1800;
        FZ_CHECK(n->keepalive_interval_secs == keepalive, "keepalive %llu, expected %llu",
                 (unsigned long long)n->keepalive_interval_secs, (unsigned long long)keepalive);
        bool token = o->handoff && (d->hello.client_capabilities & RPB_CAP_HANDLE_PASSING);
        FZ_CHECK(n->handle_passed_token.len == (token ? RPB_HANDOFF_TOKEN_BYTES : 0),
                 "handle_passed_token of %zu bytes (HELLO-034)", n->handle_passed_token.len);
        FZ_CHECK(n->server_capabilities ==
                     (svc->server_capabilities | (token ? RPB_CAP_HANDLE_PASSING : 0)),
                 "server_capabilities %llu", (unsigned long long)n->server_capabilities);
        FZ_CHECK(n->connection_id != 0 && n->connection_id == d->connection_id &&
                     n->warnings.count == 0,
                 "Negotiated connection_id %llu (outcome %llu), %zu warnings",
                 (unsigned long long)n->connection_id, (unsigned long long)d->connection_id,
                 n->warnings.count);
    }
    free(arena);
}

static bool body_is(const rpb_admin_reply *reply, const char *text)
{
    return rpb_slice_eq_cstr(reply->body, text);
}

static bool body_ends_with(const rpb_admin_reply *reply, const char *text)
{
    size_t n = strlen(text);
    return reply->body.len >= n && memcmp(reply->body.data + reply->body.len - n, text, n) == 0;
}

/* True when the JSON body doc has "schema_version": 1 and "command": command. */
static bool json_command(const rpb_json_doc *doc, const char *command)
{
    uint64_t version;
    return rpb_json_as_u64(rpb_json_get(doc->root, "schema_version"), &version) && version == 1 &&
           rpb_json_is_string(rpb_json_get(doc->root, "command"), command);
}

/* ADMIN-002..ADMIN-007: the answer to a well-formed AdminRequest req. */
static void check_admin_verb(const rpb_admin_request *req, const rpb_admin_reply *reply,
                             const rpb_json_doc *doc, const options *o)
{
    bool ready = o->flags == 0;
    static const char *const json_commands[] = {
        [RPB_ADMIN_VERB_STATUS] = "status",         [RPB_ADMIN_VERB_DUMP] = "dump",
        [RPB_ADMIN_VERB_LIST_INSTANCES] = "list-instances",
        [RPB_ADMIN_VERB_BACKEND_HEALTH] = "backend-health",
        [RPB_ADMIN_VERB_CONFIG] = "config",         [RPB_ADMIN_VERB_DIAGNOSE] = "diagnose",
    };
    switch (req->verb) {
    case RPB_ADMIN_VERB_HEALTHZ:
        FZ_CHECK(reply->kind == RPB_ADMIN_REPLY_KIND_TEXT && body_is(reply, "ok\n") &&
                     reply->exit_code == 0,
                 "HEALTHZ answer (ADMIN-002)");
        return;
    case RPB_ADMIN_VERB_READYZ:
        FZ_CHECK(reply->kind == RPB_ADMIN_REPLY_KIND_TEXT &&
                     body_is(reply, ready ? "ready\n" : "not ready\n") &&
                     reply->exit_code == (ready ? 0u : 1u),
                 "READYZ answer (ADMIN-003)");
        return;
    case RPB_ADMIN_VERB_METRICS:
        FZ_CHECK(reply->kind == RPB_ADMIN_REPLY_KIND_OPENMETRICS &&
                     rpb_slice_eq_cstr(reply->content_type, "application/openmetrics-text") &&
                     body_ends_with(reply, "# EOF\n") && reply->exit_code == 0,
                 "METRICS answer (ADMIN-005)");
        return;
    case RPB_ADMIN_VERB_STATUS:
        if (!req->json) {
            FZ_CHECK(reply->kind == RPB_ADMIN_REPLY_KIND_TEXT &&
                         body_is(reply, ready ? "broker_instance: shared\naccepting_hello: true\n"
                                              : "broker_instance: shared\naccepting_hello: false\n") &&
                         reply->exit_code == 0,
                     "STATUS text answer (ADMIN-004)");
            return;
        }
        /* fall through */
    case RPB_ADMIN_VERB_DUMP:
    case RPB_ADMIN_VERB_LIST_INSTANCES:
    case RPB_ADMIN_VERB_BACKEND_HEALTH:
    case RPB_ADMIN_VERB_CONFIG:
    case RPB_ADMIN_VERB_DIAGNOSE:
        FZ_CHECK(reply->kind == RPB_ADMIN_REPLY_KIND_JSON &&
                     rpb_slice_eq_cstr(reply->content_type, "application/json") &&
                     reply->exit_code == 0 && json_command(doc, json_commands[req->verb]),
                 "verb %d: JSON answer with command \"%s\" (ADMIN-012, ADMIN-006, ADMIN-009)",
                 req->verb, json_commands[req->verb]);
        if (req->verb == RPB_ADMIN_VERB_STATUS)
            FZ_CHECK(rpb_json_get(doc->root, "accepting_hello") &&
                         rpb_json_get(doc->root, "accepting_hello")->type == RPB_JSON_BOOL &&
                         rpb_json_get(doc->root, "accepting_hello")->u.boolean == ready,
                     "STATUS accepting_hello (ADMIN-012)");
        if (req->verb == RPB_ADMIN_VERB_CONFIG) {
            const rpb_json_value *values = rpb_json_get(doc->root, "values");
            uint64_t cap;
            FZ_CHECK(rpb_json_as_u64(rpb_json_get(values, "max_hello_bytes"), &cap) &&
                         cap == RPB_MAX_HELLO_BYTES &&
                         rpb_json_is_string(rpb_json_get(values, "admin_payload_protocol"),
                                            "0xAD01"),
                     "CONFIG values (ADMIN-006)");
        }
        return;
    default:
        FZ_CHECK(reply->kind == RPB_ADMIN_REPLY_KIND_TEXT &&
                     body_is(reply, "unsupported admin verb\n") && reply->exit_code == 2,
                 "verb %d answer (ADMIN-007)", req->verb);
        return;
    }
}

static void check_admin_reply(const rpb_frame *rf, const uint8_t *body, size_t body_len,
                              const conn_result *c, const rpb_frame *request, const options *o)
{
    const rpb_admin_outcome *a = &c->oc.admin;
    rpb_frame f2;
    rpb_admin_reply reply;
    int rc = rpb_admin_reply_decode(body, body_len, &f2, &reply);
    FZ_CHECK(rc == RPB_OK, "admin reply rejected by rpb_admin_reply_decode: %s", rpb_errname(rc));
    FZ_CHECK(fz_msg_diff(&rpb_frame_desc, rf, &f2) == NULL, "rpb_admin_reply_decode frame differs");
    uint8_t *enc;
    size_t enc_len;
    fz_roundtrip(&rpb_admin_reply_desc, &reply, &enc, &enc_len);
    FZ_CHECK(enc_len == rf->payload.len && memcmp(enc, rf->payload.data, enc_len) == 0,
             "AdminReply payload is not canonical");
    free(enc);
    FZ_CHECK(reply.exit_code == a->exit_code, "AdminReply exit_code %u, outcome %u",
             reply.exit_code, a->exit_code);
    /* ADMIN-001, ADMIN-008: the admin-request envelope, then the AdminRequest */
    rpb_admin_request req;
    rpb_msg_init(&rpb_admin_request_desc, &req);
    int want = rpb_envelope_check(request, RPB_SITE_ADMIN_REQUEST, 0);
    if (want == RPB_OK)
        want = rpb_decode(&rpb_admin_request_desc, request->payload.data, request->payload.len,
                          &req, NULL, 0, NULL);
    FZ_CHECK(a->error == want, "admin outcome error %s, expected %s", rpb_errname(a->error),
             rpb_errname(want));
    FZ_CHECK(a->verb == (want == RPB_OK ? req.verb : -1), "admin outcome verb %d", a->verb);
    if (a->error != RPB_OK) {
        /* ADMIN-008 */
        char text[128];
        int n = snprintf(text, sizeof text, "malformed admin request: %s\n", rpb_errname(a->error));
        FZ_CHECK(a->verb == -1 && reply.exit_code == 2 &&
                     reply.kind == RPB_ADMIN_REPLY_KIND_TEXT && n > 0 &&
                     reply.body.len == (size_t)n && memcmp(reply.body.data, text, (size_t)n) == 0,
                 "malformed admin request (%s) answered otherwise", rpb_errname(a->error));
    }
    rpb_json_doc doc = {NULL, NULL};
    if (reply.kind == RPB_ADMIN_REPLY_KIND_JSON) {
        rpb_errinfo err;
        rc = rpb_json_parse((const char *)reply.body.data, reply.body.len, &doc, &err);
        FZ_CHECK(rc == RPB_OK, "JSON admin reply body is not JSON (offset %zu: %s)", err.offset,
                 err.message);
    }
    if (a->error == RPB_OK)
        check_admin_verb(&req, &reply, &doc, o);
    rpb_json_doc_free(&doc);
}

/* What a connection's first bytes in[0..len) hold: the first frame under
 * the Hello cap (FRAME-004) and, when it decodes, the request Frame. */
typedef struct request_view {
    int split;       /* rpb_frame_split() */
    size_t consumed; /* when split is RPB_OK */
    bool decoded;
    rpb_frame frame; /* all defaults unless decoded */
} request_view;

static request_view view_request(const uint8_t *in, size_t len)
{
    request_view v;
    rpb_slice body = {NULL, 0};
    v.consumed = 0;
    rpb_msg_init(&rpb_frame_desc, &v.frame);
    v.split = rpb_frame_split(in, len, RPB_MAX_HELLO_BYTES, &body, &v.consumed, NULL);
    v.decoded = v.split == RPB_OK &&
                rpb_decode(&rpb_frame_desc, body.data, body.len, &v.frame, NULL, 0, NULL) == RPB_OK;
    if (v.split == RPB_OK && !v.decoded)
        rpb_msg_init(&rpb_frame_desc, &v.frame);
    return v;
}

/* Checks the outcome and reply of a connection whose request is v. */
static void check_reply(const conn_result *c, const request_view *v, const options *o)
{
    const rpb_frame *request = &v->frame;
    rpb_control_kind kind = !v->decoded ? RPB_CONTROL_FRAMING
                            : request->payload_protocol == RPB_PP_ADMIN ? RPB_CONTROL_ADMIN
                                                                        : RPB_CONTROL_HELLO;
    FZ_CHECK(c->oc.kind == kind, "outcome kind %d, expected %d", (int)c->oc.kind, (int)kind);
    size_t consumed = v->split == RPB_OK ? v->consumed : 0;
    FZ_CHECK(c->oc.consumed == consumed, "outcome consumed %zu, frame %zu", c->oc.consumed,
             consumed);
    FZ_CHECK(c->oc.request_id == request->request_id, "outcome request_id %llu, request %llu",
             (unsigned long long)c->oc.request_id, (unsigned long long)request->request_id);
    if (!v->decoded) {
        /* HELLO-002, HELLO-003, HELLO-005, HELLO-006 */
        rpb_refusal want = v->split == RPB_OK          ? RPB_REFUSAL_MALFORMED_FRAME
                           : v->split == RPB_NEED_MORE ? RPB_REFUSAL_INCOMPLETE_FRAME
                                                       : rpb_refusal_for_read_error(v->split);
        FZ_CHECK(c->oc.hello.refusal == want, "framing refusal %s, expected %s",
                 rpb_refusal_name(c->oc.hello.refusal), rpb_refusal_name(want));
    }

    /* exactly one well-formed frame */
    rpb_frame rf;
    fz_check_one_frame(out_whole, c->written, &rf);

    rpb_site site = kind == RPB_CONTROL_ADMIN ? RPB_SITE_ADMIN_REPLY : RPB_SITE_HELLO_REPLY;
    int rc = rpb_envelope_check(&rf, site, 0);
    FZ_CHECK(rc == RPB_OK, "reply fails the %s envelope: %s", rpb_site_name(site),
             rpb_errname(rc));
    FZ_CHECK(rf.deadline_unix_ms == 0, "reply deadline %llu (ENV-011)",
             (unsigned long long)rf.deadline_unix_ms);
    /* HELLO-050, HELLO-051, ADMIN-001 */
    FZ_CHECK(rf.request_id == request->request_id &&
                 rpb_slice_eq(rf.traceparent, request->traceparent) &&
                 rpb_slice_eq(rf.tracestate, request->tracestate),
             "reply does not echo request_id/trace (request %s)",
             v->decoded ? "decoded" : "undecodable");

    if (kind == RPB_CONTROL_ADMIN)
        check_admin_reply(&rf, out_whole + RPB_FRAME_HEADER_BYTES,
                          c->written - RPB_FRAME_HEADER_BYTES, c, request, o);
    else
        check_hello_reply(&rf, c, o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    options o = parse_options(data[0]);
    const uint8_t *stream = data + 1;
    size_t n = size - 1;
    fz_rng rng;
    fz_rng_seed(&rng, data, size);

    broker chunked, whole;
    broker_init(&chunked, &o);
    broker_init(&whole, &o);
    rate_model rm = {false, 0, 0};
    uint64_t negotiated = 0;
    int64_t now = 1000000;
    size_t pos = 0;

    for (int conn = 0; conn < MAX_CONNECTIONS; conn++) {
        const uint8_t *in = stream + pos;
        size_t len = n - pos;
        conn_result a = feed_chunked(&chunked, &o, in, len, now, &rng);
        conn_result b;
        memset(&b, 0, sizeof b);
        b.arrived = len;
        b.rc = rpb_control_step(whole.hello, &whole.admin, len ? in : NULL, len, o.eof, &o.peer,
                                now, out_whole, sizeof out_whole, &b.written, &b.oc);
        FZ_CHECK(b.rc == RPB_OK || b.rc == RPB_NEED_MORE, "rpb_control_step: %s",
                 rpb_errname(b.rc));
        expect_same_outcome(&a, &b);
        if (b.rc == RPB_NEED_MORE)
            break; /* the client is still sending */
        request_view v = view_request(in, len);
        check_reply(&b, &v, &o);
        if (b.oc.kind == RPB_CONTROL_HELLO) {
            uint64_t retry;
            rpb_refusal want = model_decision(&o, &v.frame, now, &rm, &retry);
            FZ_CHECK(b.oc.hello.refusal == want, "connection %d: decided %s, the model %s", conn,
                     b.oc.hello.refusal == RPB_REFUSAL_NONE ? "negotiated"
                                                             : rpb_refusal_name(b.oc.hello.refusal),
                     want == RPB_REFUSAL_NONE ? "negotiated" : rpb_refusal_name(want));
            FZ_CHECK(b.oc.hello.retry_after_ms == retry, "%s: retry %llu, the model %llu",
                     rpb_refusal_name(want), (unsigned long long)b.oc.hello.retry_after_ms,
                     (unsigned long long)retry);
            /* HELLO-036: one counter from 1, refusals consume no id */
            if (want == RPB_REFUSAL_NONE)
                FZ_CHECK(b.oc.hello.connection_id == ++negotiated,
                         "Negotiated connection_id %llu, expected %llu",
                         (unsigned long long)b.oc.hello.connection_id,
                         (unsigned long long)negotiated);
        }
        if (b.oc.consumed == 0 || b.oc.consumed >= len)
            break; /* framing error, or no bytes left for another connection */
        pos += b.oc.consumed;
        now += (int64_t)fz_rng_below(&rng, 2 * (uint64_t)o.rate_window_ms + 1);
    }
    rpb_hello_handler_free(chunked.hello);
    rpb_hello_handler_free(whole.hello);
    return 0;
}
