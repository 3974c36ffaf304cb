/*
 * cases_envelope.c - broker/envelope/... and broker/echo/...: each Frame
 * field of the Hello envelope, the check order, payload decoding after the
 * envelope, and the response echo (ENV-001..ENV-010).
 */
#include "cases.h"

/* Every case here is the generic kind: the baseline Hello with one
 * envelope field (or the request_id and trace context) changed.  ENV-006:
 * a deadline_unix_ms long past is not checked.
 *
 * Design.  ENV-001: envelope_version 0, 1 (the baseline), 2 (and 2^32,
 * 2^32+1 under broker/proto3/narrowing).  ENV-002: each defined kind other
 * than REQUEST and an unknown one.  ENV-003: one payload protocol of each
 * registry class (handoff, probe, a consumer's, private use, reserved
 * first-party).  ENV-004: each defined encoding and an unknown one.
 * ENV-005: the first check with all four wrong, then kind before the rest.
 * ENV-007: request_id 0 (nothing to echo), a full 64-bit one, trace
 * context with non-ASCII and NUL, on Negotiated and on Refused. */
static const hcase rows[] = {
    MUTATE("broker/envelope/version/0", CORE, "ENV-001 HELLO-008", NULL, &R_ENV_VERSION, ENVELOPE(0, 0, 0, 0)),
    MUTATE("broker/envelope/version/2", CORE, "ENV-001 HELLO-008", NULL, &R_ENV_VERSION, ENVELOPE(2, 0, 0, 0)),
    MUTATE("broker/envelope/kind/response", CORE, "ENV-002 HELLO-008", NULL, &R_ENV_KIND, ENVELOPE(1, 1, 0, 0)),
    MUTATE("broker/envelope/kind/event", CORE, "ENV-002", NULL, &R_ENV_KIND, ENVELOPE(1, 2, 0, 0)),
    MUTATE("broker/envelope/kind/cancel", CORE, "ENV-002", NULL, &R_ENV_KIND, ENVELOPE(1, 3, 0, 0)),
    MUTATE("broker/envelope/kind/unknown-99", CORE, "ENV-002 WIRE-007", "an unknown kind (99) decodes (open enum) and gets Refused PEER_REJECTED", &R_ENV_KIND, ENVELOPE(1, 99, 0, 0)),
    MUTATE("broker/envelope/payload-protocol/handoff", CORE, "ENV-003 ENV-008 HELLO-008", "payload_protocol 0xD0FF (handoff) gets Refused PEER_REJECTED", &R_ENV_PROTOCOL, ENVELOPE(1, 0, 0xD0FF, 0)),
    MUTATE("broker/envelope/payload-protocol/probe", CORE, "ENV-003 ENV-008", "payload_protocol 0xB232 (probe) gets Refused PEER_REJECTED", &R_ENV_PROTOCOL, ENVELOPE(1, 0, 0xB232, 0)),
    MUTATE("broker/envelope/payload-protocol/consumer", CORE, "ENV-003 ENV-008", "payload_protocol 0x7A63 (a consumer's) gets Refused PEER_REJECTED", &R_ENV_PROTOCOL, ENVELOPE(1, 0, 0x7A63, 0)),
    MUTATE("broker/envelope/payload-protocol/private", CORE, "ENV-003 ENV-008", "payload_protocol 0xF000 (private use) gets Refused PEER_REJECTED", &R_ENV_PROTOCOL, ENVELOPE(1, 0, 0xF000, 0)),
    MUTATE("broker/envelope/payload-protocol/first-party-0x0001", CORE, "ENV-003 ENV-008", "payload_protocol 0x0001 (reserved first-party) gets Refused PEER_REJECTED", &R_ENV_PROTOCOL, ENVELOPE(1, 0, 0x0001, 0)),
    MUTATE("broker/envelope/payload-encoding/zstd", CORE, "ENV-004 HELLO-008", NULL, &R_ENV_ENCODING, ENVELOPE(1, 0, 0, 1)),
    MUTATE("broker/envelope/payload-encoding/snappy", CORE, "ENV-004", NULL, &R_ENV_ENCODING, ENVELOPE(1, 0, 0, 2)),
    MUTATE("broker/envelope/payload-encoding/lz4", CORE, "ENV-004", NULL, &R_ENV_ENCODING, ENVELOPE(1, 0, 0, 3)),
    MUTATE("broker/envelope/payload-encoding/unknown-99", CORE, "ENV-004 WIRE-007", "an unknown payload_encoding (99) gets Refused PEER_REJECTED", &R_ENV_ENCODING, ENVELOPE(1, 0, 0, 99)),
    MUTATE("broker/envelope/order/version-first", CORE, "ENV-005 HELLO-008", "with every envelope field wrong, envelope_version is reported (VERSION_UNSUPPORTED)", &R_ENV_VERSION, ENVELOPE(2, 1, 0xD0FF, 1)),
    MUTATE("broker/envelope/order/kind-before-protocol", CORE, "ENV-005 HELLO-008", "with kind, protocol and encoding wrong, kind is reported (reason text compared as a note)", &R_ENV_KIND, ENVELOPE(1, 1, 0xD0FF, 1)),
    MUTATE("broker/envelope/payload-after-envelope/version", CORE, "ENV-010 WIRE-017 HELLO-007 HELLO-009", "a garbage payload in a v2 envelope gets the envelope refusal, not a payload error", &R_ENV_VERSION, ENVELOPE(2, 0, 0, 0), .garbage_payload = true),
    MUTATE("broker/envelope/payload-after-envelope/kind", CORE, "ENV-010 HELLO-009", "a garbage payload with kind RESPONSE gets the kind refusal (reason as a note)", &R_ENV_KIND, ENVELOPE(1, 1, 0, 0), .garbage_payload = true),
    MUTATE("broker/envelope/deadline-ignored", CORE, "ENV-006 ENV-011", "deadline_unix_ms is not checked and the response carries deadline 0", NEGOTIATES, .deadline_unix_ms = 1),
    MUTATE("broker/echo/request-id/negotiated", CORE, "ENV-007 HELLO-050", "Negotiated echoes a full 64-bit request_id and the trace context", NEGOTIATES, .request_id = UINT64_C(0xfedcba9876543210)),
    MUTATE("broker/echo/request-id/refused", CORE, "ENV-007 HELLO-050", "Refused echoes request_id and the trace context", &R_SERVICE_UNKNOWN, SERVICE("nosuch"), .request_id = 7),
    MUTATE("broker/echo/trace/negotiated", CORE, "ENV-007 HELLO-050", "traceparent and a non-ASCII tracestate with a NUL are echoed byte for byte", NEGOTIATES, .tracestate = BSTR("vendor=\xc3\xa9t\xc3\xa9,rp=1,nul=\x00!")),
};

CASE_TABLE(cases_envelope, rows);
