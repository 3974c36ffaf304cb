/*
 * cases_admin.c - broker/admin/...: admin verbs on the control socket
 * (payload_protocol 0xAD01, spec/hello.md ADMIN-*): the reply envelope,
 * kind, exit code and body of each verb.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"

/* What an admin verb must answer. */
typedef struct admin_variant {
    int32_t verb;
    bool json;
    const char *service_name, *output_path; /* AdminRequest fields, or NULL */
    int32_t want_kind;        /* AdminReplyKind */
    uint32_t want_exit;
    const char *want_body;    /* exact body, or NULL */
    const char *contains[4];  /* substrings the body must hold */
    const char *ends_with;    /* or NULL */
    const char *content_type; /* exact content_type, or NULL */
    bool optional;            /* a MAY verb: "unsupported admin verb" means not offered */
    /* NULL-terminated: the lines the body starts with; an entry ending in
     * a space is the line up to its value, a number */
    const char *const *first_lines;
    /* JSON members of the body (json_member_ok): "path=VALUE" (VALUE is
     * JSON, compared as a value), "path:TYPE" (bool, integer, number,
     * string, array, object), "path#N" (an array of N elements),
     * "path@NAME" (an array whose elements' string members NAME are the
     * fixture's services: lists_fixture_services); path is member names and array
     * indexes joined by '.' */
    const char *members[10];
} admin_variant;

/* ADMIN-011: upstream's eight frozen METRICS families, in their order,
 * with a value line for each unlabelled one. */
static const char *const frozen_metrics[] = {
    "# TYPE running_process_broker_v1_hello_total counter",
    "# TYPE running_process_broker_v1_hello_duration_seconds histogram",
    "# TYPE running_process_broker_v1_active_backends gauge",
    "# TYPE running_process_broker_v1_spawn_attempts_total counter",
    "# TYPE running_process_broker_v1_spawn_budget_remaining gauge",
    "# TYPE running_process_broker_v1_connections_open gauge",
    "running_process_broker_v1_connections_open ",
    "# TYPE running_process_broker_v1_fd_usage_ratio gauge",
    "running_process_broker_v1_fd_usage_ratio ",
    "# TYPE running_process_broker_v1_uptime_seconds gauge",
    "running_process_broker_v1_uptime_seconds ",
    NULL,
};

/* The line of body at *at matches want (see admin_variant.first_lines);
 * *at moves past it. */
static bool line_matches(rpb_slice body, size_t *at, const char *want)
{
    const uint8_t *p = body.data + *at, *end = body.data + body.len;
    const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl)
        return false;
    size_t len = (size_t)(nl - p), n = strlen(want);
    *at += len + 1;
    if (n == 0 || want[n - 1] != ' ')
        return len == n && memcmp(p, want, n) == 0;
    if (len <= n || memcmp(p, want, n) != 0)
        return false;
    for (size_t i = n; i < len; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || p[i] == '.'))
            return false;
    return true;
}

static bool body_ends_with(rpb_slice body, const char *tail)
{
    size_t n = strlen(tail);
    return body.len >= n && memcmp(body.data + body.len - n, tail, n) == 0;
}

static bool body_contains(rpb_slice body, const char *needle)
{
    size_t n = strlen(needle);
    if (n > body.len)
        return false;
    for (size_t i = 0; i + n <= body.len; i++)
        if (memcmp(body.data + i, needle, n) == 0)
            return true;
    return false;
}

void admin_exchange_request(cctx *c, const rpb_admin_request *ar, rpb_frame *req, hreply *r)
{
    sbuf payload = SBUF_INIT, s = SBUF_INIT;
    stim_encode(&payload, &rpb_admin_request_desc, ar);
    stim_frame_base(req);
    req->payload_protocol = RPB_PP_ADMIN;
    req->request_id = 44;
    req->payload.data = payload.data;
    req->payload.len = payload.len;
    stim_frame(&s, req);
    req->payload.data = NULL; /* payload is freed below */
    req->payload.len = 0;
    char label[80];
    const char *vn = rpb_enum_name(&rpb_admin_verb_enum, ar->verb);
    snprintf(label, sizeof label, "admin request %s%s", vn ? vn : "(unknown verb)", ar->json ? " json" : "");
    hc_exchange(c, NULL, label, &s, r);
    sb_free(&payload);
    sb_free(&s);
}

void admin_exchange(cctx *c, int32_t verb, bool json, rpb_frame *req, hreply *r)
{
    rpb_admin_request ar;
    rpb_msg_init(&rpb_admin_request_desc, &ar);
    ar.verb = verb;
    ar.json = json;
    admin_exchange_request(c, &ar, req, r);
}

/* The value at path ("a.b.0.c") under v, or NULL. */
static const rpb_json_value *json_at(const rpb_json_value *v, const char *path, size_t len)
{
    while (v && len) {
        const char *dot = memchr(path, '.', len);
        size_t n = dot ? (size_t)(dot - path) : len;
        char seg[64];
        if (n >= sizeof seg)
            return NULL;
        memcpy(seg, path, n);
        seg[n] = 0;
        if (v->type == RPB_JSON_ARRAY) {
            const rpb_json_value *e = v->u.children.head;
            for (long i = strtol(seg, NULL, 10); e && i > 0; i--)
                e = e->next;
            v = e;
        } else {
            v = v->type == RPB_JSON_OBJECT ? rpb_json_get(v, seg) : NULL;
        }
        path += n + (dot != NULL);
        len -= n + (dot != NULL);
    }
    return v;
}

