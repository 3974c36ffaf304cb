/*
 * test_json.c - the JSON module: strict parser, writer, message mapping
 * (both directions) and hex.
 */
#include <stdlib.h>
#include <string.h>

#include "rpb/rpb.h"
#include "rpb/json.h"
#include "testutil.h"

/* ---- helpers ---- */

static int parse(const char *text, rpb_json_doc *doc, rpb_errinfo *err)
{
    return rpb_json_parse(text, strlen(text), doc, err);
}

/* Parses text, expecting failure at offset. */
static void expect_parse_error(const char *text, size_t offset)
{
    rpb_json_doc doc;
    rpb_errinfo err = {0};
    CU_ASSERT_EQUAL(parse(text, &doc, &err), RPB_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(err.offset, offset);
    CU_ASSERT(err.message[0] != '\0');
    CU_ASSERT_PTR_NULL(doc.root);
}

/* Writes msg compactly into a NUL-terminated malloc'd string. */
static char *message_json(const rpb_msg_desc *desc, const void *msg)
{
    rpb_buf buf = {0};
    rpb_json_writer w;
    rpb_json_writer_init_buf(&w, &buf, 0);
    CU_ASSERT_EQUAL(rpb_json_write_message(&w, desc, msg), RPB_OK);
    CU_ASSERT_EQUAL(rpb_json_writer_finish(&w), RPB_OK);
    return (char *)buf.data;
}

/* Decodes hex as desc and checks its compact JSON is exactly expected. */
static void expect_decoded_json(const rpb_msg_desc *desc, const char *hex, const char *expected)
{
    size_t len;
    uint8_t *in = tu_hex(hex, &len);
    void *msg = calloc(1, desc->size);
    size_t cap = rpb_arena_bound(len);
    void *mem = malloc(cap);
    rpb_arena arena;
    rpb_arena_init(&arena, mem, cap);
    CU_ASSERT_EQUAL_FATAL(rpb_decode(desc, in, len, msg, &arena, 0, NULL), RPB_OK);
    char *json = message_json(desc, msg);
    CU_ASSERT_STRING_EQUAL(json, expected);
    free(json);
    free(mem);
    free(msg);
    free(in);
}

/* JSON text -> desc -> canonical bytes; checks them against hex. */
static void expect_encoded(const rpb_msg_desc *desc, const char *json, const char *hex)
{
    size_t len;
    uint8_t *want = tu_hex(hex, &len);
    rpb_json_doc doc;
    rpb_errinfo err;
    CU_ASSERT_EQUAL_FATAL(parse(json, &doc, &err), RPB_OK);
    void *msg = calloc(1, desc->size);
    size_t cap = rpb_arena_bound(strlen(json));
    void *mem = malloc(cap);
    rpb_arena arena;
    rpb_arena_init(&arena, mem, cap);
    CU_ASSERT_EQUAL_FATAL(rpb_json_to_message(&doc, doc.root, desc, msg, &arena, &err), RPB_OK);
    size_t n = rpb_encoded_len(desc, msg);
    uint8_t *out = malloc(n + 1);
    size_t written = 0;
    CU_ASSERT_EQUAL(rpb_encode(desc, msg, out, n, &written), RPB_OK);
    CU_ASSERT_EQUAL(written, len);
    CU_ASSERT(written == len && memcmp(out, want, len) == 0);
    free(out);
    free(mem);
    free(msg);
    rpb_json_doc_free(&doc);
    free(want);
}

/* JSON text -> desc must fail with code; err must mention needle. */
static void expect_mapping_error(const rpb_msg_desc *desc, const char *json, int code,
                                 const char *needle, size_t offset)
{
    rpb_json_doc doc;
    rpb_errinfo err = {0};
    CU_ASSERT_EQUAL_FATAL(parse(json, &doc, &err), RPB_OK);
    void *msg = calloc(1, desc->size);
    uint8_t mem[4096];
    rpb_arena arena;
    rpb_arena_init(&arena, mem, sizeof mem);
    CU_ASSERT_EQUAL(rpb_json_to_message(&doc, doc.root, desc, msg, &arena, &err), code);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, needle));
    CU_ASSERT_EQUAL(err.offset, offset);
    free(msg);
    rpb_json_doc_free(&doc);
}

