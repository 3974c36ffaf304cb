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
    stim_frame_base(&f);
    stim_hello_base(&h, self_pid());
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
    if (v->want)
        run_refused(c, "Hello with the envelope under test", &s, v->want, echo_of(&f));
    else
        run_negotiated(c, "Hello with the envelope under test", &s, echo_of(&f));
    sb_free(&s);
}

/* ENV-006: deadline_unix_ms is not checked (one in the past negotiates)
 * and the response carries deadline 0. */
void case_deadline_ignored(cctx *c)
{
    rpb_frame f;
    rpb_hello h;
    stim_frame_base(&f);
    stim_hello_base(&h, self_pid());
    f.deadline_unix_ms = 1;
    sbuf s = SBUF_INIT;
    stim_hello_frame(&s, &f, &h);
    run_negotiated(c, "Hello with deadline_unix_ms 1 (long past)", &s, echo_of(&f));
    sb_free(&s);
}

/* ENV-007: a Negotiated echoes a full 64-bit request_id. */
void case_echo_negotiated(cctx *c)
{
    rpb_frame f;
    rpb_hello h;
    stim_frame_base(&f);
    stim_hello_base(&h, self_pid());
    f.request_id = UINT64_C(0xfedcba9876543210);
    sbuf s = SBUF_INIT;
    stim_hello_frame(&s, &f, &h);
    run_negotiated(c, "Hello with request_id 0xfedcba9876543210", &s, echo_of(&f));
    sb_free(&s);
}

/* ENV-007: a Refused echoes request_id and trace context too. */
void case_echo_refused(cctx *c)
{
    rpb_frame f;
    rpb_hello h;
    stim_frame_base(&f);
    stim_hello_base(&h, self_pid());
    f.request_id = 7;
    h.service_name = rpb_slice_cstr("nosuch");
    sbuf s = SBUF_INIT;
    stim_hello_frame(&s, &f, &h);
    run_refused(c, "Hello for an unknown service, request_id 7", &s, &R_SERVICE_UNKNOWN, echo_of(&f));
    sb_free(&s);
}

/* ENV-007: traceparent and tracestate are echoed byte for byte, non-ASCII
 * and NUL included. */
void case_echo_trace(cctx *c)
{
    static const char state[] = "vendor=\xc3\xa9t\xc3\xa9,rp=1,nul=\x00!";
    rpb_frame f;
    rpb_hello h;
    stim_frame_base(&f);
    stim_hello_base(&h, self_pid());
    f.tracestate.data = (const uint8_t *)state;
    f.tracestate.len = sizeof state - 1;
    sbuf s = SBUF_INIT;
    stim_hello_frame(&s, &f, &h);
    run_negotiated(c, "Hello with traceparent and a non-ASCII tracestate", &s, echo_of(&f));
    sb_free(&s);
}
