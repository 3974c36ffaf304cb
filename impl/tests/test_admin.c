/*
 * test_admin.c - admin verbs over payload_protocol 0xAD01 (spec/hello.md
 * ADMIN-001..ADMIN-010): the responder's bodies, kinds and exit codes, the
 * reply frame, malformed requests, and the client-side codecs.
 */
#include <stdlib.h>
#include <string.h>

#include "rpb/admin.h"
#include "rpb/json.h"
#include "rpb/rpb.h"
#include "testutil.h"

static rpb_hello_handler *handler;
static rpb_admin_context ctx;
static uint8_t out[RPB_ADMIN_REPLY_MAX];

static void setup(void)
{
    rpb_hello_config cfg;
    rpb_hello_config_default(&cfg);
    handler = rpb_hello_handler_new(&cfg);
    rpb_service_table *t = rpb_service_table_new();
    rpb_service svc = {.name = rpb_slice_cstr("zccache"), .backend_pipe = rpb_slice_cstr("/b.sock"),
                       .daemon_version = rpb_slice_cstr("1.11.20")};
    rpb_service_table_add(t, &svc, NULL);
    rpb_hello_handler_set_services(handler, t);
    rpb_admin_context_init(&ctx);
    ctx.hello = handler;
    ctx.broker_instance = "shared";
    ctx.broker_pid = 77;
    ctx.now_unix_ms = 5000;
    ctx.started_unix_ms = 2000;
    ctx.socket_path = "/run/b.sock";
    ctx.services_dir = "/etc/svc";
    ctx.connections_open = 3;
    ctx.services_rejected = 2;
}

/* Sends AdminRequest{verb, json, service} and decodes the reply. */
static rpb_admin_outcome ask(int32_t verb, bool json, const char *service, rpb_admin_reply *reply,
                             rpb_frame *frame)
{
    uint8_t req[256];
    size_t len, w, consumed;
    CU_ASSERT_FATAL(rpb_admin_request_encode(verb, json, rpb_slice_cstr(service), 44, req,
                                             sizeof req, &len) == RPB_OK);
    rpb_frame f;
    CU_ASSERT_FATAL(rpb_frame_decode(req, len, RPB_MAX_FRAME_BYTES, &f, &consumed, NULL) == RPB_OK);
    f.traceparent = rpb_slice_cstr("00-aa-bb-01");
    rpb_admin_outcome oc;
    CU_ASSERT_FATAL(rpb_admin_respond(&ctx, &f, out, sizeof out, &w, &oc) == RPB_OK);
    rpb_slice body;
    CU_ASSERT_FATAL(rpb_frame_split(out, w, RPB_MAX_FRAME_BYTES, &body, &consumed, NULL) == RPB_OK);
    CU_ASSERT_FATAL(rpb_admin_reply_decode(body.data, body.len, frame, reply) == RPB_OK);
    return oc;
}

static bool body_is(const rpb_admin_reply *r, const char *s) { return rpb_slice_eq_cstr(r->body, s); }

/* ADMIN-002, ADMIN-003; ADMIN-014 (a TEXT reply is text/plain) */
static void test_healthz_readyz(void)
{
    rpb_admin_reply r;
    rpb_frame f;
    rpb_admin_outcome oc = ask(RPB_ADMIN_VERB_HEALTHZ, false, "", &r, &f);
    CU_ASSERT_TRUE(body_is(&r, "ok\n"));
    CU_ASSERT_EQUAL(r.kind, RPB_ADMIN_REPLY_KIND_TEXT);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(r.content_type, "text/plain"));
    CU_ASSERT_EQUAL(r.exit_code, 0);
    CU_ASSERT_EQUAL(oc.verb, RPB_ADMIN_VERB_HEALTHZ);
    ask(RPB_ADMIN_VERB_READYZ, false, "", &r, &f);
    CU_ASSERT_TRUE(body_is(&r, "ready\n"));
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(r.content_type, "text/plain"));
    CU_ASSERT_EQUAL(r.exit_code, 0);
    rpb_hello_handler_set_flags(handler, RPB_HELLO_DRAINING);
    oc = ask(RPB_ADMIN_VERB_READYZ, false, "", &r, &f);
    CU_ASSERT_TRUE(body_is(&r, "not ready\n"));
    CU_ASSERT_EQUAL(r.exit_code, 1);
    CU_ASSERT_EQUAL(oc.exit_code, 1);
    rpb_hello_handler_set_flags(handler, 0);
}