static bool json_type_is(const rpb_json_value *v, const char *type)
{
    static const char *const names[] = {"null", "bool", "integer", "real", "string", "array", "object"};
    if (strcmp(type, "number") == 0)
        return v->type == RPB_JSON_INTEGER || v->type == RPB_JSON_REAL;
    return (size_t)v->type < sizeof names / sizeof names[0] && strcmp(names[v->type], type) == 0;
}

/* v is an array whose elements' string members name are services of the
 * fixture the broker was given (hconfig.fixture): each required one once,
 * a launched one any number of times (only a launching broker serves it,
 * and lists its launched backends beside it, LAUNCH-013), no other. */
static bool lists_fixture_services(cctx *c, const rpb_json_value *v, const char *name)
{
    const fixture_set *want = c->cfg->fixture;
    if (v->type != RPB_JSON_ARRAY)
        return false;
    bool seen[sizeof want->names / sizeof want->names[0]] = {false};
    size_t required = 0;
    for (const rpb_json_value *e = v->u.children.head; e; e = e->next) {
        const rpb_json_value *m = e->type == RPB_JSON_OBJECT ? rpb_json_get(e, name) : NULL;
        size_t i = 0;
        while (i < want->count && !(m && m->type == RPB_JSON_STRING && rpb_slice_eq_cstr(m->u.string, want->names[i])))
            i++;
        if (i == want->count || (i < want->required && seen[i]))
            return false;
        required += i < want->required && !seen[i];
        seen[i] = true;
    }
    return required == want->required;
}

/* Checks one admin_variant.members entry against the parsed body. */
static void json_member_ok(cctx *c, const rpb_json_value *root, const char *spec)
{
    size_t plen = strcspn(spec, "=:#@");
    const rpb_json_value *v = json_at(root, spec, plen);
    const char *want = spec + plen + (spec[plen] != 0);
    if (!v) {
        c_fail(c, "expected the JSON body to have %.*s; observed none", (int)plen, spec);
        return;
    }
    bool ok;
    if (spec[plen] == ':') {
        ok = json_type_is(v, want);
    } else if (spec[plen] == '#') {
        ok = v->type == RPB_JSON_ARRAY && v->u.children.count == strtoul(want, NULL, 10);
    } else if (spec[plen] == '@') {
        ok = lists_fixture_services(c, v, want);
        if (!ok) {
            const fixture_set *fs = c->cfg->fixture;
            sbuf names = SBUF_INIT;
            for (size_t i = 0; i < fs->count; i++)
                sb_printf(&names, "%s%s%s", i ? ", " : "", fs->names[i], i < fs->required ? " once" : " (if launching)");
            c_fail(c, "expected %.*s to list the fixture's services by %s: %s; observed %s", (int)plen,
                   spec, want, sb_str(&names), v->type == RPB_JSON_ARRAY ? "another set" : "no array");
            sb_free(&names);
            return;
        }
    } else {
        rpb_json_doc w;
        if (rpb_json_parse(want, strlen(want), &w, NULL) != RPB_OK)
            abort(); /* a typo in a case table */
        ok = rpb_json_equal(v, w.root);
        rpb_json_doc_free(&w);
    }
    if (!ok)
        c_fail(c, "expected JSON member %s; observed a %s that is not",
               spec, v->type == RPB_JSON_ARRAY ? "array" : v->type == RPB_JSON_OBJECT ? "object" : "value");
}

/* ADMIN-012, ADMIN-016, ADMIN-009: the members the row names. */
static void check_json_members(cctx *c, const admin_variant *v, rpb_slice body)
{
    if (!v->members[0])
        return;
    rpb_json_doc doc;
    if (rpb_json_parse((const char *)body.data, body.len, &doc, NULL) != RPB_OK) {
        c_fail(c, "expected the body to be one JSON value; observed %zu bytes that do not parse", body.len);
        return;
    }
    for (int i = 0; i < 10 && v->members[i]; i++)
        json_member_ok(c, doc.root, v->members[i]);
    rpb_json_doc_free(&doc);
}

