/*
 * cases.h - what the case tables share: the row macros, the generic
 * "baseline Hello + mutation + expected outcome" row kind (mutation.c), its
 * backend counterpart "baseline probe + variant + answered or closed"
 * (cases_probe.c) and the helpers of case_util.c.  Each cases_<area>.c holds one area of the
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

/* Appends the baseline Hello for the unregistered service "nosuch",
 * framed; f gets its envelope. */
void unknown_service_hello(sbuf *s, rpb_frame *f);

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

/* Opens n_idle (at most 64) connections that send nothing and, when
 * partial is not NULL, one that sends the first half of partial and stops,
 * runs served(c) beside them, then closes them: a daemon serves others
 * while some stall (SEC-005, MUX-006).  Fewer accepted idle connections
 * are a note. */
void beside_stalled(cctx *c, size_t n_idle, const sbuf *partial, void (*served)(cctx *c));

/* 20 clients each shut their reading side, send stimulus on a new
 * connection (label) and close: the daemon's replies fail with EPIPE
 * however fast it is (a plain close after the send would race them). */
void hang_up_early(cctx *c, const sbuf *stimulus, const char *label);

/* Sends stimulus (all but its last byte) one byte per 100 ms on hc, opened
 * at t0, until the daemon closes or the daemon's deadline plus 1 s has
 * passed since t0.  True when the daemon closed (or sent bytes) first. */
bool trickle(cctx *c, hconn *hc, const sbuf *stimulus, int64_t t0);

/* As root, starts a helper running as uid 65534 (o) and opens hc from it
 * (label); true when hc is open (the caller closes it and stops o).
 * Otherwise the case is skipped (not root), failed (the helper could not
 * start or connect) or noted (the kernel refused the connect by the socket's
 * mode, so the daemon's own uid check was not reached), and o is stopped. */
bool open_foreign(cctx *c, horigin *o, hconn *hc, const char *label);

/* The case of a socket with no group or other permission bits (SEC-002,
 * MUX-007); skipped when the socket cannot be looked at. */
void case_socket_mode(cctx *c);

/* Sends SIGTERM to the daemon the harness spawned; returns its pid, or 0
 * with the case skipped (--connect) or failed. */
pid_t sigterm_spawned(cctx *c);

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

/* Sends ar (request_id 44) and reads the reply; req gets the request
 * envelope (its payload cleared). */
void admin_exchange_request(cctx *c, const rpb_admin_request *ar, rpb_frame *req, hreply *r);

/* Appends the framed HEALTHZ request (request_id id); f gets its envelope
 * (payload cleared). */
void healthz_frame(sbuf *s, rpb_frame *f, uint64_t id);

/* r is HEALTHZ's reply: TEXT "ok\n", exit 0, echoing f (ADMIN-002). */
bool expect_healthz(cctx *c, const hreply *r, const rpb_frame *f);

/* STATUS json's integer member at path ("hellos_negotiated"); false when
 * the reply has none. */
bool admin_status_u64(cctx *c, const char *path, uint64_t *out);

/* The value of the sample line "<name> <value>" of an OpenMetrics body;
 * false when there is none. */
bool metric_value(rpb_slice body, const char *name, double *out);

/* false, with the case skipped, when the broker under test has no rate
 * limit configured (--rate-limit off). */
bool rate_configured(cctx *c);

/* ---- the backend suite (cases_probe.c, cases_ident.c, cases_bconn.c, cases_receiver.c) ---- */

#include <rpb/ident.h>

/* The baseline probe request for nonce (PROBE-001, request_id by
 * PROBE-002, no trace); its payload points at nonce. */
rpb_frame probe_frame(const uint8_t nonce[RPB_PROBE_NONCE_BYTES]);

/* Appends the framed baseline probe request for nonce. */
void probe_stim(sbuf *out, const uint8_t nonce[RPB_PROBE_NONCE_BYTES]);

/* Fills nonce from the harness's CSPRNG (aborts when it cannot). */
void probe_random_nonce(uint8_t nonce[RPB_PROBE_NONCE_BYTES]);

