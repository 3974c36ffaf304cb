/* check.c - shared expectations (see check.h). */
#include "check.h"

#include <stdio.h>
#include <string.h>

#include "stim.h"

#define RETRY_ANY UINT64_MAX

/* spec/hello.md refusal table: code, upstream's reason, retry_after_ms. */
const refusal R_FRAMING_VERSION = {RPB_CODE_VERSION_UNSUPPORTED, "unsupported framing version", 0, 0};
const refusal R_TOO_LARGE = {RPB_CODE_PEER_REJECTED, "initial Hello frame exceeds 64 KiB", 0, 0};
const refusal R_INCOMPLETE = {RPB_CODE_PEER_REJECTED, "incomplete Hello frame", 0, 0};
const refusal R_MALFORMED_FRAME = {RPB_CODE_PEER_REJECTED, "malformed broker Frame", 0, 0};
const refusal R_ENV_VERSION = {RPB_CODE_VERSION_UNSUPPORTED, "frame envelope_version is not v1", 0, 0};
const refusal R_ENV_KIND = {RPB_CODE_PEER_REJECTED, "Hello frame kind must be REQUEST", 0, 0};
const refusal R_ENV_PROTOCOL = {RPB_CODE_PEER_REJECTED, "Hello frame payload_protocol must be control-plane", 0, 0};
const refusal R_ENV_ENCODING = {RPB_CODE_PEER_REJECTED, "Hello payload must not be compressed", 0, 0};
const refusal R_MALFORMED_HELLO = {RPB_CODE_PEER_REJECTED, "malformed Hello payload", 0, 0};
const refusal R_PROTOCOL_RANGE = {RPB_CODE_VERSION_UNSUPPORTED, "client protocol range does not include v1", 0, 0};
const refusal R_SERVICE_NAME = {RPB_CODE_PEER_REJECTED, "invalid service_name", 0, 0};
const refusal R_WANTED_VERSION = {RPB_CODE_PEER_REJECTED, "invalid wanted_version", 0, 0};
const refusal R_CLIENT_VERSION = {RPB_CODE_PEER_REJECTED, "client_version exceeds 128 bytes", 0, 0};
const refusal R_CLIENT_LIB = {RPB_CODE_PEER_REJECTED, "client_lib fields exceed 64 bytes", 0, 0};
const refusal R_PEER_PID = {RPB_CODE_PEER_REJECTED, "peer_pid does not match verified peer", 0, 0};
const refusal R_SERVICE_UNKNOWN = {RPB_CODE_SERVICE_UNKNOWN, "service is not registered", 0, 0};
const refusal R_BELOW_MIN = {RPB_CODE_VERSION_BLOCKED, "wanted_version is below min_version", 30000, 30000};
const refusal R_NOT_ALLOWED = {RPB_CODE_VERSION_BLOCKED, "wanted_version is not in version_allow_list", 30000, 30000};

const echo ECHO_NOTHING = {ECHO_ZERO, NULL};
const echo ECHO_UNCHECKED = {ECHO_ANY, NULL};

echo echo_of(const rpb_frame *req)
{
    echo e = {ECHO_REQUEST, req};
    return e;
}

const char *code_name(int32_t code, char tmp[16])
{
    const char *n = rpb_enum_name(&rpb_error_code_enum, code);
    if (n)
        return n;
    snprintf(tmp, 16, "%d", code);
    return tmp;
}

/* Appends " for service \"x\"", the service_name of the Hello sent on r's
 * connection, when the stimulus is one. */
static void name_sent_service(sbuf *out, const hreply *r)
{
    rpb_slice body;
    size_t consumed;
    if (!r->ex || rpb_frame_split(r->ex->sent.data, r->ex->sent.len, RPB_MAX_FRAME_BYTES, &body, &consumed, NULL) !=
                      RPB_OK)
        return;
    rpb_decoded frame = {NULL, NULL, NULL}, hello;
    if (rpb_decode_alloc(&rpb_frame_desc, body.data, body.len, 0, &frame, NULL) == RPB_OK) {
        const rpb_frame *f = frame.msg;
        if (f->payload_protocol == RPB_PP_CONTROL &&
            rpb_decode_alloc(&rpb_hello_desc, f->payload.data, f->payload.len, 0, &hello, NULL) == RPB_OK) {
            const rpb_hello *h = hello.msg;
            sb_puts(out, " for service ");
            sb_quoted(out, h->service_name.data, h->service_name.len, 70);
            rpb_decoded_free(&hello);
        }
    }
    rpb_decoded_free(&frame);
}

