/*
 * cases_wire.c - broker/malformed/... and broker/proto3/...: undecodable
 * Frames and Hello payloads, and the proto3 inputs a broker must accept
 * (WIRE-001..WIRE-021 as they show at the broker: a Frame that does not
 * decode is "malformed broker Frame" with nothing echoed, a Hello that does
 * not decode is "malformed Hello payload" with the request echoed).
 */
#include <stdio.h>

#include "cases.h"

/* WIRE-016: nested unknown groups after the baseline Frame body.  arg.number
 * 100: 100 nested start-groups whose innermost is empty are accepted; 101:
 * a 101st start-group exceeds the budget. */
static void case_recursion(cctx *c)
{
    unsigned depth = c->cs->arg.number;
    rpb_frame f;
    rpb_hello h;
    hello_base(&f, &h);
    sbuf hello = SBUF_INIT, body = SBUF_INIT, s = SBUF_INIT;
    stim_encode(&hello, &rpb_hello_desc, &h);
    f.payload.data = hello.data;
    f.payload.len = hello.len;
    stim_encode(&body, &rpb_frame_desc, &f);
    for (unsigned i = 0; i < depth; i++)
        put_hex(&body, "a306"); /* start-group, field 100 */
    for (unsigned i = 0; i < depth; i++)
        put_hex(&body, "a406"); /* end-group, field 100 */
    stim_framed(&s, body.data, body.len);
    char label[64];
    snprintf(label, sizeof label, "Hello frame + %u nested unknown groups", depth);
    if (depth <= 100)
        run_negotiated(c, label, &s, echo_of(&f));
    else
        run_refused(c, label, &s, &R_MALFORMED_FRAME, ECHO_NOTHING);
    sb_free(&hello);
    sb_free(&body);
    sb_free(&s);
}

/* WIRE-021: every default written out explicitly, in Frame and Hello. */
static void case_explicit_defaults(cctx *c)
{
    sbuf hello = SBUF_INIT, body = SBUF_INIT, s = SBUF_INIT;
    rpb_hello h;
    stim_hello_base(&h, self_pid());
    stim_encode(&hello, &rpb_hello_desc, &h);
    /* client_capabilities 0, auth_token "", request_id "", connection_id 0,
     * peer_attestation_nonce "", capability_token "" */
    put_hex(&hello, "30003a00420048006a007200");
    /* Frame: every field in order, defaults explicit */
    put_hex(&body, "0801" "1000" "1800");
    pb_bytes(&body, 4, hello.data, hello.len);
    put_hex(&body, "282a" "3000" "3800");
    pb_str(&body, 8, STIM_TRACEPARENT);
    pb_str(&body, 9, STIM_TRACESTATE);
    stim_framed(&s, body.data, body.len);
    rpb_frame req;
    stim_frame_base(&req);
    run_negotiated(c, "Hello with every default written explicitly", &s, echo_of(&req));
    sb_free(&hello);
    sb_free(&body);
    sb_free(&s);
}

/* WIRE-001, WIRE-020: a minimal Hello: only what differs from a default. */
static void case_omitted_defaults(cctx *c)
{
    sbuf hello = SBUF_INIT, body = SBUF_INIT, s = SBUF_INIT;
    pb_uint(&hello, 1, 1);
    pb_uint(&hello, 2, 1);
    pb_str(&hello, 3, STIM_SERVICE);
    pb_str(&hello, 4, STIM_VERSION);
    pb_uint(&body, 1, 1);
    pb_bytes(&body, 4, hello.data, hello.len);
    stim_framed(&s, body.data, body.len);
    run_negotiated(c, "minimal Hello: protocol range, service, version", &s, ECHO_NOTHING);
    sb_free(&hello);
    sb_free(&body);
    sb_free(&s);
}