/* A fresh random nonce, its baseline probe request f and the framed bytes
 * appended to s. */
void probe_fresh(uint8_t nonce[RPB_PROBE_NONCE_BYTES], rpb_frame *f, sbuf *s);

/*
 * r is the exact response to the probe req (PROBE-005): a RESPONSE frame
 * on 0xB232 echoing request_id and trace (ENV-007), its payload the nonce
 * followed by a DaemonProcess that has an endpoint and a 32-byte digest
 * (PROBE-024..PROBE-027), byte for byte the response librpb builds from
 * that identity (canonical, WIRE-020, IDENT-001).  id (may be NULL) gets
 * the identity.  Records failures; true when all hold.
 */
bool expect_probe_answer(cctx *c, const hreply *r, const rpb_frame *req, rpb_identity *id);

/* The backend closes hc within timeout_ms without a byte (PROBE-010,
 * MUX-005); what names the stimulus in messages. */
void expect_closed_unanswered(cctx *c, hconn *hc, int timeout_ms, const char *what);

/* One baseline probe with a fresh nonce on a new connection: true, with
 * the identity and the peer pid SO_PEERCRED gives (may be NULL), when it
 * was answered as expect_probe_answer() requires. */
bool probe_identity(cctx *c, const char *label, rpb_identity *id, int32_t *peer_pid);

/* A baseline probe on a new connection is answered: the backend still
 * serves after what the case did (`after` says what). */
void expect_backend_serving(cctx *c, const char *after);

/* A probe on a new connection is answered exactly within the prompt
 * deadline (beside stalled connections, MUX-006, HANDOFF-046). */
void probe_promptly(cctx *c);

/* Where a PROBE row's raw bytes go (probe_variant.hex). */
enum probe_raw {
    PRAW_NONE = 0,
    PRAW_WIRE,   /* the bytes sent, framing included */
    PRAW_BODY,   /* the whole Frame body, framed */
    PRAW_APPEND, /* after the baseline Frame body, framed */
};

/* How a PROBE row changes the baseline probe request and whether the
 * backend must answer it or close the connection without a reply. */
typedef struct probe_variant {
    enum { NONCE_COUNT = 0, NONCE_NINES, NONCE_ZERO, NONCE_RANDOM } nonce; /* 00 01 .. 1f, 09 x 32, ... */
    bool set_request_id;
    uint64_t request_id; /* else the PROBE-002 value */
    bool trace;          /* the baseline traceparent and tracestate */
    uint64_t deadline_unix_ms;
    bool set_envelope;
    uint32_t envelope_version;
    int32_t kind;
    uint32_t payload_protocol;
    int32_t payload_encoding;
    bool set_len;
    size_t payload_len; /* nonce bytes sent, at most 64 (else 32) */
    enum probe_raw where;
    const char *hex;
    bool shut_wr; /* half-close after sending */
    bool prompt;  /* the close must come within --prompt-timeout, with no more input */
    bool answered;
} probe_variant;

void case_probe(cctx *c);

#define ANSWERED true
#define CLOSES false
/* The baseline probe changed by the probe_variant members given
 * (designated initializers; ENVELOPE() and RAW() with PRAW_* work here
 * too) and the outcome, ANSWERED or CLOSES. */
#define PROBE(id, tier, reqs, title, outcome, ...)                                                           \
    {id, tier, reqs, title, case_probe, {.probe = &(const probe_variant){.answered = outcome, __VA_ARGS__}}, NULL, 0}
#define REQUEST_ID(v) .set_request_id = true, .request_id = (v)
#define NONCE_LEN(n) .set_len = true, .payload_len = (n)

/* The area tables (cases_<area>.c), listed in run order by cases.c. */
extern const case_table cases_framing, cases_envelope, cases_wire, cases_hello, cases_conn, cases_admin,
    cases_launch, cases_handoff, cases_probe, cases_ident, cases_bconn, cases_receiver;

#endif