/* ---- parser ---- */

static void test_parse_scalars_and_structure(void)
{
    rpb_json_doc doc;
    rpb_errinfo err;
    CU_ASSERT_EQUAL_FATAL(
        parse(" {\"a\": [true, false, null, \"s\"], \"b\": {}, \"c\": [] } ", &doc, &err), RPB_OK);
    const rpb_json_value *root = doc.root;
    CU_ASSERT_EQUAL(root->type, RPB_JSON_OBJECT);
    CU_ASSERT_EQUAL(root->u.children.count, 3);
    const rpb_json_value *a = rpb_json_get(root, "a");
    CU_ASSERT_EQUAL_FATAL(a->type, RPB_JSON_ARRAY);
    CU_ASSERT_EQUAL(a->u.children.count, 4);
    const rpb_json_value *e = a->u.children.head;
    CU_ASSERT(e->type == RPB_JSON_BOOL && e->u.boolean);
    e = e->next;
    CU_ASSERT(e->type == RPB_JSON_BOOL && !e->u.boolean);
    e = e->next;
    CU_ASSERT_EQUAL(e->type, RPB_JSON_NULL);
    e = e->next;
    CU_ASSERT(rpb_json_is_string(e, "s"));
    CU_ASSERT_EQUAL(e->offset, 27);
    CU_ASSERT_EQUAL(rpb_json_get(root, "b")->type, RPB_JSON_OBJECT);
    CU_ASSERT_EQUAL(rpb_json_get(root, "c")->u.children.count, 0);
    CU_ASSERT_PTR_NULL(rpb_json_get(root, "d"));
    rpb_json_doc_free(&doc);
}

static void test_parse_integers_exact(void)
{
    rpb_json_doc doc;
    rpb_errinfo err;
    CU_ASSERT_EQUAL_FATAL(
        parse("[18446744073709551615, -9223372036854775808, -0, 0, 18446744073709551616, 1.5, "
              "1e2, -9223372036854775809]",
              &doc, &err),
        RPB_OK);
    const rpb_json_value *v = doc.root->u.children.head;
    uint64_t u;
    int64_t i;
    CU_ASSERT(rpb_json_as_u64(v, &u) && u == UINT64_MAX);
    CU_ASSERT_FALSE(rpb_json_as_i64(v, &i));
    v = v->next;
    CU_ASSERT(rpb_json_as_i64(v, &i) && i == INT64_MIN);
    CU_ASSERT_FALSE(rpb_json_as_u64(v, &u));
    v = v->next; /* -0 is the integer 0 */
    CU_ASSERT(rpb_json_as_u64(v, &u) && u == 0);
    CU_ASSERT(rpb_json_equal(v, v->next));
    v = v->next->next; /* 2^64 does not fit: a real */
    CU_ASSERT_EQUAL(v->type, RPB_JSON_REAL);
    v = v->next;
    CU_ASSERT(v->type == RPB_JSON_REAL && v->u.real == 1.5);
    v = v->next; /* an exponent makes a real even when integral */
    CU_ASSERT(v->type == RPB_JSON_REAL && v->u.real == 100.0);
    v = v->next;
    CU_ASSERT_EQUAL(v->type, RPB_JSON_REAL);
    rpb_json_doc_free(&doc);
}

static void test_parse_strings(void)
{
    rpb_json_doc doc;
    rpb_errinfo err;
    /* \u0000 survives, a surrogate pair becomes one 4-byte sequence, raw
     * UTF-8 passes through, named escapes decode. */
    CU_ASSERT_EQUAL_FATAL(parse("\"a\\u0000b\\ud83d\\ude00\xc3\xa9\\n\\/\\\"\"", &doc, &err),
                          RPB_OK);
    const rpb_slice s = doc.root->u.string;
    static const uint8_t want[] = {'a', 0, 'b', 0xF0, 0x9F, 0x98, 0x80, 0xC3, 0xA9, '\n', '/', '"'};
    CU_ASSERT_EQUAL(s.len, sizeof want);
    CU_ASSERT(s.len == sizeof want && memcmp(s.data, want, sizeof want) == 0);
    CU_ASSERT_EQUAL(s.data[s.len], '\0');
    rpb_json_doc_free(&doc);
}

