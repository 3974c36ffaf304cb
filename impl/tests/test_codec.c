/*
 * test_codec.c - unit tests of the I/O-free codec core: primitives, the
 * decoder's prost-parity rules, the canonical encoder on upstream's golden
 * bytes, framing and envelope validation.  Every buffer handed to the
 * decoder sits at the end of a page followed by a PROT_NONE page, so an
 * over-read crashes the test instead of passing silently.
 */
#include <stdlib.h>
#include <string.h>

#include "rpb/rpb.h"
#include "testutil.h"

/* Upstream literals, tests/broker/golden_bytes.rs of upstream 4.5.5. */
#define GOLDEN_FRAME \
    "080110011881da022204deadbeef282a30013880d095ffbc31423730302d30616637363531393136" \
    "636434336464383434386562323131633830333139632d623761643662373136393230333333312d" \
    "30314a0472703d31"
#define GOLDEN_HELLO \
    "080110031a0b6275696c642d6361636865220a312e322e332d72632e312a06332e302e3135308180" \
    "80808080808080013a0301020342087265712d303030315092215a0f72756e6e696e672d70726f63" \
    "6573736206332e302e31356a02aabb7201cc781e"
#define GOLDEN_NEGOTIATED \
    "08021206332e302e31351a0c72702d6261636b656e642d3722027731220277322881808080808080808001303c3a031020304063"
#define GOLDEN_REFUSED \
    "0a1376657273696f6e2062656c6f7720666c6f6f721002180320082a0a0a05666c6f6f7212013230dc0b"
#define GOLDEN_HANDOFF_OFFER "08ec171210000102030405060708090a0b0c0d0e0f1a0b6275696c642d63616368652007"
#define GOLDEN_HANDOFF_ACK "0a10000102030405060708090a0b0c0d0e0f10011a026f6b2007"

static uint8_t arena_mem[1 << 16];

/* Decodes hex as desc from a guarded buffer; returns the rpb code. */
static int decode_hex(const rpb_msg_desc *desc, const char *hex, void *msg, unsigned options,
                      rpb_errinfo *err)
{
    size_t len;
    uint8_t *raw = tu_hex(hex, &len);
    uint8_t *in = tu_guarded_copy(raw, len);
    rpb_arena arena;
    rpb_arena_init(&arena, arena_mem, sizeof arena_mem);
    rpb_msg_init(desc, msg);
    int rc = rpb_decode(desc, in, len, msg, &arena, options, err);
    /* Slices of a successful decode point into `in`; keep the mapping
     * alive by leaking it: tests are short-lived processes. */
    free(raw);
    return rc;
}

static int decode_error(const rpb_msg_desc *desc, const char *hex, unsigned options)
{
    uint8_t msg[512];
    rpb_errinfo err;
    CU_ASSERT_FATAL(desc->size <= sizeof msg);
    return decode_hex(desc, hex, msg, options, &err);
}

/* Encodes msg and compares with hex. */
static void assert_encodes_to(const rpb_msg_desc *desc, const void *msg, const char *hex)
{
    size_t len, written = 0;
    uint8_t *want = tu_hex(hex, &len);
    uint8_t out[256];
    CU_ASSERT_EQUAL(rpb_encoded_len(desc, msg), len);
    CU_ASSERT_EQUAL_FATAL(rpb_encode(desc, msg, out, sizeof out, &written), RPB_OK);
    CU_ASSERT_EQUAL(written, len);
    CU_ASSERT(memcmp(out, want, len) == 0);
    free(want);
}

/* ---- primitives ---- */