static const hcase rows[] = {
    MUTATE("broker/malformed/frame/garbage", CORE, "WIRE-001 HELLO-006 HELLO-051", "a frame body ff ff ff gets Refused PEER_REJECTED with request_id 0", &R_MALFORMED_FRAME, RAW(RAW_FRAME_BODY, "ffffff")),
    MUTATE("broker/malformed/frame/invalid-key", CORE, "WIRE-002", "a key varint above 2^32-1 makes the Frame malformed", &R_MALFORMED_FRAME, RAW(RAW_FRAME_BODY, "0801" "808080801000")),
    MUTATE("broker/malformed/frame/tag-zero", CORE, "WIRE-003", "field number 0 makes the Frame malformed", &R_MALFORMED_FRAME, RAW(RAW_FRAME_BODY, "0801" "0001")),
    MUTATE("broker/malformed/frame/wire-type-6", CORE, "WIRE-004", "wire type 6 makes the Frame malformed", &R_MALFORMED_FRAME, RAW(RAW_FRAME_BODY, "0801" "0e00")),
    MUTATE("broker/malformed/frame/wire-type-7", CORE, "WIRE-004", "wire type 7 makes the Frame malformed", &R_MALFORMED_FRAME, RAW(RAW_FRAME_BODY, "0801" "0f00")),
    MUTATE("broker/malformed/frame/varint-11-bytes", CORE, "WIRE-005", "an 11-byte varint makes the Frame malformed", &R_MALFORMED_FRAME, RAW(RAW_FRAME_BODY, "0801" "28" "8080808080808080808000")),
    MUTATE("broker/malformed/frame/varint-10th-byte", CORE, "WIRE-005", "a 10-byte varint whose last byte exceeds 1 makes the Frame malformed", &R_MALFORMED_FRAME, RAW(RAW_FRAME_BODY, "0801" "28" "ffffffffffffffffff02")),
    MUTATE("broker/malformed/frame/varint-truncated", CORE, "WIRE-005", "a varint cut by the end of the body makes the Frame malformed", &R_MALFORMED_FRAME, RAW(RAW_FRAME_BODY, "0801" "2880")),
    MUTATE("broker/malformed/frame/wire-type-mismatch", CORE, "WIRE-008", "envelope_version sent length-delimited makes the Frame malformed", &R_MALFORMED_FRAME, RAW(RAW_FRAME_BODY, "0a0101")),
    MUTATE("broker/malformed/frame/length-underflow", CORE, "WIRE-010", "a payload length beyond the body makes the Frame malformed", &R_MALFORMED_FRAME, RAW(RAW_FRAME_BODY, "0801" "2264aabbcc")),
    MUTATE("broker/malformed/frame/fixed64-underflow", CORE, "WIRE-010 WIRE-014", "an unknown fixed64 field with 2 bytes left makes the Frame malformed", &R_MALFORMED_FRAME, RAW(RAW_FRAME_BODY, "0801" "a1010102")),
    MUTATE("broker/malformed/frame/fixed32-underflow", CORE, "WIRE-010 WIRE-014", "an unknown fixed32 field with 1 byte left makes the Frame malformed", &R_MALFORMED_FRAME, RAW(RAW_FRAME_BODY, "0801" "a50101")),
    MUTATE("broker/malformed/frame/invalid-utf8-traceparent", CORE, "WIRE-012 HELLO-006 HELLO-051", "an overlong UTF-8 traceparent makes the Frame malformed: nothing echoed", &R_MALFORMED_FRAME, RAW(RAW_FRAME_BODY, "0801" "2807" "4202c080")),
    MUTATE("broker/malformed/frame/invalid-utf8-tracestate", CORE, "WIRE-012", "a surrogate in tracestate makes the Frame malformed", &R_MALFORMED_FRAME, RAW(RAW_FRAME_BODY, "0801" "2807" "4a03eda080")),
    MUTATE("broker/malformed/frame/stray-end-group", CORE, "WIRE-015", "an end-group without its start makes the Frame malformed", &R_MALFORMED_FRAME, RAW(RAW_FRAME_BODY, "0801" "a401")),
    MUTATE("broker/malformed/frame/group-mismatch", CORE, "WIRE-015", "an end-group of another field number makes the Frame malformed", &R_MALFORMED_FRAME, RAW(RAW_FRAME_BODY, "0801" "a301" "ac01")),
    MUTATE("broker/malformed/frame/group-unterminated", CORE, "WIRE-015", "a group never closed makes the Frame malformed", &R_MALFORMED_FRAME, RAW(RAW_FRAME_BODY, "0801" "a301" "0801")),
    ROW_NUMBER("broker/malformed/frame/recursion-101", CORE, "WIRE-016", "101 nested unknown groups exceed the recursion budget: malformed Frame", case_recursion, 101),
    MUTATE("broker/malformed/payload/garbage", CORE, "WIRE-001 ENV-010 HELLO-009", "a Hello payload starting ff gets Refused PEER_REJECTED with the request echoed", &R_MALFORMED_HELLO, RAW(RAW_HELLO_PREFIX, "ff")),
    MUTATE("broker/malformed/payload/invalid-utf8", CORE, "WIRE-012 HELLO-009", "client_version with a byte ff (no other rule applies) gets Refused PEER_REJECTED", &R_MALFORMED_HELLO, RAW(RAW_HELLO_APPEND, "2a04" "312eff30")),
    MUTATE("broker/malformed/payload/invalid-utf8-request-id", CORE, "WIRE-012", "the ignored Hello.request_id with overlong UTF-8 still fails the decode", &R_MALFORMED_HELLO, RAW(RAW_HELLO_APPEND, "4203" "c0af41")),
    MUTATE("broker/malformed/payload/invalid-utf8-lib-name", CORE, "WIRE-012", "a surrogate in client_lib_name fails the decode", &R_MALFORMED_HELLO, RAW(RAW_HELLO_APPEND, "5a03" "eda080")),
    MUTATE("broker/malformed/payload/invalid-utf8-service", CORE, "WIRE-012", "a code point above U+10FFFF in service_name fails the decode", &R_MALFORMED_HELLO, RAW(RAW_HELLO_APPEND, "1a04" "f4908080")),
    MUTATE("broker/malformed/payload/wire-type-mismatch", CORE, "WIRE-008", "client_min_protocol sent as fixed32 fails the decode", &R_MALFORMED_HELLO, RAW(RAW_HELLO_APPEND, "0d01000000")),
    MUTATE("broker/malformed/payload/length-underflow", CORE, "WIRE-010", "a string length beyond the payload fails the decode", &R_MALFORMED_HELLO, RAW(RAW_HELLO_APPEND, "2a10" "31")),
    MUTATE("broker/malformed/payload/tag-zero", CORE, "WIRE-003", "field number 0 in the Hello fails the decode", &R_MALFORMED_HELLO, RAW(RAW_HELLO_APPEND, "0000")),
    MUTATE("broker/malformed/payload/stray-end-group", CORE, "WIRE-015", "a stray end-group in the Hello fails the decode", &R_MALFORMED_HELLO, RAW(RAW_HELLO_APPEND, "a401")),
    ROW("broker/proto3/omitted-defaults", CORE, "WIRE-001 WIRE-020", "a minimal Hello (range, service, version only; no request_id) negotiates", case_omitted_defaults),
    ROW("broker/proto3/explicit-defaults", CORE, "WIRE-021", "a Frame and Hello with every default written explicitly negotiate", case_explicit_defaults),
    MUTATE("broker/proto3/unknown-field/frame-varint", CORE, "WIRE-014", "an unknown varint field in the Frame is skipped", NEGOTIATES, RAW(RAW_FRAME_APPEND, "a00601")),
    MUTATE("broker/proto3/unknown-field/frame-i64", CORE, "WIRE-014", "an unknown fixed64 field in the Frame is skipped", NEGOTIATES, RAW(RAW_FRAME_APPEND, "a1060102030405060708")),
    MUTATE("broker/proto3/unknown-field/frame-len", CORE, "WIRE-014", "an unknown length-delimited field in the Frame is skipped", NEGOTIATES, RAW(RAW_FRAME_APPEND, "a20603616263")),
    MUTATE("broker/proto3/unknown-field/frame-group", CORE, "WIRE-014 WIRE-015", "an unknown group in the Frame is skipped to its end", NEGOTIATES, RAW(RAW_FRAME_APPEND, "a306" "0801" "a406")),
    MUTATE("broker/proto3/unknown-field/frame-i32", CORE, "WIRE-014", "an unknown fixed32 field in the Frame is skipped", NEGOTIATES, RAW(RAW_FRAME_APPEND, "a50601020304")),
    MUTATE("broker/proto3/unknown-field/frame-reserved-10", CORE, "WIRE-014", "reserved Frame field 10 is skipped like any unknown field", NEGOTIATES, RAW(RAW_FRAME_APPEND, "5001")),
    MUTATE("broker/proto3/unknown-field/hello-varint", CORE, "WIRE-014", "unknown Hello field 21 (varint, upstream's golden case) is skipped", NEGOTIATES, RAW(RAW_HELLO_APPEND, "a80101")),
    MUTATE("broker/proto3/unknown-field/hello-i64", CORE, "WIRE-014", "an unknown fixed64 field in the Hello is skipped", NEGOTIATES, RAW(RAW_HELLO_APPEND, "a9010102030405060708")),
    MUTATE("broker/proto3/unknown-field/hello-len", CORE, "WIRE-014", "an unknown length-delimited field in the Hello is skipped", NEGOTIATES, RAW(RAW_HELLO_APPEND, "aa0103616263")),
    MUTATE("broker/proto3/unknown-field/hello-group", CORE, "WIRE-014 WIRE-015", "an unknown group in the Hello is skipped to its end", NEGOTIATES, RAW(RAW_HELLO_APPEND, "ab01" "0801" "ac01")),
    MUTATE("broker/proto3/unknown-field/hello-i32", CORE, "WIRE-014", "an unknown fixed32 field in the Hello is skipped", NEGOTIATES, RAW(RAW_HELLO_APPEND, "ad0101020304")),
    MUTATE("broker/proto3/unknown-field/hello-reserved-16", CORE, "WIRE-014", "reserved Hello field 16 is skipped like any unknown field", NEGOTIATES, RAW(RAW_HELLO_APPEND, "800101")),
    ROW_NUMBER("broker/proto3/recursion-100", CORE, "WIRE-016", "100 nested unknown groups, the innermost empty, are within the budget", case_recursion, 100),
    MUTATE("broker/proto3/overlong-varint", CORE, "WIRE-005", "envelope_version 1 as an overlong varint (81 80 80 00) is accepted", NEGOTIATES, RAW(RAW_FRAME_PREFIX, "0881808000")),
    MUTATE("broker/proto3/narrowing/envelope-version", CORE, "WIRE-006", "envelope_version 2^32+1 keeps its low 32 bits (1) and negotiates", NEGOTIATES, RAW(RAW_FRAME_PREFIX, "088180808010")),
    MUTATE("broker/proto3/narrowing/kind", CORE, "WIRE-006", "kind 2^32 keeps its low 32 bits (REQUEST) and negotiates", NEGOTIATES, RAW(RAW_FRAME_APPEND, "108080808010")),
    /* WIRE-006 design: every uint32 (and enum) field the broker reads,
     * sent as 2^32 + x: x decides, whether it passes (x valid) or fails
     * (x invalid) the check that reads the field */
    MUTATE("broker/proto3/narrowing/envelope-version-to-zero", CORE, "WIRE-006 HELLO-008", "envelope_version 2^32 keeps its low 32 bits (0): Refused VERSION_UNSUPPORTED", &R_ENV_VERSION, RAW(RAW_FRAME_PREFIX, "088080808010"), .raw_decodes = true),
    MUTATE("broker/proto3/narrowing/payload-protocol", CORE, "WIRE-006 HELLO-008", "payload_protocol 2^32 keeps its low 32 bits (control) and negotiates", NEGOTIATES, RAW(RAW_FRAME_APPEND, "188080808010")),
    MUTATE("broker/proto3/narrowing/payload-protocol-probe", CORE, "WIRE-006 HELLO-008", "payload_protocol 2^32+0xB232 keeps its low 32 bits (probe): Refused PEER_REJECTED", &R_ENV_PROTOCOL, RAW(RAW_FRAME_APPEND, "18b2e4828010"), .raw_decodes = true),
    MUTATE("broker/proto3/narrowing/payload-encoding", CORE, "WIRE-006 ENV-004", "payload_encoding 2^32 keeps its low 32 bits (NONE) and negotiates", NEGOTIATES, RAW(RAW_FRAME_APPEND, "308080808010")),
    MUTATE("broker/proto3/narrowing/client-min-protocol", CORE, "WIRE-006 HELLO-010", "client_min_protocol 2^32+1 keeps its low 32 bits (1) and negotiates", NEGOTIATES, RAW(RAW_HELLO_APPEND, "088180808010")),
    MUTATE("broker/proto3/narrowing/client-min-protocol-to-two", CORE, "WIRE-006 HELLO-010", "client_min_protocol 2^32+2 keeps its low 32 bits (2): Refused VERSION_UNSUPPORTED", &R_PROTOCOL_RANGE, RAW(RAW_HELLO_APPEND, "088280808010")),
    MUTATE("broker/proto3/narrowing/client-max-protocol-to-zero", CORE, "WIRE-006 HELLO-010", "client_max_protocol 2^32 keeps its low 32 bits (0): Refused VERSION_UNSUPPORTED", &R_PROTOCOL_RANGE, RAW(RAW_HELLO_APPEND, "108080808010")),
    MUTATE("broker/proto3/narrowing/peer-pid", CORE, "WIRE-006 HELLO-015", "peer_pid 2^32 keeps its low 32 bits (0, not claimed) and negotiates", NEGOTIATES, RAW(RAW_HELLO_APPEND, "508080808010")),
    MUTATE("broker/proto3/narrowing/client-max-protocol", CORE, "WIRE-006", "client_max_protocol 2^32+1 keeps its low 32 bits (1) and negotiates", NEGOTIATES, RAW(RAW_HELLO_APPEND, "108180808010")),
    MUTATE("broker/proto3/repeated/frame-last-wins", CORE, "WIRE-013", "envelope_version 2 then 1: the last occurrence wins", NEGOTIATES, RAW(RAW_FRAME_PREFIX, "0802" "0801")),
    MUTATE("broker/proto3/repeated/last-wins", CORE, "WIRE-013", "service_name \"Bad Name\" then \"zccache\": the last wins and negotiates", NEGOTIATES, RAW(RAW_HELLO_PREFIX, "1a08" "426164204e616d65")),
    MUTATE("broker/proto3/repeated/last-wins-invalid", CORE, "WIRE-013 HELLO-011", "service_name \"zccache\" then \"Bad Name\": the last wins and is refused", &R_SERVICE_NAME, RAW(RAW_HELLO_APPEND, "1a08" "426164204e616d65")),
    MUTATE("broker/reply/canonical/negotiated", CORE, "HELLO-052 WIRE-020", "a Negotiated reply is the canonical encoding of its fields", NEGOTIATES, .canonical = true),
    MUTATE("broker/reply/canonical/refused", CORE, "HELLO-052 WIRE-020 HELLO-040", "a Refused reply is the canonical encoding of its fields", &R_SERVICE_UNKNOWN, SERVICE("nosuch"), .canonical = true),
    MUTATE("broker/proto3/nul-in-string", CORE, "WIRE-012", "a NUL inside client_version is valid UTF-8 and negotiates", NEGOTIATES, .client_version = BSTR("cli\0/1.0")),
};

CASE_TABLE(cases_wire, rows);