static void test_parse_rejects(void)
{
    expect_parse_error("", 0);
    expect_parse_error("[1,]", 3);
    expect_parse_error("{\"a\":1,}", 7);
    expect_parse_error("[01]", 1);
    expect_parse_error("[1.]", 1);
    expect_parse_error("[-]", 1);
    expect_parse_error("[1e]", 1);
    expect_parse_error("1e999", 0);
    expect_parse_error("// c\n1", 0);
    expect_parse_error("[1] x", 4);
    expect_parse_error("\"a\tb\"", 2);
    expect_parse_error("\"\\x\"", 1);
    expect_parse_error("\"\\ud800\"", 1);
    expect_parse_error("\"\\udc00\"", 1);
    expect_parse_error("\"\\ud800\\u0041\"", 1);
    expect_parse_error("\"\\u12g4\"", 5);
    expect_parse_error("\"\xc0\x80\"", 0);
    expect_parse_error("\"\xed\xa0\x80\"", 0);
    expect_parse_error("\"abc", 0);
    expect_parse_error("{1:2}", 1);
    expect_parse_error("{\"a\" 1}", 5);
    expect_parse_error("tru", 0);
    expect_parse_error("[1 2]", 3);
    expect_parse_error("'a'", 0);
    expect_parse_error("[\"a\"\0]", 4);
}

