/*
 * cases_framing.c - broker/framing/...: the framing byte, the caps at their
 * boundaries, hostile lengths, truncated frames, back-to-back frames
 * (FRAME-001..FRAME-009, spec/hello.md).
 */
#include <stdio.h>
#include <string.h>

#include "cases.h"

/* FRAME-001: [byte][len][valid Hello body] with byte != 0x01. */
static void case_version_byte(cctx *c)
{
    sbuf s = SBUF_INIT;
    stim_base_frame(&s, self_pid());
    s.data[0] = (uint8_t)c->cs->arg.number;
    run_refused(c, "Hello with a bad framing byte", &s, &R_FRAMING_VERSION, ECHO_NOTHING);
    sb_free(&s);
}

/* FRAME-001: the framing byte alone decides, nothing else is sent. */
static void case_version_byte_alone(cctx *c)
{
    sbuf s = SBUF_INIT;
    sb_putc(&s, 0x02);
    hreply r;
    hc_exchange_within(c, NULL, "one byte 0x02, then silence", &s, c->cfg->prompt_ms, &r);
    if (r.end == H_TIMEOUT)
        c_fail(c, "expected a refusal decided from the first byte within %d ms; observed no reply (the broker waits for more bytes)",
               c->cfg->prompt_ms);
    else
        expect_refused(c, &r, &R_FRAMING_VERSION, ECHO_NOTHING);
    hr_free(&r);
    sb_free(&s);
}

/* FRAME-004: a Hello frame body of exactly 65,536 bytes is accepted. */
static void case_hello_cap_at_limit(cctx *c)
{
    sbuf s = SBUF_INIT;
    if (stim_padded_hello_frame(&s, self_pid(), RPB_MAX_HELLO_BYTES) < 0) {
        c_fail(c, "harness: cannot build a 65,536-byte Hello body");
    } else {
        rpb_frame f;
        stim_frame_base(&f);
        run_negotiated(c, "Hello frame body of 65,536 bytes", &s, echo_of(&f));
    }
    sb_free(&s);
}

/* FRAME-004: 65,537 bytes, body sent in full: refused for size. */
static void case_hello_cap_over_limit(cctx *c)
{
    sbuf s = SBUF_INIT;
    if (stim_padded_hello_frame(&s, self_pid(), RPB_MAX_HELLO_BYTES + 1) < 0) {
        c_fail(c, "harness: cannot build a 65,537-byte Hello body");
    } else {
        hreply r;
        hc_exchange(c, NULL, "Hello frame body of 65,537 bytes", &s, &r);
        /* A broker deciding from the header echoes nothing; one that read
         * the body may echo the request: both are allowed here. */
        expect_refused(c, &r, &R_TOO_LARGE, ECHO_UNCHECKED);
        hr_free(&r);
    }
    sb_free(&s);
}

/* FRAME-005: the header alone decides: no body byte is sent. */
static void case_hello_cap_header_only(cctx *c)
{
    hreply r;
    sbuf s = SBUF_INIT;
    put_hex(&s, "0101000100"); /* 65,537 */
    hc_exchange_within(c, NULL, "header claiming 65,537 bytes, no body", &s, c->cfg->prompt_ms, &r);
    if (r.end == H_TIMEOUT)
        c_fail(c, "expected Refused ERROR_PEER_REJECTED within %d ms of the header alone; observed no reply (the broker waits for the body)",
               c->cfg->prompt_ms);
    else
        expect_refused(c, &r, &R_TOO_LARGE, ECHO_NOTHING);
    hr_free(&r);
    sb_free(&s);
}

/* FRAME-003, FRAME-005: a header over the 16 MiB cap is refused (or the
 * connection closed) at once, and the broker keeps serving. */
