/*
 * cases.h - what the case tables share: the row macros, the generic
 * "baseline Hello + mutation + expected outcome" row kind (mutation.c) and
 * the helpers of case_util.c.  Each cases_<area>.c holds one area of the
 * suite: its case functions and, below them, its table (CASE_TABLE), listed
 * in run order by cases.c.
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

/* HELLO-001: after its reply the broker closes the connection; more bytes
 * or an open connection (within the reply deadline) fail the case. */
void expect_closed_after_reply(cctx *c, hconn *hc);

/* ---- the generic row kind (mutation.c) ---- */

/* Where a MUTATE row's raw bytes go (mutation.hex). */
enum raw_where {
    RAW_NONE = 0,
    RAW_FRAME_BODY,   /* the whole Frame body */
    RAW_FRAME_PREFIX, /* replace the body's leading 08 01 (envelope_version 1) */
    RAW_FRAME_APPEND, /* after the baseline Frame body */
    RAW_HELLO_PREFIX, /* before the baseline Hello payload */
    RAW_HELLO_APPEND, /* after the baseline Hello payload */
};

/* The string fields a row can fill to an exact length. */
enum fill_field {
    FILL_NONE = 0,
    FILL_WANTED_VERSION,      /* "1.11.20-aaa…" for conform-open (no allow-list) */
    FILL_CLIENT_VERSION,
    FILL_CLIENT_LIB_NAME,
    FILL_CLIENT_LIB_VERSION,
};

/* How a MUTATE row changes the baseline Hello (cases.h: hello_base()) and
 * what the broker must answer.  Members left zero keep the baseline; the
 * stimulus, the exchange label, the expectation and, for rows without a
 * title, the title all come from these data. */
typedef struct mutation {
    /* Hello fields */
    bstr service, version, client_version; /* .s NULL: baseline */
    bool set_range;
    uint32_t min_protocol, max_protocol;
    enum fill_field fill;
    size_t fill_len;
    bstr fill_unit; /* repeated while it fits, then 'x' (.s NULL: all 'x') */
    enum { PID_SELF = 0, PID_ZERO, PID_OTHER } pid;
    bool big_ignored;  /* 4 KiB in each field HELLO-016 leaves unchecked */
    bool set_keepalive; /* client_keepalive_secs = keepalive; a Negotiated must
                           carry keepalive_interval_secs keepalive (1800 for 0) */
    uint64_t keepalive;
    /* envelope fields */
    bool set_envelope;
    uint32_t envelope_version;
    int32_t kind;
    uint32_t payload_protocol;
    int32_t payload_encoding;
    bool garbage_payload; /* payload ff ff ff instead of the Hello */
    uint64_t request_id, deadline_unix_ms; /* 0: baseline */
    bstr tracestate;
    /* raw bytes, hex, placed as where says */
    enum raw_where where;
    const char *hex;
    bool raw_decodes; /* Frame bytes placed that still decode: a refusal echoes */
    /* the outcome */
    const refusal *want; /* NULL: Negotiated */
    bool canonical;      /* the reply must also be a canonical encoding */
} mutation;

void case_mutation(cctx *c);
void mutation_title(const hcase *cs, sbuf *title);

/* ---- row macros: one line per case ---- */

#define CORE TIER_CORE
#define STRICT TIER_STRICT
#define NEGOTIATES NULL

/* A case with its own function and no data. */
#define ROW(id, tier, reqs, title, fn) {id, tier, reqs, title, fn, {NULL}, NULL, 0}
/* A case with its own function reading arg.word / arg.number. */
#define ROW_WORD(id, tier, reqs, title, fn, w) {id, tier, reqs, title, fn, {.word = w}, NULL, 0}
#define ROW_NUMBER(id, tier, reqs, title, fn, n) {id, tier, reqs, title, fn, {.number = n}, NULL, 0}
/* The baseline Hello changed by the mutation members given (designated
 * initializers) and the outcome: a refusal (&R_*) or NEGOTIATES.  title
 * NULL: derived from the data. */
#define MUTATE(id, tier, reqs, title, outcome, ...)                                                          \
    {id, tier, reqs, title, case_mutation, {.mut = &(const mutation){.want = outcome, __VA_ARGS__}}, mutation_title, 0}

/* Mutation members for the common changes. */
#define SERVICE(lit) .service = BSTR(lit)
#define VERSION(lit) .version = BSTR(lit)
#define PROTOCOLS(lo, hi) .set_range = true, .min_protocol = (lo), .max_protocol = (hi)
#define FILL(field, n) .fill = (field), .fill_len = (n)
/* n bytes of the string unit repeated (then 'x' to the exact length):
 * multibyte UTF-8 or NUL at and around a byte-measured cap. */
#define FILL_OF(field, n, unit) .fill = (field), .fill_len = (n), .fill_unit = BSTR(unit)
#define ENVELOPE(v, k, pp, enc)                                                                              \
    .set_envelope = true, .envelope_version = (v), .kind = (k), .payload_protocol = (pp), .payload_encoding = (enc)
#define RAW(w, h) .where = (w), .hex = (h)
#define KEEPALIVE(v) .set_keepalive = true, .keepalive = (v)

/* ---- admin verbs (cases_admin.c) ---- */
/* Sends AdminRequest{verb, json} (request_id 44) and reads the reply; req
 * gets the request envelope (its payload cleared). */
void admin_exchange(cctx *c, int32_t verb, bool json, rpb_frame *req, hreply *r);

/* Appends the framed HEALTHZ request (request_id id); f gets its envelope
 * (payload cleared). */
void healthz_frame(sbuf *s, rpb_frame *f, uint64_t id);

/* r is HEALTHZ's reply: TEXT "ok\n", exit 0, echoing f (ADMIN-002). */
bool expect_healthz(cctx *c, const hreply *r, const rpb_frame *f);

/* STATUS json's integer member at path ("hellos_negotiated"); false when
 * the reply has none. */
bool admin_status_u64(cctx *c, const char *path, uint64_t *out);

/* false, with the case skipped, when the broker under test has no rate
 * limit configured (--rate-limit off). */
bool rate_configured(cctx *c);

/* The area tables (cases_<area>.c), listed in run order by cases.c. */
extern const case_table cases_framing, cases_envelope, cases_wire, cases_hello, cases_conn, cases_admin,
    cases_launch;

#endif
