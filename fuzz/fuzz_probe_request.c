/*
 * fuzz_probe_request - the responder's request parser (spec/probe.md
 * PROBE-010, PROBE-011, PROBE-005).
 *
 * Input: a Frame body (no framing header).
 *
 * Oracles, when the body decodes as a Frame:
 *  - model: rpb_probe_request_check() equals an independent model of
 *    PROBE-010 steps 3-4 (version, kind REQUEST, protocol 0xB232,
 *    encoding NONE, then a 32-byte payload); request_id, deadline and
 *    trace never change the result (PROBE-011);
 *  - reply: an accepted request is answered (rpb_probe_response_encode)
 *    with exactly rpb_probe_response_len() bytes, refused one byte
 *    short, forming one canonical frame that echoes request_id, trace and
 *    nonce and carries the responder's identity (fz_check_probe_reply).
 */
#include <stdlib.h>

#include "fuzz.h"

static int model(const rpb_frame *f)
{
    if (f->envelope_version != 1)
        return RPB_ERR_ENVELOPE_VERSION;
    if (f->kind != RPB_FRAME_KIND_REQUEST)
        return RPB_ERR_ENVELOPE_KIND;
    if (f->payload_protocol != 0xB232)
        return RPB_ERR_ENVELOPE_PAYLOAD_PROTOCOL;
    if (f->payload_encoding != 0)
        return RPB_ERR_ENVELOPE_PAYLOAD_ENCODING;
    if (f->payload.len != 32)
        return RPB_ERR_PROBE_NONCE_LENGTH;
    return RPB_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rpb_frame frame;
    rpb_msg_init(&rpb_frame_desc, &frame);
    if (rpb_decode(&rpb_frame_desc, data, size, &frame, NULL, 0, NULL) != RPB_OK)
        return 0;
    int got = rpb_probe_request_check(&frame);
    FZ_CHECK(got == model(&frame), "request check %s, model %s", rpb_errname(got),
             rpb_errname(model(&frame)));
    rpb_frame other = frame; /* PROBE-011 */
    other.request_id ^= 0x5A5A;
    other.deadline_unix_ms += 1;
    other.traceparent = other.tracestate = (rpb_slice){NULL, 0};
    FZ_CHECK(rpb_probe_request_check(&other) == got, "request_id/deadline/trace changed the result");
    if (got != RPB_OK)
        return 0;

    const rpb_daemon_process *self = fz_probe_identity();
    size_t need = rpb_probe_response_len(&frame, self), written;
    uint8_t *reply = malloc(need);
    FZ_CHECK(reply != NULL, "out of memory");
    FZ_CHECK(rpb_probe_response_encode(&frame, self, reply, need - 1, &written) ==
                     RPB_ERR_BUFFER_TOO_SMALL && written == need,
             "a buffer one byte short is not refused with the size needed");
    FZ_CHECK(rpb_probe_response_encode(&frame, self, reply, need, &written) == RPB_OK &&
                 written == need,
             "response length differs from rpb_probe_response_len");
    fz_check_probe_reply(&frame, reply, written, self);
    free(reply);
    return 0;
}