static void case_frame_cap_header_only(cctx *c)
{
    hreply r;
    sbuf s = SBUF_INIT;
    put_hex(&s, "0101000001"); /* 16,777,217 */
    hc_exchange_within(c, NULL, "header claiming 16 MiB + 1, no body", &s, c->cfg->prompt_ms, &r);
    if (r.end == H_TIMEOUT)
        c_fail(c, "expected a refusal or a close within %d ms of the header alone; observed no reply",
               c->cfg->prompt_ms);
    else
        expect_refused_or_closed(c, &r, &R_TOO_LARGE);
    hr_free(&r);
    sb_free(&s);
    expect_still_serving(c, "a 16 MiB + 1 header");
}

/* FRAME-003: 01 ff ff ff ff then EOF: refused or closed, no crash, no
 * allocation of the claim; the broker keeps serving. */
static void case_hostile_length(cctx *c)
{
    hconn hc;
    hreply r;
    sbuf s = SBUF_INIT;
    put_hex(&s, "01ffffffff");
    if (hc_open(c, &hc, NULL, "header claiming 4 GiB - 1, then EOF") == 0) {
        hc_send(&hc, s.data, s.len);
        hc_shut_wr(&hc);
    }
    hc_read_reply(&hc, c->cfg->reply_ms, &r);
    hc_close(&hc);
    expect_refused_or_closed(c, &r, &R_TOO_LARGE);
    hr_free(&r);
    sb_free(&s);
    expect_still_serving(c, "a 4 GiB - 1 header");
}

/* FRAME-007: the stream ends inside the header or the body. */
static void case_truncated(cctx *c)
{
    const char *where = c->cs->arg.word;
    sbuf full = SBUF_INIT;
    stim_base_frame(&full, self_pid());
    size_t keep = strcmp(where, "header") == 0 ? 3 : full.len - 7;
    hconn hc;
    hreply r;
    if (hc_open(c, &hc, NULL, strcmp(where, "header") == 0 ? "3 header bytes, then EOF"
                                                           : "a Hello frame short of 7 body bytes, then EOF") == 0) {
        hc_send(&hc, full.data, keep);
        hc_shut_wr(&hc);
    }
    hc_read_reply(&hc, c->cfg->reply_ms, &r);
    hc_close(&hc);
    expect_refused(c, &r, &R_INCOMPLETE, ECHO_NOTHING);
    hr_free(&r);
    sb_free(&full);
}

/* FRAME-002, FRAME-009: two frames in one write; the first is the Hello,
 * the second is never answered. */
static void case_back_to_back(cctx *c)
{
    sbuf s = SBUF_INIT;
    rpb_frame f, g;
    rpb_hello h;
    hello_base(&f, &h);
    stim_hello_frame(&s, &f, &h);
    g = f;
    g.request_id = 43;
    stim_hello_frame(&s, &g, &h);
    hconn hc;
    hreply r;
    if (hc_open(c, &hc, NULL, "two Hello frames back to back (request_id 42, then 43)") == 0)
        hc_send(&hc, s.data, s.len);
    hc_read_reply(&hc, c->cfg->reply_ms, &r);
    expect_negotiated(c, &r, echo_of(&f));
    expect_closed_after_reply(c, &hc);
    hc_close(&hc);
    hr_free(&r);
    sb_free(&s);
}

/* HELLO-052: the reply to framing byte 0x02 is exactly these 48 bytes. */
static void case_exact_reply(cctx *c)
{
    sbuf s = SBUF_INIT, want = SBUF_INIT;
    stim_base_frame(&s, self_pid());
    s.data[0] = 0x02;
    put_hex(&want, "012b0000000801100122251223" "0a1b");
    sb_puts(&want, "unsupported framing version");
    put_hex(&want, "100118012001");
    hreply r;
    hc_exchange(c, NULL, "Hello with framing byte 0x02", &s, &r);
    if (r.ex) {
        sb_put(&r.ex->expect_bytes, want.data, want.len);
        sb_puts(&r.ex->expect_text, "exactly the 48 bytes of spec/hello.md HELLO-052");
    }
    if (r.end != H_REPLY) {
        sbuf obs = SBUF_INIT;
        describe_reply(&obs, &r);
        c_fail(c, "expected the 48-byte Refused; observed %s", sb_str(&obs));
        sb_free(&obs);
    } else if (r.raw.len != want.len || memcmp(r.raw.data, want.data, want.len) != 0) {
        /* only the reason text may differ: then it is a note */
        bool reason_only = r.frame_ok && r.payload_err == RPB_OK && r.hello.result == RPB_HELLO_REPLY_REFUSED &&
                           !rpb_slice_eq_cstr(r.hello.refused.reason, R_FRAMING_VERSION.reason);
        if (reason_only)
            expect_refused(c, &r, &R_FRAMING_VERSION, ECHO_NOTHING);
        else {
            sbuf a = SBUF_INIT;
            sb_hex(&a, r.raw.data, r.raw.len < 64 ? r.raw.len : 64);
            c_fail(c, "expected exactly 012b000000...20 01 (48 bytes); observed %zu bytes: %s", r.raw.len, sb_str(&a));
            sb_free(&a);
        }
    }
    hr_free(&r);
    sb_free(&s);
    sb_free(&want);
}