static void test_parse_depth_limit(void)
{
    char text[2 * RPB_JSON_MAX_DEPTH + 4];
    rpb_json_doc doc;
    rpb_errinfo err;
    /* exactly RPB_JSON_MAX_DEPTH nested arrays: accepted */
    memset(text, '[', RPB_JSON_MAX_DEPTH);
    memset(text + RPB_JSON_MAX_DEPTH, ']', RPB_JSON_MAX_DEPTH);
    CU_ASSERT_EQUAL(rpb_json_parse(text, 2 * RPB_JSON_MAX_DEPTH, &doc, &err), RPB_OK);
    rpb_json_doc_free(&doc);
    /* one more: refused at the innermost opening bracket */
    memset(text, '[', RPB_JSON_MAX_DEPTH + 1);
    memset(text + RPB_JSON_MAX_DEPTH + 1, ']', RPB_JSON_MAX_DEPTH + 1);
    CU_ASSERT_EQUAL(rpb_json_parse(text, 2 * RPB_JSON_MAX_DEPTH + 2, &doc, &err),
                    RPB_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(err.offset, RPB_JSON_MAX_DEPTH);
}

static void test_equal(void)
{
    rpb_json_doc a, b;
    rpb_errinfo err;
    CU_ASSERT_EQUAL_FATAL(parse("{\"x\":[1,{\"y\":\"z\"}],\"w\":null}", &a, &err), RPB_OK);
    CU_ASSERT_EQUAL_FATAL(parse("{\"w\":null,\"x\":[1,{\"y\":\"z\"}]}", &b, &err), RPB_OK);
    CU_ASSERT(rpb_json_equal(a.root, b.root));
    rpb_json_doc_free(&b);
    CU_ASSERT_EQUAL_FATAL(parse("{\"w\":null,\"x\":[{\"y\":\"z\"},1]}", &b, &err), RPB_OK);
    CU_ASSERT_FALSE(rpb_json_equal(a.root, b.root)); /* arrays are ordered */
    rpb_json_doc_free(&b);
    CU_ASSERT_EQUAL_FATAL(parse("{\"w\":null,\"x\":[1,{\"y\":\"z\"}],\"v\":0}", &b, &err), RPB_OK);
    CU_ASSERT_FALSE(rpb_json_equal(a.root, b.root)); /* extra key */
    rpb_json_doc_free(&b);
    CU_ASSERT_EQUAL_FATAL(parse("[1, 1.0, \"1\"]", &b, &err), RPB_OK);
    const rpb_json_value *one = b.root->u.children.head;
    CU_ASSERT_FALSE(rpb_json_equal(one, one->next));
    CU_ASSERT_FALSE(rpb_json_equal(one, one->next->next));
    rpb_json_doc_free(&b);
    rpb_json_doc_free(&a);
}

/* ---- writer ---- */

static void test_writer_compact_and_pretty(void)
{
    const char *text = "{\"k\":[1,-2,1.5,true,null,\"q\\\"\\\\\\u0001\\u001f\\n\xc3\xa9\"],\"e\":{},\"f\":[]}";
    rpb_json_doc doc;
    rpb_errinfo err;
    CU_ASSERT_EQUAL_FATAL(parse(text, &doc, &err), RPB_OK);

    rpb_buf buf = {0};
    rpb_json_writer w;
    rpb_json_writer_init_buf(&w, &buf, 0);
    rpb_json_value_write(&w, doc.root);
    CU_ASSERT_EQUAL(rpb_json_writer_finish(&w), RPB_OK);
    CU_ASSERT_STRING_EQUAL((char *)buf.data, text);
    CU_ASSERT_EQUAL(buf.len, strlen(text));

    buf.len = 0;
    rpb_json_writer_init_buf(&w, &buf, RPB_JSON_PRETTY);
    rpb_json_value_write(&w, doc.root);
    CU_ASSERT_EQUAL(rpb_json_writer_finish(&w), RPB_OK);
    CU_ASSERT_STRING_EQUAL((char *)buf.data,
                           "{\n  \"k\": [\n    1,\n    -2,\n    1.5,\n    true,\n    null,\n"
                           "    \"q\\\"\\\\\\u0001\\u001f\\n\xc3\xa9\"\n  ],\n  \"e\": {},\n  \"f\": []\n}");
    rpb_buf_free(&buf);
    rpb_json_doc_free(&doc);
}

static void test_writer_reals_stay_reals(void)
{
    rpb_json_doc doc;
    rpb_errinfo err;
    CU_ASSERT_EQUAL_FATAL(parse("[1e2,0.1]", &doc, &err), RPB_OK);
    rpb_buf buf = {0};
    rpb_json_writer w;
    rpb_json_writer_init_buf(&w, &buf, 0);
    rpb_json_value_write(&w, doc.root);
    CU_ASSERT_EQUAL_FATAL(rpb_json_writer_finish(&w), RPB_OK);
    rpb_json_doc again;
    CU_ASSERT_EQUAL_FATAL(rpb_json_parse((char *)buf.data, buf.len, &again, &err), RPB_OK);
    CU_ASSERT(rpb_json_equal(doc.root, again.root));
    CU_ASSERT_EQUAL(again.root->u.children.head->type, RPB_JSON_REAL);
    rpb_json_doc_free(&again);
    rpb_json_doc_free(&doc);
    rpb_buf_free(&buf);
}

static void test_writer_misuse(void)
{
    rpb_buf buf = {0};
    rpb_json_writer w;

    rpb_json_writer_init_buf(&w, &buf, 0); /* value where a key is due */
    rpb_json_begin_object(&w);
    rpb_json_uint(&w, 1);
    CU_ASSERT_EQUAL(rpb_json_writer_status(&w), RPB_ERR_INVALID_ARGUMENT);

    buf.len = 0;
    rpb_json_writer_init_buf(&w, &buf, 0); /* key inside an array */
    rpb_json_begin_array(&w);
    rpb_json_key(&w, "k");
    CU_ASSERT_EQUAL(rpb_json_writer_status(&w), RPB_ERR_INVALID_ARGUMENT);

    buf.len = 0;
    rpb_json_writer_init_buf(&w, &buf, 0); /* mismatched close */
    rpb_json_begin_array(&w);
    rpb_json_end_object(&w);
    CU_ASSERT_EQUAL(rpb_json_writer_status(&w), RPB_ERR_INVALID_ARGUMENT);

    buf.len = 0;
    rpb_json_writer_init_buf(&w, &buf, 0); /* unclosed at finish */
    rpb_json_begin_object(&w);
    CU_ASSERT_EQUAL(rpb_json_writer_status(&w), RPB_OK);
    CU_ASSERT_EQUAL(rpb_json_writer_finish(&w), RPB_ERR_INVALID_ARGUMENT);

    buf.len = 0;
    rpb_json_writer_init_buf(&w, &buf, 0); /* invalid UTF-8 string */
    static const uint8_t bad[] = {0xC0, 0x80};
    rpb_json_string(&w, (rpb_slice){bad, sizeof bad});
    CU_ASSERT_EQUAL(rpb_json_writer_finish(&w), RPB_ERR_INVALID_ARGUMENT);

    buf.len = 0;
    rpb_json_writer_init_buf(&w, &buf, 0); /* two top-level values */
    rpb_json_uint(&w, 1);
    rpb_json_uint(&w, 2);
    CU_ASSERT_EQUAL(rpb_json_writer_status(&w), RPB_ERR_INVALID_ARGUMENT);

    buf.len = 0;
    rpb_json_writer_init_buf(&w, &buf, 0); /* nesting beyond the limit */
    for (int i = 0; i <= RPB_JSON_MAX_DEPTH; i++)
        rpb_json_begin_array(&w);
    CU_ASSERT_EQUAL(rpb_json_writer_status(&w), RPB_ERR_INVALID_ARGUMENT);
    rpb_buf_free(&buf);
}

static void test_writer_file(void)
{
    char *mem = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&mem, &size);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    rpb_json_writer w;
    rpb_json_writer_init_file(&w, f, 0);
    rpb_json_begin_object(&w);
    rpb_json_key(&w, "n");
    rpb_json_hex(&w, (rpb_slice){(const uint8_t *)"\x00\xff", 2});
    rpb_json_end_object(&w);
    CU_ASSERT_EQUAL(rpb_json_writer_finish(&w), RPB_OK);
    fclose(f);
    CU_ASSERT_STRING_EQUAL(mem, "{\"n\":\"00ff\"}");
    free(mem);
}