void describe_reply(sbuf *out, const hreply *r)
{
    char t[16];
    if (r->end != H_REPLY) {
        sb_puts(out, hend_name(r->end));
        if (r->end == H_GARBAGE && r->raw.len) {
            sb_puts(out, ": ");
            sb_hex(out, r->raw.data, r->raw.len < 16 ? r->raw.len : 16);
        }
        return;
    }
    if (!r->frame_ok) {
        sb_puts(out, "a frame whose body is not a valid Frame");
        return;
    }
    const rpb_frame *f = &r->frame;
    if (f->payload_protocol != RPB_PP_CONTROL) {
        sb_printf(out, "a frame on payload_protocol 0x%04x", f->payload_protocol);
        return;
    }
    if (r->payload_err != RPB_OK) {
        sb_printf(out, "a response whose payload is not a HelloReply (%s)", rpb_errname(r->payload_err));
        return;
    }
    if (r->hello.result == RPB_HELLO_REPLY_REFUSED) {
        const rpb_refused *rf = &r->hello.refused;
        sb_printf(out, "Refused{code %s, reason ", code_name(rf->code, t));
        sb_quoted(out, rf->reason.data, rf->reason.len, 80);
        sb_printf(out, ", retry_after_ms %llu}", (unsigned long long)rf->retry_after_ms);
        if (rf->code == RPB_CODE_SERVICE_UNKNOWN)
            name_sent_service(out, r);
    } else if (r->hello.result == RPB_HELLO_REPLY_NEGOTIATED) {
        const rpb_negotiated *n = &r->hello.negotiated;
        sb_printf(out, "Negotiated{protocol %u, connection_id %llu}", n->negotiated_protocol,
                  (unsigned long long)n->connection_id);
    } else {
        sb_puts(out, "a HelloReply with no result");
    }
}

static void fail_observed(cctx *c, const hreply *r, const char *expected)
{
    sbuf obs = SBUF_INIT;
    describe_reply(&obs, r);
    c_fail(c, "expected %s; observed %s", expected, sb_str(&obs));
    sb_free(&obs);
}

static bool check_slice_echo(cctx *c, const char *name, rpb_slice got, rpb_slice want)
{
    if (rpb_slice_eq(got, want))
        return true;
    sbuf a = SBUF_INIT, b = SBUF_INIT;
    sb_quoted(&a, want.data, want.len, 80);
    sb_quoted(&b, got.data, got.len, 80);
    c_fail(c, "expected response %s %s; observed %s", name, sb_str(&a), sb_str(&b));
    sb_free(&a);
    sb_free(&b);
    return false;
}

bool expect_response_frame(cctx *c, const hreply *r, uint32_t pp, echo e)
{
    if (r->end != H_REPLY || !r->frame_ok) {
        fail_observed(c, r, "a framed response");
        return false;
    }
    const rpb_frame *f = &r->frame;
    bool ok = true;
    if (f->envelope_version != RPB_PROTOCOL_VERSION) {
        c_fail(c, "expected response envelope_version 1; observed %u", f->envelope_version);
        ok = false;
    }
    if (f->kind != RPB_FRAME_KIND_RESPONSE) {
        c_fail(c, "expected response kind FRAME_KIND_RESPONSE; observed %d", f->kind);
        ok = false;
    }
    if (f->payload_protocol != pp) {
        c_fail(c, "expected response payload_protocol 0x%04x; observed 0x%04x", pp, f->payload_protocol);
        ok = false;
    }
    if (f->payload_encoding != RPB_PAYLOAD_ENCODING_NONE) {
        c_fail(c, "expected response payload_encoding NONE; observed %d", f->payload_encoding);
        ok = false;
    }
    if (f->deadline_unix_ms != 0) {
        c_fail(c, "expected response deadline_unix_ms 0; observed %llu",
               (unsigned long long)f->deadline_unix_ms);
        ok = false;
    }
    if (e.mode != ECHO_ANY) {
        uint64_t rid = e.mode == ECHO_REQUEST ? e.req->request_id : 0;
        rpb_slice empty = {NULL, 0};
        if (f->request_id != rid) {
            c_fail(c, "expected response request_id %llu (ENV-007); observed %llu", (unsigned long long)rid,
                   (unsigned long long)f->request_id);
            ok = false;
        }
        ok &= check_slice_echo(c, "traceparent", f->traceparent,
                               e.mode == ECHO_REQUEST ? e.req->traceparent : empty);
        ok &= check_slice_echo(c, "tracestate", f->tracestate,
                               e.mode == ECHO_REQUEST ? e.req->tracestate : empty);
    }
    return ok;
}