static void test_varint_edges(void) /* WIRE-005 */
{
    static const struct {
        const char *hex;
        int rc;
        uint64_t value;
    } cases[] = {
        {"00", RPB_OK, 0},
        {"8000", RPB_OK, 0}, /* overlong but terminated */
        {"ffffffffffffffffff01", RPB_OK, UINT64_MAX},
        {"80808080808080808001", RPB_OK, UINT64_C(1) << 63},
        {"ffffffffffffffffff02", RPB_ERR_INVALID_VARINT, 0}, /* 10th byte 0x02 */
        {"ffffffffffffffffff8100", RPB_ERR_INVALID_VARINT, 0}, /* 11 bytes */
        {"80", RPB_ERR_INVALID_VARINT, 0},                     /* truncated */
        {"", RPB_ERR_INVALID_VARINT, 0},
        /* two and three bytes, read without the loop, and their cut-offs */
        {"8001", RPB_OK, 128},
        {"ff7f", RPB_OK, 16383},
        {"808001", RPB_OK, 16384},
        {"b2e402", RPB_OK, 0xb232},
        {"ffff7f", RPB_OK, 2097151},
        {"80808001", RPB_OK, 2097152},
        {"ff80", RPB_ERR_INVALID_VARINT, 0},
        {"ffff", RPB_ERR_INVALID_VARINT, 0},
        {"ffffff", RPB_ERR_INVALID_VARINT, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len, pos = 0;
        uint64_t v = 12345;
        uint8_t *in = tu_hex(cases[i].hex, &len);
        CU_ASSERT_EQUAL(rpb_varint_read(in, len, &pos, &v), cases[i].rc);
        if (cases[i].rc == RPB_OK) {
            CU_ASSERT_EQUAL(v, cases[i].value);
            CU_ASSERT_EQUAL(pos, len);
        }
        free(in);
    }
    uint8_t out[10];
    CU_ASSERT_EQUAL(rpb_varint_write(out, UINT64_MAX), 10);
    CU_ASSERT_EQUAL(rpb_varint_len(0), 1);
    /* Every length boundary: 2^(7k) - 1 takes k bytes, 2^(7k) takes k + 1,
     * and the length agrees with what rpb_varint_write() writes. */
    for (unsigned bits = 1; bits <= 64; bits++) {
        uint64_t top = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
        size_t want = (bits + 6) / 7;
        CU_ASSERT_EQUAL(rpb_varint_len(top), want);
        CU_ASSERT_EQUAL(rpb_varint_write(out, top), want);
        CU_ASSERT_EQUAL(rpb_varint_len(UINT64_C(1) << (bits - 1)), want);
    }
    /* What rpb_varint_write() writes reads back as the same value, byte
     * for byte in the canonical form: at every length, including the 9-
     * and 10-byte values the encoder writes with one 8-byte store. */
    for (unsigned bits = 1; bits <= 64; bits++) {
        uint64_t top = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
        uint64_t values[] = {top, UINT64_C(1) << (bits - 1), top & UINT64_C(0xa5c3f00f5a3c0ff0)};
        for (size_t k = 0; k < sizeof values / sizeof values[0]; k++) {
            uint8_t buf[11];
            memset(buf, 0xee, sizeof buf);
            size_t n = rpb_varint_write(buf, values[k]), pos = 0;
            uint64_t back = ~values[k];
            CU_ASSERT_EQUAL(rpb_varint_read(buf, n, &pos, &back), RPB_OK);
            CU_ASSERT_EQUAL(back, values[k]);
            CU_ASSERT_EQUAL(pos, n);
            CU_ASSERT_EQUAL(buf[n], 0xee); /* nothing written past the varint */
            for (size_t i = 0; i + 1 < n; i++)
                CU_ASSERT(buf[i] & 0x80);
        }
    }
    static const uint8_t two_to_63[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    CU_ASSERT_EQUAL(rpb_varint_write(out, UINT64_C(1) << 63), 10);
    CU_ASSERT_EQUAL(memcmp(out, two_to_63, sizeof two_to_63), 0);
}

static void test_utf8_classes(void) /* WIRE-012 */
{
    static const struct {
        const char *hex;
        bool valid;
    } cases[] = {
        {"", true},         {"00", true},         {"7f", true},       {"c280", true},
        {"dfbf", true},     {"e0a080", true},     {"efbfbf", true},   {"f0908080", true},
        {"f48fbfbf", true}, {"eda080", false},    {"edbfbf", false},  {"c080", false},
        {"c1bf", false},    {"e08080", false},    {"e09fbf", false},  {"f08080bf", false},
        {"f08fbfbf", false}, {"f4908080", false}, {"f5808080", false}, {"ff", false},
        {"80", false},      {"c2", false},        {"e0a0", false},    {"f09080", false},
        {"c241", false},    {"e0a041", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len;
        uint8_t *raw = tu_hex(cases[i].hex, &len);
        uint8_t *in = tu_guarded_copy(raw, len);
        CU_ASSERT_EQUAL(rpb_utf8_valid(in, len), cases[i].valid);
        tu_guarded_free(in, len);
        free(raw);
    }
}

/* ---- golden bytes: decode fields, re-encode byte-exact (WIRE-020) ---- */

static void test_golden_frame(void)
{
    rpb_frame f;
    rpb_errinfo err;
    CU_ASSERT_EQUAL_FATAL(decode_hex(&rpb_frame_desc, GOLDEN_FRAME, &f, 0, &err), RPB_OK);
    CU_ASSERT_EQUAL(f.envelope_version, 1);
    CU_ASSERT_EQUAL(f.kind, RPB_FRAME_KIND_RESPONSE);
    CU_ASSERT_EQUAL(f.payload_protocol, 0xAD01);
    CU_ASSERT_EQUAL(f.payload.len, 4);
    CU_ASSERT(memcmp(f.payload.data, "\xde\xad\xbe\xef", 4) == 0);
    CU_ASSERT_EQUAL(f.request_id, 42);
    CU_ASSERT_EQUAL(f.payload_encoding, RPB_PAYLOAD_ENCODING_ZSTD);
    CU_ASSERT_EQUAL(f.deadline_unix_ms, UINT64_C(1700000000000));
    CU_ASSERT(rpb_slice_eq_cstr(f.traceparent,
                                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
    CU_ASSERT(rpb_slice_eq_cstr(f.tracestate, "rp=1"));
    assert_encodes_to(&rpb_frame_desc, &f, GOLDEN_FRAME);
}

static void test_golden_hello(void)
{
    rpb_hello h;
    rpb_errinfo err;
    CU_ASSERT_EQUAL_FATAL(decode_hex(&rpb_hello_desc, GOLDEN_HELLO, &h, 0, &err), RPB_OK);
    CU_ASSERT_EQUAL(h.client_min_protocol, 1);
    CU_ASSERT_EQUAL(h.client_max_protocol, 3);
    CU_ASSERT(rpb_slice_eq_cstr(h.service_name, "build-cache"));
    CU_ASSERT(rpb_slice_eq_cstr(h.wanted_version, "1.2.3-rc.1"));
    CU_ASSERT(rpb_slice_eq_cstr(h.client_version, "3.0.15"));
    CU_ASSERT_EQUAL(h.client_capabilities, UINT64_C(0x8000000000000001));
    CU_ASSERT_EQUAL(h.auth_token.len, 3);
    CU_ASSERT(rpb_slice_eq_cstr(h.request_id, "req-0001"));
    CU_ASSERT_EQUAL(h.connection_id, 0);
    CU_ASSERT_EQUAL(h.peer_pid, 4242);
    CU_ASSERT(rpb_slice_eq_cstr(h.client_lib_name, "running-process"));
    CU_ASSERT(rpb_slice_eq_cstr(h.client_lib_version, "3.0.15"));
    CU_ASSERT_EQUAL(h.peer_attestation_nonce.len, 2);
    CU_ASSERT_EQUAL(h.capability_token.len, 1);
    CU_ASSERT_EQUAL(h.client_keepalive_secs, 30);
    assert_encodes_to(&rpb_hello_desc, &h, GOLDEN_HELLO);

    /* WIRE-014: the unknown field 21 is skipped and not re-emitted. */
    rpb_hello h2;
    CU_ASSERT_EQUAL(decode_hex(&rpb_hello_desc, GOLDEN_HELLO "a80101", &h2, 0, &err), RPB_OK);
    assert_encodes_to(&rpb_hello_desc, &h2, GOLDEN_HELLO);
}

static void test_golden_replies(void)
{
    rpb_negotiated n;
    rpb_refused r;
    rpb_hello_reply hr;
    rpb_errinfo err;

    CU_ASSERT_EQUAL_FATAL(decode_hex(&rpb_negotiated_desc, GOLDEN_NEGOTIATED, &n, 0, &err),
                          RPB_OK);
    CU_ASSERT_EQUAL(n.negotiated_protocol, 2);
    CU_ASSERT_EQUAL(n.warnings.count, 2);
    CU_ASSERT(rpb_slice_eq_cstr(n.warnings.head->value, "w1"));
    CU_ASSERT(rpb_slice_eq_cstr(n.warnings.tail->value, "w2"));
    CU_ASSERT_EQUAL(n.connection_id, 99);
    assert_encodes_to(&rpb_negotiated_desc, &n, GOLDEN_NEGOTIATED);

    CU_ASSERT_EQUAL_FATAL(decode_hex(&rpb_refused_desc, GOLDEN_REFUSED, &r, 0, &err), RPB_OK);
    CU_ASSERT(rpb_slice_eq_cstr(r.reason, "version below floor"));
    CU_ASSERT_EQUAL(r.code, RPB_CODE_VERSION_BLOCKED);
    CU_ASSERT_EQUAL(r.details.count, 1);
    const rpb_slice *floor = rpb_map_get(&r.details, rpb_slice_cstr("floor"));
    CU_ASSERT(floor && rpb_slice_eq_cstr(*floor, "2"));
    CU_ASSERT_EQUAL(r.retry_after_ms, 1500);
    assert_encodes_to(&rpb_refused_desc, &r, GOLDEN_REFUSED);

    CU_ASSERT_EQUAL_FATAL(
        decode_hex(&rpb_hello_reply_desc, "0a34" GOLDEN_NEGOTIATED, &hr, 0, &err), RPB_OK);
    CU_ASSERT_EQUAL(hr.result, RPB_HELLO_REPLY_NEGOTIATED);
    CU_ASSERT_EQUAL(hr.negotiated.connection_id, 99);
    assert_encodes_to(&rpb_hello_reply_desc, &hr, "0a34" GOLDEN_NEGOTIATED);

    /* A set oneof arm is written even when all-default; unset is empty. */
    CU_ASSERT_EQUAL(decode_hex(&rpb_hello_reply_desc, "0a00", &hr, 0, &err), RPB_OK);
    CU_ASSERT_EQUAL(hr.result, RPB_HELLO_REPLY_NEGOTIATED);
    assert_encodes_to(&rpb_hello_reply_desc, &hr, "0a00");
    CU_ASSERT_EQUAL(decode_hex(&rpb_hello_reply_desc, "", &hr, 0, &err), RPB_OK);
    CU_ASSERT_EQUAL(hr.result, RPB_HELLO_REPLY_UNSET);
}

static void test_golden_handoff(void)
{
    rpb_handoff_offer o;
    rpb_handoff_ack a;
    rpb_errinfo err;
    CU_ASSERT_EQUAL_FATAL(
        decode_hex(&rpb_handoff_offer_desc, GOLDEN_HANDOFF_OFFER, &o, 0, &err), RPB_OK);
    CU_ASSERT_EQUAL(o.handle_value, 3052);
    CU_ASSERT_EQUAL(o.token.len, 16);
    CU_ASSERT_EQUAL(o.correlation_id, 7);
    assert_encodes_to(&rpb_handoff_offer_desc, &o, GOLDEN_HANDOFF_OFFER);
    CU_ASSERT_EQUAL_FATAL(decode_hex(&rpb_handoff_ack_desc, GOLDEN_HANDOFF_ACK, &a, 0, &err),
                          RPB_OK);
    CU_ASSERT(a.accepted);
    CU_ASSERT(rpb_slice_eq_cstr(a.error_detail, "ok"));
    assert_encodes_to(&rpb_handoff_ack_desc, &a, GOLDEN_HANDOFF_ACK);
}

/* ---- decoder rules ---- */

static void test_key_rules(void) /* WIRE-002, WIRE-003, WIRE-004 */
{
    CU_ASSERT_EQUAL(decode_error(&rpb_frame_desc, "00", 0), RPB_ERR_INVALID_TAG);
    CU_ASSERT_EQUAL(decode_error(&rpb_frame_desc, "0e", 0), RPB_ERR_INVALID_WIRE_TYPE);
    CU_ASSERT_EQUAL(decode_error(&rpb_frame_desc, "0f", 0), RPB_ERR_INVALID_WIRE_TYPE);
    CU_ASSERT_EQUAL(decode_error(&rpb_frame_desc, "07", 0), RPB_ERR_INVALID_WIRE_TYPE);
    /* key 2^32 (field 2^29, varint): above u32::MAX */
    CU_ASSERT_EQUAL(decode_error(&rpb_frame_desc, "808080801000", 0), RPB_ERR_INVALID_KEY);
    /* key 2^32-1 = field 0x1FFFFFFF wire type 7 */
    CU_ASSERT_EQUAL(decode_error(&rpb_frame_desc, "ffffffff0f", 0), RPB_ERR_INVALID_WIRE_TYPE);
    /* the largest valid field number, varint, is an unknown field */
    CU_ASSERT_EQUAL(decode_error(&rpb_frame_desc, "f8ffffff0f01", 0), RPB_OK);
}

static void test_narrowing_and_open_enums(void) /* WIRE-006, WIRE-007 */
{
    rpb_frame f;
    rpb_errinfo err;
    /* envelope_version 2^32+1 keeps the low 32 bits: 1 */
    CU_ASSERT_EQUAL(decode_hex(&rpb_frame_desc, "088180808010", &f, 0, &err), RPB_OK);
    CU_ASSERT_EQUAL(f.envelope_version, 1);
    CU_ASSERT_EQUAL(decode_hex(&rpb_frame_desc, "1063", &f, 0, &err), RPB_OK);
    CU_ASSERT_EQUAL(f.kind, 99);
    /* negative enum: 10-byte sign extension, round trips */
    CU_ASSERT_EQUAL(decode_hex(&rpb_frame_desc, "10ffffffffffffffffff01", &f, 0, &err), RPB_OK);
    CU_ASSERT_EQUAL(f.kind, -1);
    assert_encodes_to(&rpb_frame_desc, &f, "10ffffffffffffffffff01");
    rpb_handoff_ack a;
    CU_ASSERT_EQUAL(decode_hex(&rpb_handoff_ack_desc, "108001", &a, 0, &err), RPB_OK);
    CU_ASSERT(a.accepted);
    CU_ASSERT_EQUAL(decode_hex(&rpb_handoff_ack_desc, "108000", &a, 0, &err), RPB_OK);
    CU_ASSERT(!a.accepted);
}

static void test_wire_type_mismatch(void) /* WIRE-008 */
{
    static const struct {
        const rpb_msg_desc *desc;
        const char *hex;
    } cases[] = {
        {&rpb_frame_desc, "0d01000000"},   /* uint32 as fixed32 */
        {&rpb_frame_desc, "2a01"},         /* uint64 as length-delimited */
        {&rpb_frame_desc, "1201"},         /* enum as length-delimited */
        {&rpb_handoff_ack_desc, "1100000000000000 00"}, /* bool as fixed64 */
        {&rpb_frame_desc, "4001"},         /* string as varint */
        {&rpb_frame_desc, "2001"},         /* bytes as varint */
        {&rpb_hello_reply_desc, "0800"},   /* message as varint */
        {&rpb_negotiated_desc, "2000"},    /* repeated string as varint */
        {&rpb_frame_desc, "0b0c"},         /* uint32 as start-group */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CU_ASSERT_EQUAL(decode_error(cases[i].desc, cases[i].hex, 0), RPB_ERR_WIRE_TYPE_MISMATCH);
}

static void test_map_wire_type_quirk(void) /* WIRE-009 */
{
    rpb_refused r;
    rpb_errinfo err;
    /* field 5 with wire type 0 is still read as a length-delimited entry */
    CU_ASSERT_EQUAL(decode_hex(&rpb_refused_desc, "28060a016b1201 76", &r, 0, &err), RPB_OK);
    CU_ASSERT_EQUAL(r.details.count, 1);
    CU_ASSERT_EQUAL(decode_error(&rpb_refused_desc, "28060a016b120176",
                                 RPB_DECODE_STRICT_MAP_WIRE_TYPE),
                    RPB_ERR_WIRE_TYPE_MISMATCH);
    /* inside the entry, key and value wire types are strict */
    CU_ASSERT_EQUAL(decode_error(&rpb_refused_desc, "2a020801", 0), RPB_ERR_WIRE_TYPE_MISMATCH);
    /* empty entry = {"": ""}; unknown entry fields skipped; last key wins */
    CU_ASSERT_EQUAL(decode_hex(&rpb_refused_desc, "2a00", &r, 0, &err), RPB_OK);
    CU_ASSERT_EQUAL(r.details.count, 1);
    CU_ASSERT_EQUAL(decode_hex(&rpb_refused_desc, "2a050a016b1801 2a060a016b1201 76 2a060a016b12 0177",
                               &r, 0, &err),
                    RPB_OK);
    const rpb_slice *v = rpb_map_get(&r.details, rpb_slice_cstr("k"));
    CU_ASSERT(v && rpb_slice_eq_cstr(*v, "w"));
    /* WIRE-020: one entry per key, written where the effective one stands */
    assert_encodes_to(&rpb_refused_desc, &r, "2a060a016b120177");
}

static void test_lengths_and_boundaries(void) /* WIRE-010, WIRE-011 */
{
    CU_ASSERT_EQUAL(decode_error(&rpb_frame_desc, "2205abcd", 0), RPB_ERR_BUFFER_UNDERFLOW);
    CU_ASSERT_EQUAL(decode_error(&rpb_frame_desc, "7d0000", 0), RPB_ERR_BUFFER_UNDERFLOW);
    CU_ASSERT_EQUAL(decode_error(&rpb_frame_desc, "79000000000000", 0), RPB_ERR_BUFFER_UNDERFLOW);
    CU_ASSERT_EQUAL(decode_error(&rpb_frame_desc, "22", 0), RPB_ERR_INVALID_VARINT);
    CU_ASSERT_EQUAL(decode_error(&rpb_frame_desc, "28", 0), RPB_ERR_INVALID_VARINT);
    /* Negotiated declared 2 bytes long, its field needs 3: bytes exist */
    CU_ASSERT_EQUAL(decode_error(&rpb_hello_reply_desc, "0a021201 41", 0),
                    RPB_ERR_DELIMITED_OVERRUN);
    /* ... and when they do not exist at all */
    CU_ASSERT_EQUAL(decode_error(&rpb_hello_reply_desc, "0a021205", 0), RPB_ERR_BUFFER_UNDERFLOW);
    CU_ASSERT_EQUAL(decode_error(&rpb_hello_reply_desc, "0a05", 0), RPB_ERR_BUFFER_UNDERFLOW);
    /* WIRE-021: explicit defaults are accepted and not re-emitted */
    rpb_frame f;
    rpb_errinfo err;
    CU_ASSERT_EQUAL(decode_hex(&rpb_frame_desc, "0800100018002200280030003800 42004a00", &f, 0, &err),
                    RPB_OK);
    assert_encodes_to(&rpb_frame_desc, &f, "");
}

static void test_utf8_everywhere(void) /* WIRE-012 */
{
    CU_ASSERT_EQUAL(decode_error(&rpb_frame_desc, "4202c0af", 0), RPB_ERR_INVALID_UTF8);
    CU_ASSERT_EQUAL(decode_error(&rpb_negotiated_desc, "220141 2201ff", 0), RPB_ERR_INVALID_UTF8);
    CU_ASSERT_EQUAL(decode_error(&rpb_refused_desc, "2a030a01ff", 0), RPB_ERR_INVALID_UTF8);
    CU_ASSERT_EQUAL(decode_error(&rpb_refused_desc, "2a031201ff", 0), RPB_ERR_INVALID_UTF8);
    /* bytes fields take anything; NUL is valid UTF-8 */
    CU_ASSERT_EQUAL(decode_error(&rpb_frame_desc, "2202c0af", 0), RPB_OK);
    CU_ASSERT_EQUAL(decode_error(&rpb_frame_desc, "420100", 0), RPB_OK);
}

static void test_repeated_occurrences(void) /* WIRE-013 */
{
    rpb_daemon_process dp;
    rpb_hello_reply hr;
    rpb_errinfo err;
    /* last scalar wins; message field merges; optional presence kept */
    CU_ASSERT_EQUAL(decode_hex(&rpb_daemon_process_desc,
                               "0801 0802 22030a016e 2203120170 3800", &dp, 0, &err),
                    RPB_OK);
    CU_ASSERT_EQUAL(dp.pid, 2);
    CU_ASSERT(dp.has_ipc_endpoint);
    CU_ASSERT(rpb_slice_eq_cstr(dp.ipc_endpoint.namespace_id, "n"));
    CU_ASSERT(rpb_slice_eq_cstr(dp.ipc_endpoint.path, "p"));
    CU_ASSERT(dp.has_idle_timeout_secs);
    CU_ASSERT_EQUAL(dp.idle_timeout_secs, 0);
    assert_encodes_to(&rpb_daemon_process_desc, &dp, "0802 22060a016e120170 3800");
    /* oneof: same arm merges (warnings append), other arm replaces */
    CU_ASSERT_EQUAL(decode_hex(&rpb_hello_reply_desc, "0a03220161 0a03220162", &hr, 0, &err),
                    RPB_OK);
    CU_ASSERT_EQUAL(hr.negotiated.warnings.count, 2);
    CU_ASSERT_EQUAL(decode_hex(&rpb_hello_reply_desc, "0a03220161 12021002 0a03220162", &hr, 0,
                               &err),
                    RPB_OK);
    CU_ASSERT_EQUAL(hr.result, RPB_HELLO_REPLY_NEGOTIATED);
    CU_ASSERT_EQUAL(hr.negotiated.warnings.count, 1);
    CU_ASSERT(rpb_slice_eq_cstr(hr.negotiated.warnings.head->value, "b"));
    CU_ASSERT_EQUAL(decode_hex(&rpb_hello_reply_desc, "0a03220161 12021002", &hr, 0, &err), RPB_OK);
    CU_ASSERT_EQUAL(hr.result, RPB_HELLO_REPLY_REFUSED);
    CU_ASSERT_EQUAL(hr.refused.daemon_min_protocol, 2);
}

static void test_unknown_fields_and_groups(void) /* WIRE-014, WIRE-015 */
{
    /* reserved number 10 with each wire type */
    CU_ASSERT_EQUAL(decode_error(&rpb_frame_desc, "5001", 0), RPB_OK);
    CU_ASSERT_EQUAL(decode_error(&rpb_frame_desc, "510000000000000000", 0), RPB_OK);
    CU_ASSERT_EQUAL(decode_error(&rpb_frame_desc, "5200", 0), RPB_OK);
    CU_ASSERT_EQUAL(decode_error(&rpb_frame_desc, "5b5001 5c", 0), RPB_OK);
    CU_ASSERT_EQUAL(decode_error(&rpb_frame_desc, "5d00000000", 0), RPB_OK);
    CU_ASSERT_EQUAL(decode_error(&rpb_frame_desc, "5c", 0), RPB_ERR_GROUP_MISMATCH);
    CU_ASSERT_EQUAL(decode_error(&rpb_frame_desc, "5b64", 0), RPB_ERR_GROUP_MISMATCH);
    CU_ASSERT_EQUAL(decode_error(&rpb_frame_desc, "5b", 0), RPB_ERR_INVALID_VARINT);
    CU_ASSERT_EQUAL(decode_error(&rpb_frame_desc, "5080", 0), RPB_ERR_INVALID_VARINT);
}

/* n nested start-groups of field 10, with `inner` hex in the innermost,
 * then the n end-groups. */
static char *nested_groups(int n, const char *inner, const char *prefix)
{
    size_t cap = strlen(prefix) + (size_t)n * 4 + strlen(inner) + 1;
    char *s = malloc(cap);
    strcpy(s, prefix);
    for (int i = 0; i < n; i++)
        strcat(s, "53");
    strcat(s, inner);
    for (int i = 0; i < n; i++)
        strcat(s, "54");
    return s;
}

static void test_recursion_limit(void) /* WIRE-016 */
{
    static const struct {
        int depth;
        const char *inner;
        int rc;
    } cases[] = {
        {99, "0801", RPB_OK},
        {100, "", RPB_OK},                         /* the 100th may be empty */
        {100, "0801", RPB_ERR_RECURSION_LIMIT},    /* ... but hold nothing */
        {101, "", RPB_ERR_RECURSION_LIMIT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *hex = nested_groups(cases[i].depth, cases[i].inner, "");
        CU_ASSERT_EQUAL(decode_error(&rpb_frame_desc, hex, 0), cases[i].rc);
        free(hex);
    }
    /* inside a nested message (HelloReply.negotiated) the allowance is one
     * less: 99 groups with content fail there. */
    char *body = nested_groups(98, "0801", "");
    size_t inner_len = strlen(body) / 2;
    char *hex = malloc(strlen(body) + 16);
    /* length of the Negotiated body as a 2-byte varint */
    sprintf(hex, "0a%02x%02x%s", (unsigned)(inner_len & 0x7f) | 0x80, (unsigned)(inner_len >> 7),
            body);
    CU_ASSERT_EQUAL(decode_error(&rpb_hello_reply_desc, hex, 0), RPB_OK);
    free(hex);
    free(body);
    body = nested_groups(99, "0801", "");
    inner_len = strlen(body) / 2;
    hex = malloc(strlen(body) + 16);
    sprintf(hex, "0a%02x%02x%s", (unsigned)(inner_len & 0x7f) | 0x80, (unsigned)(inner_len >> 7),
            body);
    CU_ASSERT_EQUAL(decode_error(&rpb_hello_reply_desc, hex, 0), RPB_ERR_RECURSION_LIMIT);
    free(hex);
    free(body);
}

static void test_scratch_arena(void)
{
    rpb_negotiated n;
    size_t len;
    uint8_t *in = tu_hex(GOLDEN_NEGOTIATED, &len);
    rpb_errinfo err;
    rpb_msg_init(&rpb_negotiated_desc, &n);
    CU_ASSERT_EQUAL(rpb_decode(&rpb_negotiated_desc, in, len, &n, NULL, 0, &err),
                    RPB_ERR_SCRATCH_EXHAUSTED);
    uint8_t small[8];
    rpb_arena a;
    rpb_arena_init(&a, small, sizeof small);
    rpb_msg_init(&rpb_negotiated_desc, &n);
    CU_ASSERT_EQUAL(rpb_decode(&rpb_negotiated_desc, in, len, &n, &a, 0, &err),
                    RPB_ERR_SCRATCH_EXHAUSTED);
    size_t bound = rpb_arena_bound(len);
    uint8_t *mem = malloc(bound);
    rpb_arena_init(&a, mem, bound);
    rpb_msg_init(&rpb_negotiated_desc, &n);
    CU_ASSERT_EQUAL(rpb_decode(&rpb_negotiated_desc, in, len, &n, &a, 0, &err), RPB_OK);
    CU_ASSERT(a.used <= bound);
    free(mem);

    /* no descriptor, or bytes claimed without a pointer */
    CU_ASSERT_EQUAL(rpb_decode(NULL, in, len, &n, &a, 0, &err), RPB_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(rpb_decode(&rpb_negotiated_desc, NULL, 1, &n, &a, 0, &err),
                    RPB_ERR_INVALID_ARGUMENT);

    /* the map builder on a full arena leaves the map as it was */
    rpb_map m = {0};
    rpb_arena_init(&a, small, 0);
    CU_ASSERT_EQUAL(rpb_map_append(&m, &a, rpb_slice_cstr("k"), rpb_slice_cstr("v")),
                    RPB_ERR_SCRATCH_EXHAUSTED);
    CU_ASSERT(m.count == 0 && m.head == NULL);

    /* rpb_decode_alloc owns struct and nodes; on failure it owns nothing */
    rpb_decoded d = {0};
    CU_ASSERT_EQUAL(rpb_decode_alloc(&rpb_negotiated_desc, in, len, 0, &d, &err), RPB_OK);
    CU_ASSERT_EQUAL(((rpb_negotiated *)d.msg)->warnings.count, 2);
    rpb_decoded_free(&d);
    CU_ASSERT_PTR_NULL(d.msg);
    CU_ASSERT_EQUAL(rpb_decode_alloc(&rpb_negotiated_desc, in, len - 1, 0, &d, &err),
                    RPB_ERR_INVALID_VARINT); /* connection_id 99 cut off */
    CU_ASSERT_PTR_NULL(d.msg);
    CU_ASSERT_PTR_NULL(d.scratch);
    rpb_decoded_free(&d);
    free(in);
}

static void test_encode_buffer_too_small(void)
{
    rpb_frame f = rpb_frame_request(0x7001, rpb_slice_cstr("abc"));
    uint8_t out[16];
    size_t n;
    CU_ASSERT_EQUAL(rpb_encode(&rpb_frame_desc, &f, out, 5, &n), RPB_ERR_BUFFER_TOO_SMALL);
    CU_ASSERT_EQUAL(n, 11); /* the size the encoding needs */
    /* rpb/error.h: on BUFFER_TOO_SMALL *written is the size needed */
    CU_ASSERT_EQUAL(rpb_frame_encode(&f, out, 15, &n), RPB_ERR_BUFFER_TOO_SMALL);
    CU_ASSERT_EQUAL(n, 16);
    CU_ASSERT_EQUAL(rpb_frame_encode(&f, out, 4, &n), RPB_ERR_BUFFER_TOO_SMALL);
    CU_ASSERT_EQUAL(n, 16);
    rpb_frame empty = {0};
    CU_ASSERT_EQUAL(rpb_frame_encode(&empty, out, 4, &n), RPB_ERR_BUFFER_TOO_SMALL);
    CU_ASSERT_EQUAL(n, 5);
    CU_ASSERT_EQUAL(rpb_frame_encode(&empty, out, 5, &n), RPB_OK);
    CU_ASSERT_EQUAL(n, 5);
    CU_ASSERT_EQUAL(rpb_frame_encode(&f, out, 16, &n), RPB_OK);
    CU_ASSERT_EQUAL(n, 16);
}

/* rpb_frame_encode_msg: header, Frame and payload message in one pass, the
 * same bytes as rpb_encode() of the message carried by rpb_frame_encode(). */
static void test_frame_encode_msg(void)
{
    rpb_hello hello;
    rpb_errinfo err;
    CU_ASSERT_EQUAL_FATAL(decode_hex(&rpb_hello_desc, GOLDEN_HELLO, &hello, 0, &err), RPB_OK);
    uint8_t payload[256], two_step[300], fused[300];
    size_t plen, n2, n1;
    CU_ASSERT_EQUAL_FATAL(rpb_encode(&rpb_hello_desc, &hello, payload, sizeof payload, &plen),
                          RPB_OK);
    rpb_frame f = rpb_frame_request(RPB_PP_CONTROL, (rpb_slice){payload, plen});
    f.request_id = 300; /* a tail field after the payload */
    f.traceparent = rpb_slice_cstr("00-x");
    CU_ASSERT_EQUAL_FATAL(rpb_frame_encode(&f, two_step, sizeof two_step, &n2), RPB_OK);
    f.payload = (rpb_slice){NULL, 0}; /* ignored: the message is the payload */
    CU_ASSERT_EQUAL(rpb_frame_encoded_len_msg(&f, &rpb_hello_desc, &hello), n2);
    CU_ASSERT_EQUAL_FATAL(rpb_frame_encode_msg(&f, &rpb_hello_desc, &hello, fused, sizeof fused,
                                               &n1),
                          RPB_OK);
    CU_ASSERT(n1 == n2 && memcmp(fused, two_step, n1) == 0);

    /* One byte short: refused, nothing written. */
    memset(fused, 0xee, sizeof fused);
    CU_ASSERT_EQUAL(rpb_frame_encode_msg(&f, &rpb_hello_desc, &hello, fused, n2 - 1, &n1),
                    RPB_ERR_BUFFER_TOO_SMALL);
    CU_ASSERT_EQUAL(fused[0], 0xee);
    CU_ASSERT_EQUAL(rpb_frame_encode_msg(NULL, &rpb_hello_desc, &hello, fused, sizeof fused, &n1),
                    RPB_ERR_INVALID_ARGUMENT);

    /* An all-default message is an empty payload, omitted (WIRE-020). */
    rpb_hello empty;
    rpb_msg_init(&rpb_hello_desc, &empty);
    CU_ASSERT_EQUAL(rpb_frame_encode_msg(&f, &rpb_hello_desc, &empty, fused, sizeof fused, &n1),
                    RPB_OK);
    CU_ASSERT_EQUAL(rpb_frame_encode(&f, two_step, sizeof two_step, &n2), RPB_OK);
    CU_ASSERT(n1 == n2 && memcmp(fused, two_step, n1) == 0);

    /* FRAME-008: a body over 16 MiB is refused before anything is written
     * (the token's bytes are never read). */
    uint8_t *big = calloc(1, RPB_MAX_FRAME_BYTES);
    CU_ASSERT_FATAL(big != NULL);
    hello.auth_token = (rpb_slice){big, RPB_MAX_FRAME_BYTES};
    memset(fused, 0xee, sizeof fused);
    CU_ASSERT_EQUAL(rpb_frame_encode_msg(&f, &rpb_hello_desc, &hello, fused, sizeof fused, &n1),
                    RPB_ERR_FRAME_TOO_LARGE);
    CU_ASSERT_EQUAL(fused[0], 0xee);
    free(big);
}

/* The framed writers write without sizing when the buffer has room for
 * any Frame of those fields, and size first otherwise: both give the same
 * bytes (WIRE-020, FRAME-002).  Payload messages of 0, 1, 2 and 3
 * length bytes cover the one-byte length the unsized writer starts with
 * and its moves when the length needs more. */
static void test_frame_encode_room(void)
{
    /* payload lengths, and the auth_token lengths that give them beside
     * client_min_protocol = 1 (2 bytes) and the token's tag and length */
    static const size_t lens[][2] = {{0, 0},         {127, 123},     {128, 124},
                                     {16383, 16378}, {16384, 16379}, {20000, 19994}};
    const size_t room = 64 * 1024;
    uint8_t *token = malloc(20000), *payload = malloc(room), *exact = malloc(room),
            *roomy = malloc(room);
    CU_ASSERT_FATAL(token && payload && exact && roomy);
    memset(token, 0x5a, 20000);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        rpb_hello hello;
        rpb_msg_init(&rpb_hello_desc, &hello);
        hello.client_min_protocol = lens[i][0] ? 1 : 0;
        hello.auth_token = (rpb_slice){token, lens[i][1]};
        size_t plen, n_exact, n_roomy;
        CU_ASSERT_FATAL(rpb_encode(&rpb_hello_desc, &hello, payload, room, &plen) == RPB_OK);
        CU_ASSERT_EQUAL(plen, lens[i][0]);
        rpb_frame f = rpb_frame_request(RPB_PP_CONTROL, (rpb_slice){payload, plen});
        f.request_id = 7; /* a tail after the payload */

        size_t need = rpb_frame_encoded_len(&f);
        CU_ASSERT_EQUAL(rpb_frame_encode(&f, exact, need, &n_exact), RPB_OK);
        CU_ASSERT_EQUAL(rpb_frame_encode(&f, roomy, room, &n_roomy), RPB_OK);
        CU_ASSERT(n_exact == need && n_roomy == need && memcmp(exact, roomy, need) == 0);

        rpb_frame carrier = f;
        carrier.payload = (rpb_slice){NULL, 0};
        CU_ASSERT_EQUAL(rpb_frame_encode_msg(&carrier, &rpb_hello_desc, &hello, roomy, room,
                                             &n_roomy),
                        RPB_OK);
        CU_ASSERT(n_roomy == need && memcmp(exact, roomy, need) == 0);
        CU_ASSERT_EQUAL(rpb_frame_encode_msg(&carrier, &rpb_hello_desc, &hello, roomy, need,
                                             &n_roomy),
                        RPB_OK);
        CU_ASSERT(n_roomy == need && memcmp(exact, roomy, need) == 0);
    }
    free(roomy);
    free(exact);
    free(payload);
    free(token);
}

/* Buffers below the Frame's floor (about 100 bytes) are filled back to
 * front: for frames with every field at its longest varint, at its
 * shortest, and byte fields up to the floor, every cap from 0 to past the
 * floor gives the bytes written with room to spare or BUFFER_TOO_SMALL
 * with the size needed, and no byte outside out[0..cap) changes
 * (WIRE-020, FRAME-002).  A body over 16 MiB is refused with nothing
 * written whatever the cap (FRAME-008). */
static void test_frame_encode_tight(void)
{
    static const char trace[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    uint8_t bytes[100];
    memset(bytes, 0x09, sizeof bytes);
    rpb_frame frames[6];
    frames[0] = (rpb_frame){0};
    frames[1] = rpb_frame_request(RPB_PP_PROBE, (rpb_slice){bytes, 32});
    frames[1].request_id = 7;
    frames[2] = rpb_frame_request(UINT32_MAX, (rpb_slice){bytes, 3}); /* 10-byte varints */
    frames[2].envelope_version = UINT32_MAX;
    frames[2].kind = -1;
    frames[2].request_id = UINT64_MAX;
    frames[2].payload_encoding = INT32_MIN;
    frames[2].deadline_unix_ms = UINT64_C(1) << 63;
    frames[2].tracestate = rpb_slice_cstr("a=b");
    frames[3] = frames[2]; /* a body over the floor */
    frames[3].traceparent = rpb_slice_cstr(trace);
    frames[4] = rpb_frame_request(RPB_PP_ADMIN, (rpb_slice){bytes, 80});
    frames[4].traceparent = rpb_slice_cstr("t");
    frames[5] = rpb_frame_request(RPB_PP_ADMIN, (rpb_slice){bytes, sizeof bytes});
    uint8_t roomy[512], buf[16 + 256 + 16];
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        size_t need = rpb_frame_encoded_len(&frames[i]), n_roomy, n;
        CU_ASSERT_EQUAL_FATAL(rpb_frame_encode(&frames[i], roomy, sizeof roomy, &n_roomy), RPB_OK);
        CU_ASSERT_EQUAL(n_roomy, need);
        for (size_t cap = 0; cap <= 256; cap++) {
            memset(buf, 0xee, sizeof buf);
            uint8_t *out = buf + 16;
            int rc = rpb_frame_encode(&frames[i], out, cap, &n);
            if (cap >= need) {
                CU_ASSERT_EQUAL(rc, RPB_OK);
                CU_ASSERT(n == need && memcmp(out, roomy, need) == 0);
            } else {
                CU_ASSERT_EQUAL(rc, RPB_ERR_BUFFER_TOO_SMALL);
                CU_ASSERT_EQUAL(n, need);
            }
            bool outside_intact = true;
            for (size_t k = 0; k < 16; k++)
                outside_intact &= buf[k] == 0xee && out[cap + k] == 0xee;
            CU_ASSERT(outside_intact);
        }
    }

    /* FRAME-008 with a tail field written before the payload's turn. */
    uint8_t *big = calloc(1, RPB_MAX_FRAME_BYTES);
    CU_ASSERT_FATAL(big != NULL);
    rpb_frame f = rpb_frame_request(RPB_PP_ADMIN, (rpb_slice){big, RPB_MAX_FRAME_BYTES});
    f.request_id = 7;
    f.tracestate = rpb_slice_cstr("a=b");
    for (size_t cap = 0; cap <= 256; cap += 50) {
        size_t n;
        memset(buf, 0xee, sizeof buf);
        CU_ASSERT_EQUAL(rpb_frame_encode(&f, buf, cap, &n), RPB_ERR_FRAME_TOO_LARGE);
        bool untouched = true;
        for (size_t k = 0; k < sizeof buf; k++)
            untouched &= buf[k] == 0xee;
        CU_ASSERT(untouched);
    }
    free(big);
}

/* ---- framing ---- */

static void test_frame_split_prefixes(void) /* FRAME-009 */
{
    size_t len;
    uint8_t *raw = tu_hex("010b00000008011881e0012203616263", &len);
    for (size_t k = 0; k < len; k++) {
        uint8_t *in = tu_guarded_copy(raw, k);
        rpb_slice body;
        size_t consumed;
        CU_ASSERT_EQUAL(rpb_frame_split(in, k, RPB_MAX_FRAME_BYTES, &body, &consumed, NULL),
                        RPB_NEED_MORE);
        tu_guarded_free(in, k);
    }
    rpb_frame f;
    size_t consumed = 0;
    uint8_t *in = tu_guarded_copy(raw, len);
    CU_ASSERT_EQUAL(rpb_frame_decode(in, len, RPB_MAX_FRAME_BYTES, &f, &consumed, NULL), RPB_OK);
    CU_ASSERT_EQUAL(consumed, 16);
    CU_ASSERT_EQUAL(f.payload_protocol, 0x7001);
    /* re-encode */
    uint8_t out[32];
    size_t n;
    CU_ASSERT_EQUAL(rpb_frame_encode(&f, out, sizeof out, &n), RPB_OK);
    CU_ASSERT(n == len && memcmp(out, raw, len) == 0);
    tu_guarded_free(in, len);
    free(raw);
}

static bool slices_equal(rpb_slice a, rpb_slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

/* rpb_frame_decode() reads the Frame's own fields in place and passes any
 * other key to the generic decoder: for bodies of every kind, valid and
 * not, its result, error (offset counted from the header) and Frame are
 * those of rpb_decode() of the body. */
static void test_frame_decode_as_generic(void) /* WIRE-001..WIRE-015 */
{
    static const char *const bodies[] = {
        "",
        "080110001881e00122036162632807300038004200",   /* every field, defaults written */
        "0801180122036162630801",                       /* repeated: last wins */
        "08ffffffff0f10ffffffffffffffffff011880808080f0ffffff01", /* narrowing, -1 kind */
        "28ffffffffffffffffff01",                       /* request_id 2^64-1 */
        "a00600",                                       /* unknown field 100 */
        "0d01020304",                                   /* field 1 as fixed32 */
        "0a0161",                                       /* field 1 as bytes */
        "2001",                                         /* payload as varint */
        "880100",                                       /* field 1 in a two-byte key */
        "42026869" "4a03c3a9e9",                        /* tracestate not UTF-8 */
        "4202c328",                                     /* traceparent not UTF-8 */
        "2205616263",                                   /* payload longer than the body */
        "18b2e4",                                       /* pp cut in its varint */
        "18ffffffffffffffffff02",                       /* pp 10th byte 0x02 */
        "0b0c",                                         /* group of field 1 */
        "5b5c08015c",                                   /* group 11, mismatched end */
        "00",                                           /* field 0 */
        "0f",                                           /* wire type 7 */
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        size_t body_len;
        uint8_t *body = tu_hex(bodies[i], &body_len);
        uint8_t *framed = malloc(RPB_FRAME_HEADER_BYTES + body_len);
        CU_ASSERT_FATAL(framed != NULL);
        rpb_frame_header_write(framed, (uint32_t)body_len);
        if (body_len)
            memcpy(framed + RPB_FRAME_HEADER_BYTES, body, body_len);
        rpb_frame fast, generic;
        rpb_errinfo fast_err = {0}, generic_err = {0};
        size_t consumed = 0;
        int fast_rc = rpb_frame_decode(framed, RPB_FRAME_HEADER_BYTES + body_len,
                                       RPB_MAX_FRAME_BYTES, &fast, &consumed, &fast_err);
        rpb_msg_init(&rpb_frame_desc, &generic);
        int generic_rc =
            rpb_decode(&rpb_frame_desc, body, body_len, &generic, NULL, 0, &generic_err);
        CU_ASSERT_EQUAL(fast_rc, generic_rc);
        CU_ASSERT_EQUAL(fast_err.code, generic_err.code);
        CU_ASSERT_EQUAL(fast_err.field, generic_err.field);
        if (generic_rc != RPB_OK) {
            CU_ASSERT_EQUAL(fast_err.offset, RPB_FRAME_HEADER_BYTES + generic_err.offset);
        } else {
            CU_ASSERT_EQUAL(consumed, RPB_FRAME_HEADER_BYTES + body_len);
            CU_ASSERT(fast.envelope_version == generic.envelope_version &&
                      fast.kind == generic.kind &&
                      fast.payload_protocol == generic.payload_protocol &&
                      slices_equal(fast.payload, generic.payload) &&
                      fast.request_id == generic.request_id &&
                      fast.payload_encoding == generic.payload_encoding &&
                      fast.deadline_unix_ms == generic.deadline_unix_ms &&
                      slices_equal(fast.traceparent, generic.traceparent) &&
                      slices_equal(fast.tracestate, generic.tracestate));
        }
        free(framed);
        free(body);
    }
}

static void test_frame_split_decisions(void) /* FRAME-001..FRAME-006 */
{
    rpb_slice body;
    size_t consumed;
    rpb_errinfo err;
    const uint8_t bad[] = {0x02};
    CU_ASSERT_EQUAL(rpb_frame_split(bad, 1, RPB_MAX_FRAME_BYTES, &body, &consumed, &err),
                    RPB_ERR_FRAMING_VERSION);
    CU_ASSERT_EQUAL(err.offset, 0);
    const uint8_t big[] = {0x01, 0x01, 0x00, 0x00, 0x01};
    CU_ASSERT_EQUAL(rpb_frame_split(big, 5, RPB_MAX_FRAME_BYTES, &body, &consumed, &err),
                    RPB_ERR_FRAME_TOO_LARGE);
    const uint8_t at_cap[] = {0x01, 0x00, 0x00, 0x00, 0x01};
    CU_ASSERT_EQUAL(rpb_frame_split(at_cap, 5, RPB_MAX_FRAME_BYTES, &body, &consumed, &err),
                    RPB_NEED_MORE);
    const uint8_t hello_big[] = {0x01, 0x01, 0x00, 0x01, 0x00};
    CU_ASSERT_EQUAL(rpb_frame_split(hello_big, 5, RPB_MAX_HELLO_BYTES, &body, &consumed, &err),
                    RPB_ERR_FRAME_TOO_LARGE);
    CU_ASSERT_EQUAL(rpb_frame_split(hello_big, 5, RPB_MAX_FRAME_BYTES, &body, &consumed, &err),
                    RPB_NEED_MORE);
    const uint8_t hello_at_cap[] = {0x01, 0x00, 0x00, 0x01, 0x00};
    CU_ASSERT_EQUAL(
        rpb_frame_split(hello_at_cap, 5, RPB_MAX_HELLO_BYTES, &body, &consumed, &err),
        RPB_NEED_MORE);
    /* empty body: an all-default Frame; trailing bytes untouched */
    const uint8_t empty[] = {0x01, 0, 0, 0, 0, 0x01, 0x05};
    rpb_frame f;
    CU_ASSERT_EQUAL(rpb_frame_decode(empty, sizeof empty, RPB_MAX_FRAME_BYTES, &f, &consumed, &err),
                    RPB_OK);
    CU_ASSERT_EQUAL(consumed, 5);
    CU_ASSERT_EQUAL(f.envelope_version, 0);
    /* body decode errors report offsets from the framing byte */
    const uint8_t bad_body[] = {0x01, 0x03, 0, 0, 0, 0xff, 0xff, 0xff};
    CU_ASSERT_EQUAL(
        rpb_frame_decode(bad_body, sizeof bad_body, RPB_MAX_FRAME_BYTES, &f, &consumed, &err),
        RPB_ERR_INVALID_VARINT);
    CU_ASSERT_EQUAL(err.offset, 5);
}

static void test_frame_constructors(void) /* ENV-007 (response), ENV-012 (request) */
{
    rpb_frame req = rpb_frame_request(0x7A63, rpb_slice_cstr("ping"));
    req.request_id = 42;
    req.traceparent = rpb_slice_cstr("tp");
    rpb_frame resp = rpb_frame_response_to(&req, rpb_slice_cstr("pong"));
    CU_ASSERT_EQUAL(resp.kind, RPB_FRAME_KIND_RESPONSE);
    CU_ASSERT_EQUAL(resp.payload_protocol, 0x7A63);
    CU_ASSERT_EQUAL(resp.request_id, 42);
    CU_ASSERT(rpb_slice_eq_cstr(resp.traceparent, "tp"));
    CU_ASSERT_EQUAL(resp.deadline_unix_ms, 0);
    req.traceparent = rpb_slice_cstr("");
    uint8_t out[64];
    size_t n, len;
    uint8_t *want = tu_hex("010e000000080118e3f401220470696e67282a", &len);
    CU_ASSERT_EQUAL(rpb_frame_encode(&req, out, sizeof out, &n), RPB_OK);
    CU_ASSERT(n == len && memcmp(out, want, len) == 0);
    free(want);
    CU_ASSERT_STRING_EQUAL(rpb_payload_protocol_class(0xF415), "private");
    CU_ASSERT_STRING_EQUAL(rpb_payload_protocol_class(0x7001), "consumer");
    CU_ASSERT_STRING_EQUAL(rpb_payload_protocol_class(0xB232), "probe");
    CU_ASSERT_STRING_EQUAL(rpb_payload_protocol_class(0x8000), "reserved");
    /* ENV-008: every named first-party and consumer entry of the registry,
     * and the unnamed rest of the first-party range */
    static const struct {
        uint32_t pp;
        const char *class;
    } registry[] = {
        {RPB_PP_CONTROL, "control"}, {RPB_PP_ADMIN, "admin"},     {RPB_PP_HANDOFF, "handoff"},
        {RPB_PP_ZCCACHE, "zccache"}, {RPB_PP_CLUD, "clud"},       {RPB_PP_FBUILD, "fbuild"},
        {0x0001, "first-party"},     {0x6fff, "first-party"},     {RPB_PP_CONSUMER_MIN, "consumer"},
        {RPB_PP_CONSUMER_MAX, "consumer"}, {0x7f00, "reserved"}, {RPB_PP_PRIVATE_MAX, "private"},
    };
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        CU_ASSERT_STRING_EQUAL(rpb_payload_protocol_class(registry[i].pp), registry[i].class);
    /* ENV-008: the payload each first-party protocol carries */
    CU_ASSERT_PTR_EQUAL(rpb_payload_message(RPB_PP_CONTROL, RPB_FRAME_KIND_REQUEST), &rpb_hello_desc);
    CU_ASSERT_PTR_EQUAL(rpb_payload_message(RPB_PP_CONTROL, RPB_FRAME_KIND_RESPONSE),
                        &rpb_hello_reply_desc);
    CU_ASSERT_PTR_EQUAL(rpb_payload_message(RPB_PP_ADMIN, RPB_FRAME_KIND_RESPONSE),
                        &rpb_admin_reply_desc);
    CU_ASSERT_PTR_EQUAL(rpb_payload_message(RPB_PP_HANDOFF, RPB_FRAME_KIND_EVENT),
                        &rpb_handoff_ack_desc);
    CU_ASSERT_PTR_NULL(rpb_payload_message(RPB_PP_CONTROL, RPB_FRAME_KIND_EVENT));
    CU_ASSERT_PTR_NULL(rpb_payload_message(RPB_PP_PROBE, RPB_FRAME_KIND_REQUEST));
    CU_ASSERT_PTR_NULL(rpb_payload_message(0x7A63, RPB_FRAME_KIND_REQUEST));
}

/* ---- envelope (ENV-001..ENV-009) ---- */

static void test_envelope_sites(void)
{
    rpb_frame f = rpb_frame_request(RPB_PP_CONTROL, rpb_slice_cstr(""));
    CU_ASSERT_EQUAL(rpb_envelope_check(&f, RPB_SITE_HELLO, 0), RPB_OK);
    CU_ASSERT_EQUAL(rpb_envelope_check(&f, RPB_SITE_HELLO_REPLY, 0), RPB_ERR_ENVELOPE_KIND);
    CU_ASSERT_EQUAL(rpb_envelope_check(&f, RPB_SITE_ADMIN_REQUEST, 0),
                    RPB_ERR_ENVELOPE_PAYLOAD_PROTOCOL);
    f.payload_encoding = RPB_PAYLOAD_ENCODING_ZSTD;
    CU_ASSERT_EQUAL(rpb_envelope_check(&f, RPB_SITE_HELLO, 0), RPB_ERR_ENVELOPE_PAYLOAD_ENCODING);
    f.kind = 99;
    CU_ASSERT_EQUAL(rpb_envelope_check(&f, RPB_SITE_HELLO, 0), RPB_ERR_ENVELOPE_KIND);
    f.envelope_version = 0;
    CU_ASSERT_EQUAL(rpb_envelope_check(&f, RPB_SITE_HELLO, 0), RPB_ERR_ENVELOPE_VERSION);

    /* probe response: request_id before encoding; handoff ack: after */
    rpb_frame p = rpb_frame_request(RPB_PP_PROBE, rpb_slice_cstr(""));
    p.kind = RPB_FRAME_KIND_RESPONSE;
    p.request_id = 7;
    p.payload_encoding = RPB_PAYLOAD_ENCODING_LZ4;
    CU_ASSERT_EQUAL(rpb_envelope_check(&p, RPB_SITE_PROBE_RESPONSE, 8), RPB_ERR_ENVELOPE_REQUEST_ID);
    CU_ASSERT_EQUAL(rpb_envelope_check(&p, RPB_SITE_PROBE_RESPONSE, 7),
                    RPB_ERR_ENVELOPE_PAYLOAD_ENCODING);
    p.payload_protocol = RPB_PP_HANDOFF;
    CU_ASSERT_EQUAL(rpb_envelope_check(&p, RPB_SITE_HANDOFF_ACK, 8),
                    RPB_ERR_ENVELOPE_PAYLOAD_ENCODING);
    p.payload_encoding = 0;
    CU_ASSERT_EQUAL(rpb_envelope_check(&p, RPB_SITE_HANDOFF_ACK, 8), RPB_ERR_ENVELOPE_REQUEST_ID);
    p.kind = RPB_FRAME_KIND_EVENT;
    CU_ASSERT_EQUAL(rpb_envelope_check(&p, RPB_SITE_HANDOFF_READY, 0), RPB_OK);
    CU_ASSERT_EQUAL(rpb_site_from_name("probe-response"), RPB_SITE_PROBE_RESPONSE);
    CU_ASSERT_EQUAL(rpb_site_from_name("no-such-site"), RPB_SITE_COUNT);
    CU_ASSERT_STRING_EQUAL(rpb_site_name(RPB_SITE_ADMIN_REPLY), "admin-reply");
    CU_ASSERT_EQUAL(rpb_envelope_check(&p, RPB_SITE_COUNT, 0), RPB_ERR_INVALID_ARGUMENT);
}

static void test_error_names(void)
{
    CU_ASSERT_STRING_EQUAL(rpb_errname(RPB_ERR_INVALID_UTF8), "invalid-utf8");
    int code = 12345;
    CU_ASSERT_EQUAL(rpb_err_from_name("recursion-limit", &code), RPB_OK);
    CU_ASSERT_EQUAL(code, RPB_ERR_RECURSION_LIMIT);
    CU_ASSERT_EQUAL(rpb_err_from_name("need-more", &code), RPB_OK);
    CU_ASSERT_EQUAL(code, RPB_NEED_MORE);
    /* an unknown name is an error, never RPB_OK with a status */
    code = 12345;
    CU_ASSERT_EQUAL(rpb_err_from_name("no-such-class", &code), RPB_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(code, 12345);
    CU_ASSERT_STRING_EQUAL(rpb_err_requirement(RPB_ERR_FRAME_TOO_LARGE), "FRAME-003");
    CU_ASSERT_PTR_NULL(rpb_errname(-12345));
    CU_ASSERT_STRING_EQUAL(rpb_strerror(-12345), "unknown error");
}

int main(void)
{
    static const tu_test tests[] = {
        {"varint edges (WIRE-005)", test_varint_edges},
        {"UTF-8 classes (WIRE-012)", test_utf8_classes},
        {"golden Frame", test_golden_frame},
        {"golden Hello + unknown field 21", test_golden_hello},
        {"golden Negotiated/Refused/HelloReply", test_golden_replies},
        {"golden HandoffOffer/HandoffAck", test_golden_handoff},
        {"key rules (WIRE-002..004)", test_key_rules},
        {"narrowing and open enums (WIRE-006/007)", test_narrowing_and_open_enums},
        {"wire-type mismatch per kind (WIRE-008)", test_wire_type_mismatch},
        {"map wire-type quirk (WIRE-009)", test_map_wire_type_quirk},
        {"lengths and nested boundaries (WIRE-010/011/021)", test_lengths_and_boundaries},
        {"UTF-8 in every string position (WIRE-012)", test_utf8_everywhere},
        {"repeated occurrences (WIRE-013)", test_repeated_occurrences},
        {"unknown fields and groups (WIRE-014/015)", test_unknown_fields_and_groups},
        {"recursion limit boundary (WIRE-016)", test_recursion_limit},
        {"scratch arena bound, rpb_decode_alloc", test_scratch_arena},
        {"encode into small buffers", test_encode_buffer_too_small},
        {"frame with a payload message in one pass", test_frame_encode_msg},
        {"framed writers with and without room to spare", test_frame_encode_room},
        {"framed writer into tight buffers, back to front", test_frame_encode_tight},
        {"frame split: every prefix needs more (FRAME-009)", test_frame_split_prefixes},
        {"frame split decisions (FRAME-001..006)", test_frame_split_decisions},
        {"framed Frame decoder agrees with rpb_decode", test_frame_decode_as_generic},
        {"frame constructors and registry (ENV-007/008)", test_frame_constructors},
        {"envelope sites (ENV-001..009)", test_envelope_sites},
        {"error names", test_error_names},
        {NULL, NULL},
    };
    return tu_run("codec", tests);
}