/* ---- message mapping ---- */

#define GOLDEN_HELLO                                                                          \
    "08 01 10 03 1A 0B 62 75 69 6C 64 2D 63 61 63 68 65 22 0A 31 2E 32 2E 33 2D 72 63 2E 31 " \
    "2A 06 33 2E 30 2E 31 35 30 81 80 80 80 80 80 80 80 80 01 3A 03 01 02 03 42 08 72 65 71 " \
    "2D 30 30 30 31 50 92 21 5A 0F 72 75 6E 6E 69 6E 67 2D 70 72 6F 63 65 73 73 62 06 33 2E " \
    "30 2E 31 35 6A 02 AA BB 72 01 CC 78 1E"
#define GOLDEN_HELLO_JSON                                                                  \
    "{\"client_min_protocol\":1,\"client_max_protocol\":3,\"service_name\":\"build-cache\"," \
    "\"wanted_version\":\"1.2.3-rc.1\",\"client_version\":\"3.0.15\","                      \
    "\"client_capabilities\":9223372036854775809,\"auth_token\":\"010203\","                \
    "\"request_id\":\"req-0001\",\"connection_id\":0,\"peer_pid\":4242,"                    \
    "\"client_lib_name\":\"running-process\",\"client_lib_version\":\"3.0.15\","            \
    "\"peer_attestation_nonce\":\"aabb\",\"capability_token\":\"cc\","                      \
    "\"client_keepalive_secs\":30}"

#define GOLDEN_REFUSED                                                                        \
    "0A 13 76 65 72 73 69 6F 6E 20 62 65 6C 6F 77 20 66 6C 6F 6F 72 10 02 18 03 20 08 2A 0A " \
    "0A 05 66 6C 6F 6F 72 12 01 32 30 DC 0B"
#define GOLDEN_REFUSED_JSON                                                                   \
    "{\"reason\":\"version below floor\",\"daemon_min_protocol\":2,\"daemon_max_protocol\":3," \
    "\"code\":\"ERROR_VERSION_BLOCKED\",\"details\":{\"floor\":\"2\"},\"retry_after_ms\":1500}"

#define GOLDEN_HELLO_REPLY                                                                    \
    "0A 34 08 02 12 06 33 2E 30 2E 31 35 1A 0C 72 70 2D 62 61 63 6B 65 6E 64 2D 37 22 02 77 " \
    "31 22 02 77 32 28 81 80 80 80 80 80 80 80 80 01 30 3C 3A 03 10 20 30 40 63"
