/*
 * cases_probe.c - backend/probe/..., backend/validate/... and
 * backend/mux/...: the identity probe exchange as the responder sees it
 * (spec/probe.md PROBE-001..PROBE-011), exact responses for fixed nonces,
 * the responder's validation order with one malformed probe per step
 * (PROBE-010), and the mux (MUX-001..MUX-005, MUX-008).  Also the helpers
 * every backend case uses (cases.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "cases.h"

/* ---- helpers (cases.h) ---- */

rpb_frame probe_frame(const uint8_t nonce[RPB_PROBE_NONCE_BYTES])
{
    rpb_frame f = rpb_frame_request(RPB_PP_PROBE, (rpb_slice){nonce, RPB_PROBE_NONCE_BYTES});
    f.request_id = rpb_probe_request_id(nonce);
    return f;
}

void probe_stim(sbuf *out, const uint8_t nonce[RPB_PROBE_NONCE_BYTES])
{
    rpb_frame f = probe_frame(nonce);
    stim_frame(out, &f);
}

void probe_random_nonce(uint8_t nonce[RPB_PROBE_NONCE_BYTES])
{
    if (getrandom(nonce, RPB_PROBE_NONCE_BYTES, 0) != (ssize_t)RPB_PROBE_NONCE_BYTES)
        abort();
}

void probe_fresh(uint8_t nonce[RPB_PROBE_NONCE_BYTES], rpb_frame *f, sbuf *s)
{
    probe_random_nonce(nonce);
    *f = probe_frame(nonce);
    stim_frame(s, f);
}

/* Records the response librpb builds for req from id as the exchange's
 * expected bytes; returns them in want. */
static void expected_response(const hreply *r, const rpb_frame *req, const rpb_daemon_process *id, sbuf *want)
{
    size_t n = rpb_probe_response_len(req, id), written;
    sb_fill(want, 0, n);
    if (rpb_probe_response_encode(req, id, want->data, n, &written) != RPB_OK)
        sb_reset(want);
    if (r->ex) {
        sb_reset(&r->ex->expect_bytes);
        sb_put(&r->ex->expect_bytes, want->data, want->len);
        sb_reset(&r->ex->expect_text);
        sb_puts(&r->ex->expect_text, "response_to(request), payload = nonce || DaemonProcess (canonical)");
    }
}

bool expect_probe_answer(cctx *c, const hreply *r, const rpb_frame *req, rpb_identity *id)
{
    /* PROBE-005: a RESPONSE on 0xB232 echoing request_id and trace */
    if (!expect_response_frame(c, r, RPB_PP_PROBE, echo_of(req)))
        return false;
    rpb_slice p = r->frame.payload;
    if (p.len < RPB_PROBE_NONCE_BYTES) { /* PROBE-024 */
        c_fail(c, "expected a payload of the 32 nonce bytes and a DaemonProcess; observed %zu bytes (probe-payload-short)",
               p.len);
        return false;
    }
    if (memcmp(p.data, req->payload.data, RPB_PROBE_NONCE_BYTES) != 0) { /* PROBE-025 */
        c_fail(c, "expected the payload to start with the request's 32 nonce bytes; observed other bytes "
                  "(probe-nonce-mismatch)");
        return false;
    }
    rpb_daemon_process dp;
    rpb_errinfo err;
    rpb_msg_init(&rpb_daemon_process_desc, &dp);
    int rc = rpb_decode(&rpb_daemon_process_desc, p.data + RPB_PROBE_NONCE_BYTES, p.len - RPB_PROBE_NONCE_BYTES,
                        &dp, NULL, 0, &err);
    if (rc == RPB_OK)
        rc = rpb_identity_check(&dp); /* PROBE-027 */
    if (rc != RPB_OK) {
        c_fail(c, "expected a DaemonProcess with an ipc_endpoint and a 32-byte exe_sha256 after the nonce; "
                  "observed %s", rpb_errname(rc));
        return false;
    }
    /* PROBE-005, IDENT-001, WIRE-020: the exact bytes */
    sbuf want = SBUF_INIT;
    expected_response(r, req, &dp, &want);
    bool ok = want.len == r->raw.len && memcmp(want.data, r->raw.data, want.len) == 0;
    if (!ok)
        c_fail(c, "expected the response bytes response_to(request) with payload nonce || canonical DaemonProcess "
                  "(%zu bytes); observed %zu other bytes", want.len, r->raw.len);
    sb_free(&want);
    if (ok && id && rpb_identity_copy(id, &dp) != RPB_OK) {
        c_fail(c, "expected identity strings within librpb's limits (paths %u, texts %u bytes); observed longer",
               RPB_IDENT_PATH_MAX, RPB_IDENT_TEXT_MAX);
        ok = false;
    }
    return ok;
}