static void case_admin(cctx *c)
{
    const admin_variant *v = c->cs->arg.admin;
    rpb_frame f;
    hreply r;
    rpb_admin_request ar;
    rpb_msg_init(&rpb_admin_request_desc, &ar);
    ar.verb = v->verb;
    ar.json = v->json;
    ar.service_name = rpb_slice_cstr(v->service_name ? v->service_name : "");
    ar.output_path = rpb_slice_cstr(v->output_path ? v->output_path : "");
    admin_exchange_request(c, &ar, &f, &r);
    if (r.ex) {
        sb_printf(&r.ex->expect_text, "AdminReply{kind %s, exit_code %u%s%s%s}",
                  rpb_enum_name(&rpb_admin_reply_kind_enum, v->want_kind), v->want_exit,
                  v->want_body ? ", body \"" : "", v->want_body ? v->want_body : "", v->want_body ? "\"" : "");
    }
    if (!expect_response_frame(c, &r, RPB_PP_ADMIN, echo_of(&f)))
        goto out;
    if (r.payload_err != RPB_OK) {
        c_fail(c, "expected an AdminReply payload; observed one that does not decode (%s)",
               rpb_errname(r.payload_err));
        goto out;
    }
    /* HELLO-052, WIRE-020: admin replies are canonical too */
    expect_canonical(c, &r);
    const rpb_admin_reply *a = &r.admin;
    if (v->optional && a->exit_code == 2 && rpb_slice_eq_cstr(a->body, "unsupported admin verb\n")) {
        c_skip(c, "feature not offered: the broker answers this optional verb with \"unsupported admin verb\"");
        goto out;
    }
    if (a->kind != v->want_kind) {
        const char *k = rpb_enum_name(&rpb_admin_reply_kind_enum, a->kind);
        c_fail(c, "expected reply kind %s; observed %s", rpb_enum_name(&rpb_admin_reply_kind_enum, v->want_kind),
               k ? k : "an unknown kind");
    }
    if (a->exit_code != v->want_exit)
        c_fail(c, "expected exit_code %u; observed %u", v->want_exit, a->exit_code);
    if (v->want_body && !rpb_slice_eq_cstr(a->body, v->want_body)) {
        sbuf q = SBUF_INIT, w = SBUF_INIT;
        sb_quoted(&q, a->body.data, a->body.len, 120);
        sb_quoted(&w, (const uint8_t *)v->want_body, strlen(v->want_body), 120);
        c_fail(c, "expected body %s; observed %s", sb_str(&w), sb_str(&q));
        sb_free(&q);
        sb_free(&w);
    }
    for (int i = 0; i < 4 && v->contains[i]; i++)
        if (!body_contains(a->body, v->contains[i]))
            c_fail(c, "expected the body to contain %s; observed a body of %zu bytes without it", v->contains[i],
                   a->body.len);
    if (v->ends_with && !body_ends_with(a->body, v->ends_with)) {
        sbuf q = SBUF_INIT;
        sb_quoted(&q, (const uint8_t *)v->ends_with, strlen(v->ends_with), 40);
        c_fail(c, "expected the body to end with %s; observed a body of %zu bytes that does not", sb_str(&q),
               a->body.len);
        sb_free(&q);
    }
    size_t at = 0;
    for (size_t i = 0; v->first_lines && v->first_lines[i]; i++) {
        size_t start = at;
        if (!line_matches(a->body, &at, v->first_lines[i])) {
            const char *w = v->first_lines[i];
            size_t n = strlen(w);
            const uint8_t *end = memchr(a->body.data + start, '\n', a->body.len - start);
            sbuf q = SBUF_INIT;
            sb_quoted(&q, a->body.data + start, end ? (size_t)(end - (a->body.data + start)) : a->body.len - start,
                      100);
            c_fail(c, "expected body line %zu to be \"%s%s\"; observed %s", i + 1, w,
                   n && w[n - 1] == ' ' ? "<number>" : "", sb_str(&q));
            sb_free(&q);
            break;
        }
    }
    check_json_members(c, v, a->body);
    if (v->content_type && !rpb_slice_eq_cstr(a->content_type, v->content_type)) {
        sbuf q = SBUF_INIT;
        sb_quoted(&q, a->content_type.data, a->content_type.len, 80);
        c_fail(c, "expected content_type \"%s\"; observed %s", v->content_type, sb_str(&q));
        sb_free(&q);
    }
out:
    hr_free(&r);
}

bool admin_status_u64(cctx *c, const char *path, uint64_t *out)
{
    rpb_frame f;
    hreply r;
    admin_exchange(c, RPB_ADMIN_VERB_STATUS, true, &f, &r);
    rpb_json_doc doc;
    bool ok = false;
    if (r.end == H_REPLY && r.frame_ok && r.payload_err == RPB_OK && r.frame.payload_protocol == RPB_PP_ADMIN &&
        rpb_json_parse((const char *)r.admin.body.data, r.admin.body.len, &doc, NULL) == RPB_OK) {
        const rpb_json_value *v = json_at(doc.root, path, strlen(path));
        ok = v && rpb_json_as_u64(v, out);
        rpb_json_doc_free(&doc);
    }
    hr_free(&r);
    return ok;
}

void healthz_frame(sbuf *s, rpb_frame *f, uint64_t id)
{
    rpb_admin_request ar;
    rpb_msg_init(&rpb_admin_request_desc, &ar);
    ar.verb = RPB_ADMIN_VERB_HEALTHZ;
    sbuf payload = SBUF_INIT;
    stim_encode(&payload, &rpb_admin_request_desc, &ar);
    stim_frame_base(f);
    f->payload_protocol = RPB_PP_ADMIN;
    f->request_id = id;
    f->payload = (rpb_slice){payload.data, payload.len};
    stim_frame(s, f);
    f->payload = (rpb_slice){NULL, 0};
    sb_free(&payload);
}