/* HELLO-004 (strict): the header decides before the payload protocol is
 * known, so the first-frame cap applies to admin requests too: a HEALTHZ
 * request padded (through output_path) to a 65,537-byte body is refused. */
static void case_admin_over_cap(cctx *c)
{
    rpb_frame f;
    stim_frame_base(&f);
    f.payload_protocol = RPB_PP_ADMIN;
    rpb_admin_request ar;
    rpb_msg_init(&rpb_admin_request_desc, &ar);
    ar.verb = RPB_ADMIN_VERB_HEALTHZ;
    sbuf s = SBUF_INIT;
    if (stim_padded_frame(&s, &f, &rpb_admin_request_desc, &ar, &ar.output_path, 'x',
                          RPB_MAX_HELLO_BYTES + 1) < 0) {
        c_fail(c, "harness: cannot build a 65,537-byte admin frame body");
    } else {
        hreply r;
        hc_exchange(c, NULL, "admin HEALTHZ request with a 65,537-byte frame body", &s, &r);
        expect_refused(c, &r, &R_TOO_LARGE, ECHO_UNCHECKED);
        hr_free(&r);
    }
    sb_free(&s);
}

/* FRAME-009, HELLO-001: a first frame delivered in two writes, split at
 * every offset from the first header byte to the last body byte, gets the
 * same reply as in one write.  Between the writes the harness waits 1 ms
 * for a reply that must not come (the frame is incomplete), which also
 * lets the broker read the first piece alone. */
static void case_split_everywhere(cctx *c)
{
    bool admin = strcmp(c->cs->arg.word, "admin") == 0;
    sbuf s = SBUF_INIT;
    rpb_frame f;
    if (admin)
        healthz_frame(&s, &f, 44);
    else {
        stim_frame_base(&f);
        stim_base_frame(&s, self_pid());
    }
    for (size_t k = 1; k < s.len && !c_failed(c); k++) {
        hconn hc;
        hreply r;
        char label[96];
        snprintf(label, sizeof label, "%s split after byte %zu of %zu", admin ? "HEALTHZ" : "baseline Hello", k, s.len);
        if (hc_open(c, &hc, NULL, label) != 0)
            break;
        hc_send(&hc, s.data, k);
        int end = hc_wait_close(&hc, 1);
        if (end != H_TIMEOUT)
            c_fail(c, "expected no reply and no close while the frame is incomplete (%zu of %zu bytes sent); observed %s",
                   k, s.len, hend_name(end));
        hc_send(&hc, s.data + k, s.len - k);
        hc_read_reply(&hc, c->cfg->reply_ms, &r);
        if (admin)
            expect_healthz(c, &r, &f);
        else
            expect_negotiated(c, &r, echo_of(&f));
        hc_close(&hc);
        hr_free(&r);
    }
    sb_free(&s);
}

/* Design.  FRAME-001: the framing byte 0x00, 0x02, 0xff (the baseline is
 * 0x01), alone or with a frame.  FRAME-003, FRAME-004: body lengths
 * 65 536 (accepted), 65 537 (refused, with and without the body), 16 MiB + 1
 * and 2^32 - 1 from the header alone.  FRAME-007: EOF inside the header and
 * inside the body.  FRAME-009: the first frame split at every offset, and
 * two frames in one write. */
