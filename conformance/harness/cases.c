/*
 * cases.c - the case table of rpb-conform: every case with its stable id,
 * tier, the requirement IDs it checks (spec/wire.md, spec/envelope.md,
 * spec/hello.md) and its function.  Ids never change meaning; a new check
 * gets a new id.  The order is the run order.
 */
#include "cases.h"

/* ---- table data ---- */

static const uint8_t byte_00 = 0x00, byte_02 = 0x02, byte_ff = 0xff;

#define ENV(v, k, pp, enc, want) {v, k, pp, enc, false, want}
static const env_variant env_version_0 = ENV(0, 0, 0, 0, &R_ENV_VERSION);
static const env_variant env_version_2 = ENV(2, 0, 0, 0, &R_ENV_VERSION);
static const env_variant env_kind_response = ENV(1, 1, 0, 0, &R_ENV_KIND);
static const env_variant env_kind_event = ENV(1, 2, 0, 0, &R_ENV_KIND);
static const env_variant env_kind_cancel = ENV(1, 3, 0, 0, &R_ENV_KIND);
static const env_variant env_kind_99 = ENV(1, 99, 0, 0, &R_ENV_KIND);
static const env_variant env_pp_handoff = ENV(1, 0, 0xD0FF, 0, &R_ENV_PROTOCOL);
static const env_variant env_pp_probe = ENV(1, 0, 0xB232, 0, &R_ENV_PROTOCOL);
static const env_variant env_pp_consumer = ENV(1, 0, 0x7A63, 0, &R_ENV_PROTOCOL);
static const env_variant env_pp_private = ENV(1, 0, 0xF000, 0, &R_ENV_PROTOCOL);
static const env_variant env_pp_first_party = ENV(1, 0, 0x0001, 0, &R_ENV_PROTOCOL);
static const env_variant env_enc_zstd = ENV(1, 0, 0, 1, &R_ENV_ENCODING);
static const env_variant env_enc_snappy = ENV(1, 0, 0, 2, &R_ENV_ENCODING);
static const env_variant env_enc_lz4 = ENV(1, 0, 0, 3, &R_ENV_ENCODING);
static const env_variant env_enc_99 = ENV(1, 0, 0, 99, &R_ENV_ENCODING);
static const env_variant env_order_version = ENV(2, 1, 0xD0FF, 1, &R_ENV_VERSION);
static const env_variant env_order_kind = ENV(1, 1, 0xD0FF, 1, &R_ENV_KIND);
static const env_variant env_payload_after = {2, 0, 0, 0, true, &R_ENV_VERSION};
static const env_variant env_payload_kind = {1, 1, 0, 0, true, &R_ENV_KIND};

#define MF(hex) {IN_FRAME_BODY, hex, &R_MALFORMED_FRAME}
static const wire_variant mf_garbage = MF("ffffff");
static const wire_variant mf_invalid_key = MF("0801" "808080801000");
static const wire_variant mf_tag_zero = MF("0801" "0001");
static const wire_variant mf_wire_type_6 = MF("0801" "0e00");
static const wire_variant mf_wire_type_7 = MF("0801" "0f00");
static const wire_variant mf_varint_11 = MF("0801" "28" "8080808080808080808000");
static const wire_variant mf_varint_10th = MF("0801" "28" "ffffffffffffffffff02");
static const wire_variant mf_varint_trunc = MF("0801" "2880");
static const wire_variant mf_wt_mismatch = MF("0a0101");
static const wire_variant mf_len_underflow = MF("0801" "2264aabbcc");
static const wire_variant mf_fixed64_underflow = MF("0801" "a1010102");
static const wire_variant mf_fixed32_underflow = MF("0801" "a50101");
static const wire_variant mf_utf8_traceparent = MF("0801" "2807" "4202c080");
static const wire_variant mf_utf8_tracestate = MF("0801" "2807" "4a03eda080");
static const wire_variant mf_stray_end_group = MF("0801" "a401");
static const wire_variant mf_group_mismatch = MF("0801" "a301" "ac01");
static const wire_variant mf_group_unterminated = MF("0801" "a301" "0801");

#define MH(hex) {IN_HELLO_APPEND, hex, &R_MALFORMED_HELLO}
static const wire_variant mh_garbage = {IN_HELLO_PREFIX, "ff", &R_MALFORMED_HELLO};
static const wire_variant mh_utf8_client_version = MH("2a04" "312eff30");
static const wire_variant mh_utf8_request_id = MH("4203" "c0af41");
static const wire_variant mh_utf8_lib_name = MH("5a03" "eda080");
static const wire_variant mh_utf8_service = MH("1a04" "f4908080");
static const wire_variant mh_wt_mismatch = MH("0d01000000");
static const wire_variant mh_len_underflow = MH("2a10" "31");
static const wire_variant mh_tag_zero = MH("0000");
static const wire_variant mh_stray_end_group = MH("a401");

#define OK_FRAME(hex) {IN_FRAME_APPEND, hex, NULL}
#define OK_HELLO(hex) {IN_HELLO_APPEND, hex, NULL}
static const wire_variant uf_frame_varint = OK_FRAME("a00601");
static const wire_variant uf_frame_i64 = OK_FRAME("a1060102030405060708");
static const wire_variant uf_frame_len = OK_FRAME("a20603616263");
static const wire_variant uf_frame_group = OK_FRAME("a306" "0801" "a406");
static const wire_variant uf_frame_i32 = OK_FRAME("a50601020304");
static const wire_variant uf_frame_reserved = OK_FRAME("5001");
static const wire_variant uf_hello_varint = OK_HELLO("a80101");
static const wire_variant uf_hello_i64 = OK_HELLO("a9010102030405060708");
static const wire_variant uf_hello_len = OK_HELLO("aa0103616263");
static const wire_variant uf_hello_group = OK_HELLO("ab01" "0801" "ac01");
static const wire_variant uf_hello_i32 = OK_HELLO("ad0101020304");
static const wire_variant uf_hello_reserved = OK_HELLO("800101");
static const wire_variant pf_overlong = {IN_FRAME_PREFIX, "0881808000", NULL};
static const wire_variant pf_version_wide = {IN_FRAME_PREFIX, "088180808010", NULL};
static const wire_variant pf_kind_wide = OK_FRAME("108080808010");
static const wire_variant pf_max_wide = OK_HELLO("108180808010");
static const wire_variant pf_frame_repeated = {IN_FRAME_PREFIX, "0802" "0801", NULL};
static const wire_variant pf_last_wins = {IN_HELLO_PREFIX, "1a08" "426164204e616d65", NULL};
static const wire_variant pf_last_wins_invalid = {IN_HELLO_APPEND, "1a08" "426164204e616d65", &R_SERVICE_NAME};