static void test_reply_frame_echoes(void) /* ADMIN-001 */
{
    rpb_admin_reply r;
    rpb_frame f;
    ask(RPB_ADMIN_VERB_HEALTHZ, false, "", &r, &f);
    CU_ASSERT_EQUAL(f.envelope_version, 1);
    CU_ASSERT_EQUAL(f.kind, RPB_FRAME_KIND_RESPONSE);
    CU_ASSERT_EQUAL(f.payload_protocol, RPB_PP_ADMIN);
    CU_ASSERT_EQUAL(f.request_id, 44);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(f.traceparent, "00-aa-bb-01"));
    CU_ASSERT_EQUAL(f.deadline_unix_ms, 0);
}

/* ADMIN-004 (text), ADMIN-012 (JSON members and types), ADMIN-013 */
static void test_status_text_and_json(void)
{
    rpb_admin_reply r;
    rpb_frame f;
    ask(RPB_ADMIN_VERB_STATUS, false, "", &r, &f);
    CU_ASSERT_TRUE(body_is(&r, "broker_instance: shared\naccepting_hello: true\n"));
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(r.content_type, "text/plain")); /* ADMIN-014 */
    rpb_hello_handler_set_flags(handler, RPB_HELLO_FD_PRESSURE);
    ask(RPB_ADMIN_VERB_STATUS, true, "", &r, &f);
    rpb_hello_handler_set_flags(handler, 0);
    CU_ASSERT_EQUAL(r.kind, RPB_ADMIN_REPLY_KIND_JSON);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(r.content_type, "application/json"));
    CU_ASSERT_EQUAL(r.exit_code, 0);
    rpb_json_doc doc;
    CU_ASSERT_EQUAL_FATAL(rpb_json_parse((const char *)r.body.data, r.body.len, &doc, NULL), RPB_OK);
    uint64_t v;
    CU_ASSERT_TRUE(rpb_json_as_u64(rpb_json_get(doc.root, "schema_version"), &v) && v == 1);
    CU_ASSERT_TRUE(rpb_json_is_string(rpb_json_get(doc.root, "command"), "status"));
    CU_ASSERT_TRUE(rpb_json_as_u64(rpb_json_get(doc.root, "generated_at_unix_ms"), &v) && v == 5000);
    CU_ASSERT_TRUE(rpb_json_is_string(rpb_json_get(doc.root, "broker_instance"), "shared"));
    CU_ASSERT_TRUE(rpb_json_as_u64(rpb_json_get(doc.root, "broker_pid"), &v) && v == 77);
    CU_ASSERT_TRUE(rpb_json_as_u64(rpb_json_get(doc.root, "uptime_seconds"), &v) && v == 3);
    CU_ASSERT_TRUE(rpb_json_as_u64(rpb_json_get(doc.root, "connections_open"), &v) && v == 3);
    const rpb_json_value *acc = rpb_json_get(doc.root, "accepting_hello");
    CU_ASSERT_TRUE(acc && acc->type == RPB_JSON_BOOL && !acc->u.boolean);
    const rpb_json_value *dem = rpb_json_get(rpb_json_get(doc.root, "fd_pressure"), "demoted");
    CU_ASSERT_TRUE(dem && dem->type == RPB_JSON_BOOL && dem->u.boolean);
    const rpb_json_value *b = rpb_json_get(doc.root, "backends");
    CU_ASSERT_TRUE_FATAL(b && b->type == RPB_JSON_ARRAY && b->u.children.count == 1);
    CU_ASSERT_TRUE(rpb_json_is_string(rpb_json_get(b->u.children.head, "service_name"), "zccache"));
    CU_ASSERT_TRUE(rpb_json_is_string(rpb_json_get(b->u.children.head, "backend_pipe"), "/b.sock"));
    CU_ASSERT_TRUE(rpb_json_is_string(rpb_json_get(b->u.children.head, "service_version"), "1.11.20"));
    CU_ASSERT_TRUE(rpb_json_as_u64(rpb_json_get(b->u.children.head, "pid"), &v));
    CU_ASSERT_TRUE(rpb_json_as_u64(rpb_json_get(b->u.children.head, "last_active_unix_ms"), &v));
    const rpb_json_value *state = rpb_json_get(b->u.children.head, "state");
    CU_ASSERT_TRUE(state && state->type == RPB_JSON_STRING);
    rpb_json_doc_free(&doc);
}