/* Builds the reply a conforming broker sends for want, for the reports. */
static void record_expected_refusal(const hreply *r, const refusal *want, echo e)
{
    if (!r->ex)
        return;
    rpb_hello_reply hr;
    rpb_msg_init(&rpb_hello_reply_desc, &hr);
    hr.result = RPB_HELLO_REPLY_REFUSED;
    hr.refused.reason = rpb_slice_cstr(want->reason);
    hr.refused.daemon_min_protocol = 1;
    hr.refused.daemon_max_protocol = 1;
    hr.refused.code = want->code;
    hr.refused.retry_after_ms = want->retry_min;
    sbuf payload = SBUF_INIT;
    stim_encode(&payload, &rpb_hello_reply_desc, &hr);
    /* ENV-007: the request's id and trace context echoed, or nothing; a
     * refusal answers on the control plane whatever the request's protocol */
    rpb_slice p = {payload.data, payload.len};
    rpb_frame f = e.mode == ECHO_REQUEST ? rpb_frame_response_to(e.req, p) : rpb_frame_request(RPB_PP_CONTROL, p);
    f.kind = RPB_FRAME_KIND_RESPONSE;
    f.payload_protocol = RPB_PP_CONTROL;
    sb_reset(&r->ex->expect_bytes);
    stim_frame(&r->ex->expect_bytes, &f);
    char t[16];
    sb_reset(&r->ex->expect_text);
    sb_printf(&r->ex->expect_text, "Refused{code %s, reason \"%s\", retry_after_ms ", code_name(want->code, t),
              want->reason);
    if (want->retry_min == want->retry_max)
        sb_printf(&r->ex->expect_text, "%llu}", (unsigned long long)want->retry_min);
    else
        sb_printf(&r->ex->expect_text, "%llu..%llu}", (unsigned long long)want->retry_min,
                  (unsigned long long)want->retry_max);
    sb_free(&payload);
}

bool expect_refused(cctx *c, const hreply *r, const refusal *want, echo e)
{
    char t1[16], t2[16];
    record_expected_refusal(r, want, e);
    sbuf exp = SBUF_INIT;
    sb_printf(&exp, "Refused %s", code_name(want->code, t1));
    bool ok = expect_response_frame(c, r, RPB_PP_CONTROL, e);
    if (r->end != H_REPLY || !r->frame_ok)
        goto out;
    if (r->payload_err != RPB_OK || r->hello.result != RPB_HELLO_REPLY_REFUSED) {
        fail_observed(c, r, sb_str(&exp));
        ok = false;
        goto out;
    }
    const rpb_refused *rf = &r->hello.refused;
    if (rf->code != want->code) {
        c_fail(c, "expected code %s; observed %s", code_name(want->code, t1), code_name(rf->code, t2));
        ok = false;
    }
    if (rf->daemon_min_protocol != 1 || rf->daemon_max_protocol != 1) {
        c_fail(c, "expected daemon_min_protocol = daemon_max_protocol = 1; observed %u..%u",
               rf->daemon_min_protocol, rf->daemon_max_protocol);
        ok = false;
    }
    if (rf->retry_after_ms < want->retry_min || rf->retry_after_ms > want->retry_max) {
        if (want->retry_min == want->retry_max)
            c_fail(c, "expected retry_after_ms %llu; observed %llu", (unsigned long long)want->retry_min,
                   (unsigned long long)rf->retry_after_ms);
        else
            c_fail(c, "expected retry_after_ms in %llu..%llu; observed %llu",
                   (unsigned long long)want->retry_min, (unsigned long long)want->retry_max,
                   (unsigned long long)rf->retry_after_ms);
        ok = false;
    }
    /* HELLO-040: the details map is empty */
    if (rf->details.count) {
        c_fail(c, "expected an empty details map; observed %zu entries", rf->details.count);
        ok = false;
    }
    /* HELLO-052: every reply, each refusal included, is canonical */
    ok &= expect_canonical(c, r);
    if (!rpb_slice_eq_cstr(rf->reason, want->reason)) {
        sbuf q = SBUF_INIT;
        sb_quoted(&q, rf->reason.data, rf->reason.len, 120);
        c_note(c, "reason differs: expected \"%s\", observed %s", want->reason, sb_str(&q));
        sb_free(&q);
    }
out:
    sb_free(&exp);
    return ok;
}

