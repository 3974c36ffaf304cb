/*
 * frame.c - v1 framing (spec/wire.md FRAME-001..FRAME-009): the
 * incremental splitter and the framed Frame decoder (encode.c writes
 * frames).  No I/O here.
 */
#include <string.h>

#include "rpb/frame.h"

#include "decode.h"
#include "wire_inline.h"

uint32_t rpb_frame_header_length(const uint8_t header[5])
{
    return (uint32_t)header[1] | (uint32_t)header[2] << 8 | (uint32_t)header[3] << 16 |
           (uint32_t)header[4] << 24;
}

void rpb_frame_header_write(uint8_t header[5], uint32_t body_len)
{
    frame_header_put(header, body_len);
}

int rpb_frame_split(const uint8_t *in, size_t len, uint32_t cap, rpb_slice *body,
                    size_t *consumed, rpb_errinfo *err)
{
    if (len == 0)
        return RPB_NEED_MORE;
    /* FRAME-001: decided from the first byte alone. */
    if (in[0] != RPB_FRAMING_VERSION)
        return rpb_errinfo_set(err, RPB_ERR_FRAMING_VERSION, 0);
    if (len < RPB_FRAME_HEADER_BYTES)
        return RPB_NEED_MORE;
    /* FRAME-003, FRAME-004, FRAME-005: decided from the header, before any
     * body byte is looked at; a length equal to the cap is accepted. */
    uint32_t body_len = rpb_frame_header_length(in);
    if (body_len > cap)
        return rpb_errinfo_set(err, RPB_ERR_FRAME_TOO_LARGE, 1);
    /* FRAME-009: need-more for every strict prefix; later bytes untouched. */
    if (len - RPB_FRAME_HEADER_BYTES < body_len)
        return RPB_NEED_MORE;
    body->data = in + RPB_FRAME_HEADER_BYTES;
    body->len = body_len;
    *consumed = RPB_FRAME_HEADER_BYTES + (size_t)body_len;
    return RPB_OK;
}

int rpb_frame_decode(const uint8_t *in, size_t len, uint32_t cap, rpb_frame *frame,
                     size_t *consumed, rpb_errinfo *err)
{
    rpb_slice body = {NULL, 0};
    size_t n = 0;
    int rc = rpb_frame_split(in, len, cap, &body, &n, err);
    if (rc != RPB_OK)
        return rc;
    /* FRAME-006, WIRE-001: an empty body is the all-default Frame. */
    rc = rpb_frame_body_decode(body.data, body.len, frame, err);
    if (rc != RPB_OK) {
        if (err)
            err->offset += RPB_FRAME_HEADER_BYTES;
        return rc;
    }
    *consumed = n;
    return RPB_OK;
}

/* ENV-012, ENV-007: constructors as upstream's Frame::request /
 * Frame::response_to. */
rpb_frame rpb_frame_request(uint32_t payload_protocol, rpb_slice payload)
{
    rpb_frame f;
    memset(&f, 0, sizeof f);
    f.envelope_version = RPB_PROTOCOL_VERSION;
    f.kind = RPB_FRAME_KIND_REQUEST;
    f.payload_protocol = payload_protocol;
    f.payload = payload;
    return f;
}

rpb_frame rpb_frame_response_to(const rpb_frame *request, rpb_slice payload)
{
    rpb_frame f = rpb_frame_request(request->payload_protocol, payload);
    f.kind = RPB_FRAME_KIND_RESPONSE;
    f.request_id = request->request_id;
    f.traceparent = request->traceparent;
    f.tracestate = request->tracestate;
    return f;
}

/* ENV-008: what each first-party payload protocol carries. */
const rpb_msg_desc *rpb_payload_message(uint32_t payload_protocol, int32_t kind)
{
    bool request = kind == RPB_FRAME_KIND_REQUEST;
    bool response = kind == RPB_FRAME_KIND_RESPONSE;
    switch (payload_protocol) {
    case RPB_PP_CONTROL:
        return request ? &rpb_hello_desc : response ? &rpb_hello_reply_desc : NULL;
    case RPB_PP_ADMIN:
        return request ? &rpb_admin_request_desc : response ? &rpb_admin_reply_desc : NULL;
    case RPB_PP_HANDOFF: /* the backend's ack (RESPONSE) and the broker's relay (EVENT) */
        return request ? &rpb_handoff_offer_desc
               : response || kind == RPB_FRAME_KIND_EVENT ? &rpb_handoff_ack_desc
                                                           : NULL;
    default:
        return NULL;
    }
}

/* ENV-008: the payload-protocol registry. */
const char *rpb_payload_protocol_class(uint32_t pp)
{
    switch (pp) {
    case RPB_PP_CONTROL:
        return "control";
    case RPB_PP_ADMIN:
        return "admin";
    case RPB_PP_PROBE:
        return "probe";
    case RPB_PP_HANDOFF:
        return "handoff";
    case RPB_PP_ZCCACHE:
        return "zccache";
    case RPB_PP_CLUD:
        return "clud";
    case RPB_PP_FBUILD:
        return "fbuild";
    }
    if (pp >= RPB_PP_CONSUMER_MIN && pp <= RPB_PP_CONSUMER_MAX)
        return "consumer";
    if (pp >= RPB_PP_PRIVATE_MIN && pp <= RPB_PP_PRIVATE_MAX)
        return "private";
    if (pp < RPB_PP_CONSUMER_MIN)
        return "first-party";
    return "reserved";
}