static void test_metrics(void) /* ADMIN-005, ADMIN-011 */
{
    rpb_admin_reply r;
    rpb_frame f;
    ask(RPB_ADMIN_VERB_METRICS, false, "", &r, &f);
    CU_ASSERT_EQUAL(r.kind, RPB_ADMIN_REPLY_KIND_OPENMETRICS);
    CU_ASSERT_TRUE(rpb_slice_eq_cstr(r.content_type, "application/openmetrics-text"));
    char *text = strndup((const char *)r.body.data, r.body.len);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "# TYPE running_process_broker_v1_connections_open gauge\n"
                                        "running_process_broker_v1_connections_open 3\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nrunning_process_broker_v1_services_loaded 1\n"
                                        "# TYPE running_process_broker_v1_services_rejected gauge\n"
                                        "running_process_broker_v1_services_rejected 2\n"));
    CU_ASSERT(r.body.len >= 6 && strcmp(text + r.body.len - 6, "# EOF\n") == 0);
    /* upstream's eight frozen families come first, exactly (no max_connections
     * in the context: ratio 0; uptime 5000 - 2000 ms) */
#define P "running_process_broker_v1_"
    static const char frozen[] = "# TYPE " P "hello_total counter\n"
                                 "# TYPE " P "hello_duration_seconds histogram\n"
                                 "# TYPE " P "active_backends gauge\n"
                                 "# TYPE " P "spawn_attempts_total counter\n"
                                 "# TYPE " P "spawn_budget_remaining gauge\n"
                                 "# TYPE " P "connections_open gauge\n" P "connections_open 3\n"
                                 "# TYPE " P "fd_usage_ratio gauge\n" P "fd_usage_ratio 0.000\n"
                                 "# TYPE " P "uptime_seconds gauge\n" P "uptime_seconds 3\n";
#undef P
    CU_ASSERT_EQUAL(strncmp(text, frozen, sizeof frozen - 1), 0);
    CU_ASSERT_EQUAL(r.exit_code, 0);
    /* every sample and every # TYPE names a running_process_broker_v1_ metric */
    static const char prefix[] = "running_process_broker_v1_";
    int lines = 0, stray = 0;
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n"), lines++) {
        if (strcmp(line, "# EOF") == 0)
            continue;
        const char *name = strncmp(line, "# TYPE ", 7) == 0 ? line + 7 : line;
        stray += strncmp(name, prefix, sizeof prefix - 1) != 0;
    }
    CU_ASSERT(lines > 2);
    CU_ASSERT_EQUAL(stray, 0);
    free(text);
}

/* ADMIN-006, ADMIN-009; ADMIN-015 (the json flag changes nothing but
 * STATUS), ADMIN-016 (the members every JSON reply carries) */
