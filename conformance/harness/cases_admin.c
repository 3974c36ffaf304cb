/*
 * cases_admin.c - broker/admin/...: admin verbs on the control socket
 * (payload_protocol 0xAD01, spec/hello.md ADMIN-*): the reply envelope,
 * kind, exit code and body of each verb.
 */
#include <stdio.h>
#include <string.h>

#include "cases.h"

/* What an admin verb must answer. */
typedef struct admin_variant {
    int32_t verb;
    bool json;
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

void admin_exchange(cctx *c, int32_t verb, bool json, rpb_frame *req, hreply *r)
{
    rpb_admin_request ar;
    rpb_msg_init(&rpb_admin_request_desc, &ar);
    ar.verb = verb;
    ar.json = json;
    sbuf payload = SBUF_INIT, s = SBUF_INIT;
    stim_encode(&payload, &rpb_admin_request_desc, &ar);
    stim_frame_base(req);
    req->payload_protocol = RPB_PP_ADMIN;
    req->request_id = 44;
    req->payload.data = payload.data;
    req->payload.len = payload.len;
    stim_frame(&s, req);
    req->payload.data = NULL; /* payload is freed below */
    req->payload.len = 0;
    char label[80];
    const char *vn = rpb_enum_name(&rpb_admin_verb_enum, verb);
    snprintf(label, sizeof label, "admin request %s%s", vn ? vn : "(unknown verb)", json ? " json" : "");
    hc_exchange(c, NULL, label, &s, r);
    sb_free(&payload);
    sb_free(&s);
}

static void case_admin(cctx *c)
{
    const admin_variant *v = c->cs->arg.admin;
    rpb_frame f;
    hreply r;
    admin_exchange(c, v->verb, v->json, &f, &r);
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
    if (v->content_type && !rpb_slice_eq_cstr(a->content_type, v->content_type)) {
        sbuf q = SBUF_INIT;
        sb_quoted(&q, a->content_type.data, a->content_type.len, 80);
        c_fail(c, "expected content_type \"%s\"; observed %s", v->content_type, sb_str(&q));
        sb_free(&q);
    }
out:
    hr_free(&r);
}

/* A row: the verb and what it must answer (admin_variant members). */
#define ADMIN(id, tier, reqs, title, ...)                                                                    \
    {id, tier, reqs, title, case_admin, {.admin = &(const admin_variant){__VA_ARGS__}}, NULL, 0}
/* A TEXT reply with an exact body and exit code. */
#define TEXT(v, exit, body) .verb = (v), .want_kind = RPB_ADMIN_REPLY_KIND_TEXT, .want_exit = (exit), .want_body = (body)
/* A JSON reply (optional: a MAY verb) holding the given substrings. */
#define JSON(v, opt, ...)                                                                                    \
    .verb = (v), .json = true, .want_kind = RPB_ADMIN_REPLY_KIND_JSON, .contains = {__VA_ARGS__},             \
    .content_type = "application/json", .optional = (opt)

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
};

CASE_TABLE(cases_admin, rows);