void expect_closed_unanswered(cctx *c, hconn *hc, int timeout_ms, const char *what)
{
    hreply r;
    hc_read_reply(hc, timeout_ms, &r);
    if (r.end == H_TIMEOUT)
        c_fail(c, "expected the backend to close the connection without a reply after %s (connection-fatal); "
                  "observed it still open after %d ms", what, timeout_ms);
    else if (r.end == H_REPLY || r.end == H_GARBAGE)
        c_fail(c, "expected no reply to %s, only a close; observed %zu bytes", what, r.raw.len);
    hr_free(&r);
}

bool probe_identity(cctx *c, const char *label, rpb_identity *id, int32_t *peer_pid)
{
    uint8_t nonce[RPB_PROBE_NONCE_BYTES];
    rpb_frame f;
    sbuf s = SBUF_INIT;
    probe_fresh(nonce, &f, &s);
    hconn hc;
    hreply r;
    bool ok = false;
    if (hc_open(c, &hc, NULL, label) == 0) {
        struct ucred cr;
        socklen_t len = sizeof cr;
        if (peer_pid)
            *peer_pid = getsockopt(hc.fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 ? cr.pid : 0;
        hc_send(&hc, s.data, s.len);
        hc_read_reply(&hc, c->cfg->reply_ms, &r);
        ok = expect_probe_answer(c, &r, &f, id);
        hr_free(&r);
        hc_close(&hc);
    } else {
        c_fail(c, "expected the backend to accept a connection; observed connect failing");
    }
    sb_free(&s);
    return ok;
}

void expect_backend_serving(cctx *c, const char *after)
{
    size_t before = c->r->failures.len;
    if (!probe_identity(c, "baseline probe afterwards", NULL, NULL) && c->r->failures.len > before)
        c_fail(c, "expected the backend to keep serving after %s (a baseline probe is answered)", after);
}

/* ---- the generic row kind ---- */

static void variant_nonce(const probe_variant *v, uint8_t nonce[64])
{
    memset(nonce, 0, 64);
    for (unsigned i = 0; i < 64; i++)
        nonce[i] = v->nonce == NONCE_COUNT ? (uint8_t)i : v->nonce == NONCE_NINES ? 0x09 : 0;
    if (v->nonce == NONCE_RANDOM)
        probe_random_nonce(nonce);
}

/* The request of v (payload pointing into nonce) and its framed bytes. */
static void variant_request(const probe_variant *v, const uint8_t nonce[64], rpb_frame *f, sbuf *s)
{
    *f = probe_frame(nonce);
    if (v->set_request_id)
        f->request_id = v->request_id;
    if (v->trace) {
        f->traceparent = rpb_slice_cstr(STIM_TRACEPARENT);
        f->tracestate = rpb_slice_cstr(STIM_TRACESTATE);
    }
    f->deadline_unix_ms = v->deadline_unix_ms;
    if (v->set_envelope) {
        f->envelope_version = v->envelope_version;
        f->kind = v->kind;
        f->payload_protocol = v->payload_protocol;
        f->payload_encoding = v->payload_encoding;
    }
    if (v->set_len)
        f->payload.len = v->payload_len;
    sbuf body = SBUF_INIT;
    switch (v->where) {
    case PRAW_WIRE:
        put_hex(s, v->hex);
        break;
    case PRAW_BODY:
        put_hex(&body, v->hex);
        stim_framed(s, body.data, body.len);
        break;
    case PRAW_APPEND:
        stim_encode(&body, &rpb_frame_desc, f);
        put_hex(&body, v->hex);
        stim_framed(s, body.data, body.len);
        break;
    case PRAW_NONE:
        stim_frame(s, f);
        break;
    }
    sb_free(&body);
}

void case_probe(cctx *c)
{
    const probe_variant *v = c->cs->arg.probe;
    uint8_t nonce[64];
    variant_nonce(v, nonce);
    rpb_frame f;
    sbuf s = SBUF_INIT;
    variant_request(v, nonce, &f, &s);
    hconn hc;
    if (hc_open(c, &hc, NULL, c->cs->title) == 0) {
        hc_send(&hc, s.data, s.len);
        if (v->shut_wr)
            hc_shut_wr(&hc);
        if (v->answered) {
            hreply r;
            hc_read_reply(&hc, c->cfg->reply_ms, &r);
            expect_probe_answer(c, &r, &f, NULL);
            hr_free(&r);
        } else {
            expect_closed_unanswered(c, &hc, v->prompt ? c->cfg->prompt_ms : c->cfg->reply_ms, "this request");
        }
        hc_close(&hc);
    } else {
        c_fail(c, "expected the backend to accept a connection; observed connect failing");
    }
    sb_free(&s);
}

/* ---- cases with their own behaviour ---- */

/* MUX-005: three probes in one write get three answers, in order. */
static void case_several_probes(cctx *c)
{
    uint8_t nonce[3][RPB_PROBE_NONCE_BYTES];
    rpb_frame f[3];
    sbuf s = SBUF_INIT;
    for (int i = 0; i < 3; i++) {
        probe_random_nonce(nonce[i]);
        f[i] = probe_frame(nonce[i]);
        stim_frame(&s, &f[i]);
    }
    hconn hc;
    if (hc_open(c, &hc, NULL, "three probes in one write") == 0) {
        hc_send(&hc, s.data, s.len);
        for (int i = 0; i < 3 && !c_failed(c); i++) {
            hreply r;
            hc_read_reply(&hc, c->cfg->reply_ms, &r);
            if (!expect_probe_answer(c, &r, &f[i], NULL))
                c_fail(c, "expected answer %d of 3 to the probes sent in one write", i + 1);
            hr_free(&r);
        }
        hc_close(&hc);
    }
    sb_free(&s);
}

/* MUX-005: probe, answer, probe, answer on one connection. */
static void case_sequential_probes(cctx *c)
{
    hconn hc;
    if (hc_open(c, &hc, NULL, "a probe after each answer, three times") != 0)
        return;
    for (int i = 0; i < 3 && !c_failed(c); i++) {
        uint8_t nonce[RPB_PROBE_NONCE_BYTES];
        rpb_frame f;
        sbuf s = SBUF_INIT;
        probe_fresh(nonce, &f, &s);
        int rc = hc_send(&hc, s.data, s.len);
        hreply r;
        hc_read_reply(&hc, c->cfg->reply_ms, &r);
        if (!expect_probe_answer(c, &r, &f, NULL))
            c_fail(c, "expected probe %d of 3 on the connection to be answered%s", i + 1,
                   rc < 0 ? " (the send failed: the backend had closed)" : "");
        hr_free(&r);
        sb_free(&s);
    }
    hc_close(&hc);
}

/* MUX-005: a bad frame after an answered probe closes the connection
 * without a further byte. */
static void case_probe_then_garbage(cctx *c)
{
    uint8_t nonce[RPB_PROBE_NONCE_BYTES];
    rpb_frame f;
    sbuf s = SBUF_INIT;
    probe_fresh(nonce, &f, &s);
    put_hex(&s, "0203000000ffffff");
    hconn hc;
    if (hc_open(c, &hc, NULL, "a probe, then a frame with framing byte 0x02") == 0) {
        hc_send(&hc, s.data, s.len);
        hreply r;
        hc_read_reply(&hc, c->cfg->reply_ms, &r);
        if (expect_probe_answer(c, &r, &f, NULL))
            expect_closed_unanswered(c, &hc, c->cfg->prompt_ms, "a framing byte 0x02 after the probe");
        hr_free(&r);
        hc_close(&hc);
    }
    sb_free(&s);
}

/* MUX-008 (--echo-protocol): a REQUEST on the echo protocol is answered
 * with its payload, between two probes on the same connection. */
static void case_echo(cctx *c)
{
    if (!c->cfg->has_echo) {
        c_skip(c, "needs --echo-protocol (the backend's echo service)");
        return;
    }
    rpb_frame e = rpb_frame_request(c->cfg->echo_protocol, rpb_slice_cstr("ping-1"));
    e.request_id = 1;
    e.traceparent = rpb_slice_cstr(STIM_TRACEPARENT);
    uint8_t nonce[RPB_PROBE_NONCE_BYTES];
    probe_random_nonce(nonce);
    rpb_frame p = probe_frame(nonce);
    hconn hc;
    if (hc_open(c, &hc, NULL, "an echo request, then a probe") != 0)
        return;
    sbuf s = SBUF_INIT;
    stim_frame(&s, &e);
    stim_frame(&s, &p);
    hc_send(&hc, s.data, s.len);
    hreply r;
    hc_read_reply(&hc, c->cfg->reply_ms, &r);
    if (expect_response_frame(c, &r, c->cfg->echo_protocol, echo_of(&e)) && !rpb_slice_eq(r.frame.payload, e.payload))
        c_fail(c, "expected the echo response to carry the request payload \"ping-1\"; observed %zu other bytes",
               r.frame.payload.len);
    hr_free(&r);
    hc_read_reply(&hc, c->cfg->reply_ms, &r);
    expect_probe_answer(c, &r, &p, NULL);
    hr_free(&r);
    hc_close(&hc);
    sb_free(&s);
}

#define PREQ RPB_FRAME_KIND_REQUEST
#define PP RPB_PP_PROBE
#define NONE RPB_PAYLOAD_ENCODING_NONE

static const hcase rows[] = {
    PROBE("backend/probe/exact/vector-a", CORE, "PROBE-001 PROBE-002 PROBE-005 IDENT-001 WIRE-020", "nonce 00 01 .. 1f (facts vector A): the response is response_to(request) with nonce || canonical DaemonProcess", ANSWERED),
    PROBE("backend/probe/exact/vector-d", CORE, "PROBE-005 PROBE-011", "nonce 09 x 32 with request_id 7, not derived from the nonce (vector D): answered, request_id 7 echoed", ANSWERED, .nonce = NONCE_NINES, REQUEST_ID(7)),
    PROBE("backend/probe/exact/zero-nonce", CORE, "PROBE-005 PROBE-011", "an all-zero nonce (request_id 0, no field 5): answered exactly", ANSWERED, .nonce = NONCE_ZERO),
    PROBE("backend/probe/nonce/random", CORE, "PROBE-003 PROBE-005", "a fresh random nonce is echoed verbatim", ANSWERED, .nonce = NONCE_RANDOM),
    PROBE("backend/probe/echo/request-id-zero", CORE, "PROBE-005 PROBE-011 ENV-007", "request_id 0 with a counting nonce: answered, 0 echoed", ANSWERED, REQUEST_ID(0)),
    PROBE("backend/probe/echo/request-id-max", CORE, "PROBE-005 PROBE-011 ENV-007", "request_id 2^64-1: answered, echoed", ANSWERED, REQUEST_ID(UINT64_MAX)),
    PROBE("backend/probe/echo/trace", CORE, "PROBE-005 PROBE-011 ENV-007", "traceparent and tracestate are echoed", ANSWERED, .trace = true),
    PROBE("backend/probe/echo/deadline-ignored", CORE, "PROBE-011", "a deadline_unix_ms in the past is ignored; the response carries 0", ANSWERED, .deadline_unix_ms = 1),
    PROBE("backend/validate/framing/version-0x02", CORE, "FRAME-001 PROBE-010 MUX-001", "framing byte 0x02: closed without a reply", CLOSES, RAW(PRAW_WIRE, "0232000000"), .prompt = true),
    PROBE("backend/validate/framing/version-0x00", CORE, "FRAME-001 PROBE-010 MUX-001", "framing byte 0x00: closed without a reply", CLOSES, RAW(PRAW_WIRE, "0032000000"), .prompt = true),
    PROBE("backend/validate/framing/over-16mib", CORE, "FRAME-003 PROBE-010", "a header claiming 16 MiB + 1: closed without a reply", CLOSES, RAW(PRAW_WIRE, "0101000001"), .shut_wr = true),
    PROBE("backend/validate/framing/over-cap-header-only", STRICT, "FRAME-005 MUX-006", "a header claiming 16 MiB + 1 is refused from the header alone: closed within the prompt deadline, no body sent", CLOSES, RAW(PRAW_WIRE, "0101000001"), .prompt = true),
    PROBE("backend/validate/framing/hostile-length", STRICT, "FRAME-005 MUX-006", "a header claiming 4 GiB - 1: closed promptly, nothing allocated for it", CLOSES, RAW(PRAW_WIRE, "01ffffffff"), .prompt = true),
    PROBE("backend/validate/framing/truncated", CORE, "FRAME-007 PROBE-010", "20 bytes of a 55-byte probe, then end of stream: closed without a reply", CLOSES, RAW(PRAW_WIRE, "01320000000801" "18b2e402" "2220" "00010203040506"), .shut_wr = true),
    PROBE("backend/validate/decode/invalid-varint", CORE, "WIRE-005 PROBE-010", "a Frame body with an 11-byte varint: closed without a reply", CLOSES, RAW(PRAW_BODY, "08ffffffffffffffffffff01")),
    PROBE("backend/validate/decode/wire-type-7", CORE, "WIRE-004 PROBE-010", "a Frame body with wire type 7: closed without a reply", CLOSES, RAW(PRAW_BODY, "0f")),
    PROBE("backend/validate/decode/tag-0", CORE, "WIRE-003 PROBE-010", "a Frame body with field number 0: closed without a reply", CLOSES, RAW(PRAW_BODY, "0001")),
    PROBE("backend/validate/decode/invalid-utf8", CORE, "WIRE-012 PROBE-010", "a traceparent with invalid UTF-8 after the baseline probe: closed without a reply", CLOSES, RAW(PRAW_APPEND, "4202c328")),
    PROBE("backend/validate/envelope/version-0", CORE, "ENV-009 PROBE-010", "envelope_version 0: closed without a reply", CLOSES, ENVELOPE(0, PREQ, PP, NONE)),
    PROBE("backend/validate/envelope/version-2", CORE, "ENV-009 PROBE-010", "envelope_version 2: closed without a reply", CLOSES, ENVELOPE(2, PREQ, PP, NONE)),
    PROBE("backend/validate/envelope/kind-response", CORE, "ENV-009 PROBE-010", "kind RESPONSE: closed without a reply", CLOSES, ENVELOPE(1, RPB_FRAME_KIND_RESPONSE, PP, NONE)),
    PROBE("backend/validate/envelope/kind-event", CORE, "ENV-009 PROBE-010", "kind EVENT: closed without a reply", CLOSES, ENVELOPE(1, RPB_FRAME_KIND_EVENT, PP, NONE)),
    PROBE("backend/validate/envelope/kind-99", CORE, "ENV-009 PROBE-010", "kind 99: closed without a reply", CLOSES, ENVELOPE(1, 99, PP, NONE)),
    PROBE("backend/validate/envelope/encoding-zstd", CORE, "ENV-009 PROBE-010", "payload_encoding ZSTD: closed without a reply", CLOSES, ENVELOPE(1, PREQ, PP, RPB_PAYLOAD_ENCODING_ZSTD)),
    PROBE("backend/validate/envelope/encoding-7", CORE, "ENV-009 PROBE-010", "payload_encoding 7: closed without a reply", CLOSES, ENVELOPE(1, PREQ, PP, 7)),
    PROBE("backend/validate/nonce/length-0", CORE, "PROBE-010", "an empty nonce: closed without a reply", CLOSES, NONCE_LEN(0)),
    PROBE("backend/validate/nonce/length-31", CORE, "PROBE-010", "a 31-byte nonce: closed without a reply", CLOSES, NONCE_LEN(31)),
    PROBE("backend/validate/nonce/length-33", CORE, "PROBE-010", "a 33-byte nonce: closed without a reply", CLOSES, NONCE_LEN(33)),
    PROBE("backend/validate/nonce/length-64", CORE, "PROBE-010", "a 64-byte nonce: closed without a reply", CLOSES, NONCE_LEN(64)),
    PROBE("backend/mux/first-party/control", CORE, "MUX-003", "a REQUEST on 0x0000 (Hello): closed without a reply", CLOSES, ENVELOPE(1, PREQ, RPB_PP_CONTROL, NONE)),
    PROBE("backend/mux/first-party/admin", CORE, "MUX-003", "a REQUEST on 0xAD01 (admin): closed without a reply", CLOSES, ENVELOPE(1, PREQ, RPB_PP_ADMIN, NONE)),
    PROBE("backend/mux/first-party/handoff", CORE, "MUX-003", "a REQUEST on 0xD0FF (handoff): closed without a reply", CLOSES, ENVELOPE(1, PREQ, RPB_PP_HANDOFF, NONE)),
    PROBE("backend/mux/unserved/0x7002", CORE, "MUX-004", "a REQUEST on 0x7002, not served: closed without a reply", CLOSES, ENVELOPE(1, PREQ, 0x7002, NONE)),
    PROBE("backend/mux/unserved/0xb233", CORE, "MUX-004", "a REQUEST on 0xB233, the probe's neighbour: closed without a reply", CLOSES, ENVELOPE(1, PREQ, 0xB233, NONE)),
    ROW("backend/mux/several-probes", CORE, "MUX-005 PROBE-005", "three probes in one write get three answers, in order", case_several_probes),
    ROW("backend/mux/sequential-probes", CORE, "MUX-005 PROBE-005", "a probe after each answer on one connection, three times: each answered", case_sequential_probes),
    ROW("backend/mux/probe-then-garbage", CORE, "MUX-005 MUX-001", "a bad frame after an answered probe closes the connection without another byte", case_probe_then_garbage),
    ROW("backend/mux/echo", STRICT, "MUX-008 MUX-004", "an echo REQUEST is answered with its payload, then a probe on the same connection (--echo-protocol)", case_echo),
};

CASE_TABLE(cases_probe, rows);
