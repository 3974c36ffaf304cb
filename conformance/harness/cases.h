/*
 * cases.h - the case functions of the table in cases.c and the helpers
 * they share.  Each cases_*.c file holds one area of the suite.
 */
#ifndef CONFORM_CASES_H
#define CONFORM_CASES_H

#include "check.h"
#include "conn.h"
#include "fixture.h"
#include "stim.h"

/* A byte string given in a table (may hold NUL). */
typedef struct bstr {
    const char *s;
    size_t len;
} bstr;
#define BSTR(lit) {(lit), sizeof(lit) - 1}

/* 8, 64 and 65 copies of 'a' (service-name boundaries). */
#define A8 "aaaaaaaa"
#define A64 A8 A8 A8 A8 A8 A8 A8 A8

/* The pid the broker sees for connections the harness opens itself. */
uint32_t self_pid(void);

/* The baseline envelope and the baseline Hello from self_pid(). */
void hello_base(rpb_frame *f, rpb_hello *h);

/* Decodes the hex string hex and appends the bytes (aborts on an odd length
 * or a non-hex character: a typo in a case table). */
void put_hex(sbuf *b, const char *hex);

/* Sends stimulus on a new connection and expects refusal want. */
void run_refused(cctx *c, const char *label, const sbuf *stimulus, const refusal *want, echo e);

/* Sends stimulus on a new connection and expects Negotiated; returns true
 * when it came. */
bool run_negotiated(cctx *c, const char *label, const sbuf *stimulus, echo e);

/* Sends stimulus on a new connection and expects refusal want, or
 * Negotiated when want is NULL. */
void run_expect(cctx *c, const char *label, const sbuf *stimulus, const refusal *want, echo e);

/* Sends h in the envelope f on a new connection and expects refusal want,
 * or Negotiated when want is NULL; the response must echo f. */
void run_hello(cctx *c, const char *label, const rpb_frame *f, const rpb_hello *h, const refusal *want);

/* Sends h in the envelope f on a new connection and reads the reply into r
 * (the caller frees it with hr_free()).  Returns the Negotiated echoing f,
 * or NULL with the failure recorded. */
const rpb_negotiated *exchange_negotiated(cctx *c, const char *label, const rpb_frame *f, const rpb_hello *h,
                                          hreply *r);

/* origin_start() on the broker under test; false, with the failure
 * recorded, when the helper process cannot be started. */
bool start_origin(cctx *c, horigin *o, bool foreign_uid);

/* The baseline Hello negotiates on a new connection: the broker still
 * serves after what the case did (`after` says what, for the message). */
void expect_still_serving(cctx *c, const char *after);

/* ---- framing (cases_framing.c) ---- */
void case_version_byte(cctx *c);
void case_version_byte_alone(cctx *c);
void case_empty_body(cctx *c);
void case_hello_cap_at_limit(cctx *c);
void case_hello_cap_over_limit(cctx *c);
void case_hello_cap_header_only(cctx *c);
void case_frame_cap_header_only(cctx *c);
void case_hostile_length(cctx *c);
void case_truncated(cctx *c);
void case_back_to_back(cctx *c);
void case_exact_reply(cctx *c);
void case_admin_over_cap(cctx *c);

/* ---- envelope and echo (cases_envelope.c) ---- */
typedef struct env_variant {
    uint32_t envelope_version;
    int32_t kind;
    uint32_t payload_protocol;
    int32_t payload_encoding;
    bool garbage_payload;
    const refusal *want;
} env_variant;
void case_envelope(cctx *c);
void case_deadline_ignored(cctx *c);
void case_echo_negotiated(cctx *c);
void case_echo_refused(cctx *c);
void case_echo_trace(cctx *c);

/* ---- malformed input and proto3 tolerance (cases_wire.c) ---- */
typedef struct wire_variant {
    enum { IN_FRAME_BODY, IN_FRAME_PREFIX, IN_FRAME_APPEND, IN_HELLO_APPEND, IN_HELLO_PREFIX } where;
    const char *hex;       /* the bytes (whole body, prefix or appended) */
    const refusal *want;   /* NULL: Negotiated */
} wire_variant;
void case_wire(cctx *c);
void case_recursion(cctx *c);
void case_explicit_defaults(cctx *c);
void case_omitted_defaults(cctx *c);
void case_nul_in_string(cctx *c);
void case_canonical_reply(cctx *c);

/* ---- Hello shape, policy, Negotiated, rate limit (cases_hello.c) ---- */
typedef struct hello_variant {
    bstr service;         /* .s NULL: baseline */
    bstr version;         /* .s NULL: baseline */
    const refusal *want;  /* NULL: Negotiated */
} hello_variant;
void case_hello_variant(cctx *c);
typedef struct range_variant {
    uint32_t min, max;
    const refusal *want;
} range_variant;
void case_protocol_range(cctx *c);
typedef struct cap_variant {
    uint32_t field; /* 5 client_version, 11 client_lib_name, 12 client_lib_version, 4 wanted_version */
    size_t len;
    const refusal *want;
} cap_variant;
void case_string_cap(cctx *c);
void case_peer_pid_mismatch(cctx *c);
void case_peer_pid_zero(cctx *c);
void case_order_shape_before_lookup(cctx *c);
void case_order_version_before_name(cctx *c);
void case_negotiated_contents(cctx *c);
void case_keepalive_echo(cctx *c);
void case_keepalive_default(cctx *c);
void case_token_without_cap(cctx *c);
void case_token_with_cap(cctx *c);
void case_daemon_version_open(cctx *c);
void case_connection_id_sequential(cctx *c);
void case_connection_id_concurrent(cctx *c);
void case_connection_id_refusal_gap(cctx *c);
void case_ignored_fields(cctx *c);
void case_token_no_handoff(cctx *c);
void case_rate_limit_exceeded(cctx *c);
void case_rate_limit_refused_not_counted(cctx *c);

/* ---- connection, security, robustness (cases_conn.c) ---- */
void case_one_hello(cctx *c);
void case_close_after_refusal(cctx *c);
void case_foreign_uid(cctx *c);
void case_socket_mode(cctx *c);
void case_services_dir_private(cctx *c);
void case_early_hangup(cctx *c);
void case_connect_close(cctx *c);
void case_admin_bad_envelope(cctx *c);
void case_malformed_flood(cctx *c);
void case_deadline_silent(cctx *c);
void case_deadline_trickle(cctx *c);
void case_slowloris_others_served(cctx *c);
void case_idle_herd(cctx *c);
void case_drain(cctx *c);

/* ---- admin verbs (cases_admin.c) ---- */
typedef struct admin_variant {
    int32_t verb;
    bool json;
    int32_t want_kind;       /* AdminReplyKind */
    uint32_t want_exit;
    const char *want_body;   /* exact body, or NULL */
    const char *contains[4]; /* substrings the body must hold */
    const char *ends_with;   /* or NULL */
    const char *content_type; /* exact content_type, or NULL */
    bool optional;           /* a MAY verb: "unsupported admin verb" means not offered */
} admin_variant;
void case_admin(cctx *c);
/* Sends AdminRequest{verb, json} (request_id 44) and reads the reply; req
 * gets the request envelope (its payload cleared). */
void admin_exchange(cctx *c, int32_t verb, bool json, rpb_frame *req, hreply *r);

#endif