#define HV_NAME(lit, want) {BSTR(lit), {NULL, 0}, want}
#define HV_VER(lit, want) {{NULL, 0}, BSTR(lit), want}
#define HV(name, ver, want) {BSTR(name), BSTR(ver), want}
static const hello_variant sn_uppercase = HV_NAME("Zccache", &R_SERVICE_NAME);
static const hello_variant sn_all_upper = HV_NAME("ZCCACHE", &R_SERVICE_NAME);
static const hello_variant sn_traversal = HV_NAME("../zccache", &R_SERVICE_NAME);
static const hello_variant sn_backslash = HV_NAME("..\\zccache", &R_SERVICE_NAME);
static const hello_variant sn_absolute = HV_NAME("/tmp/zccache", &R_SERVICE_NAME);
static const hello_variant sn_semicolon = HV_NAME("zccache;rm", &R_SERVICE_NAME);
static const hello_variant sn_ampersand = HV_NAME("zccache&&calc", &R_SERVICE_NAME);
static const hello_variant sn_pipe = HV_NAME("zccache|whoami", &R_SERVICE_NAME);
static const hello_variant sn_space = HV_NAME("zccache service", &R_SERVICE_NAME);
static const hello_variant sn_dot = HV_NAME("zccache.service", &R_SERVICE_NAME);
static const hello_variant sn_underscore = HV_NAME("zccache_service", &R_SERVICE_NAME);
static const hello_variant sn_empty = HV_NAME("", &R_SERVICE_NAME);
static const hello_variant sn_len_65 = HV_NAME(A64 "a", &R_SERVICE_NAME);
static const hello_variant sn_emoji = HV_NAME("emoji-rocket-\xf0\x9f\x9a\x80", &R_SERVICE_NAME);
static const hello_variant sn_nul = HV_NAME("zcc\0ache", &R_SERVICE_NAME);
static const hello_variant sn_len_64 = HV_NAME(A64, &R_SERVICE_UNKNOWN);
static const hello_variant sn_hyphens = HV_NAME("-", &R_SERVICE_UNKNOWN);
static const hello_variant sn_digits = HV_NAME("0-9-a", &R_SERVICE_UNKNOWN);

static const hello_variant wv_empty = HV_VER("", &R_WANTED_VERSION);
static const hello_variant wv_two_part = HV_VER("1.0", &R_WANTED_VERSION);
static const hello_variant wv_four_part = HV_VER("1.0.0.0", &R_WANTED_VERSION);
static const hello_variant wv_v_prefix = HV_VER("v1.0.0", &R_WANTED_VERSION);
static const hello_variant wv_trailing_dash = HV_VER("1.0.0-", &R_WANTED_VERSION);
static const hello_variant wv_uppercase = HV_VER("1.0.0-ALPHA", &R_WANTED_VERSION);
static const hello_variant wv_build = HV_VER("1.0.0-alpha+build", &R_WANTED_VERSION);
static const hello_variant wv_build_plain = HV_VER("1.11.20+b", &R_WANTED_VERSION);
static const hello_variant wv_second_dash = HV_VER("1.0.0-rc-1", &R_WANTED_VERSION);
static const hello_variant wv_empty_part = HV_VER("1..0", &R_WANTED_VERSION);
static const hello_variant wv_shell_semicolon = HV_VER("1.0.0; rm -rf /", &R_WANTED_VERSION);
static const hello_variant wv_shell_and = HV_VER("1.0.0 && calc.exe", &R_WANTED_VERSION);
static const hello_variant wv_shell_pipe = HV_VER("1.0.0 | whoami", &R_WANTED_VERSION);
static const hello_variant wv_shell_subst = HV_VER("$(touch pwned)", &R_WANTED_VERSION);
static const hello_variant wv_shell_backtick = HV_VER("`calc`", &R_WANTED_VERSION);
static const hello_variant wv_space = HV_VER("1.0.0 alpha", &R_WANTED_VERSION);
static const hello_variant wv_traversal = HV_VER("../../../bin/evil", &R_WANTED_VERSION);
static const hello_variant wv_backslash = HV_VER("..\\..\\bin\\evil", &R_WANTED_VERSION);
static const hello_variant wv_absolute = HV_VER("/tmp/evil", &R_WANTED_VERSION);
static const hello_variant wv_windows = HV_VER("C:\\temp\\evil.exe", &R_WANTED_VERSION);
static const hello_variant wv_slash = HV_VER("1.0.0/evil", &R_WANTED_VERSION);
static const hello_variant wv_tail_traversal = HV_VER("1.0.0-../../evil", &R_WANTED_VERSION);
static const hello_variant wv_dotdot = HV_VER("1.0.0..evil", &R_WANTED_VERSION);
static const hello_variant wv_nul = HV_VER("1.11.20\0", &R_WANTED_VERSION);
/* grammar controls: valid shape, so the version policy answers */
static const hello_variant wv_ok_empty_segments = HV_VER("1.0.0-..", &R_BELOW_MIN);
static const hello_variant wv_ok_leading_zeros = HV(FIXTURE_SVC_OPEN, "01.10.00", NULL);

static const hello_variant pol_unknown = HV_NAME("nosuch", &R_SERVICE_UNKNOWN);
static const hello_variant pol_below_min = HV(FIXTURE_SVC_OPEN, "1.9.9", &R_BELOW_MIN);
static const hello_variant pol_at_floor = HV(FIXTURE_SVC_OPEN, "1.10.0", NULL);
static const hello_variant pol_above_floor = HV(FIXTURE_SVC_OPEN, "1.100.0", NULL);
static const hello_variant pol_prerelease_floor = HV(FIXTURE_SVC_OPEN, "1.10.0-rc.1", NULL);
static const hello_variant pol_below_min_pinned = HV(FIXTURE_SVC_PINNED, "1.9.9", &R_BELOW_MIN);
static const hello_variant pol_not_listed = HV(FIXTURE_SVC_PINNED, "1.11.21", &R_NOT_ALLOWED);
static const hello_variant pol_listed = HV(FIXTURE_SVC_PINNED, "1.11.20", NULL);
static const hello_variant pol_listed_prerelease = HV(FIXTURE_SVC_PINNED, "1.11.20-rc.1", &R_NOT_ALLOWED);

static const range_variant pr_above = {2, 3, &R_PROTOCOL_RANGE};
static const range_variant pr_zero = {0, 0, &R_PROTOCOL_RANGE};
static const range_variant pr_inverted = {1, 0, &R_PROTOCOL_RANGE};
static const range_variant pr_wide = {0, 5, NULL};
static const range_variant pr_upper_open = {1, 3, NULL};

static const cap_variant cap_cv_128 = {5, 128, NULL};
static const cap_variant cap_cv_129 = {5, 129, &R_CLIENT_VERSION};
static const cap_variant cap_ln_64 = {11, 64, NULL};
static const cap_variant cap_ln_65 = {11, 65, &R_CLIENT_LIB};
static const cap_variant cap_lv_64 = {12, 64, NULL};
static const cap_variant cap_lv_65 = {12, 65, &R_CLIENT_LIB};
static const cap_variant cap_wv_64 = {4, 64, NULL};
static const cap_variant cap_wv_65 = {4, 65, &R_WANTED_VERSION};