static void test_config_and_json_verbs(void)
{
    static const struct {
        int32_t verb;
        const char *command;
    } verbs[] = {
        {RPB_ADMIN_VERB_CONFIG, "config"},
        {RPB_ADMIN_VERB_DUMP, "dump"},
        {RPB_ADMIN_VERB_LIST_INSTANCES, "list-instances"},
        {RPB_ADMIN_VERB_BACKEND_HEALTH, "backend-health"},
        {RPB_ADMIN_VERB_DIAGNOSE, "diagnose"},
    };
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++) {
        rpb_admin_reply r;
        rpb_frame f;
        ask(verbs[i].verb, false, "", &r, &f);
        CU_ASSERT_EQUAL(r.kind, RPB_ADMIN_REPLY_KIND_JSON);
        CU_ASSERT_EQUAL(r.exit_code, 0);
        rpb_json_doc doc;
        CU_ASSERT_EQUAL_FATAL(rpb_json_parse((const char *)r.body.data, r.body.len, &doc, NULL),
                              RPB_OK);
        CU_ASSERT_TRUE(rpb_json_is_string(rpb_json_get(doc.root, "command"), verbs[i].command));
        uint64_t schema;
        CU_ASSERT_TRUE(rpb_json_as_u64(rpb_json_get(doc.root, "schema_version"), &schema) &&
                       schema == 1);
        uint64_t at;
        CU_ASSERT_TRUE(rpb_json_as_u64(rpb_json_get(doc.root, "generated_at_unix_ms"), &at) &&
                       at == 5000);
        CU_ASSERT_TRUE(rpb_json_is_string(rpb_json_get(doc.root, "broker_instance"), "shared"));
        if (verbs[i].verb == RPB_ADMIN_VERB_CONFIG) {
            const rpb_json_value *values = rpb_json_get(doc.root, "values");
            uint64_t v;
            CU_ASSERT_TRUE(rpb_json_as_u64(rpb_json_get(values, "max_hello_bytes"), &v) && v == 65536);
            CU_ASSERT_TRUE(rpb_json_is_string(rpb_json_get(values, "admin_payload_protocol"), "0xAD01"));
        }
        if (verbs[i].verb == RPB_ADMIN_VERB_BACKEND_HEALTH)
            CU_ASSERT_TRUE(rpb_json_is_string(rpb_json_get(doc.root, "service_name"), "unknown"));
        if (verbs[i].verb == RPB_ADMIN_VERB_BACKEND_HEALTH)
            CU_ASSERT_EQUAL(rpb_json_get(doc.root, "backends")->u.children.count, 0);
        if (verbs[i].verb == RPB_ADMIN_VERB_DIAGNOSE) {
            CU_ASSERT_TRUE(rpb_json_is_string(rpb_json_get(doc.root, "output_path"), "bundle.tar.gz"));
            const rpb_json_value *created = rpb_json_get(doc.root, "created");
            CU_ASSERT_TRUE(created && created->type == RPB_JSON_BOOL && !created->u.boolean);
        }
        rpb_json_doc_free(&doc);
        char *plain = strndup((const char *)r.body.data, r.body.len);
        rpb_admin_reply rj;
        ask(verbs[i].verb, true, "", &rj, &f);
        CU_ASSERT_EQUAL(rj.kind, RPB_ADMIN_REPLY_KIND_JSON);
        CU_ASSERT_TRUE(rpb_slice_eq_cstr(rj.body, plain));
        free(plain);
    }
    /* BACKEND_HEALTH filters by service_name */
    rpb_admin_reply r;
    rpb_frame f;
    ask(RPB_ADMIN_VERB_BACKEND_HEALTH, false, "zccache", &r, &f);
    rpb_json_doc doc;
    CU_ASSERT_EQUAL_FATAL(rpb_json_parse((const char *)r.body.data, r.body.len, &doc, NULL), RPB_OK);
    CU_ASSERT_EQUAL(rpb_json_get(doc.root, "backends")->u.children.count, 1);
    rpb_json_doc_free(&doc);
}

static void test_unknown_verbs(void) /* ADMIN-007 */
{
    rpb_admin_reply r;
    rpb_frame f;
    int32_t verbs[] = {RPB_ADMIN_VERB_UNSPECIFIED, 42, -3};
    for (size_t i = 0; i < 3; i++) {
        rpb_admin_outcome oc = ask(verbs[i], false, "", &r, &f);
        CU_ASSERT_TRUE(body_is(&r, "unsupported admin verb\n"));
        CU_ASSERT_EQUAL(r.exit_code, 2);
        CU_ASSERT_EQUAL(oc.verb, verbs[i]);
    }
}

static void test_malformed_requests_are_answered(void) /* ADMIN-008 */
{
    static const uint8_t garbage[] = {0xFF, 0xFF, 0xFF};
    rpb_frame bad[3];
    for (int i = 0; i < 3; i++)
        bad[i] = rpb_frame_request(RPB_PP_ADMIN, (rpb_slice){NULL, 0});
    bad[0].kind = RPB_FRAME_KIND_RESPONSE;
    bad[1].payload_encoding = RPB_PAYLOAD_ENCODING_ZSTD;
    bad[2].payload = (rpb_slice){garbage, sizeof garbage};
    static const char *const want[] = {
        "malformed admin request: envelope-kind\n",
        "malformed admin request: envelope-payload-encoding\n",
        "malformed admin request: invalid-varint\n",
    };
    for (int i = 0; i < 3; i++) {
        size_t w, consumed;
        rpb_admin_outcome oc;
        CU_ASSERT_FATAL(rpb_admin_respond(&ctx, &bad[i], out, sizeof out, &w, &oc) == RPB_OK);
        CU_ASSERT_EQUAL(oc.verb, -1);
        CU_ASSERT(oc.error < 0);
        CU_ASSERT_EQUAL(oc.exit_code, 2);
        rpb_slice body;
        rpb_frame f;
        rpb_admin_reply r;
        CU_ASSERT_FATAL(rpb_frame_split(out, w, RPB_MAX_FRAME_BYTES, &body, &consumed, NULL) == RPB_OK);
        CU_ASSERT_FATAL(rpb_admin_reply_decode(body.data, body.len, &f, &r) == RPB_OK);
        CU_ASSERT_TRUE(body_is(&r, want[i]));
    }
}