static const hcase rows[] = {
    ROW_NUMBER("broker/framing/version-byte/0x02", CORE, "FRAME-001 HELLO-002 HELLO-051", "a framing byte 0x02 gets Refused VERSION_UNSUPPORTED, nothing echoed", case_version_byte, 0x02),
    ROW_NUMBER("broker/framing/version-byte/0x00", CORE, "FRAME-001 HELLO-002", "a framing byte 0x00 gets Refused VERSION_UNSUPPORTED", case_version_byte, 0x00),
    ROW_NUMBER("broker/framing/version-byte/0xff", CORE, "FRAME-001 HELLO-002", "a framing byte 0xff gets Refused VERSION_UNSUPPORTED", case_version_byte, 0xff),
    ROW("broker/framing/version-byte/first-byte-decides", CORE, "FRAME-001 HELLO-002", "the framing byte alone decides: 0x02 and nothing more gets Refused at once", case_version_byte_alone),
    MUTATE("broker/framing/empty-body", CORE, "FRAME-006 WIRE-001 ENV-001 HELLO-008", "01 00 00 00 00 is a default Frame: Refused VERSION_UNSUPPORTED (envelope_version 0)", &R_ENV_VERSION, RAW(RAW_FRAME_BODY, "")),
    ROW("broker/framing/hello-cap/at-limit", CORE, "FRAME-004 HELLO-003", "a Hello frame body of exactly 65,536 bytes negotiates", case_hello_cap_at_limit),
    ROW("broker/framing/hello-cap/over-limit", CORE, "FRAME-004 HELLO-003", "a Hello frame body of 65,537 bytes gets Refused PEER_REJECTED", case_hello_cap_over_limit),
    ROW("broker/framing/hello-cap/header-only", STRICT, "FRAME-004 FRAME-005 HELLO-004 SEC-014", "a header claiming 65,537 bytes is refused before any body byte is sent", case_hello_cap_header_only),
    ROW("broker/framing/frame-cap/header-only", STRICT, "FRAME-003 FRAME-005 HELLO-004", "a header claiming 16 MiB + 1 is refused or closed at once; the broker keeps serving", case_frame_cap_header_only),
    ROW("broker/framing/hostile-length/4GiB", CORE, "FRAME-003 HELLO-003", "01 ff ff ff ff then EOF is refused or closed without harm; the broker keeps serving", case_hostile_length),
    ROW_WORD("broker/framing/truncated/header", CORE, "FRAME-007 HELLO-005", "EOF inside the length header gets Refused PEER_REJECTED (incomplete frame)", case_truncated, "header"),
    ROW_WORD("broker/framing/truncated/body", CORE, "FRAME-007 HELLO-005", "EOF inside the body gets Refused PEER_REJECTED (incomplete frame)", case_truncated, "body"),
    ROW("broker/framing/version-byte/exact-reply", CORE, "HELLO-052 WIRE-020", "the reply to framing byte 0x02 is exactly the 48 bytes of the spec", case_exact_reply),
    ROW("broker/framing/hello-cap/admin-over-limit", STRICT, "HELLO-004 FRAME-004", "an admin request with a 65,537-byte frame body gets the first-frame cap refusal", case_admin_over_cap),
    ROW_WORD("broker/framing/split/hello-every-offset", CORE, "FRAME-009 HELLO-001", "the baseline Hello in two writes, split at every offset, negotiates", case_split_everywhere, "hello"),
    ROW_WORD("broker/framing/split/admin-every-offset", CORE, "FRAME-009 ADMIN-001", "HEALTHZ in two writes, split at every offset, is answered", case_split_everywhere, "admin"),
    ROW("broker/framing/back-to-back", CORE, "FRAME-002 FRAME-009 HELLO-001", "of two frames sent together only the first is answered, then the connection closes", case_back_to_back),
};

CASE_TABLE(cases_framing, rows);