bool expect_healthz(cctx *c, const hreply *r, const rpb_frame *f)
{
    if (!expect_response_frame(c, r, RPB_PP_ADMIN, echo_of(f)))
        return false;
    if (r->payload_err != RPB_OK || r->admin.kind != RPB_ADMIN_REPLY_KIND_TEXT || r->admin.exit_code != 0 ||
        !rpb_slice_eq_cstr(r->admin.body, "ok\n")) {
        c_fail(c, "expected the HEALTHZ reply TEXT \"ok\\n\", exit_code 0; observed another reply");
        return false;
    }
    return true;
}

/* ADMIN-001, HELLO-001: one request per connection for admin too: of two
 * HEALTHZ frames sent together (request_id 44, 45) only the first is
 * answered, then the broker closes; with arg "hello" the second frame is a
 * Hello, sent after the reply. */
static void case_admin_one_request(cctx *c)
{
    bool hello = strcmp(c->cs->arg.word, "hello") == 0;
    sbuf s = SBUF_INIT, second = SBUF_INIT;
    rpb_frame f, g;
    healthz_frame(&s, &f, 44);
    if (hello)
        stim_base_frame(&second, self_pid());
    else
        healthz_frame(&s, &g, 45);
    hconn hc;
    hreply r;
    if (hc_open(c, &hc, NULL, hello ? "HEALTHZ, then a Hello after the reply" : "two HEALTHZ frames back to back") == 0)
        hc_send(&hc, s.data, s.len);
    hc_read_reply(&hc, c->cfg->reply_ms, &r);
    if (expect_healthz(c, &r, &f)) {
        if (hello)
            hc_send(&hc, second.data, second.len); /* may meet a closed socket: the point */
        expect_closed_after_reply(c, &hc);
    }
    hc_close(&hc);
    hr_free(&r);
    sb_free(&s);
    sb_free(&second);
}

/* WIRE-006: payload_protocol 2^32 + 0xAD01 decodes as 0xAD01 (uint32
 * narrowing) and routes to admin (ADMIN-001); verb 2^32 + 4 is HEALTHZ. */
static void case_admin_narrowing(cctx *c)
{
    bool verb = strcmp(c->cs->arg.word, "verb") == 0;
    rpb_frame f;
    stim_frame_base(&f);
    f.request_id = 44;
    sbuf body = SBUF_INIT, s = SBUF_INIT;
    stim_encode(&body, &rpb_frame_desc, &f); /* payload_protocol 0: not written */
    pb_key(&body, 3, 0);
    pb_varint(&body, verb ? RPB_PP_ADMIN : (UINT64_C(1) << 32) + RPB_PP_ADMIN);
    pb_key(&body, 4, 2);
    sbuf payload = SBUF_INIT;
    pb_key(&payload, 1, 0);
    pb_varint(&payload, verb ? (UINT64_C(1) << 32) + RPB_ADMIN_VERB_HEALTHZ : RPB_ADMIN_VERB_HEALTHZ);
    pb_varint(&body, payload.len);
    sb_put(&body, payload.data, payload.len);
    stim_framed(&s, body.data, body.len);
    hreply r;
    hc_exchange(c, NULL, verb ? "HEALTHZ as verb 2^32+4" : "HEALTHZ on payload_protocol 2^32+0xAD01", &s, &r);
    expect_healthz(c, &r, &f);
    hr_free(&r);
    sb_free(&payload);
    sb_free(&body);
    sb_free(&s);
}

bool metric_value(rpb_slice body, const char *name, double *out)
{
    size_t n = strlen(name);
    for (size_t at = 0; at < body.len;) {
        const uint8_t *p = body.data + at, *nl = memchr(p, '\n', body.len - at);
        size_t len = nl ? (size_t)(nl - p) : body.len - at;
        if (len > n + 1 && len < n + 40 && memcmp(p, name, n) == 0 && p[n] == ' ') {
            char num[48];
            memcpy(num, p + n + 1, len - n - 1);
            num[len - n - 1] = 0;
            char *end;
            *out = strtod(num, &end);
            return *end == 0;
        }
        at += len + 1;
    }
    return false;
}

/* ADMIN-011 (registries.md §5): the unlabelled families' values:
 * connections_open counts the asking connection, fd_usage_ratio is a ratio
 * of at most 1, uptime_seconds is the time since start, as STATUS json's
 * uptime_seconds (ADMIN-012) asked just before (within a second) when
 * that is a whole number. */