static void test_client_rejects_hello_style_reply(void) /* ADMIN-010 */
{
    uint8_t buf[256];
    size_t w, consumed;
    CU_ASSERT_FATAL(rpb_hello_refusal_encode(RPB_REFUSAL_FRAME_TOO_LARGE, 0, NULL, buf, sizeof buf,
                                             &w) == RPB_OK);
    rpb_slice body;
    CU_ASSERT_FATAL(rpb_frame_split(buf, w, RPB_MAX_FRAME_BYTES, &body, &consumed, NULL) == RPB_OK);
    rpb_frame f;
    rpb_admin_reply r;
    CU_ASSERT_EQUAL(rpb_admin_reply_decode(body.data, body.len, &f, &r),
                    RPB_ERR_ENVELOPE_PAYLOAD_PROTOCOL);
    static const uint8_t garbage[] = {0xFF};
    CU_ASSERT(rpb_admin_reply_decode(garbage, 1, &f, &r) < 0);
}

static void test_request_encoder_limits(void)
{
    static uint8_t name[257], req[1024];
    memset(name, 'a', sizeof name);
    size_t len;
    CU_ASSERT_EQUAL(rpb_admin_request_encode(RPB_ADMIN_VERB_STATUS, true, (rpb_slice){name, 256}, 1,
                                             req, sizeof req, &len),
                    RPB_OK);
    CU_ASSERT_EQUAL(rpb_admin_request_encode(RPB_ADMIN_VERB_STATUS, true, (rpb_slice){name, 257}, 1,
                                             req, sizeof req, &len),
                    RPB_ERR_INVALID_ARGUMENT);
    /* rpb/error.h: on BUFFER_TOO_SMALL *written is the size needed */
    CU_ASSERT_EQUAL(rpb_admin_request_encode(RPB_ADMIN_VERB_STATUS, true, (rpb_slice){name, 64}, 1,
                                             req, 10, &len),
                    RPB_ERR_BUFFER_TOO_SMALL);
    size_t needed = len;
    CU_ASSERT_EQUAL(rpb_admin_request_encode(RPB_ADMIN_VERB_STATUS, true, (rpb_slice){name, 64}, 1,
                                             req, needed, &len),
                    RPB_OK);
    CU_ASSERT_EQUAL(len, needed);
}

static void test_context_must_be_initialised(void)
{
    rpb_admin_context bare = ctx;
    bare.size = 0; /* filled field by field, never initialised */
    rpb_frame f = rpb_frame_request(RPB_PP_ADMIN, (rpb_slice){NULL, 0});
    size_t w;
    rpb_admin_outcome oc;
    CU_ASSERT_EQUAL(rpb_admin_respond(&bare, &f, out, sizeof out, &w, &oc), RPB_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(ctx.size, sizeof ctx);
    CU_ASSERT(RPB_ADMIN_CONTEXT_V1_SIZE <= sizeof ctx);
}

int main(void)
{
    setup();
    static const tu_test tests[] = {
        {"HEALTHZ and READYZ (ADMIN-002, ADMIN-003)", test_healthz_readyz},
        {"reply frame echoes request (ADMIN-001)", test_reply_frame_echoes},
        {"STATUS text and JSON (ADMIN-004)", test_status_text_and_json},
        {"METRICS OpenMetrics (ADMIN-005)", test_metrics},
        {"CONFIG and the other JSON verbs (ADMIN-006, ADMIN-009)", test_config_and_json_verbs},
        {"unknown verbs exit 2 (ADMIN-007)", test_unknown_verbs},
        {"malformed admin requests are answered (ADMIN-008)", test_malformed_requests_are_answered},
        {"client rejects a Hello-style reply (ADMIN-010)", test_client_rejects_hello_style_reply},
        {"request encoder limits", test_request_encoder_limits},
        {"size-versioned context must be initialised", test_context_must_be_initialised},
        {NULL, NULL},
    };
    int rc = tu_run("admin", tests);
    rpb_hello_handler_free(handler);
    return rc;
}