const rpb_negotiated *expect_negotiated(cctx *c, const hreply *r, echo e)
{
    if (r->ex) {
        sb_reset(&r->ex->expect_text);
        sb_puts(&r->ex->expect_text, "Negotiated{negotiated_protocol 1, ...}");
    }
    if (!expect_response_frame(c, r, RPB_PP_CONTROL, e) && (r->end != H_REPLY || !r->frame_ok))
        return NULL;
    if (r->payload_err != RPB_OK || r->hello.result != RPB_HELLO_REPLY_NEGOTIATED) {
        fail_observed(c, r, "Negotiated");
        return NULL;
    }
    const rpb_negotiated *n = &r->hello.negotiated;
    if (n->negotiated_protocol != 1)
        c_fail(c, "expected negotiated_protocol 1; observed %u", n->negotiated_protocol);
    /* HELLO-033: no warnings */
    if (n->warnings.count)
        c_fail(c, "expected no warnings; observed %zu", n->warnings.count);
    /* HELLO-052: canonical */
    expect_canonical(c, r);
    return n;
}

bool expect_refused_or_closed(cctx *c, const hreply *r, const refusal *want)
{
    if (r->end == H_EOF || r->end == H_RESET)
        return true;
    return expect_refused(c, r, want, ECHO_UNCHECKED);
}

static bool same_encoding(cctx *c, const char *what, const rpb_msg_desc *desc, const void *msg, const uint8_t *bytes,
                          size_t len)
{
    sbuf again = SBUF_INIT;
    stim_encode(&again, desc, msg);
    bool same = again.len == len && memcmp(again.data, bytes, len) == 0;
    if (!same) {
        sbuf a = SBUF_INIT, b = SBUF_INIT;
        sb_hex(&a, again.data, again.len < 48 ? again.len : 48);
        sb_hex(&b, bytes, len < 48 ? len : 48);
        c_fail(c, "expected the %s in canonical encoding (%zu bytes: %s...); observed %zu bytes: %s...", what,
               again.len, sb_str(&a), len, sb_str(&b));
        sb_free(&a);
        sb_free(&b);
    }
    sb_free(&again);
    return same;
}

bool expect_canonical(cctx *c, const hreply *r)
{
    if (r->end != H_REPLY || !r->frame_ok || r->payload_err != RPB_OK) {
        fail_observed(c, r, "a decodable reply");
        return false;
    }
    bool ok = same_encoding(c, "reply Frame", &rpb_frame_desc, &r->frame, r->raw.data + RPB_FRAME_HEADER_BYTES,
                            r->raw.len - RPB_FRAME_HEADER_BYTES);
    if (r->frame.payload_protocol == RPB_PP_CONTROL)
        ok &= same_encoding(c, "HelloReply payload", &rpb_hello_reply_desc, &r->hello, r->frame.payload.data,
                            r->frame.payload.len);
    else if (r->frame.payload_protocol == RPB_PP_ADMIN)
        ok &= same_encoding(c, "AdminReply payload", &rpb_admin_reply_desc, &r->admin, r->frame.payload.data,
                            r->frame.payload.len);
    return ok;
}