#define GOLDEN_HELLO_REPLY_JSON                                                                \
    "{\"negotiated\":{\"negotiated_protocol\":2,\"daemon_version\":\"3.0.15\","                \
    "\"backend_pipe\":\"rp-backend-7\",\"warnings\":[\"w1\",\"w2\"],"                          \
    "\"server_capabilities\":9223372036854775809,\"keepalive_interval_secs\":60,"              \
    "\"handle_passed_token\":\"102030\",\"connection_id\":99}}"

static void test_message_to_json_goldens(void)
{
    expect_decoded_json(&rpb_hello_desc, GOLDEN_HELLO, GOLDEN_HELLO_JSON);
    expect_decoded_json(&rpb_refused_desc, GOLDEN_REFUSED, GOLDEN_REFUSED_JSON);
    expect_decoded_json(&rpb_hello_reply_desc, GOLDEN_HELLO_REPLY, GOLDEN_HELLO_REPLY_JSON);
    /* empty body: every singular field present with its default */
    expect_decoded_json(&rpb_frame_desc, "",
                        "{\"envelope_version\":0,\"kind\":\"FRAME_KIND_REQUEST\","
                        "\"payload_protocol\":0,\"payload\":\"\",\"request_id\":0,"
                        "\"payload_encoding\":\"PAYLOAD_ENCODING_NONE\",\"deadline_unix_ms\":0,"
                        "\"traceparent\":\"\",\"tracestate\":\"\"}");
    /* unset oneof: {} */
    expect_decoded_json(&rpb_hello_reply_desc, "", "{}");
    expect_decoded_json(&rpb_hello_reply_desc, "12 00",
                        "{\"refused\":{\"reason\":\"\",\"daemon_min_protocol\":0,"
                        "\"daemon_max_protocol\":0,\"code\":\"ERROR_CODE_UNSPECIFIED\","
                        "\"details\":{},\"retry_after_ms\":0}}");
}

static void test_message_to_json_open_enum_and_strings(void)
{
    /* kind 99 and encoding -1 (10-byte varint) are unknown: integers */
    expect_decoded_json(&rpb_admin_request_desc, "08 63 1A 04 61 00 0A 22",
                        "{\"verb\":99,\"json\":false,\"service_name\":\"a\\u0000\\n\\\"\","
                        "\"output_path\":\"\"}");
    expect_decoded_json(&rpb_admin_reply_desc, "08 FF FF FF FF FF FF FF FF FF 01",
                        "{\"kind\":-1,\"body\":\"\",\"exit_code\":0,\"content_type\":\"\"}");
}

static void test_message_to_json_presence(void)
{
    expect_decoded_json(&rpb_daemon_process_desc, "08 07",
                        "{\"pid\":7,\"exe_path\":\"\",\"exe_sha256\":\"\","
                        "\"started_at_unix_ms\":0,\"boot_id\":\"\"}");
    /* ipc_endpoint and idle_timeout_secs set (to defaults): shown */
    expect_decoded_json(&rpb_daemon_process_desc, "22 00 38 00",
                        "{\"pid\":0,\"exe_path\":\"\",\"exe_sha256\":\"\","
                        "\"ipc_endpoint\":{\"namespace_id\":\"\",\"path\":\"\"},"
                        "\"started_at_unix_ms\":0,\"boot_id\":\"\",\"idle_timeout_secs\":0}");
}

static void test_message_to_json_map_last_wins(void)
{
    /* labels {"a":"1"}, {"b":"2"}, {"a":"3"}: a duplicate key shows once,
     * with the last value */
    expect_decoded_json(&rpb_service_definition_desc,
                        "42 06 0A 01 61 12 01 31 42 06 0A 01 62 12 01 32 42 06 0A 01 61 12 01 33",
                        "{\"service_name\":\"\",\"binary_path\":\"\",\"isolation\":\"PRIVATE_BROKER\","
                        "\"explicit_instance\":\"\",\"per_version_binary_dir\":\"\","
                        "\"min_version\":\"\",\"version_allow_list\":[],"
                        "\"labels\":{\"b\":\"2\",\"a\":\"3\"}}");
}