static const admin_variant ad_healthz = {RPB_ADMIN_VERB_HEALTHZ, false, RPB_ADMIN_REPLY_KIND_TEXT, 0, "ok\n", {NULL}, NULL, NULL, false};
static const admin_variant ad_readyz = {RPB_ADMIN_VERB_READYZ, false, RPB_ADMIN_REPLY_KIND_TEXT, 0, "ready\n", {NULL}, NULL, NULL, false};
static const admin_variant ad_status_json = {RPB_ADMIN_VERB_STATUS, true, RPB_ADMIN_REPLY_KIND_JSON, 0, NULL,
                                             {"\"schema_version\"", "\"command\"", "\"status\"", "\"generated_at_unix_ms\""}, NULL, "application/json", false};
static const admin_variant ad_status_text = {RPB_ADMIN_VERB_STATUS, false, RPB_ADMIN_REPLY_KIND_TEXT, 0, NULL,
                                             {"broker_instance: ", "accepting_hello: true\n", NULL}, NULL, NULL, false};
static const admin_variant ad_metrics = {RPB_ADMIN_VERB_METRICS, false, RPB_ADMIN_REPLY_KIND_OPENMETRICS, 0, NULL,
                                         {"# TYPE running_process_broker_v1_connections_open gauge", NULL}, "# EOF\n", "application/openmetrics-text", false};
static const admin_variant ad_unspecified = {RPB_ADMIN_VERB_UNSPECIFIED, false, RPB_ADMIN_REPLY_KIND_TEXT, 2,
                                             "unsupported admin verb\n", {NULL}, NULL, NULL, false};
static const admin_variant ad_unknown = {99, false, RPB_ADMIN_REPLY_KIND_TEXT, 2, "unsupported admin verb\n", {NULL}, NULL, NULL, false};
#define AD_JSON(verb, command, optional) {verb, true, RPB_ADMIN_REPLY_KIND_JSON, 0, NULL, {"\"schema_version\"", "\"command\"", command, NULL}, NULL, "application/json", optional}
static const admin_variant ad_dump = AD_JSON(RPB_ADMIN_VERB_DUMP, "\"dump\"", true);
static const admin_variant ad_list = AD_JSON(RPB_ADMIN_VERB_LIST_INSTANCES, "\"list-instances\"", true);
static const admin_variant ad_backend_health = AD_JSON(RPB_ADMIN_VERB_BACKEND_HEALTH, "\"backend-health\"", true);
static const admin_variant ad_diagnose = AD_JSON(RPB_ADMIN_VERB_DIAGNOSE, "\"diagnose\"", true);
static const admin_variant ad_config = {RPB_ADMIN_VERB_CONFIG, true, RPB_ADMIN_REPLY_KIND_JSON, 0, NULL,
                                        {"\"command\"", "\"config\"", "\"values\"", "\"max_hello_bytes\""}, NULL, "application/json", false};

/* ---- the table ---- */

#define CORE TIER_CORE
#define STRICT TIER_STRICT

