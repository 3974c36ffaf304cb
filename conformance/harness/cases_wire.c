/*
 * cases_wire.c - broker/malformed/... and broker/proto3/...: undecodable
 * Frames and Hello payloads, and the proto3 inputs a broker must accept
 * (WIRE-001..WIRE-021 as they show at the broker: a Frame that does not
 * decode is "malformed broker Frame" with nothing echoed, a Hello that does
 * not decode is "malformed Hello payload" with the request echoed).
 */
#include <string.h>

#include "cases.h"

/* The baseline Frame body (payload = baseline Hello), and the Hello bytes. */
static void baseline_parts(sbuf *frame_body, sbuf *hello, const char *hello_prefix, const char *hello_append)
{
    rpb_hello h;
    stim_hello_base(&h, self_pid());
    if (hello_prefix)
        put_hex(hello, hello_prefix);
    stim_encode(hello, &rpb_hello_desc, &h);
    if (hello_append)
        put_hex(hello, hello_append);
    rpb_frame f;
    stim_frame_base(&f);
    f.payload.data = hello->data;
    f.payload.len = hello->len;
    stim_encode(frame_body, &rpb_frame_desc, &f);
}

void case_wire(cctx *c)
{
    const wire_variant *v = c->cs->arg;
    sbuf body = SBUF_INIT, hello = SBUF_INIT, s = SBUF_INIT;
    rpb_frame req;
    stim_frame_base(&req);
    echo e = echo_of(&req);
    switch (v->where) {
    case IN_FRAME_BODY:
        put_hex(&body, v->hex);
        e = ECHO_NOTHING;
        break;
    case IN_FRAME_PREFIX: {
        /* the bytes replace the leading "08 01" (envelope_version 1) */
        sbuf rest = SBUF_INIT;
        baseline_parts(&rest, &hello, NULL, NULL);
        put_hex(&body, v->hex);
        sb_put(&body, rest.data + 2, rest.len - 2);
        sb_free(&rest);
        if (v->want)
            e = ECHO_NOTHING;
        break;
    }
    case IN_FRAME_APPEND:
        baseline_parts(&body, &hello, NULL, NULL);
        put_hex(&body, v->hex);
        if (v->want)
            e = ECHO_NOTHING;
        break;
    case IN_HELLO_APPEND:
        baseline_parts(&body, &hello, NULL, v->hex);
        break;
    case IN_HELLO_PREFIX:
        baseline_parts(&body, &hello, v->hex, NULL);
        break;
    }
    stim_framed(&s, body.data, body.len);
    run_expect(c, "the input under test", &s, v->want, e);
    sb_free(&body);
    sb_free(&hello);
    sb_free(&s);
}

/* WIRE-016 (facts/wire.md §7.11): nested unknown groups at the top of the
 * Frame body.  arg "100": 100 nested start-groups whose innermost is empty
 * are accepted; "101": a 101st start-group exceeds the budget. */
void case_recursion(cctx *c)
{
    const char *which = c->cs->arg;
    int depth = strcmp(which, "100") == 0 ? 100 : 101;
    sbuf body = SBUF_INIT, hello = SBUF_INIT, s = SBUF_INIT;
    baseline_parts(&body, &hello, NULL, NULL);
    for (int i = 0; i < depth; i++)
        put_hex(&body, "a306"); /* start-group, field 100 */
    for (int i = 0; i < depth; i++)
        put_hex(&body, "a406"); /* end-group, field 100 */
    stim_framed(&s, body.data, body.len);
    rpb_frame req;
    stim_frame_base(&req);
    if (depth == 100)
        run_negotiated(c, "Hello frame + 100 nested empty unknown groups", &s, echo_of(&req));
    else
        run_refused(c, "Hello frame + 101 nested unknown groups", &s, &R_MALFORMED_FRAME, ECHO_NOTHING);
    sb_free(&body);
    sb_free(&hello);
    sb_free(&s);
}

/* WIRE-021: every default written out explicitly, in Frame and Hello. */
void case_explicit_defaults(cctx *c)
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
void case_omitted_defaults(cctx *c)
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

/* WIRE-012: NUL is valid UTF-8; client_version has no content rules. */
void case_nul_in_string(cctx *c)
{
    rpb_frame f;
    rpb_hello h;
    hello_base(&f, &h);
    h.client_version.data = (const uint8_t *)"cli\0/1.0";
    h.client_version.len = 8;
    run_hello(c, "Hello whose client_version holds a NUL", &f, &h, NULL);
}

/* HELLO-052, WIRE-020: replies are canonical encodings.  arg "negotiated"
 * (the baseline Hello) or "refused" (an unknown service). */
void case_canonical_reply(cctx *c)
{
    bool refused = strcmp((const char *)c->cs->arg, "refused") == 0;
    rpb_frame f;
    rpb_hello h;
    hello_base(&f, &h);
    if (refused)
        h.service_name = rpb_slice_cstr("nosuch");
    sbuf s = SBUF_INIT;
    stim_hello_frame(&s, &f, &h);
    hreply r;
    hc_exchange(c, NULL, refused ? "Hello for an unknown service" : "baseline Hello", &s, &r);
    if (refused ? expect_refused(c, &r, &R_SERVICE_UNKNOWN, echo_of(&f)) : expect_negotiated(c, &r, echo_of(&f)) != NULL)
        expect_canonical(c, &r);
    hr_free(&r);
    sb_free(&s);
}