static void test_json_to_message_goldens(void)
{
    expect_encoded(&rpb_hello_desc, GOLDEN_HELLO_JSON, GOLDEN_HELLO);
    expect_encoded(&rpb_refused_desc, GOLDEN_REFUSED_JSON, GOLDEN_REFUSED);
    expect_encoded(&rpb_hello_reply_desc, GOLDEN_HELLO_REPLY_JSON, GOLDEN_HELLO_REPLY);
    /* missing keys are defaults; enum integers and upper-case hex accepted */
    expect_encoded(&rpb_frame_desc, "{\"kind\":1,\"payload\":\"DEADbeef\"}",
                   "10 01 22 04 DE AD BE EF");
    expect_encoded(&rpb_frame_desc, "{\"kind\":\"FRAME_KIND_EVENT\",\"payload_encoding\":-1}",
                   "10 02 30 FF FF FF FF FF FF FF FF FF 01");
    /* presence fields and an empty oneof arm are written when given */
    expect_encoded(&rpb_daemon_process_desc, "{\"ipc_endpoint\":{},\"idle_timeout_secs\":0}",
                   "22 00 38 00");
    expect_encoded(&rpb_hello_reply_desc, "{\"negotiated\":{}}", "0A 00");
    expect_encoded(&rpb_hello_reply_desc, "{}", "");
    /* a key repeated inside a map object: the last wins */
    expect_encoded(&rpb_refused_desc, "{\"details\":{\"k\":\"1\",\"k\":\"2\"}}",
                   "2A 06 0A 01 6B 12 01 32");
    /* \u0000 in a string reaches the wire */
    expect_encoded(&rpb_admin_reply_desc, "{\"body\":\"a\\u0000\"}", "12 02 61 00");
}

static void test_json_to_message_errors(void)
{
    expect_mapping_error(&rpb_hello_desc, "{\"peer_pid\":1,\"bogus\":2}", RPB_ERR_INVALID_ARGUMENT,
                         "no field \"bogus\"", 22);
    expect_mapping_error(&rpb_hello_desc, "{\"peer_pid\":1,\"peer_pid\":2}",
                         RPB_ERR_INVALID_ARGUMENT, "given twice", 25);
    expect_mapping_error(&rpb_hello_desc, "{\"peer_pid\":4294967296}", RPB_ERR_INVALID_ARGUMENT,
                         "Hello.peer_pid", 12);
    expect_mapping_error(&rpb_hello_desc, "{\"peer_pid\":-1}", RPB_ERR_INVALID_ARGUMENT,
                         "Hello.peer_pid", 12);
    expect_mapping_error(&rpb_hello_desc, "{\"peer_pid\":1.0}", RPB_ERR_INVALID_ARGUMENT,
                         "Hello.peer_pid", 12);
    expect_mapping_error(&rpb_hello_desc, "{\"auth_token\":\"abc\"}", RPB_ERR_INVALID_ARGUMENT,
                         "Hello.auth_token", 14);
    expect_mapping_error(&rpb_hello_desc, "{\"auth_token\":\"zz\"}", RPB_ERR_INVALID_ARGUMENT,
                         "Hello.auth_token", 14);
    expect_mapping_error(&rpb_hello_desc, "{\"service_name\":1}", RPB_ERR_INVALID_ARGUMENT,
                         "Hello.service_name", 16);
    expect_mapping_error(&rpb_frame_desc, "{\"kind\":\"RESPONSE\"}", RPB_ERR_INVALID_ARGUMENT,
                         "Frame.kind", 8);
    expect_mapping_error(&rpb_frame_desc, "{\"kind\":2147483648}", RPB_ERR_INVALID_ARGUMENT,
                         "Frame.kind", 8);
    expect_mapping_error(&rpb_admin_request_desc, "{\"json\":1}", RPB_ERR_INVALID_ARGUMENT,
                         "AdminRequest.json", 8);
    expect_mapping_error(&rpb_hello_reply_desc, "{\"negotiated\":{},\"refused\":{}}",
                         RPB_ERR_INVALID_ARGUMENT, "more than one arm", 27);
    expect_mapping_error(&rpb_hello_reply_desc, "{\"negotiated\":[]}", RPB_ERR_INVALID_ARGUMENT,
                         "Negotiated: expected an object", 14);
    expect_mapping_error(&rpb_negotiated_desc, "{\"warnings\":[\"a\",1]}",
                         RPB_ERR_INVALID_ARGUMENT, "Negotiated.warnings", 17);
    expect_mapping_error(&rpb_refused_desc, "{\"details\":{\"a\":null}}", RPB_ERR_INVALID_ARGUMENT,
                         "Refused.details", 16);
    expect_mapping_error(&rpb_hello_desc, "[]", RPB_ERR_INVALID_ARGUMENT,
                         "Hello: expected an object", 0);
}