const hcase conform_cases[] = {
    /* framing */
    {"broker/framing/version-byte/0x02", CORE, "FRAME-001 HELLO-002 HELLO-051", "a framing byte 0x02 gets Refused VERSION_UNSUPPORTED, nothing echoed", case_version_byte, &byte_02, 0},
    {"broker/framing/version-byte/0x00", CORE, "FRAME-001 HELLO-002", "a framing byte 0x00 gets Refused VERSION_UNSUPPORTED", case_version_byte, &byte_00, 0},
    {"broker/framing/version-byte/0xff", CORE, "FRAME-001 HELLO-002", "a framing byte 0xff gets Refused VERSION_UNSUPPORTED", case_version_byte, &byte_ff, 0},
    {"broker/framing/version-byte/first-byte-decides", CORE, "FRAME-001 HELLO-002", "the framing byte alone decides: 0x02 and nothing more gets Refused at once", case_version_byte_alone, NULL, 0},
    {"broker/framing/empty-body", CORE, "FRAME-006 WIRE-001 ENV-001 HELLO-008", "01 00 00 00 00 is a default Frame: Refused VERSION_UNSUPPORTED (envelope_version 0)", case_empty_body, NULL, 0},
    {"broker/framing/hello-cap/at-limit", CORE, "FRAME-004 HELLO-003", "a Hello frame body of exactly 65,536 bytes negotiates", case_hello_cap_at_limit, NULL, 0},
    {"broker/framing/hello-cap/over-limit", CORE, "FRAME-004 HELLO-003", "a Hello frame body of 65,537 bytes gets Refused PEER_REJECTED", case_hello_cap_over_limit, NULL, 0},
    {"broker/framing/hello-cap/header-only", STRICT, "FRAME-004 FRAME-005 HELLO-004 SEC-014", "a header claiming 65,537 bytes is refused before any body byte is sent", case_hello_cap_header_only, NULL, 0},
    {"broker/framing/frame-cap/header-only", STRICT, "FRAME-003 FRAME-005 HELLO-004", "a header claiming 16 MiB + 1 is refused or closed at once; the broker keeps serving", case_frame_cap_header_only, NULL, 0},
    {"broker/framing/hostile-length/4GiB", CORE, "FRAME-003 HELLO-003", "01 ff ff ff ff then EOF is refused or closed without harm; the broker keeps serving", case_hostile_length, NULL, 0},
    {"broker/framing/truncated/header", CORE, "FRAME-007 HELLO-005", "EOF inside the length header gets Refused PEER_REJECTED (incomplete frame)", case_truncated, "header", 0},
    {"broker/framing/truncated/body", CORE, "FRAME-007 HELLO-005", "EOF inside the body gets Refused PEER_REJECTED (incomplete frame)", case_truncated, "body", 0},
    {"broker/framing/version-byte/exact-reply", CORE, "HELLO-052 WIRE-020", "the reply to framing byte 0x02 is exactly the 48 bytes of the spec", case_exact_reply, NULL, 0},
    {"broker/framing/hello-cap/admin-over-limit", STRICT, "HELLO-004 FRAME-004", "an admin request with a 65,537-byte frame body gets the first-frame cap refusal", case_admin_over_cap, NULL, 0},
    {"broker/framing/back-to-back", CORE, "FRAME-002 FRAME-009 HELLO-001", "of two frames sent together only the first is answered, then the connection closes", case_back_to_back, NULL, 0},

    /* envelope */
    {"broker/envelope/version/0", CORE, "ENV-001 HELLO-008", "envelope_version 0 gets Refused VERSION_UNSUPPORTED, request echoed", case_envelope, &env_version_0, 0},
    {"broker/envelope/version/2", CORE, "ENV-001 HELLO-008", "envelope_version 2 gets Refused VERSION_UNSUPPORTED, request echoed", case_envelope, &env_version_2, 0},
    {"broker/envelope/kind/response", CORE, "ENV-002 HELLO-008", "kind RESPONSE gets Refused PEER_REJECTED", case_envelope, &env_kind_response, 0},
    {"broker/envelope/kind/event", CORE, "ENV-002", "kind EVENT gets Refused PEER_REJECTED", case_envelope, &env_kind_event, 0},
    {"broker/envelope/kind/cancel", CORE, "ENV-002", "kind CANCEL gets Refused PEER_REJECTED", case_envelope, &env_kind_cancel, 0},
    {"broker/envelope/kind/unknown-99", CORE, "ENV-002 WIRE-007", "an unknown kind (99) decodes (open enum) and gets Refused PEER_REJECTED", case_envelope, &env_kind_99, 0},
    {"broker/envelope/payload-protocol/handoff", CORE, "ENV-003 ENV-008 HELLO-008", "payload_protocol 0xD0FF (handoff) gets Refused PEER_REJECTED", case_envelope, &env_pp_handoff, 0},
    {"broker/envelope/payload-protocol/probe", CORE, "ENV-003 ENV-008", "payload_protocol 0xB232 (probe) gets Refused PEER_REJECTED", case_envelope, &env_pp_probe, 0},
    {"broker/envelope/payload-protocol/consumer", CORE, "ENV-003 ENV-008", "payload_protocol 0x7A63 (a consumer's) gets Refused PEER_REJECTED", case_envelope, &env_pp_consumer, 0},
    {"broker/envelope/payload-protocol/private", CORE, "ENV-003 ENV-008", "payload_protocol 0xF000 (private use) gets Refused PEER_REJECTED", case_envelope, &env_pp_private, 0},
    {"broker/envelope/payload-protocol/first-party-0x0001", CORE, "ENV-003 ENV-008", "payload_protocol 0x0001 (reserved first-party) gets Refused PEER_REJECTED", case_envelope, &env_pp_first_party, 0},
    {"broker/envelope/payload-encoding/zstd", CORE, "ENV-004 HELLO-008", "payload_encoding ZSTD gets Refused PEER_REJECTED", case_envelope, &env_enc_zstd, 0},
    {"broker/envelope/payload-encoding/snappy", CORE, "ENV-004", "payload_encoding SNAPPY gets Refused PEER_REJECTED", case_envelope, &env_enc_snappy, 0},
    {"broker/envelope/payload-encoding/lz4", CORE, "ENV-004", "payload_encoding LZ4 gets Refused PEER_REJECTED", case_envelope, &env_enc_lz4, 0},
    {"broker/envelope/payload-encoding/unknown-99", CORE, "ENV-004 WIRE-007", "an unknown payload_encoding (99) gets Refused PEER_REJECTED", case_envelope, &env_enc_99, 0},
    {"broker/envelope/order/version-first", CORE, "ENV-005 HELLO-008", "with every envelope field wrong, envelope_version is reported (VERSION_UNSUPPORTED)", case_envelope, &env_order_version, 0},
    {"broker/envelope/order/kind-before-protocol", CORE, "ENV-005 HELLO-008", "with kind, protocol and encoding wrong, kind is reported (reason text compared as a note)", case_envelope, &env_order_kind, 0},
    {"broker/envelope/payload-after-envelope/version", CORE, "ENV-010 WIRE-017 HELLO-007 HELLO-009", "a garbage payload in a v2 envelope gets the envelope refusal, not a payload error", case_envelope, &env_payload_after, 0},
    {"broker/envelope/payload-after-envelope/kind", CORE, "ENV-010 HELLO-009", "a garbage payload with kind RESPONSE gets the kind refusal (reason as a note)", case_envelope, &env_payload_kind, 0},
    {"broker/envelope/deadline-ignored", CORE, "ENV-006", "deadline_unix_ms is not checked and the response carries deadline 0", case_deadline_ignored, NULL, 0},

    /* echo */
    {"broker/echo/request-id/negotiated", CORE, "ENV-007 HELLO-050", "Negotiated echoes a full 64-bit request_id and the trace context", case_echo_negotiated, NULL, 0},
    {"broker/echo/request-id/refused", CORE, "ENV-007 HELLO-050", "Refused echoes request_id and the trace context", case_echo_refused, NULL, 0},
    {"broker/echo/trace/negotiated", CORE, "ENV-007 HELLO-050", "traceparent and a non-ASCII tracestate with a NUL are echoed byte for byte", case_echo_trace, NULL, 0},

    /* malformed Frame */
    {"broker/malformed/frame/garbage", CORE, "WIRE-001 HELLO-006 HELLO-051", "a frame body ff ff ff gets Refused PEER_REJECTED with request_id 0", case_wire, &mf_garbage, 0},
    {"broker/malformed/frame/invalid-key", CORE, "WIRE-002", "a key varint above 2^32-1 makes the Frame malformed", case_wire, &mf_invalid_key, 0},
    {"broker/malformed/frame/tag-zero", CORE, "WIRE-003", "field number 0 makes the Frame malformed", case_wire, &mf_tag_zero, 0},
    {"broker/malformed/frame/wire-type-6", CORE, "WIRE-004", "wire type 6 makes the Frame malformed", case_wire, &mf_wire_type_6, 0},
    {"broker/malformed/frame/wire-type-7", CORE, "WIRE-004", "wire type 7 makes the Frame malformed", case_wire, &mf_wire_type_7, 0},
    {"broker/malformed/frame/varint-11-bytes", CORE, "WIRE-005", "an 11-byte varint makes the Frame malformed", case_wire, &mf_varint_11, 0},
    {"broker/malformed/frame/varint-10th-byte", CORE, "WIRE-005", "a 10-byte varint whose last byte exceeds 1 makes the Frame malformed", case_wire, &mf_varint_10th, 0},
    {"broker/malformed/frame/varint-truncated", CORE, "WIRE-005", "a varint cut by the end of the body makes the Frame malformed", case_wire, &mf_varint_trunc, 0},
    {"broker/malformed/frame/wire-type-mismatch", CORE, "WIRE-008", "envelope_version sent length-delimited makes the Frame malformed", case_wire, &mf_wt_mismatch, 0},
    {"broker/malformed/frame/length-underflow", CORE, "WIRE-010", "a payload length beyond the body makes the Frame malformed", case_wire, &mf_len_underflow, 0},
    {"broker/malformed/frame/fixed64-underflow", CORE, "WIRE-010 WIRE-014", "an unknown fixed64 field with 2 bytes left makes the Frame malformed", case_wire, &mf_fixed64_underflow, 0},
    {"broker/malformed/frame/fixed32-underflow", CORE, "WIRE-010 WIRE-014", "an unknown fixed32 field with 1 byte left makes the Frame malformed", case_wire, &mf_fixed32_underflow, 0},
    {"broker/malformed/frame/invalid-utf8-traceparent", CORE, "WIRE-012 HELLO-006 HELLO-051", "an overlong UTF-8 traceparent makes the Frame malformed: nothing echoed", case_wire, &mf_utf8_traceparent, 0},
    {"broker/malformed/frame/invalid-utf8-tracestate", CORE, "WIRE-012", "a surrogate in tracestate makes the Frame malformed", case_wire, &mf_utf8_tracestate, 0},
    {"broker/malformed/frame/stray-end-group", CORE, "WIRE-015", "an end-group without its start makes the Frame malformed", case_wire, &mf_stray_end_group, 0},
    {"broker/malformed/frame/group-mismatch", CORE, "WIRE-015", "an end-group of another field number makes the Frame malformed", case_wire, &mf_group_mismatch, 0},
    {"broker/malformed/frame/group-unterminated", CORE, "WIRE-015", "a group never closed makes the Frame malformed", case_wire, &mf_group_unterminated, 0},
    {"broker/malformed/frame/recursion-101", CORE, "WIRE-016", "101 nested unknown groups exceed the recursion budget: malformed Frame", case_recursion, "101", 0},

    /* malformed Hello payload */
    {"broker/malformed/payload/garbage", CORE, "WIRE-001 ENV-010 HELLO-009", "a Hello payload starting ff gets Refused PEER_REJECTED with the request echoed", case_wire, &mh_garbage, 0},
    {"broker/malformed/payload/invalid-utf8", CORE, "WIRE-012 HELLO-009", "client_version with a byte ff (no other rule applies) gets Refused PEER_REJECTED", case_wire, &mh_utf8_client_version, 0},
    {"broker/malformed/payload/invalid-utf8-request-id", CORE, "WIRE-012", "the ignored Hello.request_id with overlong UTF-8 still fails the decode", case_wire, &mh_utf8_request_id, 0},
    {"broker/malformed/payload/invalid-utf8-lib-name", CORE, "WIRE-012", "a surrogate in client_lib_name fails the decode", case_wire, &mh_utf8_lib_name, 0},
    {"broker/malformed/payload/invalid-utf8-service", CORE, "WIRE-012", "a code point above U+10FFFF in service_name fails the decode", case_wire, &mh_utf8_service, 0},
    {"broker/malformed/payload/wire-type-mismatch", CORE, "WIRE-008", "client_min_protocol sent as fixed32 fails the decode", case_wire, &mh_wt_mismatch, 0},
    {"broker/malformed/payload/length-underflow", CORE, "WIRE-010", "a string length beyond the payload fails the decode", case_wire, &mh_len_underflow, 0},
    {"broker/malformed/payload/tag-zero", CORE, "WIRE-003", "field number 0 in the Hello fails the decode", case_wire, &mh_tag_zero, 0},
    {"broker/malformed/payload/stray-end-group", CORE, "WIRE-015", "a stray end-group in the Hello fails the decode", case_wire, &mh_stray_end_group, 0},

    /* proto3 tolerance */
    {"broker/proto3/omitted-defaults", CORE, "WIRE-001 WIRE-020", "a minimal Hello (range, service, version only; no request_id) negotiates", case_omitted_defaults, NULL, 0},
    {"broker/proto3/explicit-defaults", CORE, "WIRE-021", "a Frame and Hello with every default written explicitly negotiate", case_explicit_defaults, NULL, 0},
    {"broker/proto3/unknown-field/frame-varint", CORE, "WIRE-014", "an unknown varint field in the Frame is skipped", case_wire, &uf_frame_varint, 0},
    {"broker/proto3/unknown-field/frame-i64", CORE, "WIRE-014", "an unknown fixed64 field in the Frame is skipped", case_wire, &uf_frame_i64, 0},
    {"broker/proto3/unknown-field/frame-len", CORE, "WIRE-014", "an unknown length-delimited field in the Frame is skipped", case_wire, &uf_frame_len, 0},
    {"broker/proto3/unknown-field/frame-group", CORE, "WIRE-014 WIRE-015", "an unknown group in the Frame is skipped to its end", case_wire, &uf_frame_group, 0},
    {"broker/proto3/unknown-field/frame-i32", CORE, "WIRE-014", "an unknown fixed32 field in the Frame is skipped", case_wire, &uf_frame_i32, 0},
    {"broker/proto3/unknown-field/frame-reserved-10", CORE, "WIRE-014", "reserved Frame field 10 is skipped like any unknown field", case_wire, &uf_frame_reserved, 0},
    {"broker/proto3/unknown-field/hello-varint", CORE, "WIRE-014", "unknown Hello field 21 (varint, upstream's golden case) is skipped", case_wire, &uf_hello_varint, 0},
    {"broker/proto3/unknown-field/hello-i64", CORE, "WIRE-014", "an unknown fixed64 field in the Hello is skipped", case_wire, &uf_hello_i64, 0},
    {"broker/proto3/unknown-field/hello-len", CORE, "WIRE-014", "an unknown length-delimited field in the Hello is skipped", case_wire, &uf_hello_len, 0},
    {"broker/proto3/unknown-field/hello-group", CORE, "WIRE-014 WIRE-015", "an unknown group in the Hello is skipped to its end", case_wire, &uf_hello_group, 0},
    {"broker/proto3/unknown-field/hello-i32", CORE, "WIRE-014", "an unknown fixed32 field in the Hello is skipped", case_wire, &uf_hello_i32, 0},
    {"broker/proto3/unknown-field/hello-reserved-16", CORE, "WIRE-014", "reserved Hello field 16 is skipped like any unknown field", case_wire, &uf_hello_reserved, 0},
    {"broker/proto3/recursion-100", CORE, "WIRE-016", "100 nested unknown groups, the innermost empty, are within the budget", case_recursion, "100", 0},
    {"broker/proto3/overlong-varint", CORE, "WIRE-005", "envelope_version 1 as an overlong varint (81 80 80 00) is accepted", case_wire, &pf_overlong, 0},
    {"broker/proto3/narrowing/envelope-version", CORE, "WIRE-006", "envelope_version 2^32+1 keeps its low 32 bits (1) and negotiates", case_wire, &pf_version_wide, 0},
    {"broker/proto3/narrowing/kind", CORE, "WIRE-006", "kind 2^32 keeps its low 32 bits (REQUEST) and negotiates", case_wire, &pf_kind_wide, 0},
    {"broker/proto3/narrowing/client-max-protocol", CORE, "WIRE-006", "client_max_protocol 2^32+1 keeps its low 32 bits (1) and negotiates", case_wire, &pf_max_wide, 0},
    {"broker/proto3/repeated/frame-last-wins", CORE, "WIRE-013", "envelope_version 2 then 1: the last occurrence wins", case_wire, &pf_frame_repeated, 0},
    {"broker/proto3/repeated/last-wins", CORE, "WIRE-013", "service_name \"Bad Name\" then \"zccache\": the last wins and negotiates", case_wire, &pf_last_wins, 0},
    {"broker/proto3/repeated/last-wins-invalid", CORE, "WIRE-013 HELLO-011", "service_name \"zccache\" then \"Bad Name\": the last wins and is refused", case_wire, &pf_last_wins_invalid, 0},
    {"broker/reply/canonical/negotiated", CORE, "HELLO-052 WIRE-020", "a Negotiated reply is the canonical encoding of its fields", case_canonical_reply, "negotiated", 0},
    {"broker/reply/canonical/refused", CORE, "HELLO-052 WIRE-020 HELLO-040", "a Refused reply is the canonical encoding of its fields", case_canonical_reply, "refused", 0},
    {"broker/proto3/nul-in-string", CORE, "WIRE-012", "a NUL inside client_version is valid UTF-8 and negotiates", case_nul_in_string, NULL, 0},

    /* Hello shape: protocol range */
    {"broker/hello/shape/protocol-range/above", CORE, "HELLO-010", "client protocol range 2..3 gets Refused VERSION_UNSUPPORTED", case_protocol_range, &pr_above, 0},
    {"broker/hello/shape/protocol-range/zero", CORE, "HELLO-010", "client protocol range 0..0 gets Refused VERSION_UNSUPPORTED", case_protocol_range, &pr_zero, 0},
    {"broker/hello/shape/protocol-range/inverted", CORE, "HELLO-010", "client protocol range 1..0 gets Refused VERSION_UNSUPPORTED", case_protocol_range, &pr_inverted, 0},
    {"broker/hello/shape/protocol-range/wide", CORE, "HELLO-010 HELLO-030", "client protocol range 0..5 includes v1 and negotiates protocol 1", case_protocol_range, &pr_wide, 0},
    {"broker/hello/shape/protocol-range/upper-open", CORE, "HELLO-010 HELLO-030", "client protocol range 1..3 negotiates protocol 1", case_protocol_range, &pr_upper_open, 0},
    /* service_name */
    {"broker/hello/shape/service-name/uppercase", CORE, "HELLO-011", "service_name Zccache is refused (no case folding)", case_hello_variant, &sn_uppercase, 0},
    {"broker/hello/shape/service-name/all-uppercase", CORE, "HELLO-011", "service_name ZCCACHE is refused", case_hello_variant, &sn_all_upper, 0},
    {"broker/hello/shape/service-name/traversal", CORE, "HELLO-011", "service_name ../zccache is refused", case_hello_variant, &sn_traversal, 0},
    {"broker/hello/shape/service-name/backslash-traversal", CORE, "HELLO-011", "service_name ..\\zccache is refused", case_hello_variant, &sn_backslash, 0},
    {"broker/hello/shape/service-name/absolute-path", CORE, "HELLO-011", "service_name /tmp/zccache is refused", case_hello_variant, &sn_absolute, 0},
    {"broker/hello/shape/service-name/shell-semicolon", CORE, "HELLO-011", "service_name zccache;rm is refused", case_hello_variant, &sn_semicolon, 0},
    {"broker/hello/shape/service-name/shell-and", CORE, "HELLO-011", "service_name zccache&&calc is refused", case_hello_variant, &sn_ampersand, 0},
    {"broker/hello/shape/service-name/shell-pipe", CORE, "HELLO-011", "service_name zccache|whoami is refused", case_hello_variant, &sn_pipe, 0},
    {"broker/hello/shape/service-name/space", CORE, "HELLO-011", "service_name \"zccache service\" is refused", case_hello_variant, &sn_space, 0},
    {"broker/hello/shape/service-name/dot", CORE, "HELLO-011", "service_name zccache.service is refused", case_hello_variant, &sn_dot, 0},
    {"broker/hello/shape/service-name/underscore", CORE, "HELLO-011", "service_name zccache_service is refused", case_hello_variant, &sn_underscore, 0},
    {"broker/hello/shape/service-name/empty", CORE, "HELLO-011", "an empty service_name is refused", case_hello_variant, &sn_empty, 0},
    {"broker/hello/shape/service-name/length-65", CORE, "HELLO-011", "a 65-byte service_name is refused", case_hello_variant, &sn_len_65, 0},
    {"broker/hello/shape/service-name/non-ascii", CORE, "HELLO-011", "service_name emoji-rocket-U+1F680 is refused", case_hello_variant, &sn_emoji, 0},
    {"broker/hello/shape/service-name/nul", CORE, "HELLO-011", "a service_name holding a NUL is refused", case_hello_variant, &sn_nul, 0},
    {"broker/hello/shape/service-name/length-64-accepted", CORE, "HELLO-011 HELLO-021", "a 64-byte name passes the shape check: SERVICE_UNKNOWN, not PEER_REJECTED", case_hello_variant, &sn_len_64, 0},
    {"broker/hello/shape/service-name/hyphen-only-accepted", CORE, "HELLO-011 HELLO-021", "service_name \"-\" passes the shape check (no placement rules): SERVICE_UNKNOWN", case_hello_variant, &sn_hyphens, 0},
    {"broker/hello/shape/service-name/digits-accepted", CORE, "HELLO-011 HELLO-021", "service_name 0-9-a passes the shape check: SERVICE_UNKNOWN", case_hello_variant, &sn_digits, 0},
    /* wanted_version */
    {"broker/hello/shape/wanted-version/empty", CORE, "HELLO-012", "an empty wanted_version is refused", case_hello_variant, &wv_empty, 0},
    {"broker/hello/shape/wanted-version/two-parts", CORE, "HELLO-012", "wanted_version 1.0 is refused", case_hello_variant, &wv_two_part, 0},
    {"broker/hello/shape/wanted-version/four-parts", CORE, "HELLO-012", "wanted_version 1.0.0.0 is refused", case_hello_variant, &wv_four_part, 0},
    {"broker/hello/shape/wanted-version/v-prefix", CORE, "HELLO-012", "wanted_version v1.0.0 is refused", case_hello_variant, &wv_v_prefix, 0},
    {"broker/hello/shape/wanted-version/trailing-dash", CORE, "HELLO-012", "wanted_version 1.0.0- is refused", case_hello_variant, &wv_trailing_dash, 0},
    {"broker/hello/shape/wanted-version/uppercase-prerelease", CORE, "HELLO-012", "wanted_version 1.0.0-ALPHA is refused", case_hello_variant, &wv_uppercase, 0},
    {"broker/hello/shape/wanted-version/build-metadata", CORE, "HELLO-012", "wanted_version 1.0.0-alpha+build is refused", case_hello_variant, &wv_build, 0},
    {"broker/hello/shape/wanted-version/build-metadata-release", CORE, "HELLO-012", "wanted_version 1.11.20+b is refused", case_hello_variant, &wv_build_plain, 0},
    {"broker/hello/shape/wanted-version/second-dash", CORE, "HELLO-012", "wanted_version 1.0.0-rc-1 is refused", case_hello_variant, &wv_second_dash, 0},
    {"broker/hello/shape/wanted-version/empty-part", CORE, "HELLO-012", "wanted_version 1..0 is refused", case_hello_variant, &wv_empty_part, 0},
    {"broker/hello/shape/wanted-version/shell-semicolon", CORE, "HELLO-012", "wanted_version \"1.0.0; rm -rf /\" is refused", case_hello_variant, &wv_shell_semicolon, 0},
    {"broker/hello/shape/wanted-version/shell-and", CORE, "HELLO-012", "wanted_version \"1.0.0 && calc.exe\" is refused", case_hello_variant, &wv_shell_and, 0},
    {"broker/hello/shape/wanted-version/shell-pipe", CORE, "HELLO-012", "wanted_version \"1.0.0 | whoami\" is refused", case_hello_variant, &wv_shell_pipe, 0},
    {"broker/hello/shape/wanted-version/shell-substitution", CORE, "HELLO-012", "wanted_version $(touch pwned) is refused", case_hello_variant, &wv_shell_subst, 0},
    {"broker/hello/shape/wanted-version/shell-backtick", CORE, "HELLO-012", "wanted_version `calc` is refused", case_hello_variant, &wv_shell_backtick, 0},
    {"broker/hello/shape/wanted-version/space", CORE, "HELLO-012", "wanted_version \"1.0.0 alpha\" is refused", case_hello_variant, &wv_space, 0},
    {"broker/hello/shape/wanted-version/traversal", CORE, "HELLO-012", "wanted_version ../../../bin/evil is refused", case_hello_variant, &wv_traversal, 0},
    {"broker/hello/shape/wanted-version/backslash-traversal", CORE, "HELLO-012", "wanted_version ..\\..\\bin\\evil is refused", case_hello_variant, &wv_backslash, 0},
    {"broker/hello/shape/wanted-version/absolute-path", CORE, "HELLO-012", "wanted_version /tmp/evil is refused", case_hello_variant, &wv_absolute, 0},
    {"broker/hello/shape/wanted-version/windows-path", CORE, "HELLO-012", "wanted_version C:\\temp\\evil.exe is refused", case_hello_variant, &wv_windows, 0},
    {"broker/hello/shape/wanted-version/slash", CORE, "HELLO-012", "wanted_version 1.0.0/evil is refused", case_hello_variant, &wv_slash, 0},
    {"broker/hello/shape/wanted-version/prerelease-traversal", CORE, "HELLO-012", "wanted_version 1.0.0-../../evil is refused", case_hello_variant, &wv_tail_traversal, 0},
    {"broker/hello/shape/wanted-version/double-dot", CORE, "HELLO-012", "wanted_version 1.0.0..evil is refused", case_hello_variant, &wv_dotdot, 0},
    {"broker/hello/shape/wanted-version/nul", CORE, "HELLO-012", "wanted_version 1.11.20 followed by a NUL is refused", case_hello_variant, &wv_nul, 0},
    {"broker/hello/shape/wanted-version/empty-dot-segments-accepted", CORE, "HELLO-012 HELLO-022", "1.0.0-.. passes the grammar (empty segments allowed): VERSION_BLOCKED by the floor", case_hello_variant, &wv_ok_empty_segments, 0},
    {"broker/hello/shape/wanted-version/leading-zeros-accepted", CORE, "HELLO-012 HELLO-022", "01.10.00 passes the grammar and equals the floor numerically: negotiates", case_hello_variant, &wv_ok_leading_zeros, 0},
    /* string caps */
    {"broker/hello/shape/wanted-version/length-64", CORE, "HELLO-012", "a 64-byte well-formed wanted_version negotiates", case_string_cap, &cap_wv_64, 0},
    {"broker/hello/shape/wanted-version/length-65", CORE, "HELLO-012", "a 65-byte well-formed wanted_version is refused", case_string_cap, &cap_wv_65, 0},
    {"broker/hello/shape/client-version/length-128", CORE, "HELLO-013", "a 128-byte client_version negotiates", case_string_cap, &cap_cv_128, 0},
    {"broker/hello/shape/client-version/length-129", CORE, "HELLO-013", "a 129-byte client_version is refused", case_string_cap, &cap_cv_129, 0},
    {"broker/hello/shape/client-lib-name/length-64", CORE, "HELLO-014", "a 64-byte client_lib_name negotiates", case_string_cap, &cap_ln_64, 0},
    {"broker/hello/shape/client-lib-name/length-65", CORE, "HELLO-014", "a 65-byte client_lib_name is refused", case_string_cap, &cap_ln_65, 0},
    {"broker/hello/shape/client-lib-version/length-64", CORE, "HELLO-014", "a 64-byte client_lib_version negotiates", case_string_cap, &cap_lv_64, 0},
    {"broker/hello/shape/client-lib-version/length-65", CORE, "HELLO-014", "a 65-byte client_lib_version is refused", case_string_cap, &cap_lv_65, 0},
    /* peer_pid */
    {"broker/hello/shape/peer-pid/mismatch", CORE, "HELLO-015", "a peer_pid other than the connecting process gets Refused PEER_REJECTED", case_peer_pid_mismatch, NULL, 0},
    {"broker/hello/shape/peer-pid/zero", CORE, "HELLO-015", "peer_pid 0 (not claimed) negotiates", case_peer_pid_zero, NULL, 0},
    {"broker/hello/shape/ignored-fields", CORE, "HELLO-016", "auth_token, request_id, connection_id, nonce and capability_token are not checked or capped", case_ignored_fields, NULL, 0},
    /* order */
    {"broker/hello/order/shape-before-lookup", CORE, "HELLO-007 HELLO-010 HELLO-021", "an unknown service with a bad protocol range gets VERSION_UNSUPPORTED, not SERVICE_UNKNOWN", case_order_shape_before_lookup, NULL, 0},
    {"broker/hello/order/version-grammar-before-lookup", CORE, "HELLO-007 HELLO-012 HELLO-021", "an unknown service with wanted_version v1.0.0 gets PEER_REJECTED, not SERVICE_UNKNOWN", case_order_version_before_name, NULL, 0},

    /* policy */
    {"broker/hello/policy/unknown-service", CORE, "HELLO-021 HELLO-040", "an unregistered service gets Refused SERVICE_UNKNOWN, retry 0, daemon range 1..1", case_hello_variant, &pol_unknown, 0},
    {"broker/hello/policy/min-version/below", CORE, "HELLO-022 HELLO-040", "1.9.9 below the floor 1.10.0 gets VERSION_BLOCKED, retry 30000 (numeric, not lexical)", case_hello_variant, &pol_below_min, 0},
    {"broker/hello/policy/min-version/at-floor", CORE, "HELLO-022", "1.10.0 at the floor negotiates", case_hello_variant, &pol_at_floor, 0},
    {"broker/hello/policy/min-version/above-floor", CORE, "HELLO-022", "1.100.0 above the floor negotiates", case_hello_variant, &pol_above_floor, 0},
    {"broker/hello/policy/min-version/prerelease-at-floor", CORE, "HELLO-022", "1.10.0-rc.1 at the floor negotiates (the prerelease is ignored)", case_hello_variant, &pol_prerelease_floor, 0},
    {"broker/hello/policy/min-version/before-allow-list", CORE, "HELLO-022 HELLO-024", "1.9.9 on the pinned service is blocked by the floor first (reason as a note)", case_hello_variant, &pol_below_min_pinned, 0},
    {"broker/hello/policy/allow-list/not-listed", CORE, "HELLO-023 HELLO-040", "1.11.21 not in the allow-list gets VERSION_BLOCKED, retry 30000", case_hello_variant, &pol_not_listed, 0},
    {"broker/hello/policy/allow-list/listed", CORE, "HELLO-023", "1.11.20 in the allow-list negotiates", case_hello_variant, &pol_listed, 0},
    {"broker/hello/policy/allow-list/exact-match", CORE, "HELLO-023", "1.11.20-rc.1 does not match the entry 1.11.20 exactly: VERSION_BLOCKED", case_hello_variant, &pol_listed_prerelease, 0},

    /* Negotiated */
    {"broker/hello/negotiated/contents", CORE, "HELLO-030 HELLO-031 HELLO-033", "Negotiated: protocol 1, daemon_version 1.11.20, backend_pipe, no warnings, connection_id", case_negotiated_contents, NULL, 0},
    {"broker/hello/negotiated/daemon-version", CORE, "HELLO-031", "daemon_version is the requested version (conform-open 2.3.4-rc.1.beta)", case_daemon_version_open, NULL, 0},
    {"broker/hello/negotiated/keepalive/echo", CORE, "HELLO-032", "client_keepalive_secs 60 is echoed as keepalive_interval_secs", case_keepalive_echo, NULL, 0},
    {"broker/hello/negotiated/keepalive/default", CORE, "HELLO-032", "client_keepalive_secs 0 gets keepalive_interval_secs 1800", case_keepalive_default, NULL, 0},
    {"broker/hello/negotiated/token/without-capability", CORE, "HELLO-034", "no CAP_HANDLE_PASSING: no handle_passed_token", case_token_without_cap, NULL, 0},
    {"broker/hello/negotiated/token/with-capability", CORE, "HELLO-034 HELLO-033", "CAP_HANDLE_PASSING: token empty, or 16 bytes with server bit 0", case_token_with_cap, NULL, 0},
    {"broker/hello/negotiated/token/no-handoff", STRICT, "HELLO-035", "without a handoff transport (the fixture has none) no token and no CAP_HANDLE_PASSING", case_token_no_handoff, NULL, 0},
    {"broker/hello/negotiated/connection-id/refusal-consumes-none", CORE, "HELLO-036", "Negotiated, Refused, Negotiated get consecutive connection_ids", case_connection_id_refusal_gap, NULL, 0},
    {"broker/hello/negotiated/connection-id/sequential-unique", CORE, "HELLO-036", "5 sequential Hellos get non-zero connection_ids increasing by one", case_connection_id_sequential, NULL, 0},
    {"broker/hello/negotiated/connection-id/concurrent-unique", CORE, "HELLO-036", "100 concurrent Hellos all negotiate with pairwise different connection_ids", case_connection_id_concurrent, NULL, 0},

    /* rate limit */
    {"broker/hello/rate-limit/exceeded", CORE, "HELLO-020 SEC-008", "N Hellos of one pid negotiate, the N+1st gets RATE_LIMITED (retry 1..window); another pid negotiates", case_rate_limit_exceeded, NULL, 0},
    {"broker/hello/rate-limit/refused-not-counted", CORE, "HELLO-020", "Hellos refused by the shape checks do not use up the per-pid budget", case_rate_limit_refused_not_counted, NULL, 0},

    /* connection */
    {"broker/connection/one-hello", CORE, "HELLO-001", "after its reply the broker closes; a second Hello on the connection gets nothing", case_one_hello, NULL, 0},
    {"broker/connection/close-after-refusal", CORE, "HELLO-001", "after a refusal the broker closes the connection", case_close_after_refusal, NULL, 0},

    /* security */
    {"broker/security/foreign-uid", CORE, "SEC-004", "a peer of another uid gets no byte and is dropped; the owner is still served (root only)", case_foreign_uid, NULL, 0},
    {"broker/security/services-dir-private", CORE, "SEC-009", "a group-accessible services directory serves no service until private again (--spawn)", case_services_dir_private, NULL, 0},
    {"broker/security/socket-mode", STRICT, "SEC-002", "the socket has no group or other permission bits", case_socket_mode, NULL, 0},

    /* robustness */
    {"broker/robustness/malformed-flood", CORE, "HELLO-006 HELLO-009", "96 concurrent malformed Hellos are each refused and the broker keeps serving", case_malformed_flood, NULL, 0},
    {"broker/robustness/early-hangup", STRICT, "SEC-007", "20 clients hanging up before their reply do not stop the broker", case_early_hangup, NULL, 0},
    {"broker/robustness/connect-close", STRICT, "SEC-007", "20 clients closing without a byte do not stop the broker", case_connect_close, NULL, 0},
    {"broker/robustness/admin-bad-envelope", STRICT, "SEC-007 ADMIN-008", "malformed admin requests are refused or dropped, never the end of the broker", case_admin_bad_envelope, NULL, 0},
    {"broker/robustness/deadline/silent", STRICT, "SEC-006 FRAME-010", "a client that sends nothing is closed within the handshake deadline", case_deadline_silent, NULL, 0},
    {"broker/robustness/deadline/trickle", STRICT, "SEC-006 FRAME-010", "a client sending one byte per 100 ms is closed within the handshake deadline", case_deadline_trickle, NULL, 0},
    {"broker/robustness/slowloris/others-served", STRICT, "SEC-005 SEC-007", "an idle and a half-sent connection do not delay a Hello on a third", case_slowloris_others_served, NULL, 0},
    {"broker/robustness/idle-herd", STRICT, "SEC-005", "64 idle connections do not delay a Hello", case_idle_herd, NULL, 0},

    /* admin */
    {"broker/admin/healthz", CORE, "ADMIN-001 ADMIN-002", "HEALTHZ answers TEXT \"ok\\n\", exit 0, on 0xAD01 with request_id echoed", case_admin, &ad_healthz, 0},
    {"broker/admin/readyz", CORE, "ADMIN-003", "READYZ answers TEXT \"ready\\n\", exit 0", case_admin, &ad_readyz, 0},
    {"broker/admin/status/json", CORE, "ADMIN-004", "STATUS json answers JSON with schema_version, command \"status\", generated_at_unix_ms", case_admin, &ad_status_json, 0},
    {"broker/admin/status/text", CORE, "ADMIN-004", "STATUS text names broker_instance and accepting_hello: true", case_admin, &ad_status_text, 0},
    {"broker/admin/metrics", CORE, "ADMIN-005", "METRICS answers OpenMetrics with running_process_broker_v1_ metrics, ending # EOF", case_admin, &ad_metrics, 0},
    {"broker/admin/dump", CORE, "ADMIN-009", "DUMP (optional) answers JSON with schema_version and command \"dump\"", case_admin, &ad_dump, 0},
    {"broker/admin/list-instances", CORE, "ADMIN-009", "LIST_INSTANCES (optional) answers JSON with command \"list-instances\"", case_admin, &ad_list, 0},
    {"broker/admin/backend-health", CORE, "ADMIN-009", "BACKEND_HEALTH (optional) answers JSON with command \"backend-health\"", case_admin, &ad_backend_health, 0},
    {"broker/admin/config", CORE, "ADMIN-006", "CONFIG answers JSON with command \"config\" and values incl. max_hello_bytes", case_admin, &ad_config, 0},
    {"broker/admin/diagnose", CORE, "ADMIN-009", "DIAGNOSE (optional) answers JSON with command \"diagnose\"", case_admin, &ad_diagnose, 0},
    {"broker/admin/unspecified-verb", CORE, "ADMIN-007", "ADMIN_VERB_UNSPECIFIED answers TEXT \"unsupported admin verb\\n\", exit 2", case_admin, &ad_unspecified, 0},
    {"broker/admin/unknown-verb", CORE, "ADMIN-007", "an unknown verb (99) answers TEXT \"unsupported admin verb\\n\", exit 2", case_admin, &ad_unknown, 0},

    /* lifecycle: stops the broker, so it runs last */
    {"broker/lifecycle/drain", STRICT, "SEC-012 SEC-003 ADMIN-003", "after SIGTERM: SHUTTING_DOWN refusals, READYZ not ready, exit 0, socket removed (--spawn)", case_drain, NULL, CASE_ENDS_BROKER},
};

const size_t conform_case_count = sizeof conform_cases / sizeof conform_cases[0];
