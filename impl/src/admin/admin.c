/*
 * Admin verbs over payload_protocol 0xAD01 (spec/hello.md ADMIN-001..
 * ADMIN-010): the responder and the client-side codecs.
 */
#include "rpb/admin.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rpb/error.h"
#include "rpb/buf.h"
#include "rpb/json.h"

#define CT_TEXT "text/plain"
#define CT_JSON "application/json"
#define CT_OPENMETRICS "application/openmetrics-text"

static bool accepting_hello(const rpb_admin_context *ctx)
{
    return rpb_hello_handler_flags(ctx->hello) == 0;
}

/* The launch registry, when the caller's context has the field
 * (rpb_admin_context is size-versioned) and the broker launches. */
static const rpb_launch_registry *launch_registry(const rpb_admin_context *ctx)
{
    return ctx->size >= offsetof(rpb_admin_context, now_ms) + sizeof ctx->now_ms ? ctx->launch : NULL;
}

static const char *launch_state_name(rpb_launch_state s)
{
    return s == RPB_LAUNCH_READY ? "ready" : s == RPB_LAUNCH_STARTING ? "starting" : "idle";
}

/* Appends formatted text to buf; RPB_OK or RPB_ERR_NO_MEMORY. */
static int buf_printf(rpb_buf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int buf_printf(rpb_buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return RPB_ERR_NO_MEMORY;
    if (rpb_buf_reserve(buf, (size_t)n + 1) != RPB_OK) /* vsnprintf's NUL */
        return RPB_ERR_NO_MEMORY;
    va_start(ap, fmt);
    vsnprintf((char *)buf->data + buf->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)n;
    return RPB_OK;
}

/* ---- JSON bodies ---- */

static void json_head(rpb_json_writer *w, const rpb_admin_context *ctx, const char *command)
{
    rpb_json_begin_object(w);
    rpb_json_key(w, "schema_version");
    rpb_json_uint(w, 1);
    rpb_json_key(w, "command");
    rpb_json_cstring(w, command);
    rpb_json_key(w, "generated_at_unix_ms");
    rpb_json_int(w, ctx->now_unix_ms);
    rpb_json_key(w, "broker_instance");
    rpb_json_cstring(w, ctx->broker_instance);
}

/* ADMIN-012: the first members of a STATUS backend. */
static void json_backend_head(rpb_json_writer *w, rpb_slice name, rpb_slice version, int64_t pid, rpb_slice pipe)
{
    rpb_json_key(w, "service_name");
    rpb_json_string(w, name);
    rpb_json_key(w, "service_version");
    rpb_json_string(w, version);
    rpb_json_key(w, "pid");
    rpb_json_int(w, pid);
    rpb_json_key(w, "backend_pipe");
    rpb_json_string(w, pipe);
}

static void json_service(rpb_json_writer *w, const rpb_service *s)
{
    rpb_json_begin_object(w);
    json_backend_head(w, s->name, s->daemon_version, 0, s->backend_pipe);
    rpb_json_key(w, "min_version");
    rpb_json_string(w, s->min_version);
    rpb_json_key(w, "version_allow_list");
    rpb_json_begin_array(w);
    for (const rpb_str_node *n = s->allow_list.head; n != NULL; n = n->next)
        rpb_json_string(w, n->value);
    rpb_json_end_array(w);
    rpb_json_key(w, "server_capabilities");
    rpb_json_uint(w, s->server_capabilities);
    rpb_json_key(w, "last_active_unix_ms");
    rpb_json_uint(w, 0);
    /* a launched service's own backends are listed beside it (LAUNCH-013) */
    rpb_json_key(w, "state");
    rpb_json_cstring(w, s->backend_pipe.len > 0 ? "registered" : "on-demand");
    rpb_json_end_object(w);
}

/* LAUNCH-013: the budget members of a launch key. */
static void json_budget(rpb_json_writer *w, const rpb_admin_context *ctx, const rpb_launch_slot *slot)
{
    uint64_t resets_in;
    rpb_json_key(w, "spawn_budget_remaining");
    rpb_json_uint(w, rpb_launch_budget_left(ctx->launch, slot, ctx->now_ms, &resets_in));
    rpb_json_key(w, "spawn_budget_resets_in_ms");
    rpb_json_uint(w, resets_in);
}

/* LAUNCH-013: a backend the broker launched (or is launching), in the
 * members of a STATUS backend (ADMIN-012) and its launch's. */
static void json_launched(rpb_json_writer *w, const rpb_admin_context *ctx, const rpb_launch_slot *slot)
{
    rpb_json_begin_object(w);
    json_backend_head(w, rpb_slice_cstr(slot->service), rpb_slice_cstr(slot->version), slot->pid,
                      rpb_slice_cstr(slot->endpoint));
    rpb_json_key(w, "last_active_unix_ms");
    rpb_json_uint(w, 0);
    rpb_json_key(w, "state");
    rpb_json_cstring(w, launch_state_name(slot->state));
    rpb_json_key(w, "instance");
    rpb_json_cstring(w, slot->instance);
    rpb_json_key(w, "launches");
    rpb_json_uint(w, slot->launches);
    json_budget(w, ctx, slot);
    rpb_json_end_object(w);
}

/* Services whose name equals filter (all when filter is NULL), then the
 * backends launched for them that run or are starting (LAUNCH-013). */
static void json_services(rpb_json_writer *w, const rpb_admin_context *ctx, const rpb_slice *filter)
{
    const rpb_service_table *t = rpb_hello_handler_services(ctx->hello);
    rpb_json_begin_array(w);
    for (size_t i = 0; i < rpb_service_table_count(t); i++) {
        const rpb_service *s = rpb_service_table_at(t, i);
        if (filter == NULL || rpb_slice_eq(s->name, *filter))
            json_service(w, s);
    }
    const rpb_launch_registry *reg = launch_registry(ctx);
    for (size_t i = 0; reg != NULL && i < rpb_launch_count(reg); i++) {
        const rpb_launch_slot *slot = rpb_launch_at(reg, i);
        if (slot->state != RPB_LAUNCH_IDLE && (filter == NULL || rpb_slice_eq_cstr(*filter, slot->service)))
            json_launched(w, ctx, slot);
    }
    rpb_json_end_array(w);
}

/* LAUNCH-013: DUMP's spawn_budgets, one object per launch key. */
static void json_spawn_budgets(rpb_json_writer *w, const rpb_admin_context *ctx)
{
    const rpb_launch_registry *reg = launch_registry(ctx);
    rpb_json_begin_array(w);
    for (size_t i = 0; reg != NULL && i < rpb_launch_count(reg); i++) {
        const rpb_launch_slot *slot = rpb_launch_at(reg, i);
        rpb_json_begin_object(w);
        rpb_json_key(w, "instance");
        rpb_json_cstring(w, slot->instance);
        rpb_json_key(w, "service_name");
        rpb_json_cstring(w, slot->service);
        rpb_json_key(w, "service_version");
        rpb_json_cstring(w, slot->version);
        rpb_json_key(w, "state");
        rpb_json_cstring(w, launch_state_name(slot->state));
        json_budget(w, ctx, slot);
        rpb_json_end_object(w);
    }
    rpb_json_end_array(w);
}

static void json_config(rpb_json_writer *w, const rpb_admin_context *ctx)
{
    uint32_t rate_max, rate_window;
    rpb_hello_handler_rate(ctx->hello, &rate_max, &rate_window);
    rpb_json_begin_object(w);
    rpb_json_key(w, "max_hello_bytes");
    rpb_json_uint(w, RPB_MAX_HELLO_BYTES);
    rpb_json_key(w, "max_frame_bytes");
    rpb_json_uint(w, RPB_MAX_FRAME_BYTES);
    rpb_json_key(w, "admin_payload_protocol");
    rpb_json_cstring(w, "0xAD01");
    rpb_json_key(w, "protocol_version");
    rpb_json_uint(w, RPB_PROTOCOL_VERSION);
    rpb_json_key(w, "socket_path");
    rpb_json_cstring(w, ctx->socket_path);
    rpb_json_key(w, "services_dir");
    rpb_json_cstring(w, ctx->services_dir);
    rpb_json_key(w, "handshake_timeout_ms");
    rpb_json_uint(w, ctx->handshake_timeout_ms);
    rpb_json_key(w, "rate_limit_max");
    rpb_json_uint(w, rate_max);
    rpb_json_key(w, "rate_limit_window_ms");
    rpb_json_uint(w, rate_window);
    rpb_json_key(w, "max_connections");
    rpb_json_uint(w, ctx->max_connections);
    rpb_json_key(w, "drain_timeout_ms");
    rpb_json_uint(w, ctx->drain_timeout_ms);
    rpb_json_end_object(w);
}

/* ADMIN-012 (STATUS json), ADMIN-006, ADMIN-009: the JSON verbs, each with
 * the members of ADMIN-016; only STATUS looks at the json flag (ADMIN-015). */
static int json_body(const rpb_admin_context *ctx, const rpb_admin_request *req, rpb_buf *body)
{
    unsigned flags = rpb_hello_handler_flags(ctx->hello);
    rpb_json_writer w;
    rpb_json_writer_init_buf(&w, body, 0);
    switch (req->verb) {
    case RPB_ADMIN_VERB_STATUS: {
        const rpb_hello_stats *st = rpb_hello_handler_stats(ctx->hello);
        json_head(&w, ctx, "status");
        rpb_json_key(&w, "broker_pid");
        rpb_json_uint(&w, ctx->broker_pid);
        rpb_json_key(&w, "uptime_seconds");
        rpb_json_int(&w, (ctx->now_unix_ms - ctx->started_unix_ms) / 1000);
        rpb_json_key(&w, "accepting_hello");
        rpb_json_bool(&w, accepting_hello(ctx));
        rpb_json_key(&w, "draining");
        rpb_json_bool(&w, (flags & RPB_HELLO_DRAINING) != 0);
        rpb_json_key(&w, "connections_open");
        rpb_json_uint(&w, ctx->connections_open);
        rpb_json_key(&w, "hellos_negotiated");
        rpb_json_uint(&w, st->negotiated);
        rpb_json_key(&w, "hellos_refused");
        rpb_json_uint(&w, st->refused);
        rpb_json_key(&w, "fd_pressure");
        rpb_json_begin_object(&w);
        rpb_json_key(&w, "demoted");
        rpb_json_bool(&w, (flags & RPB_HELLO_FD_PRESSURE) != 0);
        rpb_json_end_object(&w);
        rpb_json_key(&w, "backends");
        json_services(&w, ctx, NULL);
        break;
    }
    case RPB_ADMIN_VERB_DUMP:
        json_head(&w, ctx, "dump");
        rpb_json_key(&w, "effective_config");
        json_config(&w, ctx);
        rpb_json_key(&w, "backend_table");
        json_services(&w, ctx, NULL);
        rpb_json_key(&w, "spawn_budgets");
        json_spawn_budgets(&w, ctx);
        rpb_json_key(&w, "recent_lifecycle_events");
        rpb_json_begin_array(&w);
        rpb_json_end_array(&w);
        break;
    case RPB_ADMIN_VERB_LIST_INSTANCES:
        json_head(&w, ctx, "list-instances");
        rpb_json_key(&w, "instances");
        rpb_json_begin_array(&w);
        rpb_json_begin_object(&w);
        rpb_json_key(&w, "broker_instance");
        rpb_json_cstring(&w, ctx->broker_instance);
        rpb_json_key(&w, "pipe");
        rpb_json_cstring(&w, ctx->socket_path);
        rpb_json_key(&w, "pid");
        rpb_json_uint(&w, ctx->broker_pid);
        rpb_json_key(&w, "state");
        rpb_json_cstring(&w, accepting_hello(ctx) ? "running" : "not-serving");
        rpb_json_end_object(&w);
        rpb_json_end_array(&w);
        break;
    case RPB_ADMIN_VERB_BACKEND_HEALTH: {
        rpb_slice name = req->service_name.len ? req->service_name : rpb_slice_cstr("unknown");
        json_head(&w, ctx, "backend-health");
        rpb_json_key(&w, "service_name");
        rpb_json_string(&w, name);
        rpb_json_key(&w, "backends");
        json_services(&w, ctx, &name);
        break;
    }
    case RPB_ADMIN_VERB_CONFIG:
        json_head(&w, ctx, "config");
        rpb_json_key(&w, "values");
        json_config(&w, ctx);
        break;
    default: /* RPB_ADMIN_VERB_DIAGNOSE */
        json_head(&w, ctx, "diagnose");
        rpb_json_key(&w, "output_path");
        rpb_json_string(&w, req->output_path.len ? req->output_path
                                                 : rpb_slice_cstr("bundle.tar.gz"));
        rpb_json_key(&w, "created");
        rpb_json_bool(&w, false);
        break;
    }
    rpb_json_end_object(&w);
    int rc = rpb_json_writer_finish(&w);
    return rc == RPB_OK ? buf_printf(body, "\n") : rc;
}

/* ADMIN-005: OpenMetrics text, names under running_process_broker_v1_.
 * ADMIN-011: upstream's eight frozen families first, in their order (the
 * labelled ones without samples, as upstream writes them), then
 * rpb-broker's own.  fd_usage_ratio is open connections over
 * --max-connections, the broker's descriptor budget. */
static int metrics_body(const rpb_admin_context *ctx, rpb_buf *b)
{
    const rpb_hello_stats *st = rpb_hello_handler_stats(ctx->hello);
    unsigned flags = rpb_hello_handler_flags(ctx->hello);
    double fd_ratio = ctx->max_connections ? (double)ctx->connections_open / ctx->max_connections : 0.0;
    int64_t uptime_s = ctx->now_unix_ms > ctx->started_unix_ms ? (ctx->now_unix_ms - ctx->started_unix_ms) / 1000 : 0;
#define P "running_process_broker_v1_"
    int rc = buf_printf(b,
                        "# TYPE " P "hello_total counter\n"
                        "# TYPE " P "hello_duration_seconds histogram\n"
                        "# TYPE " P "active_backends gauge\n"
                        "# TYPE " P "spawn_attempts_total counter\n"
                        "# TYPE " P "spawn_budget_remaining gauge\n"
                        "# TYPE " P "connections_open gauge\n" P "connections_open %" PRIu64 "\n"
                        "# TYPE " P "fd_usage_ratio gauge\n" P "fd_usage_ratio %.3f\n"
                        "# TYPE " P "uptime_seconds gauge\n" P "uptime_seconds %" PRId64 "\n"
                        "# TYPE " P "connections counter\n" P "connections_total %" PRIu64 "\n"
                        "# TYPE " P "connections_dropped counter\n" P
                        "connections_dropped_total %" PRIu64 "\n"
                        "# TYPE " P "hello_negotiated counter\n" P
                        "hello_negotiated_total %" PRIu64 "\n"
                        "# TYPE " P "hello_refused counter\n",
                        ctx->connections_open, fd_ratio, uptime_s, ctx->connections_total,
                        ctx->connections_dropped, st->negotiated);
    for (int r = 1; rc == RPB_OK && r < RPB_REFUSAL_COUNT; r++)
        if (st->refused_by[r] > 0)
            rc = buf_printf(b, P "hello_refused_total{reason=\"%s\"} %" PRIu64 "\n",
                            rpb_refusal_name((rpb_refusal)r), st->refused_by[r]);
    if (rc == RPB_OK)
        rc = buf_printf(b,
                        "# TYPE " P "framing_refused counter\n" P
                        "framing_refused_total %" PRIu64 "\n"
                        "# TYPE " P "handshake_deadline_expired counter\n" P
                        "handshake_deadline_expired_total %" PRIu64 "\n"
                        "# TYPE " P "admin_requests counter\n" P
                        "admin_requests_total %" PRIu64 "\n"
                        "# TYPE " P "services_loaded gauge\n" P "services_loaded %zu\n"
                        "# TYPE " P "services_rejected gauge\n" P "services_rejected %" PRIu64 "\n"
                        "# TYPE " P "fd_pressure_demoted gauge\n" P "fd_pressure_demoted %d\n",
                        ctx->framing_refused, ctx->deadline_expired, ctx->admin_requests,
                        rpb_service_table_count(rpb_hello_handler_services(ctx->hello)),
                        ctx->services_rejected, (flags & RPB_HELLO_FD_PRESSURE) != 0);
    /* LAUNCH-013: the backends running for launched services, and the
     * successful launches so far */
    const rpb_launch_registry *reg = launch_registry(ctx);
    if (rc == RPB_OK && reg != NULL) {
        uint64_t running = 0, launches = 0;
        for (size_t i = 0; i < rpb_launch_count(reg); i++) {
            running += rpb_launch_at(reg, i)->state == RPB_LAUNCH_READY;
            launches += rpb_launch_at(reg, i)->launches;
        }
        rc = buf_printf(b,
                        "# TYPE " P "launched_backends gauge\n" P "launched_backends %" PRIu64 "\n"
                        "# TYPE " P "launches counter\n" P "launches_total %" PRIu64 "\n",
                        running, launches);
    }
#undef P
    return rc == RPB_OK ? buf_printf(b, "# EOF\n") : rc;
}

/* Fills reply (body in *body) for a well-formed request. */
static int answer(const rpb_admin_context *ctx, const rpb_admin_request *req, rpb_admin_reply *reply,
                  rpb_buf *body)
{
    reply->kind = RPB_ADMIN_REPLY_KIND_TEXT;
    reply->content_type = rpb_slice_cstr(CT_TEXT); /* ADMIN-014 */
    switch (req->verb) {
    case RPB_ADMIN_VERB_HEALTHZ: /* ADMIN-002 */
        return buf_printf(body, "ok\n");
    case RPB_ADMIN_VERB_READYZ: /* ADMIN-003 */
        reply->exit_code = accepting_hello(ctx) ? 0 : 1;
        return buf_printf(body, accepting_hello(ctx) ? "ready\n" : "not ready\n");
    case RPB_ADMIN_VERB_STATUS: /* ADMIN-004 */
        if (!req->json)
            return buf_printf(body, "broker_instance: %s\naccepting_hello: %s\n",
                              ctx->broker_instance, accepting_hello(ctx) ? "true" : "false");
        /* fall through */
    case RPB_ADMIN_VERB_DUMP:
    case RPB_ADMIN_VERB_LIST_INSTANCES:
    case RPB_ADMIN_VERB_BACKEND_HEALTH:
    case RPB_ADMIN_VERB_CONFIG:
    case RPB_ADMIN_VERB_DIAGNOSE:
        reply->kind = RPB_ADMIN_REPLY_KIND_JSON;
        reply->content_type = rpb_slice_cstr(CT_JSON); /* ADMIN-013 */
        return json_body(ctx, req, body);
    case RPB_ADMIN_VERB_METRICS:
        reply->kind = RPB_ADMIN_REPLY_KIND_OPENMETRICS;
        reply->content_type = rpb_slice_cstr(CT_OPENMETRICS);
        return metrics_body(ctx, body);
    default: /* ADMIN-007: UNSPECIFIED and unknown verbs */
        reply->exit_code = 2;
        return buf_printf(body, "unsupported admin verb\n");
    }
}

int rpb_admin_respond(const rpb_admin_context *ctx, const rpb_frame *request, uint8_t *out,
                      size_t cap, size_t *written, rpb_admin_outcome *oc)
{
    if (ctx->size < RPB_ADMIN_CONTEXT_V1_SIZE)
        return RPB_ERR_INVALID_ARGUMENT;
    rpb_admin_request req;
    rpb_admin_reply reply;
    rpb_buf body = {0};
    rpb_msg_init(&rpb_admin_reply_desc, &reply);
    rpb_msg_init(&rpb_admin_request_desc, &req);
    oc->verb = -1;
    oc->exit_code = 0;

    /* ADMIN-001, ENV-010: envelope first, then the AdminRequest */
    oc->error = rpb_envelope_check(request, RPB_SITE_ADMIN_REQUEST, 0);
    if (oc->error == RPB_OK)
        oc->error = rpb_decode(&rpb_admin_request_desc, request->payload.data, request->payload.len,
                               &req, NULL, 0, NULL);
    int rc;
    if (oc->error != RPB_OK) {
        /* ADMIN-008: answered, never fatal */
        reply.kind = RPB_ADMIN_REPLY_KIND_TEXT;
        reply.content_type = rpb_slice_cstr(CT_TEXT);
        reply.exit_code = 2;
        rc = buf_printf(&body, "malformed admin request: %s\n", rpb_errname(oc->error));
    } else {
        oc->verb = req.verb;
        rc = answer(ctx, &req, &reply, &body);
    }
    oc->exit_code = reply.exit_code;
    if (rc != RPB_OK) {
        rpb_buf_free(&body);
        return rc;
    }
    reply.body = (rpb_slice){body.data, body.len};

    /* ADMIN-001: RESPONSE on 0xAD01 echoing request_id and trace */
    rpb_frame frame = rpb_frame_response_to(request, (rpb_slice){NULL, 0});
    frame.payload_protocol = RPB_PP_ADMIN;
    rc = rpb_frame_encode_msg(&frame, &rpb_admin_reply_desc, &reply, out, cap, written);
    rpb_buf_free(&body);
    return rc;
}

/* ---- client side ---- */

int rpb_admin_request_encode(int32_t verb, bool json, rpb_slice service_name, uint64_t request_id,
                             uint8_t *out, size_t cap, size_t *written)
{
    if (service_name.len > 256)
        return RPB_ERR_INVALID_ARGUMENT;
    rpb_admin_request req;
    rpb_msg_init(&rpb_admin_request_desc, &req);
    req.verb = verb;
    req.json = json;
    req.service_name = service_name;
    /* verb, json and a name of at most 256 bytes: far below the 64 KiB
     * first-frame cap (HELLO-068) */
    rpb_frame frame = rpb_frame_request(RPB_PP_ADMIN, (rpb_slice){NULL, 0});
    frame.request_id = request_id;
    return rpb_frame_encode_msg(&frame, &rpb_admin_request_desc, &req, out, cap, written);
}

int rpb_admin_reply_decode(const uint8_t *body, size_t len, rpb_frame *frame,
                           rpb_admin_reply *reply)
{
    rpb_msg_init(&rpb_frame_desc, frame);
    rpb_msg_init(&rpb_admin_reply_desc, reply);
    int rc = rpb_decode(&rpb_frame_desc, body, len, frame, NULL, 0, NULL);
    if (rc == RPB_OK)
        rc = rpb_envelope_check(frame, RPB_SITE_ADMIN_REPLY, 0);
    if (rc == RPB_OK)
        rc = rpb_decode(&rpb_admin_reply_desc, frame->payload.data, frame->payload.len, reply,
                        NULL, 0, NULL);
    return rc;
}