static void test_json_to_message_arena_exhausted(void)
{
    rpb_json_doc doc;
    rpb_errinfo err;
    const char *text = "{\"warnings\":[\"a\",\"b\"]}";
    CU_ASSERT_EQUAL_FATAL(parse(text, &doc, &err), RPB_OK);
    rpb_negotiated msg;
    rpb_arena arena;
    uint8_t mem[8];
    rpb_arena_init(&arena, mem, sizeof mem);
    CU_ASSERT_EQUAL(rpb_json_to_message(&doc, doc.root, &rpb_negotiated_desc, &msg, &arena, &err),
                    RPB_ERR_SCRATCH_EXHAUSTED);
    CU_ASSERT_EQUAL(rpb_json_to_message(&doc, doc.root, &rpb_negotiated_desc, &msg, NULL, &err),
                    RPB_ERR_SCRATCH_EXHAUSTED);
    rpb_json_doc_free(&doc);
}

/* ---- hex ---- */

static void test_hex(void)
{
    uint8_t out[4];
    size_t n;
    CU_ASSERT_EQUAL(rpb_hex_decode("00fFa9", 6, out, sizeof out, &n), RPB_OK);
    CU_ASSERT(n == 3 && out[0] == 0x00 && out[1] == 0xFF && out[2] == 0xA9);
    CU_ASSERT_EQUAL(rpb_hex_decode("", 0, out, 0, &n), RPB_OK);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(rpb_hex_decode("abc", 3, out, sizeof out, &n), RPB_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_EQUAL(rpb_hex_decode("a g0", 4, out, sizeof out, &n), RPB_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(rpb_hex_decode("0011223344", 10, out, sizeof out, &n),
                    RPB_ERR_BUFFER_TOO_SMALL);
    CU_ASSERT_EQUAL(n, 5); /* rpb/error.h: the size needed */
    char text[7];
    rpb_hex_encode((const uint8_t *)"\x01\xab\xff", 3, text);
    CU_ASSERT_STRING_EQUAL(text, "01abff");
}

int main(void)
{
    static const tu_test tests[] = {
        {"parse: scalars and structure", test_parse_scalars_and_structure},
        {"parse: integers kept exactly, others real", test_parse_integers_exact},
        {"parse: escapes, NUL and surrogate pairs", test_parse_strings},
        {"parse: rejects non-RFC 8259 input with offset", test_parse_rejects},
        {"parse: nesting limit", test_parse_depth_limit},
        {"equal: objects unordered, arrays ordered, types strict", test_equal},
        {"writer: compact and pretty output", test_writer_compact_and_pretty},
        {"writer: reals re-parse as reals", test_writer_reals_stay_reals},
        {"writer: misuse is reported", test_writer_misuse},
        {"writer: FILE* output", test_writer_file},
        {"message->json: upstream goldens and defaults", test_message_to_json_goldens},
        {"message->json: open enums and string escapes", test_message_to_json_open_enum_and_strings},
        {"message->json: presence fields", test_message_to_json_presence},
        {"message->json: map duplicate keys, last wins", test_message_to_json_map_last_wins},
        {"json->message: goldens re-encode byte-exact", test_json_to_message_goldens},
        {"json->message: errors name the key and offset", test_json_to_message_errors},
        {"json->message: arena exhaustion", test_json_to_message_arena_exhausted},
        {"hex: decode and encode", test_hex},
        {NULL, NULL},
    };
    return tu_run("json", tests);
}
