/*
 * cases_envelope.c - broker/envelope/... and broker/echo/...: each Frame
 * field of the Hello envelope, the check order, payload decoding after the
 * envelope, and the response echo (ENV-001..ENV-010).
 */
#include "cases.h"

/* The baseline Hello with the envelope fields of the variant. */
void case_envelope(cctx *c)
{
    const env_variant *v = c->cs->arg;
    rpb_frame f;
    rpb_hello h;
    hello_base(&f, &h);
    f.envelope_version = v->envelope_version;
    f.kind = v->kind;
    f.payload_protocol = v->payload_protocol;
    f.payload_encoding = v->payload_encoding;
    sbuf s = SBUF_INIT;
    if (v->garbage_payload) {
        f.payload.data = (const uint8_t *)"\xff\xff\xff";
        f.payload.len = 3;
        stim_frame(&s, &f);
    } else {
        stim_hello_frame(&s, &f, &h);
    }
    run_expect(c, "Hello with the envelope under test", &s, v->want, echo_of(&f));
    sb_free(&s);
}

/* ENV-006: deadline_unix_ms is not checked (one in the past negotiates)
 * and the response carries deadline 0. */
void case_deadline_ignored(cctx *c)
{
    rpb_frame f;
    rpb_hello h;
    hello_base(&f, &h);
    f.deadline_unix_ms = 1;
    run_hello(c, "Hello with deadline_unix_ms 1 (long past)", &f, &h, NULL);
}

/* ENV-007: a Negotiated echoes a full 64-bit request_id. */
void case_echo_negotiated(cctx *c)
{
    rpb_frame f;
    rpb_hello h;
    hello_base(&f, &h);
    f.request_id = UINT64_C(0xfedcba9876543210);
    run_hello(c, "Hello with request_id 0xfedcba9876543210", &f, &h, NULL);
}

/* ENV-007: a Refused echoes request_id and trace context too. */
void case_echo_refused(cctx *c)
{
    rpb_frame f;
    rpb_hello h;
    hello_base(&f, &h);
    f.request_id = 7;
    h.service_name = rpb_slice_cstr("nosuch");
    run_hello(c, "Hello for an unknown service, request_id 7", &f, &h, &R_SERVICE_UNKNOWN);
}

/* ENV-007: traceparent and tracestate are echoed byte for byte, non-ASCII
 * and NUL included. */
void case_echo_trace(cctx *c)
{
    static const char state[] = "vendor=\xc3\xa9t\xc3\xa9,rp=1,nul=\x00!";
    rpb_frame f;
    rpb_hello h;
    hello_base(&f, &h);
    f.tracestate.data = (const uint8_t *)state;
    f.tracestate.len = sizeof state - 1;
    run_hello(c, "Hello with traceparent and a non-ASCII tracestate", &f, &h, NULL);
}