static void case_metrics_values(cctx *c)
{
    uint64_t status_uptime;
    /* a float (ADMIN-012 allows one) is not compared */
    bool whole = admin_status_u64(c, "uptime_seconds", &status_uptime);
    rpb_frame f;
    hreply r;
    admin_exchange(c, RPB_ADMIN_VERB_METRICS, false, &f, &r);
    double open = -1, ratio = -1, uptime = -1;
    if (!expect_response_frame(c, &r, RPB_PP_ADMIN, echo_of(&f)) || r.payload_err != RPB_OK) {
        hr_free(&r);
        return;
    }
    const char *P = "running_process_broker_v1_";
    char name[80];
    snprintf(name, sizeof name, "%sconnections_open", P);
    metric_value(r.admin.body, name, &open);
    snprintf(name, sizeof name, "%sfd_usage_ratio", P);
    metric_value(r.admin.body, name, &ratio);
    snprintf(name, sizeof name, "%suptime_seconds", P);
    metric_value(r.admin.body, name, &uptime);
    if (open < 1)
        c_fail(c, "expected connections_open at least 1 (the asking connection); observed %g", open);
    if (ratio < 0 || ratio > 1)
        c_fail(c, "expected fd_usage_ratio in 0..1; observed %g", ratio);
    if (whole && (uptime < (double)status_uptime || uptime > (double)status_uptime + 1))
        c_fail(c, "expected uptime_seconds %llu or %llu (STATUS json just before); observed %g",
               (unsigned long long)status_uptime, (unsigned long long)status_uptime + 1, uptime);
    hr_free(&r);
}

/* The sum of the samples "<name>{...} <value>" of an OpenMetrics body. */
static double metric_sum(rpb_slice body, const char *name)
{
    size_t n = strlen(name);
    double sum = 0;
    for (size_t at = 0; at < body.len;) {
        const uint8_t *p = body.data + at, *nl = memchr(p, '\n', body.len - at);
        size_t len = nl ? (size_t)(nl - p) : body.len - at;
        const uint8_t *sp = memchr(p, ' ', len);
        if (sp && len > n && memcmp(p, name, n) == 0 && p[n] == '{' && len - (size_t)(sp - p) < 40) {
            char num[48];
            snprintf(num, sizeof num, "%.*s", (int)(len - (size_t)(sp - p) - 1), (const char *)sp + 1);
            sum += strtod(num, NULL);
        }
        at += len + 1;
    }
    return sum;
}

/* LAUNCH-014: STATUS and METRICS count the same Hellos: after a refused
 * Hello (an unregistered service), STATUS hellos_refused is the sum of
 * the hello_refused_total samples and hellos_negotiated is
 * hello_negotiated_total (skipped without STATUS's members, rpb-broker's
 * names). */
static void case_metrics_hello_counts(cctx *c)
{
    rpb_frame f;
    sbuf s = SBUF_INIT;
    unknown_service_hello(&s, &f);
    hreply r;
    hc_exchange(c, NULL, "Hello for the unregistered service nosuch", &s, &r);
    hr_free(&r);
    sb_free(&s);
    uint64_t refused, negotiated;
    if (!admin_status_u64(c, "hellos_refused", &refused) || !admin_status_u64(c, "hellos_negotiated", &negotiated)) {
        c_skip(c, "STATUS json has no hellos_refused and hellos_negotiated (rpb-broker's members)");
        return;
    }
    hreply m;
    admin_exchange(c, RPB_ADMIN_VERB_METRICS, false, &f, &m);
    if (expect_response_frame(c, &m, RPB_PP_ADMIN, echo_of(&f)) && m.payload_err == RPB_OK) {
        double total = -1, sum = metric_sum(m.admin.body, "running_process_broker_v1_hello_refused_total");
        metric_value(m.admin.body, "running_process_broker_v1_hello_negotiated_total", &total);
        if (refused == 0 || sum != (double)refused)
            c_fail(c, "expected the hello_refused_total samples to sum to STATUS hellos_refused %llu (at least the "
                      "Hello just refused); observed %g",
                   (unsigned long long)refused, sum);
        if (total != (double)negotiated)
            c_fail(c, "expected hello_negotiated_total %llu (STATUS hellos_negotiated); observed %g",
                   (unsigned long long)negotiated, total);
    }
    hr_free(&m);
}

/* ADMIN-006: CONFIG's values are the effective configuration: the rate
 * limit the broker was started with (the fixture's, --rate-limit), when
 * the broker reports it (rate_limit_max and rate_limit_window_ms are
 * rpb-broker's names). */
static void case_config_rate_limit(cctx *c)
{
    if (!rate_configured(c))
        return;
    rpb_frame f;
    hreply r;
    admin_exchange(c, RPB_ADMIN_VERB_CONFIG, true, &f, &r);
    rpb_json_doc doc;
    if (!expect_response_frame(c, &r, RPB_PP_ADMIN, echo_of(&f)) || r.payload_err != RPB_OK ||
        rpb_json_parse((const char *)r.admin.body.data, r.admin.body.len, &doc, NULL) != RPB_OK) {
        c_fail(c, "expected a CONFIG reply with a JSON body");
        hr_free(&r);
        return;
    }
    uint64_t max, window;
    if (!rpb_json_as_u64(json_at(doc.root, "values.rate_limit_max", strlen("values.rate_limit_max")), &max) ||
        !rpb_json_as_u64(json_at(doc.root, "values.rate_limit_window_ms", strlen("values.rate_limit_window_ms")), &window))
        c_skip(c, "CONFIG has no values.rate_limit_max and values.rate_limit_window_ms (rpb-broker's names)");
    else if (max != c->cfg->rate_n || window != c->cfg->rate_window_ms)
        c_fail(c, "expected values.rate_limit_max %u and rate_limit_window_ms %u (the broker's --rate-limit); "
                  "observed %llu and %llu",
               c->cfg->rate_n, c->cfg->rate_window_ms, (unsigned long long)max, (unsigned long long)window);
    rpb_json_doc_free(&doc);
    hr_free(&r);
}

/* A row: the verb and what it must answer (admin_variant members). */
#define ADMIN(id, tier, reqs, title, ...)                                                                    \
    {id, tier, reqs, title, case_admin, {.admin = &(const admin_variant){__VA_ARGS__}}, NULL, 0}
/* A TEXT reply with an exact body and exit code. */
#define TEXT(v, exit, body) .verb = (v), .want_kind = RPB_ADMIN_REPLY_KIND_TEXT, .want_exit = (exit), .want_body = (body)
/* A JSON reply (optional: a MAY verb) holding the given substrings. */
#define JSON(v, opt, ...) JSON_AS(v, opt, true, __VA_ARGS__)
/* The same with AdminRequest.json as given (ADMIN-015: only STATUS reads it). */
#define JSON_AS(v, opt, js, ...)                                                                             \
    .verb = (v), .json = (js), .want_kind = RPB_ADMIN_REPLY_KIND_JSON, .contains = {__VA_ARGS__},             \
    .content_type = "application/json", .optional = (opt)
/* JSON members (admin_variant.members). */
#define MEMBERS(...) .members = {__VA_ARGS__}
/* ADMIN-016: the members every JSON reply starts with. */
#define HEAD(cmd) "schema_version=1", "command=\"" cmd "\"", "generated_at_unix_ms:integer", "broker_instance:string"

static const hcase rows[] = {
    ADMIN("broker/admin/healthz", CORE, "ADMIN-001 ADMIN-002", "HEALTHZ answers TEXT \"ok\\n\", exit 0, on 0xAD01 with request_id echoed", TEXT(RPB_ADMIN_VERB_HEALTHZ, 0, "ok\n")),
    ADMIN("broker/admin/readyz", CORE, "ADMIN-003", "READYZ answers TEXT \"ready\\n\", exit 0", TEXT(RPB_ADMIN_VERB_READYZ, 0, "ready\n")),
    ADMIN("broker/admin/status/json", CORE, "ADMIN-012 ADMIN-013", "STATUS json answers JSON with schema_version, command \"status\", generated_at_unix_ms", JSON(RPB_ADMIN_VERB_STATUS, false, "\"schema_version\"", "\"command\"", "\"status\"", "\"generated_at_unix_ms\"")),
    ADMIN("broker/admin/status/text", CORE, "ADMIN-004", "STATUS text names broker_instance and accepting_hello: true", .verb = RPB_ADMIN_VERB_STATUS, .want_kind = RPB_ADMIN_REPLY_KIND_TEXT, .contains = {"broker_instance: ", "accepting_hello: true\n"}),
    ADMIN("broker/admin/metrics", CORE, "ADMIN-005 ADMIN-011 ADMIN-013", "METRICS answers OpenMetrics starting with upstream's eight frozen families in order, ending # EOF", .verb = RPB_ADMIN_VERB_METRICS, .want_kind = RPB_ADMIN_REPLY_KIND_OPENMETRICS, .first_lines = frozen_metrics, .ends_with = "# EOF\n", .content_type = "application/openmetrics-text"),
    ADMIN("broker/admin/dump", CORE, "ADMIN-009", "DUMP (optional) answers JSON with schema_version and command \"dump\"", JSON(RPB_ADMIN_VERB_DUMP, true, "\"schema_version\"", "\"command\"", "\"dump\"")),
    ADMIN("broker/admin/list-instances", CORE, "ADMIN-009", "LIST_INSTANCES (optional) answers JSON with command \"list-instances\"", JSON(RPB_ADMIN_VERB_LIST_INSTANCES, true, "\"schema_version\"", "\"command\"", "\"list-instances\"")),
    ADMIN("broker/admin/backend-health", CORE, "ADMIN-009", "BACKEND_HEALTH (optional) answers JSON with command \"backend-health\"", JSON(RPB_ADMIN_VERB_BACKEND_HEALTH, true, "\"schema_version\"", "\"command\"", "\"backend-health\"")),
    ADMIN("broker/admin/config", CORE, "ADMIN-006", "CONFIG answers JSON with command \"config\" and values incl. max_hello_bytes", JSON(RPB_ADMIN_VERB_CONFIG, false, "\"command\"", "\"config\"", "\"values\"", "\"max_hello_bytes\"")),
    ADMIN("broker/admin/diagnose", CORE, "ADMIN-009", "DIAGNOSE (optional) answers JSON with command \"diagnose\"", JSON(RPB_ADMIN_VERB_DIAGNOSE, true, "\"schema_version\"", "\"command\"", "\"diagnose\"")),
    ADMIN("broker/admin/unspecified-verb", CORE, "ADMIN-007", "ADMIN_VERB_UNSPECIFIED answers TEXT \"unsupported admin verb\\n\", exit 2", TEXT(RPB_ADMIN_VERB_UNSPECIFIED, 2, "unsupported admin verb\n")),
    ADMIN("broker/admin/unknown-verb", CORE, "ADMIN-007", "an unknown verb (99) answers TEXT \"unsupported admin verb\\n\", exit 2", TEXT(99, 2, "unsupported admin verb\n")),
    /* ADMIN-015 design: input = AdminRequest.json; classes: STATUS (reads
     * it) and every other verb (ignores it), each with json true and false */
    ADMIN("broker/admin/healthz/json-true", CORE, "ADMIN-002 ADMIN-015", "HEALTHZ with json true still answers TEXT \"ok\\n\"", TEXT(RPB_ADMIN_VERB_HEALTHZ, 0, "ok\n"), .json = true),
    ADMIN("broker/admin/readyz/json-true", CORE, "ADMIN-003 ADMIN-015", "READYZ with json true still answers TEXT \"ready\\n\"", TEXT(RPB_ADMIN_VERB_READYZ, 0, "ready\n"), .json = true),
    ADMIN("broker/admin/config/json-false", CORE, "ADMIN-006 ADMIN-015", "CONFIG with json false still answers JSON", JSON_AS(RPB_ADMIN_VERB_CONFIG, false, false, "\"config\""), MEMBERS(HEAD("config"), "values:object")),
    ADMIN("broker/admin/dump/json-false", CORE, "ADMIN-009 ADMIN-015", "DUMP (optional) with json false still answers JSON", JSON_AS(RPB_ADMIN_VERB_DUMP, true, false, "\"dump\""), MEMBERS(HEAD("dump"))),
    ADMIN("broker/admin/list-instances/json-false", CORE, "ADMIN-009 ADMIN-015", "LIST_INSTANCES (optional) with json false still answers JSON", JSON_AS(RPB_ADMIN_VERB_LIST_INSTANCES, true, false, "\"list-instances\""), MEMBERS(HEAD("list-instances"))),
    ADMIN("broker/admin/backend-health/json-false", CORE, "ADMIN-009 ADMIN-015", "BACKEND_HEALTH (optional) with json false still answers JSON", JSON_AS(RPB_ADMIN_VERB_BACKEND_HEALTH, true, false, "\"backend-health\""), MEMBERS(HEAD("backend-health"))),
    ADMIN("broker/admin/diagnose/json-false", CORE, "ADMIN-009 ADMIN-015", "DIAGNOSE (optional) with json false still answers JSON", JSON_AS(RPB_ADMIN_VERB_DIAGNOSE, true, false, "\"diagnose\""), MEMBERS(HEAD("diagnose"))),
    /* ADMIN-012, ADMIN-016, ADMIN-009 design: the members and value types
     * of each JSON verb; the fixture's services (hconfig.fixture); BACKEND_HEALTH's
     * filter with a registered, an unregistered and an empty name;
     * DIAGNOSE with and without output_path */
    ADMIN("broker/admin/status/json-members", CORE, "ADMIN-012 ADMIN-016", "STATUS json: every ADMIN-012 member with its type; accepting, not demoted, the fixture's services", JSON(RPB_ADMIN_VERB_STATUS, false, "\"status\""), MEMBERS(HEAD("status"), "broker_pid:integer", "uptime_seconds:number", "accepting_hello=true", "connections_open:integer", "fd_pressure.demoted=false", "backends@service_name")),
    ADMIN("broker/admin/status/json-backend-members", CORE, "ADMIN-012", "STATUS json: each backend has service_name, service_version, pid, backend_pipe, last_active_unix_ms, state", JSON(RPB_ADMIN_VERB_STATUS, false, "\"status\""), MEMBERS("backends.0.service_name:string", "backends.0.service_version:string", "backends.0.pid:integer", "backends.0.backend_pipe:string", "backends.0.last_active_unix_ms:integer", "backends.0.state:string", "backends.1.service_name:string", "backends.1.backend_pipe:string")),
    ADMIN("broker/admin/config/members", CORE, "ADMIN-006 ADMIN-016", "CONFIG: values.max_hello_bytes 65536, values.admin_payload_protocol \"0xAD01\"", JSON(RPB_ADMIN_VERB_CONFIG, false, "\"config\""), MEMBERS(HEAD("config"), "values.max_hello_bytes=65536", "values.admin_payload_protocol=\"0xAD01\"")),
    ADMIN("broker/admin/dump/members", CORE, "ADMIN-009 ADMIN-016", "DUMP (optional): the effective config and the fixture's services", JSON(RPB_ADMIN_VERB_DUMP, true, "\"dump\""), MEMBERS(HEAD("dump"), "effective_config.max_hello_bytes=65536", "backend_table@service_name")),
    ADMIN("broker/admin/list-instances/members", CORE, "ADMIN-009 ADMIN-016", "LIST_INSTANCES (optional): one running instance with its pid", JSON(RPB_ADMIN_VERB_LIST_INSTANCES, true, "\"list-instances\""), MEMBERS(HEAD("list-instances"), "instances#1", "instances.0.pid:integer", "instances.0.state=\"running\"")),
    ADMIN("broker/admin/backend-health/registered", CORE, "ADMIN-009", "BACKEND_HEALTH (optional) for zccache: that one service", JSON(RPB_ADMIN_VERB_BACKEND_HEALTH, true, "\"backend-health\""), .service_name = FIXTURE_SVC_PINNED, MEMBERS(HEAD("backend-health"), "service_name=\"zccache\"", "backends#1", "backends.0.service_name=\"zccache\"")),
    ADMIN("broker/admin/backend-health/unregistered", CORE, "ADMIN-009", "BACKEND_HEALTH (optional) for an unregistered name: no backends", JSON(RPB_ADMIN_VERB_BACKEND_HEALTH, true, "\"backend-health\""), .service_name = "nosuch", MEMBERS(HEAD("backend-health"), "service_name=\"nosuch\"", "backends#0")),
    ADMIN("broker/admin/backend-health/empty-name", CORE, "ADMIN-009", "BACKEND_HEALTH (optional) with an empty service_name: \"unknown\", no backends", JSON(RPB_ADMIN_VERB_BACKEND_HEALTH, true, "\"backend-health\""), MEMBERS(HEAD("backend-health"), "service_name=\"unknown\"", "backends#0")),
    /* ADMIN-017 design: a definition with an allow-list (zccache) and one
     * without (conform-open), both with the floor and an endpoint */
    ADMIN("broker/admin/backend-health/definition/pinned", STRICT, "ADMIN-017", "BACKEND_HEALTH (optional) for zccache reports its definition: endpoint, pid 0, state registered, min_version 1.10.0, allow-list [1.11.20]", JSON(RPB_ADMIN_VERB_BACKEND_HEALTH, true, "\"backend-health\""), .service_name = FIXTURE_SVC_PINNED, MEMBERS("backends#1", "backends.0.backend_pipe=\"" FIXTURE_BACKEND_PIPE_DIR "/" FIXTURE_SVC_PINNED ".sock\"", "backends.0.pid=0", "backends.0.state=\"registered\"", "backends.0.min_version=\"" FIXTURE_MIN_VERSION "\"", "backends.0.version_allow_list=[\"" FIXTURE_ALLOWED_VERSION "\"]")),
    ADMIN("broker/admin/backend-health/definition/open", STRICT, "ADMIN-017", "BACKEND_HEALTH (optional) for conform-open reports its definition: pid 0, state registered, min_version 1.10.0, an empty allow-list", JSON(RPB_ADMIN_VERB_BACKEND_HEALTH, true, "\"backend-health\""), .service_name = FIXTURE_SVC_OPEN, MEMBERS("backends#1", "backends.0.backend_pipe=\"" FIXTURE_BACKEND_PIPE_DIR "/" FIXTURE_SVC_OPEN ".sock\"", "backends.0.pid=0", "backends.0.state=\"registered\"", "backends.0.min_version=\"" FIXTURE_MIN_VERSION "\"", "backends.0.version_allow_list=[]")),
    ADMIN("broker/admin/diagnose/default-path", CORE, "ADMIN-009", "DIAGNOSE (optional) without output_path: bundle.tar.gz, created false", JSON(RPB_ADMIN_VERB_DIAGNOSE, true, "\"diagnose\""), MEMBERS(HEAD("diagnose"), "output_path=\"bundle.tar.gz\"", "created=false")),
    ADMIN("broker/admin/diagnose/output-path", CORE, "ADMIN-009", "DIAGNOSE (optional) with output_path: that path, created false", JSON(RPB_ADMIN_VERB_DIAGNOSE, true, "\"diagnose\""), .output_path = "/tmp/conform-bundle.tgz", MEMBERS(HEAD("diagnose"), "output_path=\"/tmp/conform-bundle.tgz\"", "created=false")),
    ROW("broker/admin/metrics/values", CORE, "ADMIN-011 ADMIN-012", "METRICS: connections_open >= 1, fd_usage_ratio in 0..1, uptime_seconds as STATUS json's", case_metrics_values),
    ROW("broker/admin/metrics/hello-counts", STRICT, "LAUNCH-014", "after a refused Hello, the hello_refused_total samples sum to STATUS hellos_refused and hello_negotiated_total is hellos_negotiated (skipped without those members)", case_metrics_hello_counts),
    ROW("broker/admin/config/rate-limit", STRICT, "ADMIN-006", "CONFIG reports the rate limit the broker runs with (rpb-broker's members; skipped without them)", case_config_rate_limit),
    ROW_WORD("broker/admin/one-request/back-to-back", CORE, "ADMIN-001 HELLO-001", "of two HEALTHZ frames sent together only the first is answered, then the connection closes", case_admin_one_request, "admin"),
    ROW_WORD("broker/admin/one-request/hello-after", CORE, "ADMIN-001 HELLO-001", "a Hello sent after an admin reply on the same connection gets nothing", case_admin_one_request, "hello"),
    ROW_WORD("broker/admin/narrowing/payload-protocol", CORE, "WIRE-006 ADMIN-001", "payload_protocol 2^32+0xAD01 keeps its low 32 bits and is answered as admin", case_admin_narrowing, "protocol"),
    ROW_WORD("broker/admin/narrowing/verb", CORE, "WIRE-006 ADMIN-002", "verb 2^32+4 keeps its low 32 bits: HEALTHZ", case_admin_narrowing, "verb"),
};

CASE_TABLE(cases_admin, rows);
